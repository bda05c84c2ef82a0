"""The README says what the service does today: its demo-member table is what the sandbox seeds, row for row.

The expected rows are rendered here from a freshly seeded sandbox ledger (`app/credex/sandbox_seed.py`), so a change
to the seed that the README does not follow fails this test with the row to paste.
"""

from __future__ import annotations

from decimal import Decimal

from app.credex.sandbox_ledger import Account, CredexStatus, Ledger
from app.credex.sandbox_seed import DEMO_SEED, OPS_PHONE, seed_ledger
from app.credex.sandbox_support import TIER_DAILY_LIMIT_USD, money
from tests.conftest import REPO

README = (REPO / "README.md").read_text()
HEADER = "| phone | member | tier | account | secured balances | owed unsecured | pending offers |"


def _who(ledger: Ledger, account: Account) -> str:
    """A person's name for a personal account, the account's name for a business."""
    if account.account_type == "PERSONAL":
        return ledger.members[account.owner_id].name
    return account.name


def _tier(tier: int) -> str:
    limit = TIER_DAILY_LIMIT_USD.get(tier)
    return f"{tier} (${limit:f}/day)" if limit is not None else f"{tier} (no daily limit)"


def _pending(ledger: Ledger, account: Account) -> list[str]:
    parts = []
    for c in ledger.credexes.values():
        if c.status is not CredexStatus.PENDING:
            continue
        offer = f"{money(c.amount, c.denomination)} {'secured' if c.secured else 'unsecured'}"
        if c.issuer_account_id == account.account_id:
            parts.append(f"{offer} to {_who(ledger, ledger.accounts[c.receiver_account_id])}")
        elif c.receiver_account_id == account.account_id:
            parts.append(f"{offer} from {_who(ledger, ledger.accounts[c.issuer_account_id])}")
    return parts


def _owed(ledger: Ledger, account: Account) -> list[str]:
    """Accepted unsecured credexes: the issuer owes the receiver until it is paid."""
    parts = []
    for c in ledger.credexes.values():
        if c.status is not CredexStatus.ACCEPTED or c.secured:
            continue
        amount = money(c.amount, c.denomination)
        if c.issuer_account_id == account.account_id:
            parts.append(f"owes {_who(ledger, ledger.accounts[c.receiver_account_id])} {amount}")
        elif c.receiver_account_id == account.account_id:
            parts.append(f"{_who(ledger, ledger.accounts[c.issuer_account_id])} owes {amount}")
    return parts


def expected_rows() -> list[str]:
    ledger = Ledger()
    seed_ledger(ledger)
    rows = []
    for spec in DEMO_SEED.members:
        if spec.phone == OPS_PHONE:
            continue
        member = ledger.member_by_phone(spec.phone)
        for account in ledger.accounts_for(member):
            label = "personal" if account.account_type == "PERSONAL" else f"*{account.name}* (`{account.handle}`)"
            secured = ", ".join(money(v, d) for d, v in sorted(account.secured.items()) if v != Decimal(0)) or "–"
            owed = "; ".join(_owed(ledger, account)) or "–"
            pending = "; ".join(_pending(ledger, account)) or "–"
            cells = [f"`{member.phone}`", member.name, _tier(member.tier), label, secured, owed, pending]
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def readme_rows() -> list[str]:
    lines = README.splitlines()
    assert HEADER in lines, f"the README's demo-member table should start with:\n{HEADER}"
    start = lines.index(HEADER) + 2  # skip the |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_demo_member_table_matches_the_sandbox_seed() -> None:
    expected = expected_rows()
    assert readme_rows() == expected, "README demo-member table should read:\n" + "\n".join(expected)


def test_settings_table_lists_no_setting_that_does_not_exist() -> None:
    from app.config import Settings

    names = {name.upper() for name in Settings.model_fields}
    in_table = {
        line.split("`")[1]
        for line in README.split("## Configuration", 1)[1].split("\n## ", 1)[0].splitlines()
        if line.startswith("| `")
    }
    assert in_table == names

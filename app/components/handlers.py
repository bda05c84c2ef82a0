"""Response handlers: how credex-core answers become member and dashboard state (the seed's dashboard.py)."""

from __future__ import annotations

from typing import Any

from app.components.base import StepContext
from app.credex import CredexAuth
from app.credex.models import MemberDashboardResponse
from app.credex.models_members import DashboardAccount
from app.state.manager import StateManager
from app.state.models import utcnow
from app.state.results import ValidationResult


def apply_dashboard(state: StateManager, response: MemberDashboardResponse) -> ValidationResult:
    details, dashboard = response.details, response.dashboard
    accounts: list[dict[str, Any]] = [
        {
            "account_id": a.account_id,
            "account_name": a.account_name,
            "account_handle": a.account_handle or "",
            "account_type": a.account_type,
            "is_owned": a.is_owned_account is not False,
            "data": a.model_dump(mode="json", by_alias=True),
        }
        for a in dashboard.accounts
    ]
    ids = [a["account_id"] for a in accounts]
    active = state.get("active_account_id")
    if active not in ids:
        personal = [a["account_id"] for a in accounts if a["account_type"] == "PERSONAL"]
        active = (personal or ids or [None])[0]
    return state.update_state(
        {
            "member": {
                "member_id": details.member_id,
                "first_name": details.firstname,
                "last_name": details.lastname,
                "member_handle": details.member_handle,
                "member_tier": details.member_tier,
                "default_denom": details.default_denom,
                "remaining_available_usd": details.remaining_available_usd,
            },
            "dashboard": {"accounts": accounts, "loaded_at": utcnow()},
            "active_account_id": active,
        }
    )


async def refresh_dashboard(ctx: StepContext, auth: CredexAuth) -> ValidationResult:
    """getMemberDashboardByPhone, stored; then the JWT credex-core may have refreshed on the way (kept after the
    member is known, which the state validator requires of a token)."""
    stored = apply_dashboard(ctx.state, await ctx.credex.get_member_dashboard(auth))
    ctx.keep_auth(auth)
    return stored


def active_account(state: Any) -> DashboardAccount | None:
    """The active account as credex-core described it at the last dashboard load (state or read-only view)."""
    active = state.get("active_account_id")
    for account in state.get("dashboard").accounts:
        if account.account_id == active:
            return DashboardAccount.model_validate(account.data)
    return None


def all_accounts(state: Any) -> list[DashboardAccount]:
    return [DashboardAccount.model_validate(a.data) for a in state.get("dashboard").accounts]

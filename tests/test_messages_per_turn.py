"""At most two messages per turn (the result and the menu, the dashboard in the menu's body): fewer
notifications and fewer billable messages. Measured for every flow's turns through the real webhook."""

from __future__ import annotations

from tests.flows_kit import ALICE, BOB, Person, text_of
from tests.test_flow_pending import ledger_of, offer
from tests.webhook_kit import Bot

MOST = 2


async def turn(person: Person, *, tap: str | None = None, choose: str | None = None, say: str | None = None) -> int:
    if tap is not None:
        answer = await person.tap(tap)
    elif choose is not None:
        answer = await person.choose(choose)
    else:
        answer = await person.say(say or "")
    assert answer, "no answer at all"
    assert len(answer) <= MOST, [m.get("body") for m in answer]
    return len(answer)


async def test_every_turn_of_every_flow_ends_in_at_most_two_messages(bot: Bot) -> None:
    alice = Person(bot, ALICE)
    counts = {"hi": await turn(alice, say="hi")}
    assert "Secured balances" in text_of(await alice.say("menu"))  # the dashboard rides in the menu's body
    counts["offer: choose"] = await turn(alice, choose="offer_secured")
    counts["offer: amount"] = await turn(alice, say="3")
    counts["offer: recipient"] = await turn(alice, say=BOB)
    counts["offer: sign"] = await turn(alice, tap="yes")
    counts["ledger"] = await turn(alice, choose="ledger")
    await alice.say("menu")
    counts["switch"] = await turn(alice, choose="switch")
    bob = Person(bot, BOB)
    await bob.say("hi")
    credex = offer(ledger_of(bot), ALICE, BOB, "25.00")
    counts["accept: list"] = await turn(bob, choose="accept")
    counts["accept: pick"] = await turn(bob, choose=credex.credex_id)
    counts["accept: confirm"] = await turn(bob, tap="yes")
    assert max(counts.values()) <= MOST and counts["offer: sign"] == 2, counts

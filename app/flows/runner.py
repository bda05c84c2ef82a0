"""TableRunner: moves a person through the flow tables, one inbound message at a time.

The flow rests only on steps that wait for a reply. A message is given to the resting step's `receive`;
its outcome picks the next step, which is entered; display and API steps run straight through until a step
waits again. Wrong answers are counted in `flow_data.validation`; after MAX_ATTEMPTS the menu is offered, unless
answers already given (an amount, a recipient) would be lost: then the question stays, with how to leave.

Before a step sees a message, the universal words are read (`app/flows/words.py`: greetings and *menu*, *help*,
*cancel* / *back*, *stop*) and taps are checked against the buttons on screen (`app/flows/choices.py`).
"""

from __future__ import annotations

from app.components.base import AWAIT, MAX_ATTEMPTS, TOO_MANY, StepContext, notice
from app.components.handles import member_denom
from app.components.shortcuts import looks_like_shortcut, parse_shortcut
from app.credex import CredexClient
from app.flows import choices
from app.flows.progress import holds_answers, not_done
from app.flows.table import Registry, Step
from app.flows.words import Word, classify, normalize
from app.logs import get_logger
from app.metrics import Metrics
from app.state.manager import StateManager
from app.state.results import ValidationResult
from app.state.side_records import PersonNotes
from app.whatsapp.inbound import InboundMessage
from app.whatsapp.templates import CREDEX_NOTIFICATION, VIEW_OFFERS_PAYLOAD

log = get_logger(__name__)

REST_OUTCOMES = frozenset({"error"})
CREDEX_DOWN = (
    "credex is not answering right now, so nothing was changed. Please try again in a few minutes, or type *menu*."
)
MAX_HOPS = 12
MENU = "menu.load"
SHORTCUT = "offer.lookup"
LOGIN = "login.login"
VIEW_OFFERS = "pending.accept_list"
LOGIN_THEN_OFFERS = "login.offers"
VIEW_INSTEAD = "OK, your offers instead."
TIMED_OUT = "⏱ Your session timed out after a few quiet minutes."
STALE = "That button is from an earlier message, so it did nothing. Here is where we are:"
CONTACT_HERE = "Thanks for the contact card. I use one only when I ask who an offer is for. Here is where we are:"
CONTACT_EMPTY = "That contact card has no phone number. Please type their handle or phone number instead."
NOTHING_TO_CANCEL = "Nothing is in progress, so there is nothing to cancel. Choose from the menu, or type *help*."
CANCELLED = "OK, cancelled. {what}"
NOTHING_SENT = "Nothing was sent."
STOPPED = (
    "🔕 Done: you will get no notifications from VimbisoPay until you write to us again. {what}"
    "Type *menu* whenever you want to continue."
)
BACK_ON = "🔔 Notifications are back on. Type *stop* to pause them again."
UNIVERSAL = (
    "Words that work anywhere: *menu* shows your balances and the menu, *cancel* stops what you are doing "
    "(nothing is sent), *help* explains the step you are on, *stop* pauses notifications."
)
KEPT = "That didn't work {n} times. {what} is kept: answer the question above, or type *cancel* to stop."


class TableRunner:
    def __init__(
        self,
        registry: Registry,
        credex: CredexClient,
        metrics: Metrics | None = None,
        notes: PersonNotes | None = None,
        phone_region: str = "ZW",
        typed_phone: bool = False,
    ) -> None:
        self.registry = registry
        self.credex = credex
        self.metrics = metrics
        self.notes = notes
        self.phone_region = phone_region
        self.typed_phone = typed_phone
        """A person whose number is hidden may type it (development only: see app/components/own_phone.py)."""

    async def run(self, message: InboundMessage, state: StateManager) -> None:
        ctx = StepContext(
            state=state,
            credex_client=self.credex,
            message=message,
            phone_region=self.phone_region,
            typed_phone=self.typed_phone,
        )
        if state.get_phone() is None and self.notes is not None:  # a hidden number: shared in an earlier session?
            if shared := await self.notes.load_phone(state.get_channel_id()):
                state.set_phone(shared)
        phone = state.get_phone()
        flow = state.get_flow_state()
        before = (not_done(flow), state.get("active_account_id"))
        word = classify(message.text) if message.type == "text" else None
        await self._notifications(ctx, word)
        if state.session_expired:
            await self._resume(ctx)
        await self._turn(ctx, message, word)
        await self._remember(ctx, message, before, (flow.context, flow.component))
        if self.notes is not None and (shared := state.get_phone()) != phone and shared is not None:
            await self.notes.save_phone(state.get_channel_id(), shared)

    async def _turn(self, ctx: StepContext, message: InboundMessage, word: Word | None) -> None:
        state = ctx.state
        flow = state.get_flow_state()
        home = MENU if state.get_auth_token() else LOGIN
        if word == "stop":
            what = not_done(flow)
            state.clear_flow_state()
            ctx.send(notice(STOPPED.format(what=f"{what} " if what else "")))
            return
        if state.get_phone() is None and flow.context != "login":
            # A hidden number not shared yet (or forgotten on a number change): nobody is logged in without it.
            state.set_auth_token(None)
            await self.goto(ctx, LOGIN)
            return
        tap = message.reply_id if message.text is None else None
        if tap is not None and _views_offers(message, tap):
            await self._view_offers(ctx)
            return
        if word in ("greeting", "menu") or not flow.context or tap in choices.ALWAYS:
            await self.goto(ctx, home)
            return
        step = self.registry.step(flow.context, flow.component)
        if step is None or not step.component.waits:
            log.warning("flow_position_unknown", context=flow.context, component=flow.component)
            await self.goto(ctx, home)
            return
        ctx.kind = step.component.kind
        if word == "help":
            ctx.send(notice(f"ℹ️ {step.component.help(ctx)}\n\n{UNIVERSAL}"))
            return
        if word == "cancel":
            await self._cancel(ctx, flow.context)
            return
        text = (message.input_text or "").strip()
        if message.type == "text" and flow.context != "menu" and state.get_auth_token() and looks_like_shortcut(text):
            if await self._shortcut(ctx, text):
                return
        if message.type == "contacts":
            if not step.component.takes_contact:
                await self._again(ctx, step, CONTACT_HERE)
                return
            if not text:
                ctx.send(notice(CONTACT_EMPTY))
                return
        elif tap is not None:
            if choices.is_stale(flow.data, text):
                if choices.is_double_tap(flow.data, text):
                    return  # the same button tapped twice: the first tap was handled, stay quiet
                await self._again(ctx, step, step.component.stale(ctx, text) or STALE)
                return
        else:
            text = choices.typed_choice(flow.data, text) or text
        result = await step.component.receive(ctx, text)
        await self.follow(ctx, flow.context, flow.component, step, result)

    async def _shortcut(self, ctx: StepContext, text: str) -> bool:
        """A valid offer shortcut (*5=>handle*) typed at any question starts that offer, saying what it
        replaces; an invalid one is left to the step (a handle step explains it)."""
        parsed = parse_shortcut(text, ctx.now().date(), member_denom(ctx), ctx.phone_region)
        if not parsed.valid:
            return False
        what = not_done(ctx.state.get_flow_state())
        if what:
            ctx.send(notice(f"OK, a new offer instead. {what}"))
        await self.goto(ctx, SHORTCUT, carry=parsed.value)
        return True

    async def _view_offers(self, ctx: StepContext) -> None:
        """The notification's *View offers*: the offers waiting for this member, from any step (saying what is
        left undone); someone not logged in is logged in first, and a stranger told plainly (login.offers)."""
        what = not_done(ctx.state.get_flow_state())
        if what:
            ctx.send(notice(f"{VIEW_INSTEAD} {what}"))
        await self.goto(ctx, VIEW_OFFERS if ctx.state.get_auth_token() else LOGIN_THEN_OFFERS)

    async def _cancel(self, ctx: StepContext, context: str) -> None:
        if context in ("menu", "login"):
            ctx.send(notice(NOTHING_TO_CANCEL))
            return
        what = not_done(ctx.state.get_flow_state())
        ctx.send(notice(CANCELLED.format(what=f"{what} {NOTHING_SENT}" if what else NOTHING_SENT)))
        if not ctx.state.get_auth_token():  # not a member yet: nothing to show but the welcome, so stop here
            ctx.state.clear_flow_state()
            ctx.send(notice("Type *hi* whenever you want to start again."))
            return
        await self.goto(ctx, MENU)

    async def _again(self, ctx: StepContext, step: Step, why: str) -> None:
        """Explain, then ask the current question again (no attempt counted: the person did nothing wrong)."""
        ctx.send(notice(why))
        await self._enter(ctx, step)

    async def _notifications(self, ctx: StepContext, word: Word | None) -> None:
        """*stop* pauses proactive notifications; any other message after it (a new session too) resumes them."""
        state, channel = ctx.state, ctx.state.get_channel_id()
        if self.notes is None:
            return
        if word == "stop":
            await self.notes.opt_out(channel)
            state.set_opted_out(True)
            return
        if state.opted_out or state.is_new or state.session_expired:
            if await self.notes.opt_in(channel):
                ctx.send(notice(BACK_ON))
            state.set_opted_out(False)

    async def _resume(self, ctx: StepContext) -> None:
        """After the state lapsed: say what was not done (only if something was), keep the active account."""
        what, active = (None, None) if self.notes is None else await self.notes.load_resume(ctx.state.get_channel_id())
        if what:
            ctx.send(notice(f"{TIMED_OUT} {what}"))
        if active:
            ctx.state.update_state({"active_account_id": active})

    async def _remember(
        self, ctx: StepContext, message: InboundMessage, before: tuple[str | None, object], where: tuple[str, str]
    ) -> None:
        """Keep the buttons now on screen and the tap just handled; update the note that outlives the state."""
        offered = choices.offered_in(ctx.state.messaging.pending())
        flow = ctx.state.get_flow_state()
        patch: dict[str, object] = {}
        if offered or (offered is not None and (flow.context, flow.component) != where):
            patch[choices.OFFERED] = offered
        if message.reply_id is not None and message.text is None:
            patch[choices.LAST_TAP] = message.reply_id
        if patch and flow.context:
            ctx.put(**patch)
        after = (not_done(ctx.state.get_flow_state()), ctx.state.get("active_account_id"))
        if self.notes is not None and (after != before or ctx.state.session_expired or ctx.state.is_new):
            await self.notes.save_resume(ctx.state.get_channel_id(), after[0], after[1])

    async def goto(self, ctx: StepContext, target: str, carry: dict[str, object] | None = None) -> None:
        flow, name = self.registry.resolve("", target)
        step = self._step(flow, name)
        ctx.state.advance(flow, name, dict(carry or {}))
        await self.follow(ctx, flow, name, step, await self._enter(ctx, step))

    async def follow(self, ctx: StepContext, flow: str, name: str, step: Step, result: ValidationResult) -> None:
        for _ in range(MAX_HOPS):
            if result.outcome == AWAIT:
                return
            if result.outcome == "invalid" and "invalid" not in step.on:
                said = ctx.message.input_text if ctx.message else None
                attempts = ctx.state.record_attempt(step.component.name, said, result.error)
                if self.metrics is not None:
                    self.metrics.validation_failures.labels(step.component.name).inc()
                if attempts < MAX_ATTEMPTS:
                    ctx.send(notice(f"⚠️ {result.error}"))
                    await self._enter(ctx, step)  # the same question again, attempt count kept
                    return
                current = ctx.state.get_flow_state()
                if holds_answers(current) and ctx.state.get_auth_token():
                    offer = current.context == "offer" and not_done(current)
                    what = offer.removesuffix(" was not sent.") if offer else "What you gave so far"
                    ctx.send(notice(f"⚠️ {result.error}"), notice(KEPT.format(n=attempts, what=what)))
                    ctx.state.advance(flow, name)  # a fresh attempt count, the answers kept
                    await self._enter(ctx, step)
                    return
                ctx.send(notice(TOO_MANY.format(n=attempts)))
                target = MENU if ctx.state.get_auth_token() else LOGIN
            elif result.outcome in step.on:
                target = step.on[result.outcome]
            elif result.outcome in REST_OUTCOMES and step.component.kind == "api":
                # credex-core is not answering: one try per message, one plain answer, and rest. Going on to
                # the menu would call it again (and again: the menu needs the dashboard), never helping anyone.
                ctx.send(notice(CREDEX_DOWN))
                ctx.state.clear_flow_state()
                return
            else:  # rejected / unconfirmed / unavailable / error, unmapped: explain, then the menu
                ctx.send(notice(result.error or "Something went wrong."))
                target = MENU if ctx.state.get_auth_token() else LOGIN
                if target == LOGIN and flow == LOGIN.partition(".")[0]:  # login refused: rest, never loop on it
                    ctx.state.clear_flow_state()
                    return
            next_flow, next_name = self.registry.resolve(flow, target)
            carry = result.details.get("carry")
            data = dict(carry) if isinstance(carry, dict) else (None if next_flow == flow else {})
            ctx.state.advance(next_flow, next_name, data)
            flow, name, step = next_flow, next_name, self._step(next_flow, next_name)
            result = await self._enter(ctx, step)
        raise RuntimeError(f"flow did not come to rest within {MAX_HOPS} steps (at {flow}.{name})")

    def _step(self, flow: str, name: str) -> Step:
        step = self.registry.step(flow, name)
        if step is None:
            raise RuntimeError(f"no step {flow}.{name}")
        return step

    async def _enter(self, ctx: StepContext, step: Step) -> ValidationResult:
        ctx.kind = step.component.kind
        return await step.component.enter(ctx)


_VIEW_OFFERS_TITLE = normalize(CREDEX_NOTIFICATION.quick_replies[0])


def _views_offers(message: InboundMessage, tap: str) -> bool:
    """A tap on the notification's *View offers*: its payload, or (a notice sent before payloads were set)
    a template quick-reply whose payload is the button's own title."""
    if tap == VIEW_OFFERS_PAYLOAD:
        return True
    return message.type == "button" and normalize(tap) == _VIEW_OFFERS_TITLE

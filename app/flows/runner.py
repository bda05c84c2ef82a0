"""TableRunner: moves a person through the flow tables, one inbound message at a time.

The flow rests only on steps that wait for a reply. A message is given to the resting step's `receive`;
its outcome picks the next step, which is entered; display and API steps run straight through until a step
waits again. Wrong answers are counted in `flow_data.validation`; after MAX_ATTEMPTS the menu is offered.
"""

from __future__ import annotations

import structlog

from app.components.base import AWAIT, MAX_ATTEMPTS, TOO_MANY, StepContext, notice
from app.credex import CredexClient
from app.flows.table import Registry, Step
from app.flows.words import is_reset_word
from app.metrics import Metrics
from app.state.manager import StateManager
from app.state.results import ValidationResult
from app.whatsapp.inbound import InboundMessage

log = structlog.get_logger(__name__)

MAX_HOPS = 12
MENU = "menu.load"
LOGIN = "login.login"
TIMED_OUT = "⏱ Your session timed out, so we started again from the top."


class TableRunner:
    def __init__(self, registry: Registry, credex: CredexClient, metrics: Metrics | None = None) -> None:
        self.registry = registry
        self.credex = credex
        self.metrics = metrics

    async def run(self, message: InboundMessage, state: StateManager) -> None:
        ctx = StepContext(state=state, credex_client=self.credex, message=message)
        text = (message.input_text or "").strip()
        flow = state.get_flow_state()
        if state.session_expired:
            ctx.send(notice(TIMED_OUT))
            await self.goto(ctx, LOGIN)
            return
        if is_reset_word(text) or not flow.context:
            await self.goto(ctx, MENU if state.get_auth_token() else LOGIN)
            return
        step = self.registry.step(flow.context, flow.component)
        if step is None or not step.component.waits:
            log.warning("flow_position_unknown", context=flow.context, component=flow.component)
            await self.goto(ctx, MENU if state.get_auth_token() else LOGIN)
            return
        ctx.kind = step.component.kind
        result = await step.component.receive(ctx, text)
        await self.follow(ctx, flow.context, flow.component, step, result)

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
                ctx.send(notice(TOO_MANY.format(n=attempts)))
                target = MENU if ctx.state.get_auth_token() else LOGIN
            elif result.outcome in step.on:
                target = step.on[result.outcome]
            else:  # rejected / unconfirmed / unavailable / error, unmapped: explain, then the menu
                ctx.send(notice(result.error or "Something went wrong."))
                target = MENU if ctx.state.get_auth_token() else LOGIN
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

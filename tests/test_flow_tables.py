"""The flow tables are checked when the registry is built: a broken table stops the app from starting."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from app.components.base import InputComponent, StepContext
from app.flows.registry import REGISTRY
from app.flows.table import Flow, FlowTableError, Registry, Step
from app.state.results import ValidationResult
from app.whatsapp.messages import OutboundMessage, Text


class Ask(InputComponent):
    outcomes = frozenset({"ok", "skip"})

    def prompt(self, ctx: StepContext) -> Sequence[OutboundMessage]:
        return [Text(body="?")]

    def validate(self, ctx: StepContext, text: str) -> ValidationResult:
        return ValidationResult.success()


def test_a_dangling_target_is_refused() -> None:
    flow = Flow("f", start="a", steps={"a": Step(Ask(), on={"ok": "b", "skip": "nowhere.step"})})
    with pytest.raises(FlowTableError, match="no such step"):
        Registry([flow])


def test_an_outcome_without_a_transition_is_refused() -> None:
    flow = Flow("f", start="a", steps={"a": Step(Ask(), on={"ok": "a"})})
    with pytest.raises(FlowTableError, match=r"no transition for \['skip'\]"):
        Registry([flow])


def test_an_unreachable_step_is_refused() -> None:
    steps = {"a": Step(Ask(), on={"ok": "a", "skip": "a"}), "island": Step(Ask(), on={"ok": "a", "skip": "a"})}
    with pytest.raises(FlowTableError, match=r"f\.island: unreachable"):
        Registry([Flow("f", start="a", steps=steps)])


def test_a_missing_start_is_refused() -> None:
    with pytest.raises(FlowTableError, match="start step"):
        Registry([Flow("f", start="zz", steps={"a": Step(Ask(), on={"ok": "a", "skip": "a"})})])


def test_the_real_tables_hold_every_flow_and_menu_row() -> None:
    assert set(REGISTRY.flows) == {
        "login", "onboard", "menu", "offer", "pending", "ledger", "upgrade", "account", "members", "business",
    }  # fmt: skip
    menu = REGISTRY.flows["menu"].steps["choose"].component
    from app.flows.tables.start import MENU_TARGETS

    assert menu.outcomes == frozenset(MENU_TARGETS) | {"more"}  # every menu row has its flow
    for flow in REGISTRY.flows.values():
        assert flow.trigger, f"{flow.name} has no trigger for the README"

"""Flows as data: a table of steps per flow, each step a component and its transitions by outcome.

Targets are "step" (same flow) or "flow.step". The tables are checked when the registry is built (at import):
no dangling target, every outcome a component declares has a transition, every step reachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.components.base import Component

SHARED_OUTCOMES = frozenset({"invalid", "rejected", "unconfirmed", "unavailable", "error"})
"""Outcomes the runner handles for every step unless a table maps them: re-ask, or explain and show the menu."""


@dataclass(frozen=True)
class Step:
    component: Component
    on: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    steps: Mapping[str, Step]
    trigger: str = ""
    """How a person starts it (words or menu row), for the README's table of flows."""


class FlowTableError(ValueError):
    pass


class Registry:
    def __init__(self, flows: Iterable[Flow], entry_points: Iterable[str] = ()) -> None:
        self.flows = {f.name: f for f in flows}
        self.entry_points = tuple(entry_points)
        self.check()

    def resolve(self, flow: str, target: str) -> tuple[str, str]:
        name, _, step = target.rpartition(".")
        return (name or flow), step

    def step(self, flow: str, step: str) -> Step | None:
        found = self.flows.get(flow)
        return found.steps.get(step) if found else None

    def start_of(self, flow: str) -> str:
        return f"{flow}.{self.flows[flow].start}"

    def check(self) -> None:
        problems: list[str] = []
        entered: set[tuple[str, str]] = set()
        for target in self.entry_points:
            entered.add(self.resolve("", target))
        for flow in self.flows.values():
            if flow.start not in flow.steps:
                problems.append(f"{flow.name}: start step {flow.start!r} missing")
            entered.add((flow.name, flow.start))
            for name, step in flow.steps.items():
                missing = step.component.outcomes - set(step.on) - SHARED_OUTCOMES
                if missing:
                    problems.append(f"{flow.name}.{name}: no transition for {sorted(missing)}")
                for outcome, target in step.on.items():
                    where = self.resolve(flow.name, target)
                    if self.step(*where) is None:
                        problems.append(f"{flow.name}.{name} --{outcome}--> {target}: no such step")
                    entered.add(where)
        for flow in self.flows.values():
            reachable = self._reachable(flow, {s for f, s in entered if f == flow.name})
            for name in flow.steps:
                if name not in reachable:
                    problems.append(f"{flow.name}.{name}: unreachable")
        if problems:
            raise FlowTableError("; ".join(problems))

    def _reachable(self, flow: Flow, starts: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = [s for s in starts if s in flow.steps]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for target in flow.steps[name].on.values():
                f, s = self.resolve(flow.name, target)
                if f == flow.name and s in flow.steps:  # a dangling target is reported by check()
                    todo.append(s)
        return seen

"""docs/TEXTS.md is the reviewed table of what people read: the runner's own texts must be the ones it lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.flows import runner

DOC = (Path(__file__).resolve().parents[1] / "docs" / "TEXTS.md").read_text()
NAMES = [
    "TIMED_OUT",
    "STALE",
    "CONTACT_HERE",
    "CONTACT_EMPTY",
    "NOTHING_TO_CANCEL",
    "NOTHING_SENT",
    "BACK_ON",
    "VIEW_INSTEAD",
]


@pytest.mark.parametrize("name", NAMES)
def test_the_runner_texts_are_in_the_table(name: str) -> None:
    text: str = getattr(runner, name)
    assert text in DOC, f"{name} changed: update docs/TEXTS.md"


def test_the_universal_words_text_is_in_the_table() -> None:
    assert runner.UNIVERSAL in DOC


@pytest.mark.parametrize("name", ["ASK", "ASK_TYPED", "NOT_A_NUMBER", "ONLY_SHARED"])
def test_the_hidden_number_texts_are_in_the_table(name: str) -> None:
    from app.components import own_phone

    text: str = getattr(own_phone, name)
    assert text.strip() in DOC, f"own_phone.{name} changed: update docs/TEXTS.md"

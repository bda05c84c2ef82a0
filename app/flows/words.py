"""Words that take a person back to the start from anywhere, in the languages VimbisoPay's users write."""

from __future__ import annotations

RESET_WORDS = frozenset(
    {
        "hi", "hie", "hy", "hey", "hello", "menu", "home",
        "mhoro", "makadii", "sawubona", "jambo", "habari",
        "bonjour", "salut", "hola", "buenos dias",
    }
)  # fmt: skip


def is_reset_word(text: str) -> bool:
    return " ".join(text.lower().split()) in RESET_WORDS

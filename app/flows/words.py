"""The words that work at every step, as people write them: greetings, menu, help, cancel/back and stop.

Text is normalised before it is compared (case, accents, punctuation, emoji, repeated letters, spacing), so
`Hi!`, `hello 👋`, `HEYYY`, `Good morning.` and `Mhoroi` are all greetings. Only typed text is read this way:
a tapped button or list row carries an id of ours, which the step reads itself.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Word = Literal["greeting", "menu", "help", "cancel", "stop"]

GREETINGS = frozenset(
    {
        # English
        "hi", "hie", "hy", "hey", "heya", "hiya", "hello", "helo", "hallo", "hullo", "howdy",
        "hi there", "hello there", "hey there", "good morning", "good afternoon", "good evening", "good day",
        "morning", "afternoon", "evening", "greetings", "whats up", "how are you",
        # Shona
        "mhoro", "mhoroi", "makadini", "makadii", "wakadii", "wakadini", "mamuka sei", "maswera sei",
        # Ndebele and Zulu
        "salibonani", "salibonan", "sawubona", "sanibonani", "sanibona",
        # Swahili
        "jambo", "hujambo", "hamjambo", "habari", "habari yako", "habari za asubuhi", "niaje",
        # French, Spanish, Portuguese
        "bonjour", "salut", "hola", "buenos dias", "bom dia",
    }
)  # fmt: skip
MENU_WORDS = frozenset({"menu", "main menu", "home", "dashboard", "start over", "restart", "balance", "balances"})
HELP_WORDS = frozenset({"help", "help me", "info", "how", "what do i do", "rubatsiro", "usizo", "msaada"})
CANCEL_WORDS = frozenset(
    {"cancel", "back", "go back", "exit", "quit", "never mind", "nevermind", "abort", "kanzura", "khansela"}
)
STOP_WORDS = frozenset({"stop", "unsubscribe", "opt out", "optout", "stop notifications", "stop all"})
RESET_WORDS = GREETINGS | MENU_WORDS
"""Words that show the dashboard and the menu from anywhere (greetings included)."""

_PUNCT = re.compile(r"[^\w\s]|_")
_REPEATS = re.compile(r"(\w)\1{2,}")
_TRAILING = ("bot", "vimbiso", "vimbisopay", "there", "again", "please", "pls")


def normalize(text: str) -> str:
    """'  Hi!! 👋 ' → 'hi'; 'HEYYY' → 'hey'; 'Bom día' → 'bom dia'. Letters and digits only, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = _PUNCT.sub(" ", plain.replace("'", "").replace("’", ""))
    plain = _REPEATS.sub(r"\1\1", " ".join(plain.split()))
    return plain


def _variants(words: str) -> list[str]:
    """The phrase, and the phrase without a trailing 'bot' / 'there' / 'please' ('hi bot', 'help please')."""
    found = [words]
    parts = words.split()
    while len(parts) > 1 and parts[-1] in _TRAILING:
        parts = parts[:-1]
        found.append(" ".join(parts))
    return found


def _collapse(word: str) -> str:
    """'hii' and 'helloo' are greetings too: doubled letters left by normalize() are tried once."""
    return re.sub(r"(\w)\1", r"\1", word)


def classify(text: str | None) -> Word | None:
    """Which universal word the text is, if any. `?` alone is a request for help."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped and set(stripped) <= {"?", "？"}:
        return "help"
    words = normalize(stripped)
    if not words or len(words) > 40:
        return None
    for candidate in _variants(words):
        for form in (candidate, _collapse(candidate)):
            if form in STOP_WORDS:
                return "stop"
            if form in CANCEL_WORDS:
                return "cancel"
            if form in HELP_WORDS:
                return "help"
            if form in MENU_WORDS:
                return "menu"
            if form in GREETINGS:
                return "greeting"
    return None


def is_reset_word(text: str) -> bool:
    return classify(text) in ("greeting", "menu")

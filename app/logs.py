"""structlog setup: JSON in production, readable console in development, secrets stripped everywhere."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any, cast

import httpx
import structlog
from pydantic import ValidationError
from redis.exceptions import RedisError
from structlog.typing import FilteringBoundLogger

_SECRETS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)((?:api[_-]?key|secret|token|password|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}&]+"),
]
_SECRET_KEYS = re.compile(r"(?i)(token|secret|password|authorization|api[_-]?key|jwt)")


def _scrub(text: str) -> str:
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[REDACTED]", text)
    return text


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: no bearer token, JWT, API key or secret reaches a log line."""
    for key, value in list(event_dict.items()):
        if _SECRET_KEYS.search(key) and key not in {"event"}:
            event_dict[key] = "[REDACTED]"
        elif isinstance(value, str):
            event_dict[key] = _scrub(value)
    return event_dict


# Whole runs of 8 to 17 digits (phone numbers, wa_ids), not inside ids or decimals; a run right after a URL escape
# (%2B263…, %7B263…%7D: a number in an encoded path) counts as whole too.
_PHONE = re.compile(r"(?:(?<=%[0-9A-Fa-f]{2})|(?<![\w.]))(?<!\d\.)(\d{8,17})(?!\w)(?!\.\d)")


def _mask_run(match: re.Match[str]) -> str:
    digits = match.group(1)
    return f"{digits[:4]}****{digits[-4:]}" if len(digits) >= 10 else f"****{digits[-2:]}"


def mask_phone_numbers(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Phone numbers become 2637****4567 (8 or 9 digits: ****67) in every string, URL-encoded paths included."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str) and key != "timestamp":
            event_dict[key] = _PHONE.sub(_mask_run, value)
    return event_dict


FIELD_MAX = 1_000
EXCEPTION_MAX = 8_000


def truncate_fields(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """No log line copies a huge field (a 1 MB id once made three 1 MB lines): strings are cut, their length kept."""
    for key, value in list(event_dict.items()):
        limit = EXCEPTION_MAX if key == "exception" else FIELD_MAX
        if isinstance(value, str) and len(value) > limit:
            event_dict[key] = f"{value[:limit]}…[{len(value)} chars]"
    return event_dict


# Exceptions whose messages are the library's own words (addresses, codes), never a person's input.
_TRUSTED_MESSAGES: tuple[type[BaseException], ...] = (OSError, TimeoutError, RedisError, httpx.HTTPError)
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]$|$)", re.MULTILINE)


def _message_of(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):  # locations and reasons, never the input (input_value=...)
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False)[:5])
    if isinstance(exc, _TRUSTED_MESSAGES):
        return _INPUT_VALUE.sub("input_value=[REDACTED]", str(exc))
    return "[message withheld: it may hold what a person typed]"


def _render_exception(exc: BaseException) -> str:
    """Like a traceback (frames and source lines, causes first), with each message through _message_of."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < 5:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: list[str] = []
    for item in reversed(chain):
        frames = "".join(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        parts.append(f"Traceback (most recent call last):\n{frames}{type(item).__qualname__}: {_message_of(item)}")
    return "\n\nThe above exception led to:\n\n".join(parts)


def format_exceptions(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog's format_exc_info, without the values: an exception's message may quote the person (a flow step
    that raised on their text, a ValidationError's input_value), so only trusted messages are kept."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        exc = exc_info if isinstance(exc_info, BaseException) else exc_info[1] if isinstance(exc_info, tuple) else None
        if exc is not None:
            event_dict["exception"] = _render_exception(exc)
    return event_dict


_configured_secrets: list[str] = []


def register_secret(value: str | None) -> None:
    """Exact configured secrets (app secret, tokens) are removed wherever they appear."""
    if value and len(value) >= 8 and value not in _configured_secrets:
        _configured_secrets.append(value)


def redact_configured(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if _configured_secrets:
        for key, value in list(event_dict.items()):
            if isinstance(value, str):
                for secret in _configured_secrets:
                    value = value.replace(secret, "[REDACTED]")
                event_dict[key] = value
    return event_dict


class _StdoutLogger:
    """structlog's PrintLogger, writing to sys.stdout as it is at each line rather than when the logger was made,
    so that a bound logger can be kept for good (tests swap sys.stdout)."""

    def msg(self, message: str) -> None:
        stream = sys.stdout
        stream.write(message + "\n")
        stream.flush()

    log = debug = info = warn = warning = err = error = critical = exception = fatal = failure = msg


def _stdout_logger(*_: Any) -> _StdoutLogger:
    return _STDOUT


_STDOUT = _StdoutLogger()
_generation = 0
"""Bumped by every configure_logging: a module's Logger binds anew on its next call."""


class Logger:
    """A module's logger: structlog's, bound once per configuration instead of on every call. structlog's lazy
    proxy, without its cache, assembles a bound logger for each call (5 µs, twenty times a filtered-out call; a
    few per message); with its cache, a later configuration (another level, a test's) would never reach it."""

    __slots__ = ("_bound", "_generation", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._generation = -1
        self._bound: Any = None

    def __getattr__(self, method: str) -> Any:
        if self._generation != _generation:
            self._bound = structlog.get_logger(self._name).bind()
            self._generation = _generation
        return getattr(self._bound, method)


def get_logger(name: str) -> FilteringBoundLogger:
    return cast(FilteringBoundLogger, Logger(name))


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stdout as it is at each record, not as it was at configuration (tests swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure_logging(development: bool, level: str = "INFO") -> None:
    """structlog for our code, and the same processors (redaction included) for stdlib loggers such as
    uvicorn's access log, whose request lines would otherwise carry query strings like hub.verify_token."""
    global _generation
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        format_exceptions,
        redact_secrets,
        redact_configured,
        mask_phone_numbers,
        truncate_fields,
    ]
    renderer: Any = structlog.dev.ConsoleRenderer(colors=False) if development else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stdout_logger,
        cache_logger_on_first_use=False,  # Logger keeps what it bound until the next configure_logging
    )
    _generation += 1
    handler = _StdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *processors],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("httpx", "httpcore"):  # request lines at INFO would repeat what our own log lines say
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True

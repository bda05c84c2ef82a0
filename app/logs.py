"""structlog setup: JSON in production, readable console in development, secrets stripped everywhere."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import httpx
import structlog
from pydantic import ValidationError
from redis.exceptions import RedisError

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
        logger_factory=structlog.PrintLoggerFactory(),  # sys.stdout as it is when a line is written
        cache_logger_on_first_use=False,
    )
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

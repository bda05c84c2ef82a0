"""structlog setup: JSON in production, readable console in development, secrets stripped everywhere."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

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


_PHONE = re.compile(r"(?<!\w)(?<!\d\.)(\d{4})\d{2,9}(\d{4})(?!\w)(?!\.\d)")  # whole numbers, not in ids or decimals


def mask_phone_numbers(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Full phone numbers (10 to 17 digits, as wa_ids are) become 2637****4567 in every string, URLs included."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str) and key != "timestamp":
            event_dict[key] = _PHONE.sub(r"\1****\2", value)
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
        structlog.processors.format_exc_info,
        redact_secrets,
        redact_configured,
        mask_phone_numbers,
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

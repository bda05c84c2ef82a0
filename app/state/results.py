"""ValidationResult, ErrorContext and ErrorHandler: how components report outcomes, as the seed describes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.logs import get_logger

log = get_logger(__name__)

ErrorType = Literal["validation", "api", "system", "flow", "state"]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """What a component returns: valid with a value, or invalid with a message the person can act on.

    `outcome` names the result for the flow table's transitions ("ok", "invalid", "yes", "cancel", ...).
    """

    valid: bool
    value: Any = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    outcome: str = "ok"

    @classmethod
    def success(cls, value: Any = None, *, outcome: str = "ok", **details: Any) -> ValidationResult:
        return cls(True, value, None, details, outcome)

    @classmethod
    def failure(cls, error: str, *, outcome: str = "invalid", **details: Any) -> ValidationResult:
        return cls(False, None, error, details, outcome)


@dataclass(frozen=True, slots=True)
class ErrorContext:
    error_type: ErrorType
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class ErrorRecorder(Protocol):
    """What ErrorHandler needs of a StateManager: a place to record the error in state."""

    def record_error(self, context: ErrorContext) -> None: ...


class ErrorHandler:
    """One place where failures become a logged event, a recorded state error and a ValidationResult."""

    @staticmethod
    def handle_error(
        error: BaseException, state_manager: ErrorRecorder | None, context: ErrorContext
    ) -> ValidationResult:
        log.warning(
            "error_handled",
            error_type=context.error_type,
            code=context.details.get("code"),
            exception=type(error).__name__,
        )
        if state_manager is not None:
            state_manager.record_error(context)
        return ValidationResult.failure(
            context.message, outcome="error", error_type=context.error_type, **context.details
        )

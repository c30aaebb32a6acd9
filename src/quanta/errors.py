"""Exceptions and located diagnostics shared by every layer.

The hierarchy, in one place:

- ``QuantaError``: root of every error Quanta raises on purpose; front ends render it
  without a traceback.
  - ``SpecError``: one or more located diagnostics made loading or validating specs fail.
  - ``ConfigError``: a setting is missing or wrong (names every place it looked).
  - ``MissingExtraError``: an optional dependency is not installed (names the extra).
  - ``AccessDenied``: the access decision refused the read (HTTP 403).
  - ``NotFound``: what was asked for does not exist (HTTP 404).
  - ``Conflict``: the request contradicts what exists, e.g. another mesh owns the product (HTTP 409).
  - ``BadRequest``: a request's parameter is invalid; names the parameter (HTTP 400).
    - ``NotAcceptable``: no representation the client accepts can be given (HTTP 406).
  - ``Gone``: what was asked for existed but was removed, e.g. a collected snapshot (HTTP 410).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class Severity(enum.StrEnum):
    """How bad a diagnostic is: errors fail validation, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A point in a source file (1-based line and column)."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column}"
        return self.path


@dataclass(frozen=True)
class Diagnostic:
    """A located finding about a spec: an error or a warning with a code from the closed set."""

    code: str
    message: str
    location: Location
    field: str = ""
    hint: str = ""
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.path, self.location.line, self.location.column, self.code)

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "field": self.field,
            "hint": self.hint,
        }

    def render(self) -> str:
        """One line like ``file:3:5: error[unknown-field] inputs[0].majr: … (hint: …)``."""
        where = f"{self.field}: " if self.field else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.location}: {self.severity.value}[{self.code}] {where}{self.message}{hint}"


class QuantaError(Exception):
    """Root of all errors Quanta raises deliberately; rendered without a traceback."""

    exit_code = 1


@dataclass
class SpecError(QuantaError):
    """Specs failed to load or validate; carries every diagnostic found, errors and warnings."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def __str__(self) -> str:
        errors = self.errors
        lines = [d.render() for d in errors]
        lines.append(f"{len(errors)} error(s) in specs")
        return "\n".join(lines)


class ConfigError(QuantaError):
    """A setting is missing or invalid."""


class MissingExtraError(QuantaError):
    """An optional dependency is needed but not installed."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(f"{package} is not installed: install it with `pip install 'quanta[{extra}]'`")
        self.package = package
        self.extra = extra


class NotFound(QuantaError):
    """What was asked for does not exist."""


class AccessDenied(QuantaError):
    """The decision point refused a read; the message says why (HTTP 403, SQLSTATE 42501)."""


class Conflict(QuantaError):
    """The request contradicts the state of the platform (e.g. another mesh owns the product)."""


class BadRequest(QuantaError):
    """A request's parameter is invalid; ``param`` names it (HTTP 400)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class NotAcceptable(BadRequest):
    """None of the representations the client accepts can be given (HTTP 406)."""


class Gone(QuantaError):
    """What was asked for existed but was removed, e.g. a snapshot gc collected (HTTP 410)."""


def display_path(path: Path) -> str:
    """A path as shown in diagnostics: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

"""Rendering diagnostics for people (Rich) and for machines (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from quanta.errors import Diagnostic


def error_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def render_diagnostics(diagnostics: Sequence[Diagnostic], console: Console | None = None) -> None:
    """One line per diagnostic: ``file:line:col: error[code] field: message (hint: …)``."""
    console = console or error_console()
    for d in diagnostics:
        colour = "red" if d.is_error else "yellow"
        field = f"[bold]{escape(d.field)}[/]: " if d.field else ""
        hint = f" [dim](hint: {escape(d.hint)})[/]" if d.hint else ""
        console.print(
            f"{escape(str(d.location))}: [{colour}]{d.severity.value}\\[{escape(d.code)}][/] "
            f"{field}{escape(d.message)}{hint}"
        )


def diagnostics_json(diagnostics: Sequence[Diagnostic], **summary: object) -> str:
    errors = sum(d.is_error for d in diagnostics)
    return json.dumps(
        {
            **summary,
            "errors": errors,
            "warnings": len(diagnostics) - errors,
            "diagnostics": [d.to_dict() for d in diagnostics],
        },
        indent=2,
    )

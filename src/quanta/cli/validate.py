"""``quanta validate``: load every spec, run the validation rules, report all findings."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def validate(
    path: Path = typer.Argument(Path("."), help="Mesh folder or mesh.yaml."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text, or json for CI."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Validate a mesh and all its product specs; exit 1 on any error."""
    from quanta.cli.render import diagnostics_json, error_console, render_diagnostics
    from quanta.project import Mesh

    report = Mesh.validate(path)
    failed = bool(report.errors) or report.source is None or (strict and bool(report.warnings))
    if output is OutputFormat.json:
        typer.echo(
            diagnostics_json(
                report.diagnostics, ok=not failed, products=len(report.source.products) if report.source else 0
            )
        )
    else:
        render_diagnostics(report.diagnostics)
        console = error_console()
        name = report.source.spec.name if report.source else str(path)
        products = len(report.source.products) if report.source else 0
        summary = (
            f"mesh '{name}': {products} product(s), {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        )
        console.print(f"[red]✗[/] {summary}" if failed else f"[green]✓[/] {summary}")
    raise typer.Exit(1 if failed else 0)

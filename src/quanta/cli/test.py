"""``quanta test``: run the checks of products on their current (or a given) snapshot."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from quanta.cli.common import MESH_OPTION, PROFILE_OPTION, console, load

if TYPE_CHECKING:
    from quanta.quality.checks import CheckResult

_STYLE = {"passed": "green", "warning": "yellow", "failed": "red", "error": "magenta"}


class TestFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"


def test(
    products: list[str] = typer.Argument(None, help="Products (default: all with a snapshot)."),
    mesh_path: Path = MESH_OPTION,
    snapshot: str | None = typer.Option(None, "--snapshot", help="Test this snapshot instead of the current one."),
    output: TestFormat = typer.Option(TestFormat.table, "--format", "-f", help="table, json or junit (XML)."),
    profile: str | None = PROFILE_OPTION,
) -> None:
    """Run the checks without publishing; exit 1 if a blocking check failed or could not run."""
    results = load(mesh_path, profile).test(products or None, snapshot)
    if output is TestFormat.json:
        typer.echo(
            json.dumps({key: [r.to_dict() for r in checks] for key, checks in results.items()}, indent=2, default=str)
        )
    elif output is TestFormat.junit:
        typer.echo(junit(results))
    else:
        from rich.table import Table

        table = Table(title="checks")
        for column in ("product", "check", "status", "observed", "expected", "detail"):
            table.add_column(column)
        for key, checks in results.items():
            for r in checks:
                observed = "" if r.observed is None else f"{r.observed:g}"
                sample = f" e.g. {r.sample}" if r.sample else ""
                table.add_row(
                    key,
                    r.check.id,
                    f"[{_STYLE[r.status]}]{r.status}[/]",
                    observed,
                    f"{r.check.operator} {r.check.limit:g}",
                    r.message + sample,
                )
        console().print(table)
    raise typer.Exit(1 if any(r.blocks for checks in results.values() for r in checks) else 0)


def junit(results: dict[str, list[CheckResult]]) -> str:
    """JUnit XML: one test suite per product, one test case per check."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="quanta")
    for key, checks in results.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=key,
            tests=str(len(checks)),
            failures=str(sum(r.status == "failed" for r in checks)),
            errors=str(sum(r.status == "error" for r in checks)),
        )
        for r in checks:
            case = ET.SubElement(suite, "testcase", classname=key, name=r.check.id)
            if r.status == "failed":
                ET.SubElement(case, "failure", message=r.message).text = json.dumps(r.sample, default=str)
            elif r.status == "error":
                ET.SubElement(case, "error", message=r.message)
            elif r.status == "warning":
                ET.SubElement(case, "system-out").text = f"warning: {r.message}"
    return ET.tostring(root, encoding="unicode")

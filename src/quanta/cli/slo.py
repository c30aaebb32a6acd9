"""``quanta slo``: each product's objectives with status, attainment and error budget."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from quanta.cli.common import MESH_OPTION, PROFILE_OPTION, console, load


class SloFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"


def slo(
    products: list[str] = typer.Argument(None, help="Products (default: all)."),
    mesh_path: Path = MESH_OPTION,
    output: SloFormat = typer.Option(SloFormat.table, "--format", "-f", help="table, or json (the SLO document)."),
    profile: str | None = PROFILE_OPTION,
) -> None:
    """Show SLO status, attainment over the window and remaining error budget."""
    documents = load(mesh_path, profile).slo_documents(products or None)
    if output is SloFormat.json:
        typer.echo(json.dumps(documents, indent=2, default=str))
        return
    if output is SloFormat.junit:
        typer.echo(junit(documents))
        raise typer.Exit(1 if any(o["status"] == "budget exhausted" for d in documents for o in d["objectives"]) else 0)
    from rich.table import Table

    table = Table(title="service level objectives")
    for column in ("product", "objective", "now", "attainment", "target", "budget left", "status"):
        table.add_column(column)
    for document in documents:
        for objective in document["objectives"]:
            now = objective["current"]["status"] if objective["current"] else "—"
            attainment = "—" if objective["attainment"] is None else f"{objective['attainment']:.1%}"
            budget = "—" if objective["budgetRemaining"] is None else f"{objective['budgetRemaining']:.0%}"
            table.add_row(
                document["key"],
                objective["name"],
                now,
                attainment,
                f"{objective['target']:.1%}",
                budget,
                objective["status"],
            )
    console().print(table)


def junit(documents: list[dict[str, Any]]) -> str:
    """JUnit XML for CI: a test case per objective; an exhausted error budget is a failure."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="quanta-slo")
    for document in documents:
        objectives = document["objectives"]
        failures = [o for o in objectives if o["status"] == "budget exhausted"]
        suite = ET.SubElement(
            root, "testsuite", name=document["key"], tests=str(len(objectives)), failures=str(len(failures))
        )
        for objective in objectives:
            case = ET.SubElement(suite, "testcase", classname=document["key"], name=objective["name"])
            if objective in failures:
                ET.SubElement(
                    case,
                    "failure",
                    message=f"error budget exhausted: attainment "
                    f"{objective['attainment']:.2%} < target {objective['target']:.2%}",
                )
            elif objective["status"] == "at risk":
                ET.SubElement(case, "system-out").text = "at risk: below target"
    return ET.tostring(root, encoding="unicode")

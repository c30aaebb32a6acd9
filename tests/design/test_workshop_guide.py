"""The facilitator's guide's transcript is the scripted workshop: every command of it runs, from
`quanta init --empty` through two use cases, and prints the lines the guide shows, in order."""

from __future__ import annotations

import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.design.overlay import compute_overlay
from quanta.errors import QuantaError, SpecError
from quanta.project import Mesh

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "workshop.md"
WIDTH = "160"
"""The terminal width the transcript was taken at."""


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    """Printed lines in order; None-like gaps (``…``) may hold any lines."""


def transcript() -> list[Step]:
    text = GUIDE.read_text(encoding="utf-8").split("<!-- transcript -->\n```console\n", 1)[1].split("\n```", 1)[0]
    steps: list[Step] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append(Step(line[2:]))
        else:
            steps[-1].expected.append(line)
    return steps


def flat(text: str) -> str:
    return " ".join(text.split())


def invoke(args: list[str]) -> tuple[int, str]:
    """Exit code and what `quanta` prints (its error boundary renders a QuantaError)."""
    result = CliRunner().invoke(app, args, env={"COLUMNS": WIDTH})
    if isinstance(result.exception, SpecError):
        return 1, result.output + "\n".join(d.render() for d in result.exception.diagnostics)
    if isinstance(result.exception, QuantaError):
        return 1, result.output + str(result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_the_transcript_is_what_the_commands_print(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    steps = transcript()
    assert steps[0].command == "quanta init fashion --empty"
    for step in steps:
        words = shlex.split(step.command)
        if words[0] == "cd":
            monkeypatch.chdir(Path.cwd() / words[1])
            continue
        assert words[0] == "quanta", step.command
        code, output = invoke(words[1:])
        refused = any(" error[" in line for line in step.expected)
        assert code == (1 if refused else 0), f"{step.command}\n{output}"
        assert "Traceback" not in output and "internal error" not in output, output
        shown, position = flat(output), 0
        for line in step.expected:
            if line.strip() in ("…", ""):
                continue
            found = shown.find(flat(line), position)
            assert found >= 0, f"{step.command}\nexpected: {line}\nprinted:\n{output}"
            position = found + len(flat(line))
        if not step.expected and not refused:
            assert "error" not in output, output


def test_the_workshop_ends_in_a_mesh_that_validates_with_the_maps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for step in transcript():
        words = shlex.split(step.command)
        if words[0] == "cd":
            monkeypatch.chdir(Path.cwd() / words[1])
        else:
            invoke(words[1:])
    root = tmp_path / "fashion"
    report = Mesh.validate(root)
    assert report.ok, [d.render() for d in report.errors]
    mesh = Mesh.load(root)
    steps = compute_overlay(mesh.source).steps
    assert [s.use_case for s in steps] == ["clv-weekly-report", "upsell-recommendations"]
    assert steps[1].generalised == {
        "customer.customer-marketing-360": ["property gender"],
        "sales.historical-purchases": ["property sku"],
    }
    assert steps[1].added == ["marketing.product-recommendations", "merchandising.products"]
    assert {p.spec.ref: p.spec.domain for p in mesh.source.products} == {
        "customer.customer-marketing-360": "customer",
        "customer-relations.customer-lifetime-value": "customer-relations",
        "marketing.product-recommendations": "marketing",
        "merchandising.products": "merchandising",
        "sales.historical-purchases": "sales",
    }
    assert sorted(p.name for p in (root / "maps").glob("*.svg")) == [
        "step-1-clv-weekly-report.svg",
        "step-2-upsell-recommendations.svg",
    ]
    for svg in [root / "map.svg", *(root / "maps").glob("*.svg")]:
        ET.fromstring(svg.read_text())
    assert (root / "design/workshop.html").is_file() and (root / "design/workshop.md").is_file()
    assert (root / "mesh.yaml").read_text().startswith("# A Quanta mesh")

"""The SLO questionnaire driven by an answers file writes exactly the expected SLOs and schedule,
keeping the spec's comments; sources get their freshness inferred from consumers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.project import Mesh
from quanta.spec.yamlsource import parse_yaml

REVENUE = "products/sales/daily-revenue/dataproduct.yaml"
ANSWERS = """consumers: [sales-managers]
ports: [table]
freshness: 1d
changes: daily
completeness: {properties: [country], minRatio: 99%}
volume: {rows: 1000, growth: 30%}
retention: 365d
impact: high
regulation: [gdpr]
"""


def test_answers_file_writes_exactly_the_expected_slos(mesh_dir: Path) -> None:
    spec = mesh_dir / REVENUE
    spec.write_text(
        "# Owned by the sales data team.\n"
        + spec.read_text().replace("version: 1.0.0", "version: 1.0.0  # bump the major on breaking changes")
    )
    answers = mesh_dir / "answers.yaml"
    answers.write_text(ANSWERS)
    result = CliRunner().invoke(
        app,
        ["design", "slo", "sales.daily-revenue", "--answers", str(answers), "--mesh", str(mesh_dir)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "recommended delivery: batch" in result.output
    assert "no property is classified" in result.output  # gdpr without classified data is flagged
    text = spec.read_text()
    assert text.startswith("# Owned by the sales data team.\n")
    assert "version: 1.0.0  # bump the major on breaking changes" in text
    document, _ = parse_yaml(text, "x")
    assert document is not None
    assert document.data["schedule"] == "0 5 * * *"
    assert document.data["slos"] == {
        "mode": "batch",
        "freshness": {"maxAge": "1d", "blocking": True},
        "completeness": {"properties": ["country"], "minRatio": "99%"},
        "volume": {"minRows": 500, "maxChange": "60%"},
        "retention": {"period": "365d"},
    }
    assert Mesh.validate(mesh_dir).ok


def test_streaming_is_recommended_for_minute_freshness(mesh_dir: Path) -> None:
    answers = mesh_dir / "answers.yaml"
    answers.write_text("freshness: 5m\nimpact: low\n")
    result = CliRunner().invoke(
        app,
        ["design", "slo", "sales.daily-revenue", "--answers", str(answers), "--mesh", str(mesh_dir)],
        catch_exceptions=False,
    )
    assert "recommended delivery: streaming" in result.output
    assert Mesh.load(mesh_dir).product("sales.daily-revenue").spec.schedule == "*/15 * * * *"


def test_source_freshness_is_inferred_from_consumers_and_conflicts_flagged(mesh_dir: Path) -> None:
    orders = mesh_dir / "products/sales/orders/dataproduct.yaml"
    orders.write_text(orders.read_text().replace("freshness: {maxAge: 1d}", "freshness: {maxAge: 3d}"))
    answers = mesh_dir / "answers.yaml"
    answers.write_text("impact: medium\n")
    result = CliRunner().invoke(
        app,
        ["design", "slo", "sales.orders", "--infer", "--answers", str(answers), "--mesh", str(mesh_dir)],
        catch_exceptions=False,
    )
    assert "strictest consumer: sales.daily-revenue needs data at most 2d old" in result.output
    assert "conflict: sales.orders promises 3d" in result.output
    product = Mesh.load(mesh_dir).product("sales.orders").spec
    assert product.slos.freshness is not None and product.slos.freshness.max_age == "2d"


def test_an_answers_file_that_is_a_fifo_is_refused_not_waited_on(mesh_dir: Path) -> None:
    answers = mesh_dir / "answers.yaml"
    os.mkfifo(answers)
    done = subprocess.run(
        [sys.executable, "-m", "quanta", "design", "slo", "sales.daily-revenue", "--answers", str(answers)],
        cwd=mesh_dir,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "not-a-file" in done.stderr, done.stderr

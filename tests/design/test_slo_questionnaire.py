"""The SLO questionnaire driven by an answers file writes exactly the expected SLOs and schedule,
keeping the spec's comments; sources get their freshness inferred from consumers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
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
    assert "recommended delivery: batch" in flat(result.output)
    assert "no property is classified" in flat(result.output)  # gdpr without classified data is flagged
    text = spec.read_text()
    assert text.startswith("# Owned by the sales data team.\n")
    assert "version: 1.0.0  # bump the major on breaking changes" in text
    document, _ = parse_yaml(text, "x")
    assert document is not None
    assert document.data["schedule"] == "0 */6 * * *"  # 6h + 5m build leave data within 1d; daily would not
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
    assert "recommended delivery: streaming" in flat(result.output)
    spec = Mesh.load(mesh_dir).product("sales.daily-revenue").spec
    # no batch build keeps data within 5m: the objective is what the tightest schedule can promise
    assert spec.schedule == "*/5 * * * *"
    assert spec.slos.freshness is not None and spec.slos.freshness.max_age == "10m"


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
    assert "strictest consumer: sales.daily-revenue needs data at most 2d old and is rebuilt every 1d" in flat(
        result.output
    )
    assert "conflict: sales.orders promises 3d" in flat(result.output)
    product = Mesh.load(mesh_dir).product("sales.orders").spec
    assert product.slos.freshness is not None and product.slos.freshness.max_age == "1d"  # 2d less a day


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
    assert done.returncode == 1 and "answers.yaml: error[not-a-file]" in done.stderr, done.stderr


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def slo(mesh_dir: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        app, ["design", "slo", *args, "--mesh", str(mesh_dir)], input=input, catch_exceptions=False
    )


def design_check(mesh_dir: Path) -> Result:
    return CliRunner().invoke(app, ["design", "check", "--mesh", str(mesh_dir)], catch_exceptions=False)


# consumers, ports, freshness, changes, completeness, availability, response time, volume, retention,
# impact, regulation
REPLIES = ["analysts", "table", "1d", "daily", "country 99%", "", "", "1000 30%", "365d", "high", "gdpr"]


def test_invalid_answers_are_asked_again_with_the_accepted_forms(mesh_dir: Path) -> None:
    replies = list(REPLIES)
    replies[2] = "weekly\n\n1d"  # not a duration, then empty (freshness is required), then valid
    replies[3] = "fortnightly\ndaily"
    replies[4] = "Country 99%\ncountry 150%\ncountry 99%"
    replies[7] = "many\n1000 30%"
    result = slo(mesh_dir, "sales.daily-revenue", input="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in flat(result.output) and "internal error" not in flat(result.output)
    assert "not accepted: 'weekly' is not a duration like 30m, 12h, 7d, 200ms" in flat(result.output)
    assert "accepted: a duration: a number and a unit ms, s, m, h, d or w" in flat(result.output)
    assert "not accepted: an answer is required" in flat(result.output)
    assert "accepted: one of continuous, hourly, daily, weekly, monthly" in flat(result.output)
    assert "not accepted: properties.0:" in flat(result.output)
    assert "not accepted: minRatio:" in flat(result.output)
    assert "not accepted: rows:" in flat(result.output)
    assert "recommended delivery: batch" in flat(result.output)
    spec = Mesh.load(mesh_dir).product("sales.daily-revenue").spec
    assert spec.slos.freshness is not None and spec.slos.freshness.max_age == "1d"
    assert spec.slos.completeness is not None and spec.slos.completeness.properties == ["country"]
    assert not (mesh_dir / ".quanta/design/slo-sales.daily-revenue.yaml").exists()  # done: session removed


def test_an_interrupted_session_is_saved_and_resumed(mesh_dir: Path) -> None:
    session = mesh_dir / ".quanta/design/slo-sales.daily-revenue.yaml"
    first = slo(mesh_dir, "sales.daily-revenue", input="\n".join(REPLIES[:5]) + "\n")  # input ends mid-way
    assert first.exit_code == 1
    assert "interrupted: 5 answer(s) saved to" in flat(first.output) and "--resume" in flat(first.output)
    document, _ = parse_yaml(session.read_text(), "x")
    assert document is not None
    assert document.data == {
        "consumers": ["analysts"],
        "ports": ["table"],
        "freshness": "1d",
        "changes": "daily",
        "completeness": {"properties": ["country"], "minRatio": "99%"},
    }
    assert Mesh.load(mesh_dir).product("sales.daily-revenue").spec.slos.completeness is None  # nothing written yet
    second = slo(mesh_dir, "sales.daily-revenue", "--resume", input="\n".join(REPLIES[5:]) + "\n")
    assert second.exit_code == 0, second.output
    assert "resuming" in flat(second.output) and "5 of 11 answered" in flat(second.output)
    assert "Who consumes" not in flat(second.output)  # answered questions are not asked again
    spec = Mesh.load(mesh_dir).product("sales.daily-revenue").spec
    assert spec.slos.completeness is not None and spec.slos.volume is not None
    assert not session.exists()


def test_a_saved_session_is_offered_and_can_be_declined(mesh_dir: Path) -> None:
    slo(mesh_dir, "sales.daily-revenue", input="\n".join(REPLIES[:3]) + "\n")
    offered = slo(mesh_dir, "sales.daily-revenue", input="y\n" + "\n".join(REPLIES[3:]) + "\n")
    assert "resume the saved session (3 of 11 answered)?" in flat(offered.output) and offered.exit_code == 0
    slo(mesh_dir, "sales.daily-revenue", input="\n".join(REPLIES[:3]) + "\n")
    restarted = slo(mesh_dir, "sales.daily-revenue", "--restart", input="\n".join(REPLIES) + "\n")
    assert restarted.exit_code == 0 and "Who consumes" in flat(restarted.output)


def test_an_invalid_answers_file_is_a_clear_error(mesh_dir: Path) -> None:
    answers = mesh_dir / "answers.yaml"
    answers.write_text("freshness: weekly\n")
    before = (mesh_dir / REVENUE).read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "quanta", "design", "slo", "sales.daily-revenue", "--answers", str(answers)],
        cwd=mesh_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert f"{answers}:1:12: error[invalid-value] freshness: 'weekly' is not a duration" in flat(done.stderr)
    assert "Traceback" not in done.stderr and (mesh_dir / REVENUE).read_bytes() == before


@pytest.mark.parametrize("freshness", ["10m", "1h", "1d", "2d", "7d", "30d"])
def test_proposals_and_inferred_sources_pass_design_check(mesh_dir: Path, freshness: str) -> None:
    answers = mesh_dir / "answers.yaml"
    answers.write_text(f"freshness: {freshness}\n")
    assert slo(mesh_dir, "sales.daily-revenue", "--answers", str(answers)).exit_code == 0
    inferred = subprocess.run(  # --infer never asks: stdin closed, and a timeout if it waited
        [sys.executable, "-m", "quanta", "design", "slo", "sales.orders", "--infer", "--mesh", str(mesh_dir)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    revenue = Mesh.load(mesh_dir).product("sales.daily-revenue").spec
    if freshness == "10m":  # daily-revenue builds every 5 minutes: 5m is left for orders, below any batch build
        assert (
            inferred.returncode == 1
            and "conflict: sales.orders would have to be at most 5m old, but a batch build can promise no less than 10m"
            in flat(inferred.stdout)
        )
        assert "nothing written" in flat(inferred.stdout)
    else:
        assert inferred.returncode == 0, inferred.stdout + inferred.stderr
        orders = Mesh.load(mesh_dir).product("sales.orders").spec
        assert orders.slos.freshness is not None and orders.schedule is not None
        assert revenue.slos.freshness is not None
        checked = design_check(mesh_dir)
        assert checked.exit_code == 0 and "0 error(s)" in flat(checked.output), checked.output


def test_infer_without_consumer_freshness_never_asks(mesh_dir: Path) -> None:
    revenue = mesh_dir / REVENUE
    revenue.write_text(revenue.read_text().replace("  freshness: {maxAge: 2d}", "  volume: {minRows: 1}"))
    done = subprocess.run(
        [sys.executable, "-m", "quanta", "design", "slo", "sales.orders", "--infer", "--mesh", str(mesh_dir)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "no consumer declares a freshness SLO yet" in flat(done.stdout), done.stdout


def test_the_documented_answers_file_example_works(mesh_dir: Path) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs/guides/workshop.md").read_text()
    example = guide.split("### The answers file", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    answers = mesh_dir / "answers.yaml"
    fitted = example.replace("[table, api]", "[table]").replace("[api]", "[table]").replace("email, phone", "country")
    answers.write_text(fitted)  # the example's ports and properties, renamed to the init mesh's
    result = slo(mesh_dir, "sales.daily-revenue", "--answers", str(answers))
    assert result.exit_code == 0, result.output
    spec = Mesh.load(mesh_dir).product("sales.daily-revenue").spec
    assert spec.slos.latency is not None and spec.slos.latency.p95 == "200ms" and spec.schedule == "0 */6 * * *"
    assert spec.slos.availability is not None and spec.slos.availability.target == 0.995

"""Design commands check what they refer to before writing: a refusal exits 1 with a located
message and a hint, and leaves every file byte-identical; --dry-run shows the diff and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quanta.cli.main import app
from quanta.errors import QuantaError, SpecError

runner = CliRunner()


def invoke(args: list[str]) -> tuple[int, str]:
    """Exit code and output as `quanta` shows them (its error boundary renders a QuantaError)."""
    result = runner.invoke(app, args)
    if isinstance(result.exception, QuantaError):
        shown = exc_text(result.exception)
        return result.exception.exit_code, result.output + shown
    return result.exit_code, result.output


def exc_text(exc: QuantaError) -> str:
    return "\n".join(d.render() for d in exc.diagnostics) if isinstance(exc, SpecError) else str(exc)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def mesh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "shop"]).exit_code == 0
    m = ["--mesh", "shop"]
    ok = runner.invoke(app, ["design", "use-case", "uc", "--persona", "p", "--domain", "sales", "--statement", "s", *m])
    assert ok.exit_code == 0, ok.output
    ok = runner.invoke(app, ["design", "product", "stub", "-u", "uc", "-d", "One row per thing.", *m])
    assert ok.exit_code == 0, ok.output
    return tmp_path / "shop"


REFUSED = [
    (["design", "product", "Customer Value", "-u", "uc", "-d", "x."], "invalid-value", "customer-value"),
    (["design", "product", "clv", "-u", "nope", "-d", "x."], "unknown-use-case", "uc"),
    (["design", "product", "clv", "-u", "uc", "-d", "x.", "-i", "system:webshp:orders"], "unknown-system", "webshop"),
    (["design", "product", "clv", "-u", "uc", "-d", "x.", "--domain", "sale"], "unknown-domain", "sales"),
    (["design", "assign", "stub", "sails"], "unknown-domain", "sales"),
    (["design", "assign", "stubb", "sales"], "unknown-product", "stub"),
    (["design", "generalise", "stub", "-u", "uc", "-p", "Bad Name:string"], "invalid-value", "bad_name"),
    (["design", "system", "crm", "--domain", "customer"], "unknown-domain", "quanta design domain customer"),
    (["design", "domain", "Customer Value"], "invalid-value", "customer-value"),
    (["design", "use-case", "uc", "--persona", "p", "--domain", "sales", "--statement", "s"], "duplicate-id", ""),
    (["design", "promote", "nothing"], "unknown-product", ""),
]


@pytest.mark.parametrize(("args", "code", "hint"), REFUSED)
def test_refusals_change_nothing(mesh: Path, args: list[str], code: str, hint: str) -> None:
    before = snapshot(mesh)
    exit_code, output = invoke([*args, "--mesh", str(mesh)])
    assert exit_code == 1, output
    assert f"error[{code}]" in output and "mesh.yaml:" in output
    assert hint in output
    assert snapshot(mesh) == before


def test_dry_run_shows_the_diff_and_writes_nothing(mesh: Path) -> None:
    before = snapshot(mesh)
    result = runner.invoke(app, ["design", "domain", "customer", "--team", "crm", "--mesh", str(mesh), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "+  - {name: customer, team: crm}" in result.output and "--- a/mesh.yaml" in result.output
    assert snapshot(mesh) == before

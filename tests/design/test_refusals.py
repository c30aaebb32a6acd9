"""Design commands check what they refer to before writing: a refusal exits 1 with a located
message and a hint, and leaves every file byte-identical; --dry-run shows the diff and writes nothing."""

from __future__ import annotations

import re
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
    """Every file of the mesh but the per-checkout caches in .quanta/ (loading a mesh may create them)."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and ".quanta" not in p.relative_to(root).parts)
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


@pytest.fixture
def mesh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "shop"]).exit_code == 0
    m = ["--mesh", "shop"]
    ok = runner.invoke(app, ["design", "use-case", "uc", "--persona", "p", "--domain", "sales", "--statement", "s", *m])
    assert ok.exit_code == 0, ok.output
    ok = runner.invoke(
        app, ["design", "product", "stub", "-u", "uc", "-d", "One row per thing.", "-p", "thing_id:string", *m]
    )
    assert ok.exit_code == 0, ok.output
    return tmp_path / "shop"


STUB = "products/proposed/stub/dataproduct.yaml"
ORDERS = "products/sales/orders/dataproduct.yaml"

REFUSED = [  # the command, the code, where it is reported (file:line:col), what the hint says
    (["design", "product", "Customer Value", "-u", "uc", "-d", "x."], "invalid-value", "mesh.yaml", "customer-value"),
    (["design", "product", "clv", "-u", "nope", "-d", "x."], "unknown-use-case", "mesh.yaml:", "uc"),
    (
        ["design", "product", "clv", "-u", "uc", "-d", "x.", "-i", "system:webshp:x"],
        "unknown-system",
        "mesh.yaml:",
        "webshop",
    ),
    (["design", "product", "clv", "-u", "uc", "-d", "x.", "--domain", "sale"], "unknown-domain", "mesh.yaml:", "sales"),
    (
        ["design", "product", "clv", "-u", "uc", "-d", "x.", "-i", "orders"],
        "invalid-value",
        "mesh.yaml",
        "system:<name>",
    ),
    (
        ["design", "product", "clv", "-u", "uc", "-d", "x.", "-i", "product:orders@v2"],
        "invalid-value",
        "mesh.yaml",
        "@2",
    ),
    (["design", "product", "clv", "-u", "uc", "-d", "x.", "-p", "a:strin"], "invalid-value", "mesh.yaml", "timestamp"),
    (["design", "product", "stub", "-u", "uc", "-d", "x."], "duplicate-id", f"{STUB}:3:7", "generalise stub"),
    (["design", "assign", "stub", "sails"], "unknown-domain", "mesh.yaml:", "sales"),
    (["design", "assign", "stubb", "sales"], "unknown-product", "mesh.yaml:", "stub"),
    (["design", "assign", "orders", "sales-new"], "unknown-domain", "mesh.yaml:", "sales"),
    (["design", "generalise", "stub", "-u", "uc", "-p", "Bad Name:string"], "invalid-value", "mesh.yaml", "bad_name"),
    (["design", "generalise", "stub", "-u", "uc", "-p", "thing_id:string"], "design-conflict", f"{STUB}:", "reuse it"),
    (["design", "generalise", "stub", "-u", "nope", "-p", "x:string"], "unknown-use-case", "mesh.yaml:", "uc"),
    (["design", "generalise", "stubs", "-u", "uc", "-p", "x:string"], "unknown-product", "mesh.yaml:", "stub"),
    (
        ["design", "system", "crm", "--domain", "customer"],
        "unknown-domain",
        "mesh.yaml:",
        "quanta design domain customer",
    ),
    (["design", "system", "webshop", "--domain", "sales"], "duplicate-id", "mesh.yaml:", "rename"),
    (["design", "domain", "Customer Value"], "invalid-value", "mesh.yaml", "customer-value"),
    (["design", "domain", "sales"], "duplicate-id", "mesh.yaml:", "rename"),
    (
        ["design", "use-case", "uc", "--persona", "p", "--domain", "sales", "--statement", "s"],
        "duplicate-id",
        "mesh.yaml:",
        "",
    ),
    (
        ["design", "use-case", "u2", "--persona", "p", "--domain", "x", "--statement", "s"],
        "unknown-domain",
        "mesh.yaml:",
        "",
    ),
    (
        ["design", "use-case", "Big Case", "--persona", "p", "--domain", "sales", "--statement", "s"],
        "invalid-value",
        "mesh.yaml",
        "big-case",
    ),
    (["design", "promote", "nothing"], "unknown-product", "mesh.yaml:", ""),
    (["design", "promote", "stub"], "missing-domain", f"{STUB}:3:7", "quanta design assign stub"),
    (["design", "promote", "orders"], "design-conflict", f"{ORDERS}:", "proposed"),
    (["design", "scaffold", "orders"], "design-conflict", f"{ORDERS}:", "draft"),
    (["design", "scaffold", "ordrs"], "unknown-product", "mesh.yaml:", "orders"),
    (["design", "map", "--use-case", "unknown"], "unknown-use-case", "mesh.yaml:", "uc"),
    (["design", "map", "--domain", "sale"], "unknown-domain", "mesh.yaml:", "sales"),
    (["design", "owners", "stubb"], "unknown-product", "mesh.yaml:", "stub"),
    (["design", "slo", "stubb"], "unknown-product", "mesh.yaml:", "stub"),
]


@pytest.mark.parametrize(("args", "code", "where", "hint"), REFUSED)
def test_refusals_change_nothing(mesh: Path, args: list[str], code: str, where: str, hint: str) -> None:
    before = snapshot(mesh)
    exit_code, output = invoke([*args, "--mesh", str(mesh)])
    assert exit_code == 1, output
    located = re.search(rf"(\S+): error\[{re.escape(code)}\]", output)
    assert located is not None, output
    assert located.group(1).startswith(f"{mesh.name}/{where}"), output  # shown relative to the working folder
    assert "(hint: " in output and hint in output
    assert "Traceback" not in output and "internal error" not in output
    assert snapshot(mesh) == before


def test_an_invalid_answers_file_is_located_and_changes_nothing(mesh: Path) -> None:
    answers = mesh.parent / "answers.yaml"
    answers.write_text("freshness: weekly\nimpact: huge\n")
    before = snapshot(mesh)
    exit_code, output = invoke(["design", "slo", "sales.orders", "--answers", str(answers), "--mesh", str(mesh)])
    assert exit_code == 1, output
    assert f"{answers}:1:12: error[invalid-value] freshness: 'weekly' is not a duration" in output
    assert f"{answers}:2:9: error[invalid-value] impact:" in output
    assert snapshot(mesh) == before


def test_dry_run_shows_the_diff_and_writes_nothing(mesh: Path) -> None:
    before = snapshot(mesh)
    result = runner.invoke(app, ["design", "domain", "customer", "--team", "crm", "--mesh", str(mesh), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "+  - {name: customer, team: crm}" in result.output and "--- a/mesh.yaml" in result.output
    assert snapshot(mesh) == before

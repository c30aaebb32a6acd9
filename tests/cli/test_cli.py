"""The CLI as a user runs it: a real `quanta` subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

QUANTA = [sys.executable, "-m", "quanta"]


def quanta(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QUANTA, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_init_then_validate(tmp_path: Path) -> None:
    created = quanta("init", "shop", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    result = quanta("validate", "shop", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "mesh 'shop': 2 product(s), 0 error(s)" in result.stderr


def test_init_refuses_a_non_empty_folder_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "keep.txt").write_text("mine")
    result = quanta("init", "shop", cwd=tmp_path)
    assert result.returncode == 1
    assert "already exists and is not empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "shop" / "keep.txt").read_text() == "mine"


def test_init_rejects_a_bad_name(tmp_path: Path) -> None:
    result = quanta("init", "My Shop", cwd=tmp_path)
    assert result.returncode == 1 and "kebab-case" in result.stderr


def test_validate_reports_located_errors_and_json(tmp_path: Path) -> None:
    quanta("init", "shop", cwd=tmp_path)
    spec = tmp_path / "shop/products/sales/orders/dataproduct.yaml"
    spec.write_text(spec.read_text().replace("status: active", "status: actve"))
    text = quanta("validate", "shop", cwd=tmp_path)
    assert text.returncode == 1
    assert "shop/products/sales/orders/dataproduct.yaml:6:9: error[invalid-value] status:" in text.stderr
    assert "did you mean 'active'?" in text.stderr
    assert "Traceback" not in text.stderr
    machine = quanta("validate", "shop", "--format", "json", cwd=tmp_path)
    assert machine.returncode == 1
    report = json.loads(machine.stdout)
    assert report["ok"] is False and report["errors"] == 1
    (diagnostic,) = report["diagnostics"]
    assert {k: diagnostic[k] for k in ("code", "line", "column", "field")} == {
        "code": "invalid-value",
        "line": 6,
        "column": 9,
        "field": "status",
    }


def test_strict_turns_warnings_into_failure(tmp_path: Path) -> None:
    quanta("init", "shop", cwd=tmp_path)
    mesh = tmp_path / "shop/mesh.yaml"
    mesh.write_text(
        mesh.read_text().replace(
            "products: [products/**/dataproduct.yaml]", "products: [products/**/dataproduct.yaml, more/*.yaml]"
        )
    )
    assert quanta("validate", "shop", cwd=tmp_path).returncode == 0
    assert quanta("validate", "shop", "--strict", cwd=tmp_path).returncode == 1


def test_schema_command_prints_a_valid_json_schema(tmp_path: Path) -> None:
    result = quanta("schema", cwd=tmp_path)
    assert result.returncode == 0
    jsonschema.Draft202012Validator.check_schema(json.loads(result.stdout))
    assert quanta("schema", "-o", "s.json", cwd=tmp_path).returncode == 0
    assert json.loads((tmp_path / "s.json").read_text())["$defs"]["DataProduct"]


def test_debug_shows_a_traceback(tmp_path: Path) -> None:
    result = quanta("--debug", "validate", "missing-folder", cwd=tmp_path)
    assert result.returncode == 1 and "file-not-found" in result.stderr
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    result = quanta("--debug", "init", "x", cwd=tmp_path)
    assert "Traceback" in result.stderr

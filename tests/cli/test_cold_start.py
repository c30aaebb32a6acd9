"""A fast cold start: each command imports only what it uses (read from ``python -X importtime``,
so what is measured is what the interpreter really loaded)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from quanta.blueprints import create_mesh

HEAVY = {"sqlalchemy", "alembic", "sqlglot", "duckdb", "pyarrow", "numpy", "httpx", "jinja2"}


def imported(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """Top-level packages the command imported, and its stderr without the import times."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "quanta", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    names = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \| +([\w]+)", result.stderr, flags=re.M))
    rest = "\n".join(line for line in result.stderr.splitlines() if not line.startswith("import time:"))
    return names, rest


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cold") / "shop"
    create_mesh("shop", root)  # daily-revenue has a row filter, which validation checks
    return root


def test_help_imports_no_heavy_package(shop: Path) -> None:
    names, _ = imported("--help", cwd=shop)
    assert not names & (HEAVY | {"quanta.project", "pydantic"}), names & HEAVY


def test_validate_imports_neither_the_catalog_nor_the_sql_parser_nor_duckdb(shop: Path) -> None:
    first, _ = imported("validate", cwd=shop)
    assert not first & (HEAVY - {"sqlglot"})  # the first validation parses the row filter once
    again, _ = imported("validate", cwd=shop)
    assert not again & HEAVY, again & HEAVY


def test_an_invalid_row_filter_is_still_reported_after_a_valid_one_was_remembered(shop: Path) -> None:
    imported("validate", cwd=shop)
    spec = shop / "products/sales/daily-revenue/dataproduct.yaml"
    original = spec.read_text()
    assert "rowFilter:" in original
    spec.write_text(original.replace('rowFilter: "country = :principal.country"', 'rowFilter: "country = = 1"'))
    try:
        result = subprocess.run([sys.executable, "-m", "quanta", "validate"], cwd=shop, capture_output=True, text=True)
    finally:
        spec.write_text(original)
    assert result.returncode == 1 and "invalid-row-filter" in result.stderr, result.stderr


def test_a_no_op_build_and_status_read_the_catalog_without_duckdb_or_alembic(shop: Path) -> None:
    subprocess.run([sys.executable, "-m", "quanta", "build"], cwd=shop, check=True, capture_output=True)
    for command in ("build", "status"):
        names, _ = imported(command, cwd=shop)
        assert "sqlalchemy" in names
        assert not names & {"alembic", "sqlglot", "duckdb", "numpy", "httpx", "jinja2"}, (command, names & HEAVY)


def test_an_old_quanta_daemon_setting_is_ignored_with_a_notice(shop: Path) -> None:
    _, stderr = imported("--help", cwd=shop, env={**os.environ, "QUANTA_DAEMON": "1"})
    assert "QUANTA_DAEMON is ignored" in stderr

"""Data is never markup: values, descriptions and error messages that look like Rich markup or
emoji codes are shown exactly as they are, by every command that prints them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from quanta.blueprints import create_mesh

MARKUP = "[/]"
EMOJI = ":thumbs_up:"
BOLD = "[bold]loud[/bold]"


def quanta(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quanta", *args], cwd=cwd, capture_output=True, text=True, env={"COLUMNS": "250"}
    )


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("literal") / "shop"
    create_mesh("shop", root)
    orders = root / "data/orders.csv"
    orders.write_text(orders.read_text() + f"o-9001,{MARKUP}{EMOJI},FR,1.00,2026-11-03\n")
    spec = root / "products/sales/orders/dataproduct.yaml"
    text = spec.read_text()
    spec.write_text(text.replace("cleaned and typed.", f"cleaned and typed {BOLD} {EMOJI}.", 1))
    assert quanta("build", "shop", cwd=root.parent).returncode == 0
    return root


def _literal(output: str) -> None:
    assert "👍" not in output and "Traceback" not in output


def test_query_prints_values_literally(shop: Path) -> None:
    result = quanta(
        "query", "select customer_id from sales.orders where order_id = 'o-9001'", "-m", "shop", cwd=shop.parent
    )
    assert result.returncode == 0, result.stderr
    assert f"{MARKUP}{EMOJI}" in result.stdout
    _literal(result.stdout)


def test_show_prints_sample_values_and_descriptions_literally(shop: Path) -> None:
    result = quanta("show", "sales.orders", "-m", "shop", "--rows", "20", cwd=shop.parent)
    assert result.returncode == 0, result.stderr
    assert f"{MARKUP}{EMOJI}" in result.stdout and BOLD in result.stdout
    _literal(result.stdout)


def test_search_and_status_print_descriptions_and_names_literally(shop: Path) -> None:
    search = quanta("search", "cleaned", "--mesh", "shop", cwd=shop.parent)
    assert search.returncode == 0, search.stderr
    assert BOLD in search.stdout and EMOJI in search.stdout
    _literal(search.stdout)
    status = quanta("status", "shop", cwd=shop.parent)
    assert status.returncode == 0, status.stderr
    _literal(status.stdout)


def test_a_build_error_is_printed_literally(shop: Path) -> None:
    step = shop / "products/sales/orders/orders.sql"
    original = step.read_text()
    step.write_text(f'select "{MARKUP}{EMOJI}" from exports\n')
    try:
        result = quanta("build", "shop", cwd=shop.parent)
    finally:
        step.write_text(original)
    assert result.returncode == 1
    assert f"{MARKUP}{EMOJI}" in result.stdout.replace("\n", "").replace("│", "").replace(" ", "") or (
        f"{MARKUP}{EMOJI}" in result.stdout
    )
    _literal(result.stdout + result.stderr)


def test_an_error_message_is_printed_literally(shop: Path) -> None:
    result = quanta("show", f"sales.{EMOJI}{MARKUP}", "-m", "shop", cwd=shop.parent)
    assert result.returncode == 1
    assert f"{EMOJI}{MARKUP}" in result.stderr
    _literal(result.stderr)

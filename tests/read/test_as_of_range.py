"""A time outside what UTC can hold (``--as-of`` near year 1 or 9999 with a zone) is a clear
error, never an internal one, from the command line and from the library."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from quanta.errors import QuantaError
from quanta.project import Mesh
from quanta.read.plane import Selector

EDGES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"]


@pytest.fixture
def built(mesh_dir: Path) -> Path:
    mesh = Mesh.load(mesh_dir)
    try:
        mesh.build()
    finally:
        mesh.close()
    return mesh_dir


@pytest.mark.parametrize("moment", EDGES)
def test_as_of_out_of_range_is_a_clear_error(built: Path, moment: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "quanta", "query", "select count(*) as n from sales.orders", "--as-of", moment],
        cwd=built,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"error: '{moment}' is out of range"), done.stderr


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=5))),
    ],
)
def test_the_library_refuses_an_out_of_range_as_of(built: Path, moment: datetime) -> None:
    mesh = Mesh.load(built)
    try:
        with pytest.raises(QuantaError, match="out of range"):
            mesh.read("sales.orders", as_of=moment)
        with pytest.raises(QuantaError, match="out of range"):
            mesh.query("select count(*) as n from sales.orders", as_of=moment)
    finally:
        mesh.close()


def test_an_in_range_as_of_is_kept_in_utc() -> None:
    moment = datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    selected = Selector(as_of=moment).as_of
    assert selected == datetime(2026, 1, 1, tzinfo=UTC) and selected is not None and selected.tzinfo is UTC

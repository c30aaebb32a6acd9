"""Small helpers for build tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from quanta.build.product import Outcome
from quanta.project import Mesh


def build(root: Path, **options: Any) -> dict[str, Outcome]:
    """Load the mesh afresh (as the CLI does) and build; outcomes by product key."""
    mesh = Mesh.load(root)
    try:
        return {o.key: o for o in mesh.build(**options).outcomes}
    finally:
        mesh.close()


def statuses(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {key: outcome.status for key, outcome in outcomes.items()}


def rows(root: Path, sql: str, **options: Any) -> list[dict[str, Any]]:
    mesh = Mesh.load(root)
    try:
        return mesh.query(sql, **options).to_pylist()
    finally:
        mesh.close()


def read(
    root: Path, product: str, *, snapshot_id: str | None = None, as_of: datetime | None = None, unmask: bool = False
) -> list[dict[str, Any]]:
    mesh = Mesh.load(root)
    try:
        return mesh.read(product, snapshot_id=snapshot_id, as_of=as_of, unmask=unmask).to_pylist()
    finally:
        mesh.close()

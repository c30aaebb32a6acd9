"""Comparing two builds of the fashion-retail mesh product by product: row counts, sorted rows
(floating columns within a tolerance), and content hashes of products without floating columns."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa

from quanta.examples.fashion_retail import Settings, generate
from quanta.project import Mesh

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"
REL_TOLERANCE = 1e-9
"""Floating sums and averages may be added up in another order on another engine: values agree to
a relative 1e-9 — or, for a value rounded to k ≤ 4 places, to one unit of its last place, since a
last-bit difference in the sum can break a rounding tie (50.705 rounds to 50.7 or 50.71). Such ties
may be at most one value in a hundred: weekly-sku-sales rounds four-week averages of amounts in
cents to cents, which lands exactly on a tie about every 400th value (about 0.13% differ)."""


def fresh_mesh(root: Path, scale: float = 0.01) -> Path:
    """A copy of the example with generated systems of record under ``root``."""
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".quanta", "systems"))
    generate(root / "systems", Settings(scale=scale, seed=5))
    return root


def snapshot_tables(mesh: Mesh) -> dict[str, tuple[pa.Table, str]]:
    """Every product's current snapshot (read with PyArrow from its files) and its content hash."""
    import pyarrow.parquet as pq

    found = {}
    for product in mesh.source.products:
        key = product.spec.key
        record = mesh.workspace.catalog.snapshots.current(key)
        assert record is not None, key
        files = mesh.platform.plane.files(product.spec, record)
        found[key] = (pa.concat_tables([pq.read_table(f) for f in files]), record.content_hash)
    return found


def has_floats(table: pa.Table) -> bool:
    return any(pa.types.is_floating(field.type) for field in table.schema)


def differences(left: pa.Table, right: pa.Table) -> list[str]:
    """What differs between two tables of the same product, after sorting their rows."""
    if left.column_names != right.column_names:
        return [f"columns {left.column_names} != {right.column_names}"]
    if left.num_rows != right.num_rows:
        return [f"{left.num_rows} rows != {right.num_rows}"]
    rows = [sorted(_rows(t), key=_sort_key) for t in (left, right)]
    problems, ties = [], 0
    for a, b in zip(*rows, strict=True):
        if not all(_close(x, y) for x, y in zip(a, b, strict=True)):
            problems.append(f"{a} != {b}")
            if len(problems) == 3:
                break
        ties += sum(1 for x, y in zip(a, b, strict=True) if _tie_only(x, y))
    allowed = max(3, left.num_rows * left.num_columns // 100)
    if ties > allowed:
        problems.append(f"{ties} values differ by a rounding tie (at most {allowed} may)")
    return problems


def _tie_only(a: Any, b: Any) -> bool:
    return (
        isinstance(a, float)
        and isinstance(b, float)
        and not math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=1e-9)
        and _close(a, b)
    )


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(_normal(v) for v in row.values()) for row in table.to_pylist()]


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _normal(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)
    return value


def _rounding_tie(a: float, b: float, places: int) -> bool:
    unit = 10.0**-places
    rounded = round(a, places) == a and round(b, places) == b
    return rounded and abs(abs(a - b) - unit) <= unit * 1e-6


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, round(v, 6) if isinstance(v, float) else str(v)) for v in row)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b)):
            return True
        return any(_rounding_tie(a, b, places) for places in range(1, 5))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)

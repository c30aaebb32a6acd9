"""What every conformance test uses: the engines under test (every registered one), jobs and
inputs written to temporary folders, and the output read back with PyArrow (not with an engine).

An engine's known gap is declared in ``GAPS`` with its reason and the exception it raises; the
test is then a strict xfail, so it fails loudly the day the gap closes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quanta.engines.base import Column, Engine, Relation, SqlStep, TransformError, TransformJob, file_uri
from quanta.engines.registry import EngineOptions, EngineRegistry

REGISTRY = EngineRegistry.default()

MARKS: dict[str, tuple[pytest.MarkDecorator, ...]] = {"spark": (pytest.mark.spark, pytest.mark.slow)}
"""Marks of an engine's tests beyond the conformance suite's own (Spark: a JVM; CI runs them)."""


@dataclass(frozen=True)
class Gap:
    """A known difference of one engine: why, and what it raises."""

    reason: str
    raises: type[BaseException]


GAPS: dict[tuple[str, str], Gap] = {
    ("spark", "test_nanosecond_timestamps_are_written_as_microseconds"): Gap(
        "Spark reads no Parquet TIMESTAMP(NANOS) column (PARQUET_TYPE_ILLEGAL)", TransformError
    ),
}
"""(engine name, test name without parameters) → its known gap."""


def engine_params() -> list[Any]:
    """One pytest param per registered engine, with that engine's marks."""
    return [pytest.param(name, marks=MARKS.get(name, ()), id=name) for name in REGISTRY.names()]


def options_for(name: str, shared: Engine | None = None) -> EngineOptions:
    """Options of the engines under test: small and local; with ``shared``, a new engine reuses
    the session that one runs on (for engines that have one)."""
    return EngineOptions(threads=2, master="local[2]", session=getattr(shared, "session", None))


def job(
    out: Path,
    steps: list[str] | None = None,
    columns: list[tuple[str, str]] | None = None,
    relations: tuple[Relation, ...] = (),
    dialect: str = "duckdb",
    python: Callable[[Any], Any] | None = None,
) -> TransformJob:
    """A job writing into ``out`` (its ``data/`` folder made, as storage's staging does)."""
    (out / "data").mkdir(parents=True, exist_ok=True)
    sql = tuple(
        SqlStep(f"step{i}" if i < len(steps or []) - 1 else "output", s, dialect) for i, s in enumerate(steps or [])
    )
    return TransformJob(relations, tuple(Column(n, t) for n, t in columns or []), out, steps=sql, python=python)


def output(job: TransformJob, files: Any) -> pa.Table:
    """The written snapshot files, read with PyArrow."""
    return pa.concat_tables([pq.read_table(job.output_dir / f.path) for f in files])


def sorted_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return sorted(tuple(row.values()) for row in table.to_pylist())


def write_inputs(folder: Path) -> dict[str, Relation]:
    """The same three rows as Parquet, CSV (``;``-separated), JSON and NDJSON files."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": 1, "name": "ada"}, {"id": 2, "name": "grace"}, {"id": 3, "name": "edsger"}]
    pq.write_table(pa.Table.from_pylist(rows), folder / "people.parquet")
    (folder / "people.csv").write_text("id;name\n" + "".join(f"{r['id']};{r['name']}\n" for r in rows))
    (folder / "people.json").write_text(json.dumps(rows))
    (folder / "people.ndjson").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {
        "parquet": Relation("people", "parquet", (file_uri(folder / "people.parquet"),)),
        "csv": Relation("people", "csv", (str(folder / "people.csv"),), (("header", True), ("delimiter", ";"))),
        "json": Relation("people", "json", (str(folder / "people.json"),)),
        "ndjson": Relation("people", "ndjson", (file_uri(folder / "people.ndjson"),)),
    }


def parquet_relation(folder: Path, name: str, table: pa.Table) -> Relation:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.parquet"
    pq.write_table(table, path)
    return Relation(name, "parquet", (file_uri(path),))


def run(engine: Engine, transform: TransformJob) -> Any:
    return engine.run(transform)

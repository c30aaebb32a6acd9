"""The embedded DuckDB engine: views over inputs, SQL steps or a Python function, Parquet out."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from quanta.engines import rowhash
from quanta.engines.base import (
    Column,
    FileInfo,
    Measurements,
    Relation,
    SchemaMismatch,
    SqlStep,
    TransformError,
    TransformJob,
    WriteResult,
)
from quanta.engines.duckdb.declaration import CAPABILITIES
from quanta.engines.duckdb.types import TYPES
from quanta.engines.interrupt import interruptible
from quanta.engines.metric_sql import fused_query, orphan_query, sample_query, single_query
from quanta.engines.metrics import Metric
from quanta.hashing import file_sha256

OUTPUT_FILE = "part-0.parquet"


class DuckDBEngine:
    """One in-memory DuckDB database per job; inputs are views over their files."""

    capabilities = CAPABILITIES

    def __init__(self, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit
        self._open: dict[int, duckdb.DuckDBPyConnection] = {}
        self._open_lock = threading.Lock()
        self._stopped = False

    def connect(self) -> duckdb.DuckDBPyConnection:
        return connect(self.threads, self.memory_limit)

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A job's connection, known to :meth:`interrupt` while it is open."""
        with self._open_lock:
            if self._stopped:
                raise TransformError("interrupted")
            connection = self.connect()
            self._open[id(connection)] = connection
        try:
            yield connection
        finally:
            with self._open_lock:
                del self._open[id(connection)]
            connection.close()

    def interrupt(self) -> None:
        """Stop every query this engine is running and refuse new ones (Ctrl-C during a build)."""
        with self._open_lock:
            self._stopped = True
            for connection in self._open.values():
                connection.interrupt()

    def run(self, job: TransformJob) -> WriteResult:
        with self._connection() as connection:
            try:
                register(connection, job.relations)
                return _write(connection, job, *self._output(connection, job))
            except duckdb.Error as exc:
                raise TransformError(_first_line(str(exc))) from exc

    def query(self, relations: tuple[Relation, ...], sql: str) -> Any:
        with self._connection() as connection:
            register(connection, relations)
            return connection.sql(sql).to_arrow_table()

    def measure(self, relation: Relation, metrics: list[Metric]) -> Measurements:
        """All metrics in one aggregate query; if it fails, each alone, so one bad metric is an error
        of its own and the others still count."""
        with self._connection() as connection:
            register(connection, (relation,))
            try:
                fused = fused_query(metrics, relation.name)
                row = interruptible(connection, lambda: connection.sql(fused).fetchall())[0]
                return Measurements({m.id: v for m, v in zip(metrics, row, strict=True)})
            except duckdb.Error:
                values, errors = {}, {}
                for metric in metrics:
                    try:
                        values[metric.id] = connection.sql(single_query(metric, relation.name)).fetchall()[0][0]
                    except duckdb.Error as exc:
                        errors[metric.id] = _first_line(str(exc))
                return Measurements(values, errors, scans=len(metrics) + 1)

    def orphans(self, relation: Relation, column: str, reference: Relation, reference_column: str) -> int:
        """Rows of ``relation`` whose ``column`` is not among ``reference``'s ``reference_column``."""
        with self._connection() as connection:
            try:
                register(connection, (relation, reference))
                row = connection.sql(orphan_query(relation.name, column, reference.name, reference_column)).fetchall()
                return int(row[0][0])
            except duckdb.Error as exc:
                raise TransformError(_first_line(str(exc))) from exc

    def failing_keys(
        self, relation: Relation, metric: Metric, keys: list[str], limit: int, masks: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        query = sample_query(metric, relation.name, keys, limit, masks=masks)
        if query is None:
            return []
        with self._connection() as connection:
            try:
                register(connection, (relation,))
                result = connection.sql(query)
                return [dict(zip(result.columns, row, strict=True)) for row in result.fetchall()]
            except duckdb.Error:
                return []

    def _output(
        self, connection: duckdb.DuckDBPyConnection, job: TransformJob
    ) -> tuple[duckdb.DuckDBPyRelation, dict[str, Any]]:
        if job.python is not None:
            return _python(connection, job)
        if not job.steps:
            raise TransformError("the job has neither SQL steps nor a Python function")
        relation = None
        for step in job.steps:
            relation = connection.sql(select_only(step))
            relation.create_view(step.name, replace=True)
        assert relation is not None
        return relation, {}


def _python(connection: duckdb.DuckDBPyConnection, job: TransformJob) -> tuple[duckdb.DuckDBPyRelation, dict[str, Any]]:
    """Run an ``arrow``-mode Python transform over the job's inputs (already registered)."""
    assert job.python is not None
    try:  # side by side with other products' transforms (DuckDB and NumPy release the GIL)
        result = job.python(PythonInputs(connection, [r.name for r in job.relations]))
    except Exception as exc:  # user code: any exception fails the product, with its message
        raise TransformError(f"{type(exc).__name__}: {exc}") from exc
    artefacts: dict[str, Any] = {}
    if isinstance(result, tuple):
        result, artefacts = result
    return as_relation(connection, result), dict(artefacts)


def arrow_transform(job: TransformJob, threads: int | None = None) -> tuple[Any, dict[str, Any]]:
    """An ``arrow``-mode Python transform run for another engine: its inputs read by DuckDB, its
    ``inputs.sql()`` in DuckDB's dialect; returns the result as a pyarrow Table and its artefacts."""
    with closing(connect(threads)) as connection:
        try:
            register(connection, job.relations)
            relation, artefacts = _python(connection, job)
            return relation.to_arrow_table(), artefacts
        except duckdb.Error as exc:
            raise TransformError(_first_line(str(exc))) from exc


def _write(
    connection: duckdb.DuckDBPyConnection, job: TransformJob, output: duckdb.DuckDBPyRelation, artefacts: dict[str, Any]
) -> WriteResult:
    """Conform the output to the declared columns, write it as the snapshot's Parquet file and
    describe what was written."""
    projection, casts = conform(output, job.columns)
    target = job.output_dir / "data" / OUTPUT_FILE
    projection.to_parquet(str(target), compression=job.write.compression, row_group_size=job.write.row_group_size)
    files = (FileInfo(f"data/{target.name}", target.stat().st_size, file_sha256(target)),)
    if job.hash_rows:
        rows, content = content_hash(connection, [target], job.columns)
    else:
        rows = parquet_rows(connection, [target])
        content = hashlib.sha256("".join(f.sha256 for f in files).encode()).hexdigest()
    schema = tuple(zip(projection.columns, (str(t) for t in projection.types), strict=True))
    return WriteResult(rows=rows, files=files, schema=schema, content_hash=content, artefacts=artefacts, casts=casts)


def connect(threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection (what every other module uses instead of importing DuckDB)."""
    config: dict[str, Any] = {}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    return duckdb.connect(":memory:", config=config)


class PythonInputs(Mapping[str, Any]):
    """What a Python transform receives: each input as a pyarrow Table, and SQL over them."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, names: list[str]) -> None:
        self.connection = connection
        self._names = names

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(f"no input '{name}'; inputs are {', '.join(self._names)}")
        return self.connection.table(name).to_arrow_table()

    def __iter__(self) -> Any:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def sql(self, query: str) -> Any:
        """Run a SELECT over the inputs (by id) and return a pyarrow Table."""
        return self.connection.sql(query).to_arrow_table()

    def relation(self, query: str) -> Any:
        """A lazy DuckDB relation over the inputs: returned from ``build()``, the engine writes it
        straight to the snapshot without the rows passing through Python."""
        return self.connection.sql(query)


def register(connection: duckdb.DuckDBPyConnection, relations: Iterable[Relation]) -> None:
    """Create one view per relation over its files."""
    for relation in relations:
        options = dict(relation.options)
        try:
            paths = relation.local_paths()
        except ValueError as exc:
            raise TransformError(f"input '{relation.name}': {exc}") from None
        if relation.format == "parquet":
            view = connection.read_parquet(paths)
        elif relation.format == "csv":
            view = connection.read_csv(paths, header=options.get("header", True), sep=options.get("delimiter") or None)
        else:
            view = connection.read_json(paths, format="newline_delimited" if relation.format == "ndjson" else "auto")
        view.create_view(relation.name, replace=True)


def select_only(step: SqlStep) -> str:
    """The step's SQL in DuckDB's dialect, refusing anything that is not one query."""
    try:
        statements = [s for s in sqlglot.parse(step.sql, dialect=step.dialect) if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise TransformError(f"step '{step.name}' does not parse: {_first_line(str(exc))}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise TransformError(f"step '{step.name}' must be exactly one SELECT query")
    if step.dialect == "duckdb":
        return step.sql
    unknown = sorted({f.name for f in statements[0].find_all(exp.Anonymous)})
    if unknown:
        raise TransformError(
            f"step '{step.name}' uses functions that cannot be translated from {step.dialect}: " + ", ".join(unknown)
        )
    return statements[0].sql(dialect="duckdb")


def conform(
    relation: duckdb.DuckDBPyRelation, columns: tuple[Column, ...]
) -> tuple[duckdb.DuckDBPyRelation, dict[str, tuple[str, str]]]:
    """Check the output against the declared columns and project them in order, portable types;
    also returns what was cast (name → (produced, written) type)."""
    produced = {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}
    declared = [c.name for c in columns]
    missing = [n for n in declared if n not in produced]
    extra = [n for n in produced if n not in declared]
    mistyped = [
        (c.name, c.logical_type, produced[c.name])
        for c in columns
        if c.name in produced and not TYPES.accepts(c.logical_type, produced[c.name])
    ]
    if missing or extra or mistyped:
        raise SchemaMismatch(missing, extra, mistyped)
    projections, casts = [], {}
    for column in columns:
        reference: Any = exp.column(column.name, quoted=True)
        cast = TYPES.cast_for(column.logical_type, produced[column.name])
        if cast:
            reference = exp.alias_(exp.cast(reference, cast), column.name, quoted=True)
            casts[column.name] = (produced[column.name], cast)
        projections.append(reference.sql(dialect="duckdb"))
    return relation.select(*(duckdb.SQLExpression(p) for p in projections)), casts


def content_hash(
    connection: duckdb.DuckDBPyConnection, files: list[Path], columns: tuple[Column, ...]
) -> tuple[int, str]:
    """Row count and the engine-neutral, order-independent hash of the rows (:mod:`quanta.engines.rowhash`)."""
    declared = [(c.name, c.logical_type) for c in columns]
    connection.read_parquet([str(f) for f in files]).create_view("__snapshot", replace=True)
    row = interruptible(connection, lambda: connection.sql(rowhash.query("__snapshot", declared, "duckdb")).fetchall())
    return rowhash.finish(declared, row[0])


def legacy_content_hash(files: list[str]) -> tuple[int, str]:
    """Row count and the content hash of the scheme before ``r1`` (DuckDB's internal ``hash()`` of each
    row): a build compares it with a current snapshot hashed that way, so upgrading Quanta does not
    make an unchanged product look changed to its consumers."""
    with closing(connect()) as connection:
        row = connection.execute(
            "SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR FROM read_parquet($1) AS t", [files]
        ).fetchone()
    assert row is not None
    return int(row[0]), hashlib.sha256(f"{row[0]}:{row[1]}".encode()).hexdigest()


def parquet_rows(connection: duckdb.DuckDBPyConnection, files: list[Path]) -> int:
    """Row count from the Parquet footers (no data is read)."""
    paths = [str(f) for f in files]
    row = connection.execute("SELECT sum(num_rows) FROM parquet_file_metadata($1)", [paths]).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def as_relation(connection: duckdb.DuckDBPyConnection, result: Any) -> duckdb.DuckDBPyRelation:
    """A Python transform's result (pyarrow Table, pandas DataFrame or DuckDB relation) as a relation."""
    if isinstance(result, duckdb.DuckDBPyRelation):
        return result
    if result is None:
        raise TransformError("the Python transform returned nothing; return a table")
    connection.register("__python_output", result)
    return connection.table("__python_output")


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "failed"

"""The Spark engine: inputs as temporary views, SQL steps transpiled to Spark SQL or a Python
function, Parquet out — the same snapshot layout and content hash as the DuckDB engine.

``master`` is ``local[*]`` (the default), ``spark://host:7077`` or ``sc://host:15002`` (Spark
Connect); an injected session is used as it is. Python transforms in ``arrow`` mode run on the
driver exactly as on DuckDB (inputs read by DuckDB into Arrow, ``inputs.sql()`` in DuckDB's
dialect), their result handed to Spark to write; ``dataframe`` transforms get Spark DataFrames.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from quanta.engines import rowhash
from quanta.engines.base import (
    Column,
    FileInfo,
    Measurements,
    Relation,
    SchemaMismatch,
    TransformError,
    TransformJob,
    WriteResult,
    local_path,
)
from quanta.engines.metric_sql import fused_query, orphan_query, sample_query, single_query
from quanta.engines.metrics import Metric
from quanta.engines.registry import EngineOptions
from quanta.engines.spark.declaration import CAPABILITIES
from quanta.engines.spark.sql import to_spark
from quanta.engines.spark.types import TYPES
from quanta.hashing import file_sha256

SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",  # zone-less timestamps hash and compare as on DuckDB
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # not INT96: readable everywhere
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.timeType.enabled": "true",  # Parquet TIME columns (the logical type time)
}
"""Session settings every job relies on (set on injected and remote sessions too)."""

LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
"""Settings of a session this engine starts in local mode (listening on loopback only)."""

_names = itertools.count()


def start_session(options: EngineOptions) -> SparkSession:
    """A session for ``options.master``: Spark Connect for ``sc://…``, a JVM of our own otherwise."""
    master = options.master or "local[*]"
    if master.startswith("sc://"):
        # the Connect builder itself: the classic one refuses a remote session while a local one
        # lives in the process, and would switch the whole process to Connect mode
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        remote = ConnectSession.builder.remote(master).appName("quanta")
        for key, value in options.conf:
            remote = remote.config(key, value)
        return remote.getOrCreate()  # type: ignore[return-value]
    builder = SparkSession.builder.appName("quanta")
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        for key, value in LOCAL_CONF.items():
            builder = builder.config(key, value)
        cores = _local_cores(master)
        builder = builder.config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
    builder = builder.master(master)
    if options.memory_limit:
        builder = builder.config("spark.driver.memory", _jvm_size(options.memory_limit))
    for key, value in options.conf:
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SparkEngine:
    """Jobs on one Spark session (started on first use unless one is injected), one at a time."""

    capabilities = CAPABILITIES

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()
        self._session: SparkSession | None = options.session if options and options.session else None  # type: ignore[assignment]
        self._owns_session = False
        self._configured = False
        self._lock = threading.Lock()
        self._stopped = False
        self._tag = f"quanta-{os.getpid()}-{next(_names)}"
        self._running = 0

    @property
    def session(self) -> SparkSession:
        with self._lock:
            if self._session is None:
                running = getattr(SparkSession, "_instantiatedSession", None)
                self._session = start_session(self.options)
                # stop it on close only if it is new (getOrCreate may hand back one others use)
                self._owns_session = running is None or running is not self._session
            if not self._configured:
                for key, value in SQL_CONF.items():
                    self._session.conf.set(key, value)
                self._configured = True
            return self._session

    def start(self) -> None:
        """Start (or join) the session now rather than on the first job."""
        _ = self.session

    def close(self) -> None:
        """Stop the session if this engine started it."""
        with self._lock:
            if self._session is not None and self._owns_session:
                self._session.stop()
            self._session = None

    # ------------------------------------------------------------------ the protocol

    def run(self, job: TransformJob) -> WriteResult:
        with self._job() as session:
            views = _register(session, job.relations)
            try:
                output, artefacts = self._output(session, job, views)
                projected, casts = conform(output, job.columns)
                return self._write(session, job, projected, artefacts, casts)
            finally:
                _drop(session, views)

    def query(self, relations: tuple[Relation, ...], sql: str) -> Any:
        with self._job() as session:
            views = _register(session, relations)
            try:
                return session.sql(sql).toArrow()
            finally:
                _drop(session, views)

    def measure(self, relation: Relation, metrics: list[Metric]) -> Measurements:
        """All metrics in one aggregate; if it fails, each alone, so one bad metric is an error of
        its own and the others still count."""
        with self._job() as session:
            views = _register(session, (relation,))
            try:
                try:
                    row = session.sql(fused_query(metrics, relation.name, dialect="spark")).collect()[0]
                    return Measurements({m.id: _plain(v) for m, v in zip(metrics, row, strict=True)})
                except Exception:  # one metric may not apply to its column: measure each alone
                    self._check_running()
                    values, errors = {}, {}
                    for metric in metrics:
                        try:
                            query = single_query(metric, relation.name, dialect="spark")
                            values[metric.id] = _plain(session.sql(query).collect()[0][0])
                        except Exception as exc:
                            errors[metric.id] = _first_line(str(exc))
                    return Measurements(values, errors, scans=len(metrics) + 1)
            finally:
                _drop(session, views)

    def failing_keys(
        self, relation: Relation, metric: Metric, keys: list[str], limit: int, masks: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        query = sample_query(metric, relation.name, keys, limit, dialect="spark", masks=masks)
        if query is None:
            return []
        try:
            with self._job() as session:
                views = _register(session, (relation,))
                try:
                    return [{k: _plain(v) for k, v in row.asDict().items()} for row in session.sql(query).collect()]
                finally:
                    _drop(session, views)
        except TransformError:
            return []

    def orphans(self, relation: Relation, column: str, reference: Relation, reference_column: str) -> int:
        with self._job() as session:
            views = _register(session, (relation, reference))
            try:
                query = orphan_query(relation.name, column, reference.name, reference_column, dialect="spark")
                return int(session.sql(query).collect()[0][0])
            finally:
                _drop(session, views)

    def interrupt(self) -> None:
        """Cancel this engine's running Spark jobs and refuse new ones (Ctrl-C during a build).

        A job still being planned when this is called starts after the cancellation, so the jobs of
        this engine are cancelled again, on a helper thread, until none runs (at most a minute)."""
        self._stopped = True
        session = self._session
        if session is None:
            return
        self._cancel(session)
        threading.Thread(target=self._keep_cancelling, args=(session,), name="spark-cancel", daemon=True).start()

    def _cancel(self, session: SparkSession) -> None:
        context = _context(session)
        try:
            if context is not None:
                context.cancelJobGroup(self._tag)
            else:
                session.interruptTag(self._tag)
        except Exception:  # the session is stopping: nothing left to cancel
            return

    def _keep_cancelling(self, session: SparkSession) -> None:
        deadline = time.monotonic() + 60
        while self._running and time.monotonic() < deadline:
            time.sleep(0.25)
            self._cancel(session)

    # ------------------------------------------------------------------ internals

    def _check_running(self) -> None:
        if self._stopped:
            raise TransformError("interrupted")

    @contextmanager
    def _job(self) -> Iterator[SparkSession]:
        """The session, with this engine's tag on what the calling thread runs; any Spark error
        becomes a TransformError (its first line)."""
        self._check_running()
        session = self.session
        context = _context(session)
        if context is not None:  # classic: a job group whose tasks are interrupted when cancelled
            context.setJobGroup(self._tag, "quanta build", interruptOnCancel=True)
        else:  # Spark Connect: operations tagged for interruptTag
            session.addTag(self._tag)
        with self._lock:
            self._running += 1
        try:
            yield session
        except TransformError:
            raise
        except Exception as exc:
            if self._stopped:
                raise TransformError(f"interrupted: {_first_line(str(exc))}") from exc
            raise TransformError(_first_line(str(exc))) from exc
        finally:
            with self._lock:
                self._running -= 1
            if context is not None:
                context.setLocalProperty("spark.jobGroup.id", None)
            else:
                session.removeTag(self._tag)

    def _output(self, session: SparkSession, job: TransformJob, views: list[str]) -> tuple[DataFrame, dict[str, Any]]:
        if job.python is not None:
            if job.python_mode != "dataframe":
                from quanta.engines.duckdb import arrow_transform  # inputs.sql() stays DuckDB's, on Arrow

                table, produced = arrow_transform(job, self.options.threads)
                return session.createDataFrame(table), produced
            result = _call(job.python, SparkInputs(session, [r.name for r in job.relations]))
            artefacts: dict[str, Any] = {}
            if isinstance(result, tuple):
                result, artefacts = result
            if not isinstance(result, DataFrame):
                raise TransformError(f"the Python transform returned {type(result).__name__}; return a Spark DataFrame")
            return result, dict(artefacts)
        if not job.steps:
            raise TransformError("the job has neither SQL steps nor a Python function")
        frame = None
        for step in job.steps:
            frame = session.sql(to_spark(step))
            frame.createOrReplaceTempView(step.name)
            views.append(step.name)
            self._check_running()
        assert frame is not None
        return frame, {}

    def _write(
        self,
        session: SparkSession,
        job: TransformJob,
        projected: DataFrame,
        artefacts: dict[str, Any],
        casts: dict[str, tuple[str, str]],
    ) -> WriteResult:
        target = job.output_dir / "data"
        projected.write.mode("overwrite").option("compression", job.write.compression).parquet(str(target))
        self._check_running()
        for extra in target.iterdir():  # _SUCCESS and checksum files: the manifest lists data only
            if extra.suffix != ".parquet" or extra.name.startswith((".", "_")):
                extra.unlink()
        paths = sorted(target.glob("*.parquet"))
        files = tuple(FileInfo(f"data/{p.name}", p.stat().st_size, file_sha256(p)) for p in paths)
        if job.hash_rows:
            rows, content = content_hash(session, [str(p) for p in paths], job.columns)
        else:
            rows = sum(pq.read_metadata(p).num_rows for p in paths)
            content = hashlib.sha256("".join(f.sha256 for f in files).encode()).hexdigest()
        schema = tuple((f.name, f.dataType.simpleString()) for f in projected.schema.fields)
        return WriteResult(
            rows=rows, files=files, schema=schema, content_hash=content, artefacts=artefacts, casts=casts
        )


class SparkInputs(Mapping[str, Any]):
    """What a ``dataframe`` Python transform receives: each input as a Spark DataFrame, Spark SQL
    over them, and the session."""

    def __init__(self, session: SparkSession, names: list[str]) -> None:
        self.session = session
        self._names = names

    def __getitem__(self, name: str) -> DataFrame:
        if name not in self._names:
            raise KeyError(f"no input '{name}'; inputs are {', '.join(self._names)}")
        return self.session.table(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def sql(self, query: str) -> DataFrame:
        """A DataFrame of a Spark SQL query over the inputs (by id)."""
        return self.session.sql(query)


def conform(frame: DataFrame, columns: tuple[Column, ...]) -> tuple[DataFrame, dict[str, tuple[str, str]]]:
    """Check the output against the declared columns and project them in order, portable types;
    also returns what was cast (name → (produced, written) type)."""
    produced = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
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
        reference = frame[_quoted(column.name)]  # a column of the frame's own kind (local or Connect)
        cast = TYPES.cast_for(column.logical_type, produced[column.name])
        if cast:
            reference = reference.cast(cast)
            casts[column.name] = (produced[column.name], cast)
        projections.append(reference.alias(column.name))
    return frame.select(*projections), casts


def content_hash(session: SparkSession, uris: list[str], columns: tuple[Column, ...]) -> tuple[int, str]:
    """Row count and the engine-neutral hash of the written rows (:mod:`quanta.engines.rowhash`)."""
    declared = [(c.name, c.logical_type) for c in columns]
    view = f"__quanta_snapshot_{next(_names)}"
    session.read.parquet(*uris).createOrReplaceTempView(view)
    try:
        return rowhash.finish(declared, session.sql(rowhash.query(view, declared, "spark")).collect()[0])
    finally:
        session.catalog.dropTempView(view)


def _context(session: SparkSession) -> Any:
    """The session's SparkContext, or None for a Spark Connect session (which has none)."""
    try:
        return session.sparkContext
    except Exception:  # Spark Connect: no JVM on this side
        return None


def _register(session: SparkSession, relations: Iterable[Relation]) -> list[str]:
    """One temporary view per relation over its files; returns the view names."""
    views = []
    for relation in relations:
        options = dict(relation.options)
        uris = [_spark_path(p) for p in relation.paths]
        if relation.format == "parquet":
            frame = session.read.parquet(*uris)
        elif relation.format == "csv":
            reader = session.read.option("header", str(bool(options.get("header", True))).lower())
            frame = reader.option("sep", options.get("delimiter") or ",").option("inferSchema", "true").csv(uris)
        else:  # a JSON document (an array or one object) per file, or one per line
            frame = session.read.option("multiLine", str(relation.format == "json").lower()).json(uris)
        frame.createOrReplaceTempView(relation.name)
        views.append(relation.name)
    return views


def _spark_path(uri: str) -> str:
    """A path as Spark takes it: local files by name (Spark does not decode ``file://`` URIs, so a
    folder such as ``day=2025-10-07`` would not be found), other URIs as they are."""
    return local_path(uri) if uri.startswith("file://") or "://" not in uri else uri


def _drop(session: SparkSession, views: list[str]) -> None:
    for view in views:
        try:
            session.catalog.dropTempView(view)
        except Exception:  # the session may be stopping (Ctrl-C): nothing to clean up then
            return


def _call(function: Any, inputs: Any) -> Any:
    try:
        return function(inputs)
    except Exception as exc:  # user code: any exception fails the product, with its message
        raise TransformError(f"{type(exc).__name__}: {exc}") from exc


def _plain(value: Any) -> Any:
    """A Spark value as a Python value the quality layer compares (Decimal → float or int)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _local_cores(master: str) -> int:
    inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
    return os.cpu_count() or 1 if inside.startswith("*") else int(inside.split(",")[0] or 1)


def _jvm_size(limit: str) -> str:
    """``4GB`` / ``512MiB`` as a JVM size (``4g``, ``512m``)."""
    number = "".join(c for c in limit if c.isdigit() or c == ".")
    unit = limit.strip()[len(number) :].strip().upper()[:1] or "M"
    return f"{int(float(number))}{unit.lower()}"


def _first_line(message: str) -> str:
    for line in message.strip().splitlines():
        if line.strip():
            return line.strip()
    return "failed"

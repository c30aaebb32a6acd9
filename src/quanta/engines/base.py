"""The engine protocol: what an engine must do, described as plain data. Engines know nothing
of specs: they run a job (relations in, SQL steps or a Python function, declared columns) and
write the snapshot files themselves, returning metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from quanta.engines.types import TypeMapping

RelationFormat = Literal["parquet", "csv", "json", "ndjson"]

PythonMode = Literal["arrow", "dataframe"]
"""How a Python transform receives its inputs: ``arrow`` (pyarrow Tables, and ``inputs.sql()`` in
DuckDB's dialect returning Arrow; every engine runs these unchanged) or ``dataframe`` (the engine's
own data frames, for transforms written for that engine)."""


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, as data; callers consult these, never the engine's name."""

    name: str
    dialect: str
    """The sqlglot dialect its SQL runs in; steps written in another are transpiled to it."""
    types: TypeMapping
    """Which of its types carry each logical type, and what each is written as."""
    uri_schemes: frozenset[str]
    """URI schemes it reads and writes itself (``file`` always; ``s3`` for an engine on a cluster
    with object-store access). Storage hands it other snapshots as local ``file://`` copies."""
    python_modes: frozenset[PythonMode]
    """The Python-transform modes it runs."""
    parallel_jobs: bool
    """Whether independent products may run on it side by side (a build runs one at a time otherwise)."""

    def reads(self, uri: str) -> bool:
        """Whether the engine opens ``uri`` itself."""
        scheme = uri.split("://", 1)[0] if "://" in uri else "file"
        return scheme in self.uri_schemes


@dataclass(frozen=True)
class Relation:
    """A named input the transformation reads: files in a format. ``paths`` are URIs
    (``file:///…``, ``s3://…`` for an engine that reads the object store) or plain local paths."""

    name: str
    format: RelationFormat
    paths: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()

    def local_paths(self) -> list[str]:
        """The paths as local file names (``file://`` URIs unwrapped); ValueError for another scheme."""
        return [local_path(p) for p in self.paths]


def local_path(uri: str) -> str:
    """A local file name for a ``file://`` URI or a plain path; ValueError for another scheme."""
    if "://" not in uri:
        return uri
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise ValueError(f"{uri}: this engine reads local files only, not {parts.scheme}://")
    return unquote(parts.path)


def file_uri(path: Path | str) -> str:
    """The ``file://`` URI of a local path."""
    return Path(path).absolute().as_uri()


@dataclass(frozen=True)
class SqlStep:
    """One SQL SELECT; its result is visible to later steps under ``name``."""

    name: str
    sql: str
    dialect: str


@dataclass(frozen=True)
class Column:
    """A declared output column and its logical type."""

    name: str
    logical_type: str


@dataclass(frozen=True)
class WriteOptions:
    compression: str = "zstd"
    row_group_size: int = 122_880


@dataclass(frozen=True)
class TransformJob:
    """Everything an engine needs to compute and write one snapshot."""

    relations: tuple[Relation, ...]
    columns: tuple[Column, ...]
    output_dir: Path
    steps: tuple[SqlStep, ...] = ()
    python: Callable[[Any], Any] | None = None
    python_mode: PythonMode = "arrow"
    write: WriteOptions = field(default_factory=WriteOptions)
    hash_rows: bool = True
    """Compute an order-independent hash of the rows (a second scan of the output); when False the
    content hash is derived from the files' checksums, which suffices when no product consumes it."""


@dataclass(frozen=True)
class FileInfo:
    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class WriteResult:
    """Metadata of written snapshot files."""

    rows: int
    files: tuple[FileInfo, ...]
    schema: tuple[tuple[str, str], ...]
    content_hash: str
    artefacts: dict[str, Any] = field(default_factory=dict)
    casts: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Columns the engine cast to portable types when writing: name → (produced, written) type."""


class TransformError(Exception):
    """The transformation failed (bad SQL, Python exception, unreadable input)."""


class SchemaMismatch(TransformError):
    """The transformation's output does not match the declared columns."""

    def __init__(self, missing: list[str], extra: list[str], mistyped: list[tuple[str, str, str]]) -> None:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("undeclared " + ", ".join(extra))
        if mistyped:
            parts.append("mistyped " + ", ".join(f"{n} (declared {want}, got {got})" for n, want, got in mistyped))
        super().__init__("output does not match the schema: " + "; ".join(parts))
        self.missing, self.extra, self.mistyped = missing, extra, mistyped


@dataclass(frozen=True)
class Measurements:
    """Metric values by metric id, and the metrics that could not be computed (with why)."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    scans: int = 1


class Engine(Protocol):
    """An execution engine."""

    capabilities: Capabilities

    def run(self, job: TransformJob) -> WriteResult:
        """Compute the job's output and write it as Parquet files into ``job.output_dir``."""
        ...

    def query(self, relations: tuple[Relation, ...], sql: str) -> Any:
        """Run a SELECT over relations and return a small result as a pyarrow Table."""
        ...

    def measure(self, relation: Relation, metrics: list[Any]) -> Measurements:
        """Compute metrics over one relation, all per-table metrics in one scan."""
        ...

    def failing_keys(
        self, relation: Relation, metric: Any, keys: list[str], limit: int, masks: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` keys of rows failing ``metric``."""
        ...

    def orphans(self, relation: Relation, column: str, reference: Relation, reference_column: str) -> int:
        """Rows whose ``column`` value is missing from the reference relation's column."""
        ...

    def interrupt(self) -> None:
        """Stop every job running now (Ctrl-C during a build); they fail with an error."""
        ...

"""The engine protocol: what an engine must do, described as plain data. Engines know nothing
of specs: they run a job (relations in, SQL steps or a Python function, declared columns) and
write the snapshot files themselves, returning metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

RelationFormat = Literal["parquet", "csv", "json", "ndjson"]


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do; callers branch on these, never on the engine's name."""

    name: str
    dialect: str
    concurrent_jobs: bool
    python_transforms: bool


@dataclass(frozen=True)
class Relation:
    """A named input the transformation reads: files in a format."""

    name: str
    format: RelationFormat
    paths: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()


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

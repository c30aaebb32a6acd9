"""Sandboxed reading connections: what the read layer runs secured relations on.

A reader can open files only under its allowed folders (DuckDB's ``enable_external_access`` off
with ``allowed_directories``), installs and loads no extension, and has its configuration locked,
so no statement can widen what it may reach. It knows nothing of products or policies: the read
layer hands it SQL it built and gated.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from quanta.engines.interrupt import interruptible

warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning, __name__)
# ``cursor.execute(…).to_arrow_table()`` copies the rows once more than ``cursor.sql(…)`` does, but
# plans the query once instead of twice: a one-row lookup is about 10% faster, a million rows no slower.


class ReadFailed(Exception):
    """A read query failed; the message is DuckDB's first line."""


class DuckDBReader:
    """One long-lived, locked-down DuckDB connection over snapshot files."""

    dialect = "duckdb"

    def __init__(
        self,
        allowed: Sequence[Path],
        threads: int | None = None,
        memory_limit: str | None = None,
        writable: Sequence[Path] = (),
        temp_directory: Path | None = None,
    ) -> None:
        """``allowed``: folders whose files may be read; ``writable``: folders an export may write to;
        ``memory_limit`` bounds DuckDB's memory (large sorts then spill to ``temp_directory``)."""
        config: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_directory is not None:
            config["temp_directory"] = str(temp_directory)
        self._connection = duckdb.connect(":memory:", config=config)
        folders = sorted({str(p.resolve()).rstrip("/") + "/" for p in [*allowed, *writable]})
        self._connection.execute("SET allowed_directories = $1", [folders])
        self._connection.execute("SET enable_external_access = false")
        self._connection.execute("SET lock_configuration = true")

    def arrow(
        self,
        sql: str,
        params: Mapping[str, Any] | Sequence[Any] | None = None,
        on_start: Callable[[Callable[[], None]], None] | None = None,
    ) -> Any:
        """Run one query and return a pyarrow Table (Ctrl-C interrupts it); ``on_start`` receives a
        function that interrupts this query (from any thread)."""
        cursor = self._connection.cursor()
        try:
            if on_start is not None:
                on_start(cursor.interrupt)
            return interruptible(cursor, lambda: cursor.execute(sql, _bound(params)).to_arrow_table())
        except duckdb.Error as exc:
            raise ReadFailed(_first_line(str(exc))) from None
        finally:
            cursor.close()

    def records(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one small query and return its rows as dicts of Python values (no Arrow conversion:
        the cheapest way to answer a point lookup)."""
        cursor = self._connection.cursor()
        try:
            result = interruptible(cursor, lambda: cursor.execute(sql, dict(params) if params else None))
            names = [column[0] for column in result.description or ()]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        except duckdb.Error as exc:
            raise ReadFailed(_first_line(str(exc))) from None
        finally:
            cursor.close()

    def batches(self, sql: str, params: Mapping[str, Any] | None = None, batch_size: int = 65_536) -> BatchStream:
        """Run one query and stream its rows as pyarrow record batches of at most ``batch_size`` rows
        (memory stays flat however many rows there are); close the stream when done with it."""
        cursor = self._connection.cursor()
        try:
            relation = cursor.sql(sql, params=dict(params) if params else None)
            return BatchStream(relation.to_arrow_reader(batch_size), cursor)
        except duckdb.Error as exc:
            cursor.close()
            raise ReadFailed(_first_line(str(exc))) from None

    def write(self, sql: str, path: Path, file_format: str) -> int:
        """Write the query's rows to ``path`` (``parquet`` with zstd, or ``csv`` with a header);
        returns how many rows were written."""
        options = "FORMAT parquet, COMPRESSION zstd" if file_format == "parquet" else "FORMAT csv, HEADER true"
        target = str(path).replace("'", "''")
        cursor = self._connection.cursor()
        try:
            interruptible(cursor, lambda: cursor.execute(f"COPY ({sql}) TO '{target}' ({options})"))
            written = cursor.fetchone()
            return int(written[0]) if written else 0
        except duckdb.Error as exc:
            raise ReadFailed(_first_line(str(exc))) from None
        finally:
            cursor.close()

    def close(self) -> None:
        self._connection.close()


class BatchStream:
    """Record batches of one running query, on a cursor of its own (closed at the end or by ``close``)."""

    def __init__(self, reader: Any, cursor: duckdb.DuckDBPyConnection) -> None:
        self._reader = reader
        self._cursor: duckdb.DuckDBPyConnection | None = cursor

    @property
    def schema(self) -> Any:
        """The pyarrow schema of every batch."""
        return self._reader.schema

    def __iter__(self) -> Iterator[Any]:
        try:
            while True:
                try:
                    batch = self._reader.read_next_batch()
                except StopIteration:
                    return
                except duckdb.Error as exc:
                    raise ReadFailed(_first_line(str(exc))) from None
                yield batch
        finally:
            self.close()

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "failed"


def _bound(params: Mapping[str, Any] | Sequence[Any] | None) -> dict[str, Any] | list[Any] | None:
    """Parameters as DuckDB takes them: named (a mapping) or positional ``$1``, ``$2``, … (a sequence)."""
    if not params:
        return None
    return dict(params) if isinstance(params, Mapping) else list(params)

"""What a read leaves in the audit log: the entry of one access, the statement with its literals
replaced, and a stream of record batches that reports its row count once it ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from quanta.access import Decision, Principal
from quanta.catalog import AuditEntry, SnapshotRecord
from quanta.spec.product import DataProduct

if TYPE_CHECKING:
    from quanta.engines.duckdb.reader import BatchStream


class AuditedStream:
    """Record batches of one read, counted; ``on_end(rows, complete)`` runs once when the batches run
    out, fail or the stream is closed."""

    def __init__(self, batches: BatchStream, on_end: Callable[[int, bool], None]) -> None:
        self._batches = batches
        self._on_end: Callable[[int, bool], None] | None = on_end
        self.rows = 0

    @property
    def schema(self) -> Any:
        return self._batches.schema

    def __iter__(self) -> Iterator[Any]:
        complete = False
        try:
            for batch in self._batches:
                self.rows += batch.num_rows
                yield batch
            complete = True
        finally:
            self._end(complete)

    def close(self) -> None:
        self._batches.close()
        self._end(False)

    def _end(self, complete: bool) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(self.rows, complete)


def normalised_statement(sql: str) -> str:
    """``sql`` with every literal replaced by ``?`` (what the audit keeps: never a value)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return "<unparsable statement>"
    for literal in list(tree.find_all(exp.Literal)):
        literal.replace(exp.Placeholder())
    return tree.sql(dialect="duckdb")


def access_entry(
    principal: Principal,
    spec: DataProduct,
    port: str | None,
    record: SnapshotRecord,
    decision: Decision,
    statement: str | None = None,
    rows: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """The audit entry of one read (allowed or refused) by ``principal``."""
    return AuditEntry(
        actor=principal.id,
        action="read",
        product=spec.key,
        port=port,
        snapshot=record.id,
        statement=statement,
        rows=rows,
        decision="allow" if decision.allowed else "deny",
        reason=decision.reason,
        data=dict(data or {}) | ({"source": decision.source} if decision.source else {}),
    )

"""The audit log: append-only and tamper-evident.

Each row carries an HMAC-SHA256 (key from the environment, never stored) over its content and the
previous row's MAC, and a one-row head records the last sequence number and MAC. Editing a row
breaks its MAC; deleting one leaves a gap in the sequence and breaks the next row's link; deleting
the last rows disagrees with the head; inserting one needs the key. :meth:`AuditLog.verify` walks
the chain and names every finding.

Data accesses are recorded through an :class:`AuditWriter`: entries are queued and written in
batches by a background thread, off the request path. When a batch cannot be written the writer
keeps it (nothing is lost) and reports the failure, so the read path fails closed until the store
can be written again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from quanta.catalog.database import aware, naive
from quanta.catalog.records import AuditEntry, AuditRow
from quanta.catalog.tables import audit_head, audit_log
from quanta.errors import QuantaError

KEY_VARIABLE = "QUANTA_AUDIT_KEY"
"""The environment variable holding the audit key (at least 32 characters)."""
MIN_KEY_LENGTH = 32


class AuditUnavailable(QuantaError):
    """The audit log cannot be written: reads fail closed until it can."""


@dataclass(frozen=True)
class Finding:
    """Something :meth:`AuditLog.verify` found wrong, at a sequence number."""

    seq: int
    problem: str


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the audit chain."""

    rows: int
    head_seq: int
    findings: tuple[Finding, ...]

    @property
    def intact(self) -> bool:
        return not self.findings


def audit_key(value: str | None) -> bytes | None:
    """The audit key from its setting (None: audit off); too short a key is refused."""
    if value is None or value == "":
        return None
    if len(value) < MIN_KEY_LENGTH:
        raise QuantaError(f"{KEY_VARIABLE} is too short: use at least {MIN_KEY_LENGTH} random characters")
    return value.encode()


class AuditLog:
    """The audit chain in the catalog database; ``key`` None: auditing is off."""

    def __init__(self, engine: Engine, key: bytes | None) -> None:
        self._engine = engine
        self._key = key

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def append(self, entries: Sequence[AuditEntry], connection: Connection | None = None) -> int:
        """Chain and write ``entries`` in one transaction (the caller's, when given, so a change and
        its audit row commit together); returns the last sequence number written."""
        if self._key is None:
            raise AuditUnavailable(f"auditing is off: set {KEY_VARIABLE}")
        if connection is not None:
            return self._append(connection, entries)
        with self._engine.begin() as own:
            return self._append(own, entries)

    def _append(self, connection: Connection, entries: Sequence[AuditEntry]) -> int:
        assert self._key is not None
        connection.execute(_LOCK_HEAD)
        seq, prev = connection.execute(_READ_HEAD).one()
        rows = []
        for entry in entries:
            seq += 1
            at = naive(entry.at or datetime.now(UTC))
            mac = chain_mac(self._key, prev, seq, at, entry)
            rows.append(_values(seq, at, entry, prev, mac))
            prev = mac
        if rows:
            connection.execute(_INSERT, rows)
            connection.execute(_MOVE_HEAD, {"new_seq": seq, "new_mac": prev})
        return int(seq)

    def rows(
        self,
        *,
        product: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRow]:
        """Audit rows in chain order, optionally of one product (``domain.name`` or a key), actor,
        action, or since a time; the last ``limit`` when given."""
        query = select(audit_log)
        c = audit_log.c
        if product is not None:
            query = query.where((c.product == product) | c.product.like(f"{product}@v%"))
        if actor is not None:
            query = query.where(c.actor == actor)
        if action is not None:
            query = query.where(c.action == action)
        if since is not None:
            query = query.where(c.at >= naive(since))
        query = query.order_by(c.seq.desc() if limit is not None else c.seq)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as connection:
            found = [_row(r) for r in connection.execute(query)]
        return found[::-1] if limit is not None else found

    def count(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar_one())

    def verify(self) -> Verification:
        """Walk the whole chain: every MAC, every link, the sequence and the head."""
        if self._key is None:
            raise AuditUnavailable(f"the audit key is needed to verify the log: set {KEY_VARIABLE}")
        with self._engine.connect() as connection:  # the head first: rows appended meanwhile are not judged
            head_seq, head_mac = connection.execute(select(audit_head.c.seq, audit_head.c.mac)).one()
        findings: list[Finding] = []
        expected, prev, count = 1, "", 0
        for row in self._walk(int(head_seq)):
            count += 1
            if row.seq != expected:
                findings.append(Finding(expected, f"rows {expected} to {row.seq - 1} are missing (deleted)"))
            elif row.prev != prev:
                findings.append(Finding(row.seq, "its link to the previous row is broken (a row was replaced)"))
            if chain_mac(self._key, row.prev, row.seq, naive(row.at), row.entry) != row.mac:
                findings.append(Finding(row.seq, "its content does not match its MAC (edited or inserted)"))
            expected, prev = row.seq + 1, row.mac
        if head_seq != expected - 1 or head_mac != prev:
            findings.append(
                Finding(
                    expected - 1,
                    f"the chain ends at row {expected - 1} but its head records row {head_seq} "
                    "(rows deleted from the end, or the head was edited)",
                )
            )
        with self._engine.connect() as connection:  # a row past the head now was never appended by a writer
            now_head = connection.execute(select(audit_head.c.seq)).scalar_one()
            beyond = connection.execute(select(func.min(audit_log.c.seq)).where(audit_log.c.seq > now_head)).scalar()
        if beyond is not None:
            findings.append(Finding(int(beyond), "it lies past the chain's head (inserted)"))
        return Verification(count, int(head_seq), tuple(findings))

    def _walk(self, last: int, page: int = 5_000) -> Iterator[AuditRow]:
        after = 0
        while True:
            query = (
                select(audit_log)
                .where(audit_log.c.seq > after, audit_log.c.seq <= last)
                .order_by(audit_log.c.seq)
                .limit(page)
            )
            with self._engine.connect() as connection:
                batch = [_row(r) for r in connection.execute(query)]
            yield from batch
            if len(batch) < page:
                return
            after = batch[-1].seq


def chain_mac(key: bytes, prev: str, seq: int, at: datetime, entry: AuditEntry) -> str:
    """The HMAC-SHA256 of a row: over the previous row's MAC and the row's canonical content."""
    content = _content(seq, at, entry) | {"at": at.strftime("%Y-%m-%dT%H:%M:%S.%f")}
    message = prev.encode() + b"\n" + json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


_FIELDS = ("actor", "action", "product", "port", "snapshot", "statement", "rows", "decision", "reason")


def _content(seq: int, at: datetime, entry: AuditEntry) -> dict[str, Any]:
    """A row's content as stored (``data`` as it reads back from a JSON column)."""
    plain = json.loads(json.dumps(entry.data, default=str))
    return {"seq": seq, "at": at, **{name: getattr(entry, name) for name in _FIELDS}, "data": plain}


_LOCK_HEAD = update(audit_head).where(audit_head.c.id == 1).values(writes=audit_head.c.writes + 1)
"""Taken first in each append's transaction: concurrent appends queue on the head row."""
_READ_HEAD = select(audit_head.c.seq, audit_head.c.mac).where(audit_head.c.id == 1)
_INSERT = insert(audit_log)
_MOVE_HEAD = update(audit_head).where(audit_head.c.id == 1).values(seq=bindparam("new_seq"), mac=bindparam("new_mac"))
"""The append's statements, built once (a batch on the read path's writer thread costs less)."""


def _values(seq: int, at: datetime, entry: AuditEntry, prev: str, mac: str) -> dict[str, Any]:
    return _content(seq, at, entry) | {"prev": prev, "mac": mac}


def _row(row: Any) -> AuditRow:
    at = aware(row.at)
    entry = AuditEntry(
        actor=row.actor,
        action=row.action,
        product=row.product,
        port=row.port,
        snapshot=row.snapshot,
        statement=row.statement,
        rows=row.rows,
        decision=row.decision,
        reason=row.reason,
        data=dict(row.data or {}),
        at=at,
    )
    return AuditRow(int(row.seq), at, entry, row.prev, row.mac)


class AuditWriter:
    """Queues audit entries and writes them in batches on a background thread.

    :meth:`record` never waits for the database. When a batch fails, it is kept and retried, and
    :meth:`check` (called by the read path before each read) raises :class:`AuditUnavailable`
    until a retry succeeds.
    """

    def __init__(self, log: AuditLog, interval_s: float = 0.05, batch: int = 2_000) -> None:
        self._log = log
        self._interval = interval_s
        self._batch = batch
        self._pending: deque[AuditEntry] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._writing = 0
        self._failure: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="quanta-audit", daemon=True)
        self._thread.start()

    @property
    def failure(self) -> str | None:
        """Why the last batch could not be written (None: the log is being written)."""
        return self._failure

    def check(self) -> None:
        """Raise :class:`AuditUnavailable` while entries cannot be written."""
        if self._failure is not None:
            raise AuditUnavailable(f"the audit log cannot be written, so reads are refused: {self._failure}")
        if self._closed:
            raise AuditUnavailable("the audit writer is closed")

    def record(self, entry: AuditEntry) -> None:
        """Queue ``entry`` (stamped now) for the next batch: written within ``interval_s``, or at once
        when a full batch is queued (waking the writer per entry would write, and fsync, batches of
        one: under load, that costs the read path about half its throughput)."""
        if entry.at is None:
            from dataclasses import replace

            entry = replace(entry, at=datetime.now(UTC))
        with self._lock:
            self._pending.append(entry)
            full = len(self._pending) >= self._batch
        if full:
            self._wake.set()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued entry is written; False when that did not happen in time."""
        import time

        deadline = time.monotonic() + timeout_s
        self._wake.set()
        with self._idle:
            while self._pending or self._writing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.05))
                self._wake.set()
        return self._failure is None

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued (waiting up to ``timeout_s``) and stop."""
        self.flush(timeout_s)
        self._closed = True
        self._wake.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval if self._failure is None else 1.0)
            self._wake.clear()
            self._write_pending()

    def _write_pending(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._idle.notify_all()
                    return
                batch = [self._pending.popleft() for _ in range(min(self._batch, len(self._pending)))]
                self._writing = len(batch)
            try:
                self._log.append(batch)
            except Exception as exc:  # any failure to write: keep the batch, fail closed, retry later
                with self._lock:
                    self._pending.extendleft(reversed(batch))
                    self._writing = 0
                    self._failure = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    self._idle.notify_all()
                return
            with self._lock:
                self._writing = 0
                self._failure = None

"""``DataPlane``: the one read path over published snapshots.

A read is (principal, product@major, port, snapshot selector). The plane resolves the snapshot in
the catalog, asks :func:`quanta.access.decide`, and builds a *secured relation* — masks and the row
filter as sqlglot expressions inside the relation — over exactly the files the snapshot's manifest
lists. User SQL passes :func:`quanta.sql.gate.gate` first and is then pinned to secured relations.
Queries run on one long-lived, sandboxed reader; current pointers and published policies are
re-read from the catalog at most once per ``refresh_s``, so a publish is seen within that time.
The access generation is read on every statement: a change to principals or grants (in any
process) drops the cached decisions and catalog grants before the next read is secured.

With an :class:`~quanta.catalog.audit.AuditWriter`, every access is audited exactly once: a refusal
when it is decided, an allowed read when its rows have been produced (who, product, port,
snapshot, the statement with its literals replaced, the filters without classified values, rows
returned, decision and reason). While the audit log cannot be written, every read is refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quanta.access import CatalogGrant, Decision, Principal, decide
from quanta.catalog import Catalog, GrantRecord, SnapshotRecord
from quanta.errors import AccessDenied, NotFound, QuantaError
from quanta.read.audited import AuditedStream, access_entry, normalised_statement
from quanta.read.names import SqlNames
from quanta.spec.loader import product_from_data
from quanta.spec.masks import mask_key
from quanta.spec.plugins import PluginRegistry
from quanta.spec.policy import Grant
from quanta.spec.product import DataProduct
from quanta.spec.schema import CLASSIFIED
from quanta.storage import SnapshotDamaged, SnapshotLocation, SnapshotStore

if TYPE_CHECKING:
    from sqlglot import exp

    from quanta.catalog.audit import AuditWriter
    from quanta.engines.duckdb.reader import DuckDBReader


class QueryError(QuantaError):
    """A query was refused or failed; the message says why and ``sqlstate`` classifies it as
    PostgreSQL would (the SQL port answers with it)."""

    def __init__(self, message: str, sqlstate: str = "XX000") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@dataclass(frozen=True)
class Selector:
    """Which snapshot: the current one (default), one by id, or the one current at a time."""

    snapshot_id: str | None = None
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        if self.as_of is not None:
            object.__setattr__(self, "as_of", _in_utc(self.as_of))


def _in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive one is UTC already); :class:`QueryError` when UTC cannot hold it."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise QueryError(
            f"'{moment.isoformat()}' is out of range: in UTC it falls outside years 1 to 9999", "22008"
        ) from None


@dataclass(frozen=True)
class EngineLimits:
    """What the read engine may use: threads, memory (a DuckDB size such as ``256MB``; a large sort
    beyond it spills to ``temp_directory``). None: the engine's defaults (every core, 80% of RAM)."""

    threads: int | None = None
    memory_limit: str | None = None
    temp_directory: Path | None = None

    def options(self) -> dict[str, Any]:
        return {"threads": self.threads, "memory_limit": self.memory_limit, "temp_directory": self.temp_directory}


@dataclass(frozen=True)
class SecuredRead:
    """What a port reads: the snapshot, the decision and the secured relation over its files."""

    spec: DataProduct
    snapshot: SnapshotRecord
    decision: Decision
    files: tuple[str, ...]
    relation: exp.Select
    principal: Principal
    port: str | None
    """The port it was decided for (None: the owner's tools, through any port)."""

    @cached_property
    def sql(self) -> str:
        """The secured relation rendered for the reader (once per secured read)."""
        return self.relation.sql(dialect="duckdb")

    @property
    def fingerprint(self) -> str:
        """A digest of what this caller receives: the snapshot's files, the visible columns, the masks
        (with the mask key) and the bound row filter. Reads with equal fingerprints give equal rows."""
        import hashlib

        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class PreparedQuery:
    """A gated statement pinned to secured relations: what the engine runs, and what is audited."""

    sql: str
    """DuckDB SQL over the secured relations; ``$1``, ``$2``, … are left for the engine to bind."""
    reads: tuple[SecuredRead, ...]
    shown: str
    """The statement as the audit log records it."""


def port_of_type(spec: DataProduct, port_type: str) -> str:
    """The id of the product's port of ``port_type``; :class:`AccessDenied` when it has none."""
    for port in spec.outputs:
        if port.type == port_type:
            return port.id
    raise AccessDenied(f"{spec.ref} has no {port_type} port")


def location_of(spec: DataProduct) -> SnapshotLocation:
    """Where a product major's snapshots live in storage."""
    return SnapshotLocation(spec.domain or "_", spec.name, spec.major)


FULL_REFRESH_S = 60.0
"""Seconds after which the plane re-reads what is published even if the signature stands still."""


class DataPlane:
    """Reads for every port, through one decision point."""

    def __init__(
        self,
        catalog: Catalog,
        store: Callable[[], SnapshotStore],
        plugins: PluginRegistry | None = None,
        refresh_s: float = 1.0,
        audit: AuditWriter | None = None,
    ) -> None:
        self.catalog = catalog
        self.audit = audit
        self._store = store
        self.plugins = plugins or PluginRegistry.default()
        self.refresh_s = refresh_s
        self._reader: DuckDBReader | None = None
        self._checked = -float("inf")
        self._descriptors: dict[str, str] = {}
        self._specs: dict[str, DataProduct] = {}
        self._sorted: list[DataProduct] = []
        self._latest: dict[str, DataProduct] = {}
        """Each reference's highest published major."""
        self._signature: tuple[Any, ...] | None = None
        self._read_at = -float("inf")
        self._current: dict[str, SnapshotRecord] = {}
        self._masks: dict[str, dict[str, str]] = {}
        self._teams: dict[str, str | None] = {}
        self._names = SqlNames(())
        self._generation: int | None = None
        self._grants: dict[str, list[CatalogGrant]] = {}
        self._secured: dict[tuple[Any, ...], SecuredRead] = {}
        self._prepared: dict[tuple[Any, ...], PreparedQuery] = {}
        self.engine = EngineLimits()

    # ---------------------------------------------------------------- what is published

    def published(self) -> list[DataProduct]:
        """Every registered product major with its current published spec, by key (the same list
        object until something is published: callers must not change it)."""
        self._refresh()
        return self._sorted

    def product(self, name: str) -> DataProduct:
        """A published product by ``domain.name`` (its highest major) or ``domain.name@vN``."""
        from quanta.spec.errormap import suggest

        found = self._find(name)
        if found is None:  # published since the last refresh?
            self._refresh(force=True)
            found = self._find(name)
        if found is not None:
            return found
        hint = suggest(name, sorted({p.ref for p in self._specs.values()}))
        raise NotFound(f"the catalog has no product '{name}'" + (f"; {hint}" if hint else ""))

    def _find(self, name: str) -> DataProduct | None:
        """``name`` as a key, else as a reference (its highest major)."""
        self._refresh()
        return self._specs.get(name) or self._latest.get(name)

    def _refresh(self, force: bool = False) -> None:
        """Re-read current pointers and published specs when older than ``refresh_s`` and the
        catalog's publication signature moved (or a minute passed: a full re-read regardless)."""
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_s:
            return
        signature = self.catalog.products.signature()  # read first: a change after it shows next time
        if not force and signature == self._signature and now - self._read_at < FULL_REFRESH_S:
            self._checked = now
            return
        listed = [e for e in self.catalog.products.entries() if e.descriptor_id]
        entries = {e.key: e.descriptor_id for e in listed if e.descriptor_id}
        meshes = self.catalog.products.meshes()
        masks = {m.name: dict(m.spec.get("masks") or {}) for m in meshes}
        teams = {m.name: _domain_teams(m.spec) for m in meshes}
        masks_before, teams_before = self._masks, self._teams
        self._masks = {e.key: masks.get(e.mesh or "", {}) for e in listed}
        self._teams = {e.key: teams.get(e.mesh or "", {}).get(e.domain) for e in listed}
        if self._masks != masks_before or self._teams != teams_before:
            self._secured.clear()
        if entries != self._descriptors:
            specs = self.catalog.products.published_specs()
            self._specs = {
                key: product_from_data(specs[key], self.plugins, f"catalog:{key}") for key in entries if key in specs
            }
            self._descriptors = entries
            self._names = SqlNames(self._specs.values())
            self._sorted = [self._specs[key] for key in sorted(self._specs)]
            latest: dict[str, DataProduct] = {}
            for spec in self._sorted:
                if spec.ref not in latest or spec.major > latest[spec.ref].major:
                    latest[spec.ref] = spec
            self._latest = latest
            self._secured.clear()
        self._current = self.catalog.snapshots.current_all()
        self._signature, self._read_at, self._checked = signature, now, now

    # ---------------------------------------------------------------- securing one read

    def snapshot(self, spec: DataProduct, selector: Selector = Selector(), *, rejected: bool = False) -> SnapshotRecord:
        """The selected snapshot; by id, one kept unpublished by the quality gate only if ``rejected``
        (the owner inspecting it)."""
        key = spec.key
        if selector.snapshot_id is not None:
            record = self.catalog.snapshots.get(selector.snapshot_id)
            usable = record is not None and (record.status == "published" or rejected)
            if record is None or record.product_key != key or not usable:
                raise NotFound(f"{key} has no published snapshot {selector.snapshot_id}")
            return record
        if selector.as_of is not None:
            found = self.catalog.snapshots.as_of(key, selector.as_of)
            if found is None:
                raise NotFound(f"{key} had no published snapshot as of {selector.as_of.isoformat()}")
            return found
        self._refresh()
        current = self._current.get(key)
        if current is None:
            self._refresh(force=True)
            current = self._current.get(key)
        if current is None:
            raise NotFound(f"{key} has no published snapshot yet; run `quanta build` first")
        return current

    def secure(
        self,
        principal: Principal,
        spec: DataProduct,
        port: str | None,
        selector: Selector = Selector(),
        *,
        unmask: bool = False,
        record: SnapshotRecord | None = None,
    ) -> SecuredRead:
        """The secured relation of one snapshot for ``principal``; :class:`AccessDenied` when refused.
        The stricter of the snapshot's own and the current published classification applies."""
        from sqlglot import exp

        from quanta.sql.rewrite import secured_relation
        from quanta.sql.rowfilter import bind_row_filter

        if self.audit is not None:
            self.audit.check()  # fail closed while the audit log cannot be written
        record = record or self.snapshot(spec, selector, rejected=principal.owner)
        self._check_generation()
        cache_key = (_identity(principal), spec.key, port, record.id, unmask)
        cached = self._secured.get(cache_key)
        if cached is not None and cached.spec is spec and _still_valid(cached.decision):
            return cached
        decision = self._decide(principal, spec, port, record, unmask)  # the generation was just checked
        if not decision.allowed:
            if self.audit is not None:
                self.audit.record(access_entry(principal, spec, port, record, decision))
            raise AccessDenied(decision.reason)
        files = self.files(spec, record)
        condition: exp.Expression | None = None
        if decision.sees_no_rows:
            condition = exp.false()
        elif decision.row_filter:
            condition = bind_row_filter(decision.row_filter, principal.attributes)
        relation = secured_relation(files, list(decision.visible), decision.masked, condition, mask_key())
        secured = SecuredRead(spec, record, decision, files, relation, principal, port)
        if len(self._secured) >= _CACHE_LIMIT:
            self._secured.clear()
        self._secured[cache_key] = secured
        return secured

    @property
    def generation(self) -> int:
        """The access generation the cached decisions were made under (read from the catalog)."""
        self._check_generation()
        assert self._generation is not None
        return self._generation

    def _check_generation(self) -> None:
        """Drop cached decisions and reload catalog grants when the access generation moved."""
        generation = self.catalog.access.generation()
        if generation == self._generation:
            return
        grants: dict[str, list[CatalogGrant]] = {}
        for record in self.catalog.grants.active():
            grants.setdefault(record.product, []).append(catalog_grant(record))
        self._grants = grants
        self._secured.clear()
        self._generation = generation

    def decide(
        self,
        principal: Principal,
        spec: DataProduct,
        port: str | None,
        record: SnapshotRecord | None,
        *,
        unmask: bool = False,
    ) -> Decision:
        """The decision for a read of ``record`` (None: the spec's schema alone, nothing published
        yet): the stricter of the snapshot's own and the current published classification applies."""
        self._check_generation()
        return self._decide(principal, spec, port, record, unmask)

    def _decide(
        self, principal: Principal, spec: DataProduct, port: str | None, record: SnapshotRecord | None, unmask: bool
    ) -> Decision:
        own = [{"name": p.name, "logicalType": p.logical_type} for p in spec.schema_.properties]
        schema = record.schema if record is not None else own
        columns = [p["name"] for p in schema]
        classified: dict[str, str | None] = {
            p["name"]: p["classification"] for p in schema if p.get("classification") in CLASSIFIED
        }
        classified |= {p.name: p.classification for p in spec.schema_.properties if p.is_classified}
        types = {p["name"]: p["logicalType"] for p in schema if p.get("logicalType")}
        return decide(
            principal,
            spec,
            port,
            classified=classified,
            columns=columns,
            unmask=unmask,
            masks=self._masks.get(spec.key),
            types=types,
            catalog_grants=self._grants.get(spec.ref, ()),
            owning_team=self._teams.get(spec.key),
        )

    def owning_team(self, spec: DataProduct) -> str | None:
        """The team owning ``spec``: its own ``team``, else its domain's in the published mesh."""
        if spec.team is not None:
            return spec.team.name
        self._refresh()
        return self._teams.get(spec.key)

    def descriptor_id(self, spec: DataProduct) -> str | None:
        """The id of the published descriptor ``spec`` comes from (its served files: report
        templates, model ports' scoring code)."""
        self._refresh()
        return self._descriptors.get(spec.key)

    def manifest(self, spec: DataProduct, record: SnapshotRecord) -> dict[str, Any]:
        """The snapshot's manifest (artefacts such as fitted model parameters)."""
        return self._store().manifest(location_of(spec), record.id)

    def files(self, spec: DataProduct, record: SnapshotRecord) -> tuple[str, ...]:
        """Exactly the snapshot's listed files, sizes checked; damage is a clear error."""
        try:
            return tuple(str(p) for p in self._store().data_files(location_of(spec), record.id))
        except SnapshotDamaged as exc:
            raise QueryError(f"{spec.key}: {exc}; run `quanta verify` and rebuild it") from None
        except FileNotFoundError:
            raise QueryError(f"{spec.key}: snapshot {record.id} is missing from storage") from None

    # ---------------------------------------------------------------- reads

    def table(
        self,
        principal: Principal,
        name: str,
        port: str | None = None,
        selector: Selector = Selector(),
        *,
        unmask: bool = False,
        limit: int | None = None,
    ) -> Any:
        """One product's rows for ``principal`` as a pyarrow Table."""
        read = self.secure(principal, self.product(name), port, selector, unmask=unmask)
        relation = read.relation.limit(limit) if limit is not None else read.relation
        table = self._run(relation.sql(dialect="duckdb"))
        self.record_access(read, statement=f"table {name}", rows=table.num_rows)
        return table

    def lookup(self, read: SecuredRead, key: dict[str, Any]) -> Any:
        """The rows of a secured read whose properties equal ``key`` (e.g. its primary key), values
        bound as parameters; a pyarrow Table."""
        from sqlglot import exp

        unknown = sorted(set(key) - set(read.decision.visible))
        if unknown:
            raise QueryError(f"{read.spec.ref} has no property {', '.join(repr(n) for n in unknown)}", "42703")
        names = sorted(key)
        condition = exp.and_(
            *(exp.column(n, quoted=True).eq(exp.Placeholder(this=f"k{i}")) for i, n in enumerate(names))
        )
        outer = exp.select("*").from_("secured").where(condition).sql(dialect="duckdb")
        params = {f"k{i}": key[n] for i, n in enumerate(names)}
        table = self._run(f"WITH secured AS ({read.sql}) {outer}", params)  # both parts generated, none from input
        self.record_access(read, statement="lookup", filters=key, rows=table.num_rows)
        return table

    def query(
        self,
        principal: Principal,
        sql: str,
        port_type: str = "sql",
        *,
        as_of: datetime | None = None,
        unmask: bool = False,
        limit: int | None = None,
        params: list[Any] | None = None,
        on_start: Callable[[Callable[[], None]], None] | None = None,
    ) -> Any:
        """One gated query over the products ``principal`` may read through their port of ``port_type``;
        ``params``: the values of its ``$1``, ``$2``, … (passed to the engine, never spliced in);
        ``on_start`` receives a function that interrupts the running query (a client's cancel)."""
        prepared = self.prepare(principal, sql, port_type, as_of=as_of, unmask=unmask, limit=limit)
        table = self._run(prepared.sql, list(params or []) or None, on_start=on_start)
        for read in prepared.reads:
            self.record_access(read, statement=prepared.shown, rows=table.num_rows)
        return table

    def prepare(
        self,
        principal: Principal,
        sql: str,
        port_type: str = "sql",
        *,
        as_of: datetime | None = None,
        unmask: bool = False,
        limit: int | None = None,
    ) -> PreparedQuery:
        """The gated statement pinned to ``principal``'s secured relations, remembered while those
        relations stay the same (same snapshots, same decisions): a repeated statement is not parsed
        again."""
        from quanta.sql.gate import Refused, gate
        from quanta.sql.rewrite import pin

        self._refresh()
        selector = Selector(as_of=as_of)
        cache_key = (_identity(principal), sql, port_type, as_of, unmask, limit)
        cached = self._prepared.get(cache_key)
        if cached is not None:
            reads = tuple(
                self._secure_for(principal, read.spec.key, port_type, selector, unmask) for read in cached.reads
            )
            if all(new is old for new, old in zip(reads, cached.reads, strict=True)):
                return cached
        try:
            gated = gate(sql, self._key_of)
        except Refused as exc:
            raise QueryError(str(exc), exc.sqlstate) from None
        secured = {key: self._secure_for(principal, key, port_type, selector, unmask) for key in gated.keys}
        statement = pin(gated, {key: read.relation for key, read in secured.items()})
        if limit is not None:
            statement = _limited(statement, limit)
        prepared = PreparedQuery(statement.sql(dialect="duckdb"), tuple(secured.values()), normalised_statement(sql))
        if len(self._prepared) >= _CACHE_LIMIT:
            self._prepared.clear()
        self._prepared[cache_key] = prepared
        return prepared

    def _secure_for(
        self, principal: Principal, key: str, port_type: str, selector: Selector, unmask: bool
    ) -> SecuredRead:
        spec = self._specs[key]
        port = None if principal.owner else port_of_type(spec, port_type)  # the owner reads through any port
        return self.secure(principal, spec, port, selector, unmask=unmask)

    def scoped_query(
        self, relations: dict[str, exp.Select], read: SecuredRead, statement: str
    ) -> Callable[[str, dict[str, Any] | None], list[dict[str, Any]]]:
        """A query function over named secured relations only (e.g. a report's ``current`` and
        ``previous``): every statement is gated and pinned to them. The access is audited once, as
        ``read`` described by ``statement`` (e.g. ``report weekly``)."""
        self.record_access(read, statement=statement)
        from quanta.sql.gate import Refused, gate
        from quanta.sql.rewrite import pin

        def run(sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            try:
                gated = gate(sql, lambda schema, table: _scoped(relations, schema, table))
            except Refused as exc:
                raise QueryError(str(exc), exc.sqlstate) from None
            statement = pin(gated, relations).sql(dialect="duckdb")
            return list(self._run(statement, params).to_pylist())

        return run

    def export(self, read: SecuredRead, file_format: str, path: Path, *, audited: bool = True) -> int:
        """Write a secured read to ``path`` (a partial file never replaces an existing one); returns
        the rows written. ``audited`` False: a port that serves the file audits each download itself."""
        from quanta.engines.duckdb.reader import DuckDBReader, ReadFailed

        store = self._store()
        target = path.resolve()
        for root in store.read_roots():
            if target.is_relative_to(root.resolve().parent):
                raise QuantaError(f"{path}: exports may not be written inside the warehouse ({root.parent})")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        writer = DuckDBReader(store.read_roots(), writable=[target.parent], **self.engine.options())
        try:
            rows = writer.write(read.relation.sql(dialect="duckdb"), partial, file_format)
        except ReadFailed as exc:
            partial.unlink(missing_ok=True)
            raise QueryError(_scrubbed(str(exc)), _sqlstate_of(str(exc))) from None
        finally:
            writer.close()
        partial.replace(target)
        if audited:
            self.record_access(read, statement=f"export {file_format}", rows=rows)
        return rows

    def record_access(
        self,
        read: SecuredRead,
        *,
        statement: str | None = None,
        filters: dict[str, Any] | None = None,
        rows: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Audit an allowed access once its rows are produced (a port serving a snapshot's own files
        calls this itself); filter values on classified properties are never recorded."""
        if self.audit is None:
            return
        extra = dict(data or {})
        if filters:
            classified = set(read.decision.masked) | {p.name for p in read.spec.schema_.properties if p.is_classified}
            extra["filters"] = {k: ("<classified>" if k in classified else v) for k, v in filters.items()}
        decision = read.decision
        self.audit.record(
            access_entry(read.principal, read.spec, read.port, read.snapshot, decision, statement, rows, extra)
        )

    def close(self) -> None:
        """Close the reader and the audit writer (what is queued is written first)."""
        self._close_reader()
        if self.audit is not None:
            self.audit.close()

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # ---------------------------------------------------------------- helpers

    def resolve_table(self, schema: str | None, table: str) -> DataProduct | None:
        """The published product a SQL name (``<domain>.<product>``, ``…_v<major>``) stands for."""
        self._refresh()
        return self._names.resolve(schema, table)

    def _key_of(self, schema: str | None, table: str) -> str | None:
        spec = self._names.resolve(schema, table)
        return spec.key if spec is not None else None

    def _run(
        self,
        sql: str,
        params: dict[str, Any] | list[Any] | None = None,
        on_start: Callable[[Callable[[], None]], None] | None = None,
    ) -> Any:
        from quanta.engines.duckdb.reader import ReadFailed

        try:
            return self.reader().arrow(sql, params, on_start)
        except ReadFailed as exc:
            raise QueryError(_scrubbed(str(exc)), _sqlstate_of(str(exc))) from None

    def records(
        self,
        read: SecuredRead,
        sql: str,
        params: dict[str, Any] | None = None,
        *,
        statement: str | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Run SQL a port built over ``read``'s secured relation and return its (few) rows as dicts:
        point lookups. Audited as ``statement``."""
        from quanta.engines.duckdb.reader import ReadFailed

        try:
            found = self.reader().records(sql, params)
        except ReadFailed as exc:
            raise QueryError(_scrubbed(str(exc)), _sqlstate_of(str(exc))) from None
        self.record_access(read, statement=statement, filters=filters, rows=len(found))
        return found

    def rows(
        self,
        read: SecuredRead,
        sql: str,
        params: dict[str, Any] | None = None,
        *,
        statement: str | None = None,
        filters: dict[str, Any] | None = None,
    ) -> Any:
        """Run SQL a port built over ``read``'s secured relation: a pyarrow Table. Audited as ``statement``."""
        table = self._run(sql, params)
        self.record_access(read, statement=statement, filters=filters, rows=table.num_rows)
        return table

    def probe(self, read: SecuredRead, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The (few) rows of SQL a port built over ``read``'s secured relation to find its way — where
        the next page starts, whether one follows: part of an access audited by the rows it returns,
        so not audited on its own."""
        del read  # the caller proves it holds a secured read
        from quanta.engines.duckdb.reader import ReadFailed

        try:
            return self.reader().records(sql, params)
        except ReadFailed as exc:
            raise QueryError(_scrubbed(str(exc)), _sqlstate_of(str(exc))) from None

    def stream(
        self,
        read: SecuredRead,
        sql: str,
        params: dict[str, Any] | None = None,
        batch_size: int = 65_536,
        *,
        statement: str | None = None,
        filters: dict[str, Any] | None = None,
    ) -> AuditedStream:
        """Run SQL a port built over ``read``'s secured relation and stream its rows as record batches
        (a port's large reads: memory stays flat); audited once, when the stream ends or is closed,
        with the rows it gave. A failure while iterating is a ``ReadFailed``."""
        from quanta.engines.duckdb.reader import ReadFailed

        try:
            batches = self.reader().batches(sql, params, batch_size)
        except ReadFailed as exc:
            raise QueryError(_scrubbed(str(exc)), _sqlstate_of(str(exc))) from None
        return AuditedStream(batches, lambda rows, done: self._streamed(read, statement, filters, rows, done))

    def _streamed(
        self, read: SecuredRead, statement: str | None, filters: dict[str, Any] | None, rows: int, done: bool
    ) -> None:
        self.record_access(
            read, statement=statement, filters=filters, rows=rows, data={} if done else {"ended": "early"}
        )

    def reader(self) -> DuckDBReader:
        """The long-lived sandboxed reader (opened on first use; a server opens it at start-up)."""
        from quanta.engines.duckdb.reader import DuckDBReader

        if self._reader is None:
            self._reader = DuckDBReader(self._store().read_roots(), **self.engine.options())
        return self._reader

    def limit_engine(self, limits: EngineLimits) -> None:
        """Run reads and exports under ``limits`` from now on (the reader opens again with them)."""
        self.engine = limits
        self._close_reader()  # never the audit writer: reads would then fail closed


_CACHE_LIMIT = 10_000
"""Secured reads kept per plane (principal, product, port, snapshot) before the cache starts over."""


def _still_valid(decision: Decision) -> bool:
    """Whether the grant a cached decision rests on has not expired since."""
    return decision.expires_at is None or datetime.now(UTC) < decision.expires_at


def _identity(principal: Principal) -> tuple[Any, ...]:
    """Everything about a principal a decision depends on (its attributes are not hashable)."""
    attributes = tuple(sorted(principal.attributes.items()))
    return (principal.id, principal.roles, attributes, principal.owner, principal.team)


def _domain_teams(mesh: dict[str, Any]) -> dict[str, str | None]:
    """Each domain of a published mesh descriptor → its owning team."""
    domains = mesh.get("domains") or []
    return {str(d["name"]): d.get("team") for d in domains if isinstance(d, dict) and "name" in d}


def catalog_grant(record: GrantRecord) -> CatalogGrant:
    """A catalog grant as the decision point applies it (validated when it was given)."""
    data: dict[str, Any] = {"ports": list(record.ports), "unmask": list(record.unmask), "masks": dict(record.masks)}
    optional = {
        "role": record.role,
        "principal": record.principal_id,
        "rowFilter": record.row_filter,
        "purpose": record.purpose,
    }
    grant = Grant.model_validate(data | {k: v for k, v in optional.items() if v is not None})
    return CatalogGrant(record.id or 0, grant, record.source, record.granted_by, record.major, record.expires_at)


_PADDED_KEY = re.compile(r"[0-9a-fA-F]{128}")


def _sqlstate_of(message: str) -> str:
    """The SQLSTATE of an engine failure, from DuckDB's error class."""
    if "Referenced column" in message or ("column" in message and "not found" in message):
        return "42703"
    if "Parser Error" in message:
        return "42601"
    if "Conversion Error" in message or "Invalid Input Error" in message:
        return "22P02"
    if "Out of Range" in message:
        return "22003"
    if "Division by zero" in message.lower():
        return "22012"
    if "Binder Error" in message or "Catalog Error" in message:
        return "42P01" if "Table" in message else "42883"
    if "INTERRUPT" in message.upper():
        return "57014"
    return "XX000"


def _scrubbed(message: str) -> str:
    """An engine error without the mask key's padded forms (literals inside the secured relation)."""
    return _PADDED_KEY.sub("<mask key>", message)


def _limited(statement: exp.Query, limit: int) -> exp.Query:
    from sqlglot import exp

    if isinstance(statement, exp.Select) and not statement.args.get("limit") and not statement.args.get("offset"):
        return statement.limit(limit)
    return exp.select("*").from_(statement.subquery("limited")).limit(limit)  # keeps the query's own LIMIT


def _scoped(relations: dict[str, Any], schema: str | None, table: str) -> str | None:
    return table.lower() if schema is None and table.lower() in relations else None

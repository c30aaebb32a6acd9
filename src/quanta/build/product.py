"""Building one product: resolve inputs, decide, run the engine, check, commit, publish."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quanta import faults
from quanta.build.clock import Stopwatch
from quanta.build.compat import breaking_changes, schema_record
from quanta.build.descriptor import product_descriptor, product_entry
from quanta.build.errors import BuildFailure, IncompatibleSchema, InputChanged, InputUnavailable
from quanta.build.inputs import ConnectorRegistry, InputContext, ResolvedInput
from quanta.build.python_transform import BuildInfo, entrypoint_caller
from quanta.catalog import (
    Catalog,
    CatalogUnavailable,
    Descriptor,
    OwnershipConflict,
    ProductEntry,
    SliRecord,
    SnapshotRecord,
)
from quanta.engines.base import (
    Column,
    Engine,
    Relation,
    SchemaMismatch,
    SqlStep,
    TransformError,
    TransformJob,
    WriteResult,
    file_uri,
)
from quanta.engines.pool import EnginePool
from quanta.engines.types import TypeMapping
from quanta.plan.decide import Fingerprints, Previous, is_due, reasons_to_build
from quanta.plan.fingerprints import code_fingerprint, spec_fingerprint
from quanta.plan.order import downstream_keys
from quanta.quality.checks import CheckResult
from quanta.quality.compile import PRIMARY_KEY_CHECK, compile_checks
from quanta.quality.cross import referential_integrity, volume_change
from quanta.quality.proofs import unique_by_construction
from quanta.quality.retention import retention_sli
from quanta.quality.run import run_checks
from quanta.spec.index import ProductIndex, address
from quanta.spec.loader import MeshSource, ProductSource
from quanta.spec.ports import InputSpec
from quanta.spec.transform import PythonTransform, SqlTransform
from quanta.state import LocalState
from quanta.storage import SnapshotDamaged, SnapshotLocation, SnapshotStore, new_id

SCHEMA_CONFORMANCE = "schema:conformance"
CLAIM_POLL_S = 0.25
READ_ATTEMPTS = 3
"""How often a product's inputs are read before a build whose input files keep changing fails."""


@dataclass
class Workspace:
    """Everything a build reads and writes."""

    mesh: MeshSource
    index: ProductIndex
    catalog: Catalog
    store: SnapshotStore
    engines: EnginePool
    connectors: ConnectorRegistry
    state: LocalState

    def engine_name(self, product: ProductSource) -> str:
        """The engine that builds ``product``: its ``transform.engine``, else the platform's."""
        transform = product.spec.transform
        return (transform.engine if transform is not None else None) or self.engines.default

    def engine_for(self, product: ProductSource) -> Engine:
        return self.engines.get(self.engine_name(product))

    def input_context(self, product: ProductSource) -> InputContext:
        capabilities = self.engines.capabilities(self.engine_name(product))
        return InputContext(
            self.mesh.root,
            product,
            location_of(product),
            self.index,
            self.catalog,
            self.store,
            self.state,
            capabilities,
        )


@dataclass(frozen=True)
class BuildOptions:
    full: bool = False
    due: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)
    """Set on Ctrl-C: a product waiting for another run's claim stops waiting."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one product in a run."""

    key: str
    status: str  # built | unchanged | skipped | failed | blocked
    reasons: tuple[str, ...] = ()
    duration_s: float = 0.0
    rows: int | None = None
    snapshot_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("built", "unchanged", "skipped")


def location_of(product: ProductSource) -> SnapshotLocation:
    return SnapshotLocation(product.spec.domain or "_", product.spec.name, product.spec.major)


def previous_of(catalog: Catalog, current: SnapshotRecord | None) -> Previous:
    if current is None:
        return Previous()
    inputs = {record.input_id: record.fingerprint for record in catalog.lineage.of(current.id)}
    return Previous(current.spec_fingerprint, current.code_fingerprint, inputs, current.created_at)


@dataclass(frozen=True)
class _Attempt:
    """One product's build within a run: what each of its steps needs."""

    workspace: Workspace
    product: ProductSource
    run_id: str
    options: BuildOptions
    clock: Stopwatch

    @property
    def key(self) -> str:
        return self.product.spec.key


def build_product(
    workspace: Workspace,
    product: ProductSource,
    run_id: str,
    options: BuildOptions,
    registered: ProductEntry | None = None,
) -> Outcome:
    """Build one product if it needs it; ``registered`` is its catalog entry as the run found it."""
    attempt = _Attempt(workspace, product, run_id, options, Stopwatch())
    key, clock = attempt.key, attempt.clock
    try:
        return _build(attempt, registered)
    except SchemaMismatch as exc:  # the output does not conform to the declared schema: an SLI of its own
        workspace.catalog.slis.store(
            key, None, [SliRecord(SCHEMA_CONFORMANCE, "failed", 1.0, "<=", 0, True, options.now, str(exc))]
        )
        return Outcome(key, "failed", ("build failed",), clock.elapsed, error=str(exc))
    except OwnershipConflict as exc:
        return Outcome(key, "failed", ("owned by another mesh",), clock.elapsed, error=str(exc))
    except (BuildFailure, TransformError) as exc:
        return Outcome(key, "failed", ("build failed",), clock.elapsed, error=str(exc))
    except CatalogUnavailable:
        raise  # every product would fail the same way: stop the run with the one clear error
    except Exception as exc:  # a bug or an unforeseen environment error fails this product only
        message = f"internal error: {type(exc).__name__}: {exc} (please report it)"
        return Outcome(key, "failed", ("build failed",), clock.elapsed, error=message)


def _build(attempt: _Attempt, registered: ProductEntry | None) -> Outcome:
    workspace, spec, key = attempt.workspace, attempt.product.spec, attempt.key
    mesh = workspace.mesh.spec.name
    if registered is not None and registered.mesh not in (None, mesh):
        raise OwnershipConflict(
            f"{spec.ref} belongs to mesh '{registered.mesh}', so mesh '{mesh}' may not publish it; if its "
            f"ownership moved, run `quanta catalog transfer {spec.ref} --to {mesh}` first"
        )
    if spec.transform is None:
        raise BuildFailure(f"{key} has no transform yet (status {spec.status}); add `transform:`")
    resolved, fingerprints = _resolve(attempt)
    entry, descriptor = product_entry(attempt.product, mesh), product_descriptor(attempt.product, mesh)
    _, reasons = _decide(attempt, fingerprints)
    if reasons:
        with _claimed(attempt):
            built = _build_read_whole(attempt, resolved, fingerprints, descriptor)
            if built is not None:
                return built
    if registered is None or registered.mesh is None or registered.descriptor_id != descriptor.id:
        workspace.catalog.register(entry, descriptor)  # a new description or access policy; or claim a legacy key
    return Outcome(key, "skipped", ("up to date",), attempt.clock.elapsed)


def _resolve(attempt: _Attempt) -> tuple[dict[str, ResolvedInput], Fingerprints]:
    """The product's inputs made readable, and the fingerprints a build of them would have."""
    workspace, product = attempt.workspace, attempt.product
    spec, context = product.spec, workspace.input_context(product)
    resolved = {i.id: resolve_input(workspace.connectors, i, context) for i in spec.inputs}
    fingerprints = Fingerprints(
        spec_fingerprint(spec),
        code_fingerprint(spec, product.folder, workspace.state),
        {k: r.lineage.fingerprint for k, r in resolved.items()},
    )
    return resolved, fingerprints


def _build_read_whole(
    attempt: _Attempt, resolved: dict[str, ResolvedInput], fingerprints: Fingerprints, descriptor: Descriptor
) -> Outcome | None:
    """Decide again (another run may have built it) and build; an input that changed while it was
    read is resolved and read again, at most READ_ATTEMPTS times in all. None: up to date."""
    for reading in range(1, READ_ATTEMPTS + 1):
        current, reasons = _decide(attempt, fingerprints)
        if not reasons:
            return None
        try:
            return _build_and_publish(attempt, resolved, fingerprints, current, reasons, descriptor)
        except InputChanged as exc:
            if reading == READ_ATTEMPTS:
                raise InputChanged(f"{exc} (read {READ_ATTEMPTS} times; nothing was published)") from exc
        resolved, fingerprints = _resolve(attempt)
    raise AssertionError("unreachable")


def _check_read_whole(root: Path, resolved: dict[str, ResolvedInput]) -> None:
    """Raise InputChanged if a file an input's relation reads changed since it was fingerprinted."""
    for input_id, resolved_input in resolved.items():
        moved = resolved_input.moved()
        if moved:
            shown = ", ".join(_shown(root, path) for path in moved)
            raise InputChanged(f"input '{input_id}': file {shown} changed while it was read")


def _shown(root: Path, path: str) -> str:
    """A path relative to the mesh root when it is inside it."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def resolve_input(connectors: ConnectorRegistry, spec: InputSpec, context: InputContext) -> ResolvedInput:
    """Resolve one input; any error of its connector fails this product only, naming the input."""
    try:
        return connectors.get(spec.type).resolve(spec, context)
    except BuildFailure:
        raise
    except Exception as exc:
        raise InputUnavailable(f"input '{spec.id}': {type(exc).__name__}: {exc}") from exc


def _decide(attempt: _Attempt, fingerprints: Fingerprints) -> tuple[SnapshotRecord | None, list[str]]:
    """The current snapshot and the reasons to build (none: up to date)."""
    workspace, product, options = attempt.workspace, attempt.product, attempt.options
    current = workspace.catalog.snapshots.current(product.spec.key)
    damage = damaged(workspace.store, product, current)
    if damage:
        return current, [damage]
    due = options.due and is_due(product.spec.schedule, current.created_at if current else None, options.now)
    return current, reasons_to_build(fingerprints, previous_of(workspace.catalog, current), full=options.full, due=due)


def damaged(store: SnapshotStore, product: ProductSource, current: SnapshotRecord | None) -> str | None:
    """Why the current snapshot cannot be read (a listed file missing or resized), if it cannot."""
    if current is None:
        return None
    try:
        store.data_files(location_of(product), current.id)
    except (SnapshotDamaged, OSError, ValueError) as exc:
        return f"damaged: {exc}"
    return None


@contextmanager
def _claimed(attempt: _Attempt) -> Iterator[None]:
    """Hold the catalog's build claim on the product, waiting (not charged to it) while another
    live run holds it."""
    runs, key, run_id = attempt.workspace.catalog.runs, attempt.key, attempt.run_id
    with attempt.clock.waiting():
        while runs.claim(key, run_id) is not None:
            if attempt.options.cancel.wait(CLAIM_POLL_S):
                raise BuildFailure(f"{key}: cancelled while another build held it")
    try:
        yield
    finally:
        runs.release(key, run_id)


def _build_and_publish(
    attempt: _Attempt,
    resolved: dict[str, ResolvedInput],
    fingerprints: Fingerprints,
    current: SnapshotRecord | None,
    reasons: list[str],
    descriptor: Descriptor,
) -> Outcome:
    workspace, product, options, clock = attempt.workspace, attempt.product, attempt.options, attempt.clock
    spec, key, run_id = product.spec, attempt.key, attempt.run_id
    location = location_of(product)
    staged = workspace.store.staging_dir(run_id, location)
    hash_rows = bool(downstream_keys(workspace.mesh, workspace.index, key))
    job = _job(attempt, resolved, staged, hash_rows)
    # waiting for the engine (one that runs a job at a time may be busy) is not billed to the product
    with workspace.engines.slot(workspace.engine_name(product), waiting=clock.waiting) as engine:
        result = _hash_as_before(engine.run(job), current, job)
        _check_read_whole(workspace.mesh.root, resolved)
        faults.checkpoint(faults.AFTER_PARQUET)
        _check_compatible(workspace.catalog, product)
        proven = _proven_unique(job, spec.schema_.primary_key, result, engine.capabilities.types)
        checks = quality_gate(workspace, product, staged, result, options.now, proven, engine)
    blocking = [c for c in checks if c.blocks]
    snapshot_id = new_id()
    record = _record(product, snapshot_id, run_id, result, fingerprints, rejected=bool(blocking))
    manifest = _manifest(product, record, result, resolved, options)
    manifest["checks"] = [c.to_dict() for c in checks]
    workspace.store.commit(staged, location, snapshot_id, manifest)
    entry = product_entry(product, workspace.mesh.spec.name)
    lineage = [r.lineage for r in resolved.values()]
    workspace.catalog.publish(entry, descriptor, record, lineage, make_current=not blocking)
    conformance = SliRecord(SCHEMA_CONFORMANCE, "passed", 0.0, "<=", 0, True, options.now)
    measured = [conformance, *(sli_of(c, options.now) for c in checks)]
    if spec.slos.retention is not None and not blocking:
        first = workspace.catalog.snapshots.first_published(key)
        snapshots = workspace.catalog.snapshots.list(key)
        measured.append(retention_sli(snapshots, first, spec.slos.retention, options.now))
    workspace.catalog.slis.store(key, snapshot_id, measured)
    breached = [c for c in checks if c.status in ("failed", "error")]
    if breached:
        data = {
            "snapshot": snapshot_id,
            "published": not blocking,
            "objectives": [
                {"check": c.check.id, "status": c.status, "observed": c.observed, "limit": c.check.limit}
                for c in breached
            ],
        }
        workspace.catalog.events.record("slo.breached", key, data, "build")
    if blocking:
        failures = "; ".join(f"{c.check.id}: {c.message}" for c in blocking)
        return Outcome(
            key,
            "failed",
            ("quality gate",),
            clock.elapsed,
            result.rows,
            snapshot_id,
            f"quality gate: {failures} (snapshot {snapshot_id} kept unpublished for inspection)",
        )
    unchanged = current is not None and current.content_hash == result.content_hash
    return Outcome(
        key,
        "unchanged" if unchanged else "built",
        tuple(reasons),
        clock.elapsed,
        result.rows,
        snapshot_id,
    )


def _hash_as_before(result: WriteResult, current: SnapshotRecord | None, job: TransformJob) -> WriteResult:
    """The result, with the current snapshot's hash kept when that was taken with the scheme before
    the engine-neutral one and the content is the same, so upgrading Quanta rebuilds no consumer of
    an unchanged product (its hash moves to the new scheme the first time its content changes)."""
    from quanta.engines import rowhash  # sqlglot: imported only when a product is built

    if current is None or not job.hash_rows or rowhash.is_neutral(current.content_hash):
        return result
    if not rowhash.is_neutral(result.content_hash):
        return result
    from quanta.engines.duckdb import legacy_content_hash  # the old scheme is DuckDB's hash()

    _, legacy = legacy_content_hash([str(job.output_dir / f.path) for f in result.files])
    return replace(result, content_hash=legacy) if legacy == current.content_hash else result


def _job(attempt: _Attempt, resolved: dict[str, ResolvedInput], staged: Path, hash_rows: bool) -> TransformJob:
    product = attempt.product
    spec = product.spec
    columns = tuple(Column(p.name, p.logical_type) for p in spec.schema_.properties)
    relations = tuple(r.relation for r in resolved.values())
    transform = spec.transform
    if isinstance(transform, SqlTransform):
        steps = []
        for step in transform.steps:
            path = product.folder / step
            try:
                sql = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise BuildFailure(f"cannot read SQL step {path}: {exc}") from exc
            steps.append(SqlStep(path.stem, sql, transform.dialect))
        return TransformJob(relations, columns, staged, steps=tuple(steps), hash_rows=hash_rows)
    assert isinstance(transform, PythonTransform)
    capabilities = attempt.workspace.engines.capabilities(attempt.workspace.engine_name(product))
    if transform.inputs not in capabilities.python_modes:
        raise BuildFailure(
            f"engine '{capabilities.name}' does not run Python transforms taking `{transform.inputs}` inputs "
            f"(it runs: {', '.join(sorted(capabilities.python_modes))})"
        )
    info = BuildInfo(spec.ref, spec.version, attempt.options.now)
    caller = entrypoint_caller(product.folder, transform.entrypoint, info, attempt.clock.waiting)
    return TransformJob(relations, columns, staged, python=caller, python_mode=transform.inputs, hash_rows=hash_rows)


def _check_compatible(catalog: Catalog, product: ProductSource) -> None:
    previous = catalog.snapshots.last_published(product.spec.key)
    if previous is None:
        return
    changes = breaking_changes(previous.schema, product.spec.schema_.properties)
    if changes:
        major = product.spec.major
        raise IncompatibleSchema(
            f"the new schema breaks v{major} consumers: "
            + "; ".join(changes)
            + f". Publish it as a new major version ({major + 1}.0.0) and keep v{major} until its deprecation date"
        )


def quality_gate(
    workspace: Workspace,
    product: ProductSource,
    staged: Path,
    result: WriteResult,
    now: datetime,
    proven: str | None = None,
    engine: Engine | None = None,
) -> list[CheckResult]:
    """Run the product's checks on the staged snapshot files (before anything is published): the
    per-table ones in one scan, then change against the previous snapshot and referential integrity.
    ``proven`` names the SQL step whose GROUP BY guarantees the primary key, which is then not scanned."""
    spec = product.spec
    engine = engine or workspace.engine_for(product)
    relation = Relation("snapshot", "parquet", tuple(file_uri(staged / f.path) for f in result.files))
    compiled = compile_checks(spec)
    by_construction = [c for c in compiled if proven and c.id.startswith(PRIMARY_KEY_CHECK)]
    measured = [c for c in compiled if c not in by_construction]
    checks = [
        CheckResult(c, "passed", 0.0, f"guaranteed by the GROUP BY of {proven}; not scanned") for c in by_construction
    ]
    checks += run_checks(engine, relation, measured, spec, now=now, masks=workspace.mesh.spec.masks)
    checks += volume_change(product, result.rows, workspace.catalog)
    checks += referential_integrity(engine, relation, product, workspace.mesh, workspace.catalog, workspace.store)
    return checks


def _proven_unique(job: TransformJob, key: list[str], result: WriteResult, types: TypeMapping) -> str | None:
    """The SQL step whose GROUP BY makes the output unique on the primary key, if one does (the
    engine's type mapping says which of its casts keep keys distinct)."""
    if not key or not job.steps:
        return None
    last = job.steps[-1]
    return f"{last.name}.sql" if unique_by_construction(last.sql, key, result.casts, types, last.dialect) else None


def sli_of(result: CheckResult, now: datetime) -> SliRecord:
    return SliRecord(
        result.check.id,
        result.status,
        result.observed,
        result.check.operator,
        result.check.limit,
        result.check.blocking,
        now,
        result.message or None,
    )


def _record(
    product: ProductSource,
    snapshot_id: str,
    run_id: str,
    result: WriteResult,
    fingerprints: Fingerprints,
    rejected: bool = False,
) -> SnapshotRecord:
    return SnapshotRecord(
        id=snapshot_id,
        product_key=product.spec.key,
        version=product.spec.version,
        build_id=run_id,
        status="rejected" if rejected else "published",
        created_at=datetime.now(UTC),
        published_at=None,
        rows=result.rows,
        bytes=sum(f.bytes for f in result.files),
        content_hash=result.content_hash,
        spec_fingerprint=fingerprints.spec,
        code_fingerprint=fingerprints.code,
        inputs_fingerprint=fingerprints.inputs_digest,
        schema=schema_record(product.spec.schema_.properties),
    )


def _manifest(
    product: ProductSource,
    record: SnapshotRecord,
    result: WriteResult,
    resolved: dict[str, ResolvedInput],
    options: BuildOptions,
) -> dict[str, Any]:
    spec = product.spec
    return {
        "snapshotId": record.id,
        "product": spec.ref,
        "address": address(spec),
        "version": spec.version,
        "buildId": record.build_id,
        "createdAt": record.created_at.isoformat(),
        "buildTime": options.now.isoformat(),
        "rows": result.rows,
        "files": [{"path": f.path, "bytes": f.bytes, "sha256": f.sha256} for f in result.files],
        "schema": {"physical": [list(c) for c in result.schema], "properties": record.schema},
        "contentHash": result.content_hash,
        "fingerprints": {
            "spec": record.spec_fingerprint,
            "code": record.code_fingerprint,
            "inputs": record.inputs_fingerprint,
        },
        "inputs": [
            {
                "id": k,
                "type": r.lineage.input_type,
                "fingerprint": r.lineage.fingerprint,
                "upstream": r.lineage.upstream_key,
                "upstreamSnapshotId": r.lineage.upstream_snapshot_id,
                "system": r.lineage.system,
                "source": r.lineage.source,
            }
            for k, r in resolved.items()
        ],
        "artefacts": result.artefacts,
        "spec": spec.model_dump(by_alias=True, mode="json", exclude_none=True),
    }

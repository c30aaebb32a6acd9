"""Building one product: resolve inputs, decide, run the engine, check, commit, publish."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quanta import faults
from quanta.build.compat import breaking_changes, schema_record
from quanta.build.errors import BuildFailure, IncompatibleSchema
from quanta.build.inputs import ConnectorRegistry, InputContext, ResolvedInput
from quanta.build.python_transform import BuildInfo, entrypoint_caller
from quanta.catalog import Catalog, SnapshotRecord
from quanta.catalog.store import ProductEntry, SliRecord
from quanta.engines.base import (
    Column,
    Engine,
    Relation,
    SchemaMismatch,
    SqlStep,
    TransformError,
    TransformJob,
    WriteResult,
)
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
from quanta.spec.transform import PythonTransform, SqlTransform
from quanta.storage import SnapshotLocation, SnapshotStore, new_id

SCHEMA_CONFORMANCE = "schema:conformance"


@dataclass
class Workspace:
    """Everything a build reads and writes."""

    mesh: MeshSource
    index: ProductIndex
    catalog: Catalog
    store: SnapshotStore
    engine: Engine
    connectors: ConnectorRegistry


@dataclass(frozen=True)
class BuildOptions:
    full: bool = False
    due: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


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
    inputs = {record.input_id: record.fingerprint for record in catalog.lineage(current.id)}
    return Previous(current.spec_fingerprint, current.code_fingerprint, inputs, current.created_at)


def build_product(workspace: Workspace, product: ProductSource, run_id: str, options: BuildOptions) -> Outcome:
    started = time.perf_counter()
    key = product.spec.key
    try:
        return _build(workspace, product, run_id, options, started)
    except SchemaMismatch as exc:  # the output does not conform to the declared schema: an SLI of its own
        workspace.catalog.store_slis(
            key, None, [SliRecord(SCHEMA_CONFORMANCE, "failed", 1.0, "<=", 0, True, options.now, str(exc))]
        )
        return Outcome(key, "failed", ("build failed",), time.perf_counter() - started, error=str(exc))
    except (BuildFailure, TransformError) as exc:
        return Outcome(key, "failed", ("build failed",), time.perf_counter() - started, error=str(exc))


def _build(workspace: Workspace, product: ProductSource, run_id: str, options: BuildOptions, started: float) -> Outcome:
    spec, key = product.spec, product.spec.key
    location = location_of(product)
    context = InputContext(workspace.mesh.root, product, location, workspace.index, workspace.catalog, workspace.store)
    if spec.transform is None:
        raise BuildFailure(f"{key} has no transform yet (status {spec.status}); add `transform:`")
    resolved = {i.id: workspace.connectors.get(i.type).resolve(i, context) for i in spec.inputs}
    fingerprints = Fingerprints(
        spec_fingerprint(spec),
        code_fingerprint(spec, product.folder, workspace.catalog),
        {k: r.lineage.fingerprint for k, r in resolved.items()},
    )
    current = workspace.catalog.current(key)
    due = options.due and is_due(spec.schedule, current.created_at if current else None, options.now)
    reasons = reasons_to_build(fingerprints, previous_of(workspace.catalog, current), full=options.full, due=due)
    if not reasons:
        return Outcome(key, "skipped", ("up to date",), time.perf_counter() - started)
    staged = workspace.store.staging_dir(run_id, location)
    job = _job(
        product, resolved, staged, options, hash_rows=bool(downstream_keys(workspace.mesh, workspace.index, key))
    )
    result = workspace.engine.run(job)
    faults.checkpoint(faults.AFTER_PARQUET)
    _check_compatible(workspace.catalog, product)
    proven = _proven_unique(job, spec.schema_.primary_key, result)
    checks = quality_gate(workspace, product, staged, result, options.now, proven)
    blocking = [c for c in checks if c.blocks]
    snapshot_id = new_id()
    record = _record(product, snapshot_id, run_id, result, fingerprints, rejected=bool(blocking))
    manifest = _manifest(product, record, result, resolved, options)
    manifest["checks"] = [c.to_dict() for c in checks]
    workspace.store.commit(staged, location, snapshot_id, manifest)
    entry = ProductEntry(key, spec.ref, spec.domain or "_", spec.name, spec.major, spec.version, spec.description)
    workspace.catalog.publish(entry, record, [r.lineage for r in resolved.values()], make_current=not blocking)
    conformance = SliRecord(SCHEMA_CONFORMANCE, "passed", 0.0, "<=", 0, True, options.now)
    measured = [conformance, *(sli_of(c, options.now) for c in checks)]
    if spec.slos.retention is not None and not blocking:
        first = workspace.catalog.first_published(key)
        snapshots = workspace.catalog.snapshots(key)
        measured.append(retention_sli(snapshots, first, spec.slos.retention, options.now))
    workspace.catalog.store_slis(key, snapshot_id, measured)
    if blocking:
        failures = "; ".join(f"{c.check.id}: {c.message}" for c in blocking)
        return Outcome(
            key,
            "failed",
            ("quality gate",),
            time.perf_counter() - started,
            result.rows,
            snapshot_id,
            f"quality gate: {failures} (snapshot {snapshot_id} kept unpublished for inspection)",
        )
    unchanged = current is not None and current.content_hash == result.content_hash
    return Outcome(
        key,
        "unchanged" if unchanged else "built",
        tuple(reasons),
        time.perf_counter() - started,
        result.rows,
        snapshot_id,
    )


def _job(
    product: ProductSource, resolved: dict[str, ResolvedInput], staged: Path, options: BuildOptions, hash_rows: bool
) -> TransformJob:
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
    info = BuildInfo(spec.ref, spec.version, options.now)
    caller = entrypoint_caller(product.folder, transform.entrypoint, info)
    return TransformJob(relations, columns, staged, python=caller, hash_rows=hash_rows)


def _check_compatible(catalog: Catalog, product: ProductSource) -> None:
    previous = catalog.last_published(product.spec.key)
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
) -> list[CheckResult]:
    """Run the product's checks on the staged snapshot files (before anything is published): the
    per-table ones in one scan, then change against the previous snapshot and referential integrity.
    ``proven`` names the SQL step whose GROUP BY guarantees the primary key, which is then not scanned."""
    spec = product.spec
    relation = Relation("snapshot", "parquet", tuple(str(staged / f.path) for f in result.files))
    compiled = compile_checks(spec)
    by_construction = [c for c in compiled if proven and c.id.startswith(PRIMARY_KEY_CHECK)]
    measured = [c for c in compiled if c not in by_construction]
    checks = [
        CheckResult(c, "passed", 0.0, f"guaranteed by the GROUP BY of {proven}; not scanned") for c in by_construction
    ]
    checks += run_checks(workspace.engine, relation, measured, spec, now=now)
    checks += volume_change(product, result.rows, workspace.catalog)
    checks += referential_integrity(
        workspace.engine, relation, product, workspace.mesh, workspace.catalog, workspace.store
    )
    return checks


def _proven_unique(job: TransformJob, key: list[str], result: WriteResult) -> str | None:
    """The SQL step whose GROUP BY makes the output unique on the primary key, if one does."""
    if not key or not job.steps:
        return None
    last = job.steps[-1]
    return f"{last.name}.sql" if unique_by_construction(last.sql, key, result.casts, last.dialect) else None


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

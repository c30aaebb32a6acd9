"""Assemble what output ports read (snapshot views) and run the report and export ports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from quanta.build.product import Workspace
from quanta.catalog import Catalog, SnapshotRecord
from quanta.errors import QuantaError
from quanta.explore.read import location_of, masked_columns, readable
from quanta.ports.files import ExportResult, export_snapshot
from quanta.ports.report import ReportRequest, render_report
from quanta.ports.snapshot import SnapshotView
from quanta.spec.loader import ProductSource
from quanta.spec.product import DataProduct
from quanta.storage import SnapshotStore


def snapshot_view(
    catalog: Catalog,
    store: SnapshotStore,
    spec: DataProduct,
    record: SnapshotRecord | None = None,
    *,
    unmask: bool = False,
) -> SnapshotView:
    """The current snapshot of ``spec`` (or ``record``) as ports read it."""
    target = readable(catalog, store, spec, record.id if record else None)
    if target is None:
        raise QuantaError(f"{spec.key} has no published snapshot yet; run `quanta build` first")
    manifest = store.manifest(location_of(spec), target.snapshot.id)
    return SnapshotView(
        id=target.snapshot.id,
        rows=target.snapshot.rows,
        published_at=target.snapshot.published_at,
        files=target.files,
        columns=tuple(masked_columns(target.snapshot, unmask)),
        artefacts=manifest.get("artefacts") or {},
    )


def render(
    workspace: Workspace, product: ProductSource, port_id: str, snapshot_id: str | None, out: Path | None
) -> Path:
    """Render a report port to one HTML file; returns its path."""
    port = product.spec.output(port_id)
    if port is None or port.type != "report":
        reports = [p.id for p in product.spec.outputs if p.type == "report"]
        raise QuantaError(
            f"{product.spec.ref} has no report port '{port_id}'"
            + (f"; its reports: {', '.join(reports)}" if reports else "; it declares no report port")
        )
    catalog, store = workspace.catalog, workspace.store
    record = published_snapshot(catalog, product.spec, snapshot_id) or catalog.snapshots.current(product.spec.key)
    if record is None:
        raise QuantaError(f"{product.spec.key} has no published snapshot yet; run `quanta build` first")
    current = snapshot_view(catalog, store, product.spec, record)
    before = catalog.snapshots.published_before(record)
    previous = snapshot_view(catalog, store, product.spec, before) if before else None
    spec = product.spec
    html = render_report(
        ReportRequest(
            folder=product.folder,
            template=port.options.template,
            product={
                "ref": spec.ref,
                "name": spec.name,
                "domain": spec.domain,
                "version": spec.version,
                "description": spec.description,
                "team": spec.team.name if spec.team else None,
            },
            current=current,
            previous=previous,
            generated_at=datetime.now(UTC),
        )
    )
    name = f"{spec.ref}-{port_id}-{current.id}.html"
    path = out / name if out is not None and out.is_dir() else out or workspace.mesh.root / ".quanta" / "reports" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def export(
    catalog: Catalog,
    store: SnapshotStore,
    spec: DataProduct,
    file_format: str,
    out: Path | None,
    snapshot_id: str | None,
    unmask: bool,
) -> ExportResult:
    """Write a snapshot of ``spec`` to one file (``out``: a file, a folder, or the working directory)."""
    view = snapshot_view(catalog, store, spec, published_snapshot(catalog, spec, snapshot_id), unmask=unmask)
    name = f"{spec.ref}-{view.id}.{file_format}"
    path = out / name if out is not None and out.is_dir() else out or Path.cwd() / name
    return export_snapshot(view, file_format, path)


def published_snapshot(catalog: Catalog, spec: DataProduct, snapshot_id: str | None) -> SnapshotRecord | None:
    """The published snapshot ``snapshot_id`` of ``spec`` (None when no id is given)."""
    if snapshot_id is None:
        return None
    record = catalog.snapshots.get(snapshot_id)
    if record is None or record.product_key != spec.key or record.status != "published":
        raise QuantaError(f"{spec.key} has no published snapshot {snapshot_id}")
    return record

"""The report and export ports of a product, both reading through the data plane."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quanta.access import LOCAL_OWNER, Principal
from quanta.errors import NotFound, QuantaError
from quanta.ports.files import FORMATS, ExportResult
from quanta.ports.report import ReportRequest, render_report
from quanta.read import DataPlane, Selector
from quanta.read.plane import SecuredRead, port_of_type
from quanta.spec.loader import ProductSource
from quanta.spec.product import DataProduct


def render(
    plane: DataPlane,
    product: ProductSource,
    port_id: str,
    snapshot_id: str | None,
    out: Path | None,
    default_folder: Path,
    principal: Principal = LOCAL_OWNER,
) -> Path:
    """Render a report port to one HTML file; returns its path."""
    spec = product.spec
    port = spec.output(port_id)
    if port is None or port.type != "report":
        reports = [p.id for p in spec.outputs if p.type == "report"]
        raise QuantaError(
            f"{spec.ref} has no report port '{port_id}'"
            + (f"; its reports: {', '.join(reports)}" if reports else "; it declares no report port")
        )
    try:
        published = plane.product(spec.key)
    except NotFound:
        raise QuantaError(f"{spec.key} has no published snapshot yet; run `quanta build` first") from None
    current = plane.secure(principal, published, port_id, Selector(snapshot_id=snapshot_id))
    before = plane.catalog.snapshots.published_before(current.snapshot)
    previous = plane.secure(principal, published, port_id, record=before) if before else None
    empty = current.relation.copy().where("FALSE")  # a first snapshot compares with nothing
    relations = {"current": current.relation, "previous": previous.relation if previous else empty}
    query = plane.scoped_query(relations, current, f"report {port_id}")
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
            current=_describe(plane, current),
            previous=_describe(plane, previous) if previous else None,
            generated_at=datetime.now(UTC),
            query=query,
        )
    )
    name = f"{spec.ref}-{port_id}-{current.snapshot.id}.html"
    path = out / name if out is not None and out.is_dir() else out or default_folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def export(
    plane: DataPlane,
    spec: DataProduct,
    file_format: str,
    out: Path | None,
    snapshot_id: str | None,
    unmask: bool,
    principal: Principal = LOCAL_OWNER,
) -> ExportResult:
    """Write a snapshot of ``spec`` to one file (``out``: a file, a folder, or the working directory)."""
    if file_format not in FORMATS:
        raise QuantaError(f"unknown export format {file_format!r}; use one of: {', '.join(FORMATS)}")
    port = None if principal.owner else port_of_type(spec, "files")
    read = plane.secure(principal, spec, port, Selector(snapshot_id=snapshot_id), unmask=unmask)
    name = f"{spec.ref}-{read.snapshot.id}.{file_format}"
    path = out / name if out is not None and out.is_dir() else out or Path.cwd() / name
    rows = plane.export(read, file_format, path)
    return ExportResult(path, rows, file_format)


def _describe(plane: DataPlane, read: SecuredRead) -> dict[str, Any]:
    manifest = plane.manifest(read.spec, read.snapshot)
    return {
        "id": read.snapshot.id,
        "rows": read.snapshot.rows,
        "published_at": read.snapshot.published_at,
        "artefacts": manifest.get("artefacts") or {},
    }

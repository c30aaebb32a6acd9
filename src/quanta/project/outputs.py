"""The report and export ports of a product, both reading through the data plane."""

from __future__ import annotations

from pathlib import Path

from quanta.access import LOCAL_OWNER, Principal
from quanta.errors import BadRequest, NotFound, QuantaError
from quanta.ports.files import FORMATS, ExportResult
from quanta.read import DataPlane, Selector
from quanta.read.plane import port_of_type
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
    file_format: str | None = None,
) -> Path:
    """Render a report port, from the product folder's templates, to one HTML or PDF file (the
    port's first format by default); returns its path."""
    from quanta.ports.report import FolderTemplates
    from quanta.ports.reports import ReportPort

    spec = product.spec
    reports = ReportPort(plane)
    try:
        chosen = reports.choose(spec, port_id, file_format)
    except NotFound as exc:
        raise QuantaError(str(exc).replace(f" v{spec.major} ", " ", 1)) from None
    except BadRequest as exc:
        raise QuantaError(str(exc)) from None
    try:
        published = plane.product(spec.key)
    except NotFound:
        raise QuantaError(f"{spec.key} has no published snapshot yet; run `quanta build` first") from None
    (rendered,) = reports.render(
        principal,
        published,
        port_id,
        [chosen],
        Selector(snapshot_id=snapshot_id),
        templates=FolderTemplates(product.folder),
    )
    path = out / rendered.filename if out is not None and out.is_dir() else out or default_folder / rendered.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rendered.content)
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

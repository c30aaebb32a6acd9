"""What a read-only command looks at: the products of a checked-out mesh, or every product a
catalog has (no checkout needed); and the status and details those commands show, as data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from quanta.spec.index import address, sql_names
from quanta.spec.loader import find_mesh_file
from quanta.spec.mesh import PlatformSettings
from quanta.spec.product import DataProduct

if TYPE_CHECKING:
    from quanta.catalog import Catalog
    from quanta.catalog.search import SearchQuery, SearchResult
    from quanta.ports.files import ExportResult
    from quanta.project.platform import Platform


class ProductScope(Protocol):
    """A :class:`~quanta.project.mesh.Mesh` or a :class:`~quanta.project.platform.Platform`."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def title(self) -> str: ...

    def specs(self) -> list[DataProduct]: ...

    def spec(self, name: str) -> DataProduct: ...

    def read(
        self,
        name: str,
        *,
        snapshot_id: str | None = None,
        as_of: datetime | None = None,
        unmask: bool = False,
        limit: int | None = None,
    ) -> Any: ...

    def query(
        self,
        sql: str,
        *,
        unmask: bool = False,
        as_of: datetime | None = None,
        limit: int | None = None,
        principal: str | None = None,
    ) -> Any: ...

    def export(
        self,
        name: str,
        file_format: str = "parquet",
        *,
        out: Path | None = None,
        snapshot_id: str | None = None,
        unmask: bool = False,
    ) -> ExportResult: ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def verify(self, names: list[str], snapshot_id: str | None = None) -> dict[str, list[str]]: ...

    def close(self) -> None: ...


def platform_of(products: ProductScope) -> Platform:
    """The platform behind a scope: the platform itself, or a mesh's."""
    from quanta.project.platform import Platform

    if isinstance(products, Platform):
        return products
    platform = getattr(products, "platform", None)
    assert isinstance(platform, Platform)
    return platform


def open_scope(
    path: Path, profile: str | None = None, catalog: str | None = None, storage: str | None = None
) -> ProductScope:
    """The mesh at ``path`` when it holds one and no catalog is named; otherwise the platform that
    ``catalog``/``storage`` or ``QUANTA_CATALOG``/``QUANTA_STORAGE`` name."""
    if _is_mesh(path, catalog):
        from quanta.project.mesh import Mesh

        return Mesh.load(path, profile=profile)
    from quanta.project.platform import Platform
    from quanta.project.settings import environment_settings, resolve_standalone

    environment = environment_settings()
    settings = resolve_standalone(catalog, storage, environment)
    return Platform.open(settings, Path.cwd(), environment.run_lease)


def scope_settings(
    path: Path, profile: str | None = None, catalog: str | None = None, storage: str | None = None
) -> tuple[PlatformSettings, Path]:
    """The platform settings :func:`open_scope` would use, and the folder relative paths start from."""
    if _is_mesh(path, catalog):
        from quanta.project.mesh import Mesh

        mesh = Mesh.load(path, profile=profile)
        return mesh.settings(), mesh.source.root
    from quanta.project.settings import resolve_standalone

    return resolve_standalone(catalog, storage), Path.cwd()


def _is_mesh(path: Path, catalog: str | None) -> bool:
    """A mesh folder was named (or the working directory is one) and no catalog overrides it."""
    return catalog is None and (path != Path(".") or find_mesh_file(path).is_file())


def status_rows(catalog: Catalog, specs: Iterable[DataProduct]) -> list[dict[str, Any]]:
    """Every product with its current snapshot and last build attempt."""
    current = catalog.snapshots.current_all()
    owners = {entry.key: entry.mesh for entry in catalog.products.entries()}
    rows = []
    for spec in sorted(specs, key=lambda s: s.key):
        snapshot = current.get(spec.key)
        attempt = catalog.runs.last_attempt(spec.key)
        rows.append(
            {
                "product": spec.key,
                "mesh": owners.get(spec.key),
                "lifecycle": spec.status,
                "snapshot": snapshot.id if snapshot else None,
                "rows": snapshot.rows if snapshot else None,
                "publishedAt": snapshot.published_at if snapshot else None,
                "lastBuild": None
                if attempt is None
                else {"status": attempt.status, "startedAt": attempt.started_at, "error": attempt.error},
            }
        )
    return rows


def product_details(catalog: Catalog, spec: DataProduct, specs: list[DataProduct]) -> dict[str, Any]:
    """A product's job description, address, owner, properties, neighbours, ports and snapshot."""
    snapshot = catalog.snapshots.current(spec.key)
    entry = catalog.products.entry(spec.key)
    return {
        "product": spec.ref,
        "key": spec.key,
        "version": spec.version,
        "lifecycle": spec.status,
        "description": spec.description,
        "address": address(spec),
        "sql": sql_names(spec),
        "domain": spec.domain,
        "team": spec.team.model_dump(mode="json", exclude_none=True) if spec.team else None,
        "mesh": entry.mesh if entry else None,
        "properties": [
            {
                "name": p.name,
                "logicalType": p.logical_type,
                "required": bool(p.required or p.primary_key),
                "primaryKey": bool(p.primary_key),
                "businessKey": p.business_key,
                "classification": p.classification,
                "description": p.description,
            }
            for p in spec.schema_.properties
        ],
        "upstream": upstream_of(spec),
        "downstream": downstream_of(spec, specs),
        "outputs": [{"id": port.id, "type": port.type} for port in spec.outputs],
        "snapshot": None
        if snapshot is None
        else {"id": snapshot.id, "rows": snapshot.rows, "publishedAt": snapshot.published_at},
    }


def upstream_of(spec: DataProduct) -> list[str]:
    """Keys of the products ``spec`` reads."""
    return sorted(
        f"{i.options.product}@v{i.options.major}" for i in spec.inputs if i.type == "product" and i.options is not None
    )


def downstream_of(spec: DataProduct, specs: list[DataProduct]) -> list[str]:
    """Keys of the products among ``specs`` that read ``spec`` (the index of readers is kept for
    the last list asked about: the data plane hands out the same list until something is published)."""
    return _readers(specs).get(spec.key, [])


_last_readers: list[tuple[list[DataProduct], dict[str, list[str]]]] = []


def _readers(specs: list[DataProduct]) -> dict[str, list[str]]:
    cached = _last_readers[0] if _last_readers else None
    if cached is not None and cached[0] is specs:
        return cached[1]
    readers: dict[str, list[str]] = {}
    for other in specs:
        for key in upstream_of(other):
            readers.setdefault(key, []).append(other.key)
    index = {key: sorted(keys) for key, keys in readers.items()}
    _last_readers[:] = [(specs, index)]
    return index

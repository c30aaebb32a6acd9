"""The product registry: product entries with their owning mesh, published descriptors (spec and
served files), and mesh descriptors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from quanta.catalog.database import database_now, upsert
from quanta.catalog.records import Descriptor, MeshDescriptor, ProductEntry
from quanta.catalog.tables import blobs, descriptors, meshes, products, snapshots
from quanta.catalog.tables import current as current_snapshots
from quanta.errors import Conflict, NotFound


class OwnershipConflict(Conflict):
    """Another mesh owns the product key."""


class Products:
    """Products, their descriptors and the meshes that publish them."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ---------------------------------------------------------------- reads

    def entries(self) -> list[ProductEntry]:
        with self._engine.connect() as connection:
            return [_entry(r) for r in connection.execute(select(products).order_by(products.c.key))]

    def signature(self) -> tuple[Any, ...]:
        """What changes whenever anything published does: products (every write sets their
        ``updated_at``), meshes and current-snapshot pointers (each move stamps ``published_at``),
        as counts and latest times, in one cheap query."""
        from sqlalchemy import func

        query = select(
            select(func.count()).select_from(products).scalar_subquery().label("p"),
            select(func.max(products.c.updated_at)).scalar_subquery().label("pu"),
            select(func.count()).select_from(meshes).scalar_subquery().label("m"),
            select(func.max(meshes.c.updated_at)).scalar_subquery().label("mu"),
            select(func.count()).select_from(current_snapshots).scalar_subquery().label("c"),
            select(func.max(current_snapshots.c.published_at)).scalar_subquery().label("cu"),
        )
        with self._engine.connect() as connection:
            return tuple(connection.execute(query).one())

    def entry(self, key: str) -> ProductEntry | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(products).where(products.c.key == key)).first()
        return _entry(row) if row is not None else None

    def descriptor(self, descriptor_id: str) -> Descriptor | None:
        """A published descriptor with its files."""
        with self._engine.connect() as connection:
            row = connection.execute(select(descriptors).where(descriptors.c.id == descriptor_id)).first()
            if row is None:
                return None
            shas = dict(row.files)
            query = select(blobs.c.sha256, blobs.c.content).where(blobs.c.sha256.in_(shas.values()))
            contents = {sha: content for sha, content in connection.execute(query)}
        files = {path: bytes(contents[sha]) for path, sha in shas.items()}
        return Descriptor(row.product_key, row.version, row.spec, files, row.mesh)

    def current_descriptor(self, key: str) -> Descriptor | None:
        entry = self.entry(key)
        return self.descriptor(entry.descriptor_id) if entry and entry.descriptor_id else None

    def published_specs(self) -> dict[str, dict[str, Any]]:
        """The current descriptor's spec of every registered product, by key (one query)."""
        query = select(products.c.key, descriptors.c.spec).join(
            descriptors, descriptors.c.id == products.c.descriptor_id
        )
        with self._engine.connect() as connection:
            return {key: spec for key, spec in connection.execute(query)}

    def meshes(self) -> list[MeshDescriptor]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(meshes).order_by(meshes.c.name))
            return [MeshDescriptor(r.name, r.spec, r.origin) for r in rows]

    def mesh(self, name: str) -> MeshDescriptor | None:
        return next((m for m in self.meshes() if m.name == name), None)

    def pending_backfill(self) -> list[ProductEntry]:
        """Products registered before descriptors existed (filled in from their manifests)."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(products).where(products.c.descriptor_id.is_(None)))
            return [_entry(r) for r in rows]

    # ---------------------------------------------------------------- writes

    def register(
        self, connection: Connection, entry: ProductEntry, descriptor: Descriptor, now: datetime, current: bool = True
    ) -> None:
        """Record ``descriptor`` (as the product's current one unless ``current`` is False: a snapshot
        kept unpublished), refusing a key another mesh owns; runs inside the caller's transaction."""
        owner = connection.execute(
            select(products.c.key, products.c.mesh).where(
                products.c.ref == entry.ref, products.c.mesh.is_not(None), products.c.mesh != entry.mesh
            )
        ).first()
        if owner is not None:
            raise _conflict(entry, owner.mesh)
        self.store_descriptor(connection, descriptor, now)
        values = {
            "ref": entry.ref,
            "domain": entry.domain,
            "name": entry.name,
            "major": entry.major,
            "version": entry.version,
            "description": entry.description,
            "mesh": entry.mesh,
            "descriptor_id": descriptor.id,
            "updated_at": now,
        }
        mine = (products.c.mesh == entry.mesh) | products.c.mesh.is_(None)
        changed = values if current else {"mesh": entry.mesh}
        upsert(connection, products, {"key": entry.key, **values}, ["key"], update=changed, where=mine)
        holder = connection.execute(select(products.c.mesh).where(products.c.key == entry.key)).scalar()
        if holder != entry.mesh:  # a concurrent publisher from another mesh won the key
            raise _conflict(entry, holder)

    @staticmethod
    def store_descriptor(connection: Connection, descriptor: Descriptor, now: datetime) -> str:
        """Store a descriptor and its files once (content-addressed); returns its id."""
        from quanta.hashing import canonical_digest

        files = {}
        for path, content in sorted(descriptor.files.items()):
            sha = canonical_digest(content)
            upsert(connection, blobs, {"sha256": sha, "content": content}, ["sha256"])
            files[path] = sha
        values = {
            "id": descriptor.id,
            "product_key": descriptor.product_key,
            "version": descriptor.version,
            "mesh": descriptor.mesh,
            "spec": descriptor.spec,
            "files": files,
            "created_at": now,
        }
        upsert(connection, descriptors, values, ["id"])
        return descriptor.id

    def register_mesh(self, mesh: MeshDescriptor) -> None:
        """Record (or refresh) a mesh's descriptor."""
        with self._engine.begin() as connection:
            now = database_now(connection)
            values: dict[str, Any] = {"descriptor_id": mesh.id, "spec": mesh.spec, "origin": mesh.origin}
            values["updated_at"] = now
            upsert(
                connection,
                meshes,
                {"name": mesh.name, **values},
                ["name"],
                update=values,
                where=meshes.c.descriptor_id != mesh.id,
            )

    def transfer(self, ref: str, to_mesh: str) -> list[str]:
        """Give every major of product ``ref`` (``domain.name``, or a ``…@vN`` key for one major) to
        mesh ``to_mesh``; returns the keys moved."""
        column = products.c.key if "@" in ref else products.c.ref
        with self._engine.begin() as connection:
            keys = list(connection.execute(select(products.c.key).where(column == ref)).scalars())
            if not keys:
                raise NotFound(f"the catalog has no product '{ref}'")
            now = database_now(connection)
            connection.execute(update(products).where(column == ref).values(mesh=to_mesh, updated_at=now))
        return sorted(keys)

    def adopt(self, entry: ProductEntry, by_snapshot: dict[str, Descriptor], current: Descriptor | None) -> None:
        """Backfill: attach descriptors made from manifests to old snapshots and the product."""
        with self._engine.begin() as connection:
            now = database_now(connection)
            for snapshot_id, descriptor in by_snapshot.items():
                self.store_descriptor(connection, descriptor, now)
                connection.execute(
                    update(snapshots).where(snapshots.c.id == snapshot_id).values(descriptor_id=descriptor.id)
                )
            if current is not None:
                connection.execute(
                    update(products).where(products.c.key == entry.key).values(descriptor_id=current.id, updated_at=now)
                )


def _conflict(entry: ProductEntry, owner: str | None) -> OwnershipConflict:
    return OwnershipConflict(
        f"{entry.ref} belongs to mesh '{owner}', so mesh '{entry.mesh}' may not publish it; if its "
        f"ownership moved, run `quanta catalog transfer {entry.ref} --to {entry.mesh}` first"
    )


def _entry(row: Any) -> ProductEntry:
    return ProductEntry(
        row.key, row.ref, row.domain, row.name, row.major, row.version, row.description, row.mesh, row.descriptor_id
    )

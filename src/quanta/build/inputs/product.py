"""``type: product``: the current published snapshot of another product (never its private steps)."""

from __future__ import annotations

from quanta.build.errors import InputUnavailable
from quanta.build.inputs.base import InputContext, ResolvedInput, relation_name
from quanta.catalog import LineageRecord
from quanta.engines.base import Relation
from quanta.spec.ports import InputSpec
from quanta.storage import SnapshotLocation


class ProductConnector:
    def peek(self, spec: InputSpec, context: InputContext) -> str | None:
        upstream = _upstream_key(spec, context)
        snapshot = context.catalog.snapshots.current(upstream)
        return snapshot.content_hash if snapshot else None

    def resolve(self, spec: InputSpec, context: InputContext) -> ResolvedInput:
        upstream = context.index.resolve(spec.options.product, spec.options.major)
        if upstream is None:
            raise InputUnavailable(f"input '{spec.id}': no product {spec.options.product} v{spec.options.major}")
        key = upstream.spec.key
        snapshot = context.catalog.snapshots.current(key)
        if snapshot is None:
            raise InputUnavailable(f"input '{spec.id}': {key} has no published snapshot yet; build it first")
        location = SnapshotLocation(upstream.spec.domain or "_", upstream.spec.name, upstream.spec.major)
        uris = context.store.data_uris(location, snapshot.id, context.uri_schemes)
        if not uris:
            raise InputUnavailable(f"input '{spec.id}': the files of {key} snapshot {snapshot.id} are missing")
        relation = Relation(relation_name(spec.id), "parquet", tuple(uris))
        lineage = LineageRecord(
            spec.id, "product", snapshot.content_hash, upstream_key=key, upstream_snapshot_id=snapshot.id
        )
        return ResolvedInput(relation, lineage)


def _upstream_key(spec: InputSpec, context: InputContext) -> str:
    upstream = context.index.resolve(spec.options.product, spec.options.major)
    return upstream.spec.key if upstream else f"{spec.options.product}@v{spec.options.major}"

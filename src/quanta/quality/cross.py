"""Checks that need more than the new snapshot: change against the previous snapshot, and
business-key referential integrity against the key's owner product."""

from __future__ import annotations

from quanta.catalog import Catalog
from quanta.engines.base import Engine, Relation, TransformError
from quanta.quality.checks import Check, CheckResult, Status
from quanta.spec.index import ProductIndex
from quanta.spec.loader import MeshSource, ProductSource
from quanta.storage import SnapshotLocation, SnapshotStore


def volume_change(product: ProductSource, rows: int, catalog: Catalog) -> list[CheckResult]:
    """Relative change in rows against the last published snapshot (``slos.volume.maxChange``)."""
    volume = product.spec.slos.volume
    if volume is None or volume.max_change is None:
        return []
    check = Check(
        "volume:change",
        f"rows change by at most {volume.max_change:.0%} between snapshots",
        None,
        "<=",
        volume.max_change,
        volume.blocking,
        "slo",
    )
    previous = catalog.snapshots.last_published(product.spec.key)
    if previous is None:
        return [CheckResult(check, "passed", 0.0, "first snapshot: nothing to compare with")]
    change = abs(rows - previous.rows) / max(previous.rows, 1)
    if check.passes(change):
        return [CheckResult(check, "passed", change)]
    return [
        CheckResult(
            check,
            "failed" if check.blocking else "warning",
            change,
            f"{previous.rows:,} → {rows:,} rows ({change:+.0%})",
        )
    ]


def referential_integrity(
    engine: Engine,
    relation: Relation,
    product: ProductSource,
    mesh: MeshSource,
    catalog: Catalog,
    store: SnapshotStore,
) -> list[CheckResult]:
    """Every business-key value exists in the key owner's current snapshot (blocking)."""
    glossary = {k.name: k for k in mesh.spec.business_keys}
    index = ProductIndex.of(mesh)
    results = []
    for prop in product.spec.schema_.properties:
        key = glossary.get(prop.business_key or "")
        if key is None:
            continue
        owner = index.resolve(key.owner)
        if owner is None or owner.spec.key == product.spec.key:
            continue  # the owner holds the reference list itself
        check = Check(
            f"references:{prop.name}",
            f"every {prop.name} exists in {owner.spec.ref}",
            None,
            "<=",
            0,
            True,
            "schema",
            prop.name,
        )
        column = next((p.name for p in owner.spec.schema_.properties if p.business_key == key.name), None)
        snapshot = catalog.snapshots.current(owner.spec.key)
        if column is None or snapshot is None:
            why = "carries no such key" if column is None else "has no published snapshot yet"
            results.append(CheckResult(check, "warning", None, f"not checked: {owner.spec.ref} {why}"))
            continue
        location = SnapshotLocation(owner.spec.domain or "_", owner.spec.name, owner.spec.major)
        uris = store.data_uris(location, snapshot.id, engine.capabilities.uri_schemes)
        reference = Relation("reference", "parquet", tuple(uris))
        try:
            missing = engine.orphans(relation, prop.name, reference, column)
        except TransformError as exc:
            results.append(CheckResult(check, "error", None, f"could not run: {exc}"))
            continue
        status: Status = "passed" if missing == 0 else "failed"
        results.append(
            CheckResult(
                check, status, float(missing), "" if missing == 0 else f"{missing} row(s) reference unknown {key.name}"
            )
        )
    return results

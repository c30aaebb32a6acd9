"""Incremental builds on a four-product mesh with file, API, product and Python inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from four_mesh import FakeCrm, FourMesh
from helpers import build, read, rows, statuses

from quanta.project import Mesh

ALL = ["sales.orders@v1", "customer.customers@v1", "sales.daily-revenue@v1", "customer.customer-value@v1"]


def test_first_build_builds_everything_in_order_and_second_is_a_no_op(four: FourMesh, crm: FakeCrm) -> None:
    first = build(four.root)
    assert statuses(first) == dict.fromkeys(ALL, "built")
    assert list(first).index("sales.orders@v1") < list(first).index("sales.daily-revenue@v1")
    assert first["sales.orders@v1"].rows == 4  # the duplicated o-1 line is removed by the private step
    assert rows(four.root, "select count(*) as n from customer.customers") == [{"n": 8}]
    second = build(four.root)
    assert statuses(second) == dict.fromkeys(ALL, "skipped")


def test_python_transform_output_and_artefacts(four: FourMesh) -> None:
    build(four.root)
    value = {r["customer_id"]: r for r in read(four.root, "customer.customer-value")}
    assert value["c-1"]["total"] == 130.0 and value["c-1"]["segment"] == "high"
    assert value["c-2"]["segment"] == "low" and value["c-8"]["total"] == 0
    from quanta.project import Mesh

    mesh = Mesh.load(four.root)
    snapshot = mesh.workspace.catalog.snapshots.current("customer.customer-value@v1")
    assert snapshot is not None
    from quanta.storage import SnapshotLocation

    manifest = mesh.workspace.store.manifest(SnapshotLocation("customer", "customer-value", 1), snapshot.id)
    assert manifest["artefacts"] == {"threshold": 100}
    assert {i["id"]: i["upstreamSnapshotId"] for i in manifest["inputs"]}.keys() == {"orders", "customers"}
    mesh.close()


def test_comment_only_sql_edit_rebuilds_nothing(four: FourMesh) -> None:
    build(four.root)
    four.edit(
        "products/sales/daily-revenue/daily.sql",
        "select order_date",
        "-- revenue per day\nselect   order_date /* the day */",
    )
    assert set(statuses(build(four.root)).values()) == {"skipped"}


def test_sql_change_rebuilds_the_product_and_its_downstream(four: FourMesh) -> None:
    build(four.root)
    four.edit(
        "products/sales/orders/orders.sql",
        "cast(amount as double) as amount",
        "round(cast(amount as double) * 1.2, 2) as amount",
    )
    outcome = build(four.root)
    assert statuses(outcome) == {
        "sales.orders@v1": "built",
        "customer.customers@v1": "skipped",
        "sales.daily-revenue@v1": "built",
        "customer.customer-value@v1": "built",
    }
    assert outcome["sales.orders@v1"].reasons == ("code changed",)
    assert outcome["sales.daily-revenue@v1"].reasons == ("input 'orders' changed",)


def test_upstream_rebuilt_with_identical_content_stops_the_cascade(four: FourMesh) -> None:
    build(four.root)
    four.edit("products/sales/orders/orders.sql", "from staging", "from staging where order_id is not null")
    outcome = build(four.root)
    assert statuses(outcome) == {
        "sales.orders@v1": "unchanged",
        "customer.customers@v1": "skipped",
        "sales.daily-revenue@v1": "skipped",
        "customer.customer-value@v1": "skipped",
    }


def test_new_source_file_rebuilds_downstream(four: FourMesh) -> None:
    build(four.root)
    four.write("data/orders/2026-11-05.csv", "order_id,customer_id,amount,order_date\no-9,c-2,5.0,2026-11-05\n")
    outcome = build(four.root)
    assert outcome["sales.orders@v1"].reasons == ("input 'exports' changed",)
    assert statuses(outcome)["sales.daily-revenue@v1"] == "built"


def test_editing_a_helper_module_rebuilds_the_python_product(four: FourMesh) -> None:
    build(four.root)
    four.edit("products/customer/customer-value/helpers.py", "THRESHOLD = 100", "THRESHOLD = 50")
    outcome = build(four.root)
    assert statuses(outcome)["customer.customer-value@v1"] == "built"
    assert outcome["customer.customer-value@v1"].reasons == ("code changed",)
    assert {r["customer_id"]: r["segment"] for r in read(four.root, "customer.customer-value")}["c-3"] == "high"
    four.edit("products/customer/customer-value/helpers.py", "THRESHOLD = 50", "# tuned\nTHRESHOLD = 50  # EUR")
    assert statuses(build(four.root))["customer.customer-value@v1"] == "skipped"


def test_due_schedule_rebuilds(four: FourMesh) -> None:
    build(four.root)
    now = datetime.now(UTC)
    assert set(statuses(build(four.root, due=True, now=now)).values()) == {"skipped"}
    later = build(four.root, due=True, now=now + timedelta(days=8))
    assert "schedule due" in later["customer.customer-value@v1"].reasons
    assert later["customer.customers@v1"].status == "skipped"  # no schedule


def test_failure_blocks_only_downstream_and_keeps_last_good_snapshot(four: FourMesh) -> None:
    build(four.root)
    before = read(four.root, "sales.daily-revenue")
    four.edit("products/sales/orders/orders.sql", "from staging", "from staging_that_does_not_exist")
    outcome = build(four.root)
    assert statuses(outcome) == {
        "sales.orders@v1": "failed",
        "customer.customers@v1": "skipped",
        "sales.daily-revenue@v1": "blocked",
        "customer.customer-value@v1": "blocked",
    }
    assert "staging_that_does_not_exist" in (outcome["sales.orders@v1"].error or "")
    assert read(four.root, "sales.daily-revenue") == before


def test_schema_mismatch_names_each_property(four: FourMesh) -> None:
    build(four.root)
    four.edit(
        "products/sales/daily-revenue/daily.sql",
        "count(*) as orders",
        "cast(count(*) as varchar) as orders, 1 as extra",
    )
    four.edit("products/sales/daily-revenue/daily.sql", "sum(amount) as revenue, ", "")
    error = build(four.root)["sales.daily-revenue@v1"].error or ""
    assert "missing revenue" in error and "undeclared extra" in error
    assert "orders (declared integer, got VARCHAR)" in error


def test_time_travel_returns_older_rows(four: FourMesh) -> None:
    build(four.root)
    from quanta.project import Mesh

    mesh = Mesh.load(four.root)
    first = mesh.workspace.catalog.snapshots.current("sales.orders@v1")
    mesh.close()
    assert first is not None and first.published_at is not None
    four.write("data/orders/2026-11-05.csv", "order_id,customer_id,amount,order_date\no-9,c-2,5.0,2026-11-05\n")
    build(four.root)
    assert len(read(four.root, "sales.orders")) == 5
    assert len(read(four.root, "sales.orders", snapshot_id=first.id)) == 4
    assert len(read(four.root, "sales.orders", as_of=first.published_at + timedelta(microseconds=1))) == 4
    old = rows(four.root, "select count(*) as n from sales.orders", as_of=first.published_at)
    assert old == [{"n": 4}]


def test_query_masks_classified_properties_unless_unmasked(four: FourMesh) -> None:
    build(four.root)
    masked = rows(four.root, "select email from customer.customers order by customer_id limit 1")
    clear = rows(four.root, "select email from customer.customers order by customer_id limit 1", unmask=True)
    assert masked == [{"email": "***"}] and clear == [{"email": "c1@example.com"}]


def test_an_unexpected_error_fails_only_its_product_and_the_run(
    four: FourMesh, monkeypatch: pytest.MonkeyPatch
) -> None:
    import quanta.build.product as product_module

    real = product_module._check_compatible

    def broken(catalog: object, product: object) -> None:
        if product.spec.key == "sales.orders@v1":  # type: ignore[attr-defined]
            raise RuntimeError("disk on fire")
        real(catalog, product)  # type: ignore[arg-type]

    monkeypatch.setattr(product_module, "_check_compatible", broken)
    mesh = Mesh.load(four.root)
    try:
        outcomes = {o.key: o for o in mesh.build().outcomes}
        assert outcomes["sales.orders@v1"].status == "failed"
        assert "internal error: RuntimeError: disk on fire" in (outcomes["sales.orders@v1"].error or "")
        assert outcomes["sales.daily-revenue@v1"].status == "blocked"
        assert outcomes["customer.customers@v1"].status == "built"
        assert mesh.workspace.catalog.runs.runs(limit=1)[0].status == "failed"
    finally:
        mesh.close()

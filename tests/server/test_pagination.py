"""Cursor pagination: a publish between pages changes nothing for a reader holding a cursor (its
pages come from the pinned snapshot), new requests see the new snapshot without a restart, and a
cursor whose snapshot gc collected is 410. Cursors are signed and bound to their principal."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from quanta.project import Mesh
from serving_mesh import ROWS, Served, build, serving, write_mesh, write_orders

ORDERS = "/api/v1/products/sales/orders/v1/rows"


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Served]:
    root = write_mesh(tmp_path / "demo")
    build(root)
    with serving(root, tmp_path / "cache", secret=b"s" * 32) as running:
        yield running


def test_a_publish_between_pages_changes_nothing_for_the_cursor_s_reader(fresh: Served) -> None:
    with fresh.client("ann") as client:
        first = client.get(ORDERS, params={"limit": 50, "sort": "order_id"}).json()
        pinned = first["snapshot"]
        write_orders(fresh.root, 100, offset=5000)  # a different table: o-05000 … o-05099
        build(fresh.root)
        pages = [first]
        while pages[-1]["next"]:
            page = client.get(ORDERS, params={"cursor": pages[-1]["next"]})
            assert page.status_code == 200, page.text
            pages.append(page.json())
        deadline = time.monotonic() + 10
        latest = client.get(ORDERS, params={"limit": 50}).json()
        while latest["snapshot"] == pinned and time.monotonic() < deadline:  # seen within the refresh interval
            time.sleep(0.2)
            latest = client.get(ORDERS, params={"limit": 50}).json()
    ids = [r["order_id"] for p in pages for r in p["items"]]
    assert {p["snapshot"] for p in pages} == {pinned}
    assert ids == [f"o-{i:05d}" for i in range(ROWS)]
    assert latest["snapshot"] != pinned and latest["items"][0]["order_id"] == "o-05000"


def test_a_cursor_whose_snapshot_was_collected_is_410(fresh: Served) -> None:
    with fresh.client("ann") as client:
        first = client.get(ORDERS, params={"limit": 10}).json()
        write_orders(fresh.root, 30, offset=7000)
        build(fresh.root)
        mesh = Mesh.load(fresh.root)
        try:
            report = mesh.gc(keep=1, grace=timedelta(0))
        finally:
            mesh.close()
        assert first["snapshot"] in report.snapshots
        gone = client.get(ORDERS, params={"cursor": first["next"]})
    assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
    assert "was collected" in gone.json()["detail"]


def test_cursors_are_signed_bound_to_their_principal_and_carry_their_query(fresh: Served) -> None:
    with fresh.client("ann") as client:
        first = client.get(ORDERS, params={"limit": 10, "fields": "order_id"}).json()
        cursor = first["next"]
        payload, mac = cursor.split(".")
        altered = client.get(ORDERS, params={"cursor": payload[:-2] + "AA." + mac})
        with_filter = client.get(ORDERS, params={"cursor": cursor, "country": "DE"})
        as_csv = client.get(ORDERS, params={"cursor": cursor, "format": "csv"})
        second = client.get(ORDERS, params={"cursor": cursor}).json()
    with fresh.client("cleo") as client:
        stolen = client.get(ORDERS, params={"cursor": cursor})
    with fresh.client("ann") as client:
        other_product = client.get("/api/v1/products/sales/daily-revenue/v1/rows", params={"cursor": cursor})
    assert altered.status_code == 400 and altered.json()["param"] == "cursor"
    assert with_filter.status_code == 400 and "carries its query" in with_filter.json()["detail"]
    assert as_csv.status_code == 200 and next(csv.reader(io.StringIO(as_csv.text))) == ["order_id"]
    assert [r["order_id"] for r in second["items"]] == [f"o-{i:05d}" for i in range(10, 20)]
    assert list(second["items"][0]) == ["order_id"]
    assert stolen.status_code == 400 and "another principal" in stolen.json()["detail"]
    assert other_product.status_code == 400


def test_every_page_is_authorised_again(fresh: Served) -> None:
    token, record = fresh.platform.create_token("ann")
    with fresh.client(Authorization=f"Bearer {token}") as client:
        first = client.get(ORDERS, params={"limit": 10}).json()
        fresh.platform.revoke_token(record.id)
        assert client.get(ORDERS, params={"cursor": first["next"]}).status_code == 401


def test_a_request_started_on_the_old_snapshot_finishes_on_it(tmp_path: Path) -> None:
    """A large NDJSON read is mid-stream (the client has read one chunk, the server is held back by
    the socket) when a new snapshot is published: the rest of the response is the old snapshot's."""
    rows = 150_000
    root = write_mesh(tmp_path / "demo", rows=rows)
    orders = root / "products/sales/orders/dataproduct.yaml"
    orders.write_text(orders.read_text().replace("maxPageSize: 50", "maxPageSize: 100000"))
    build(root)
    with serving(root, tmp_path / "cache") as running, running.client("ann") as client:
        with client.stream("GET", ORDERS, params={"limit": 100_000, "format": "ndjson"}) as response:
            assert response.status_code == 200
            pinned = response.headers["x-quanta-snapshot"]
            chunks = response.iter_bytes()
            body = [next(chunks)]
            write_orders(root, 10, offset=900_000)
            build(root)
            current = running.platform.catalog.snapshots.current("sales.orders@v1")  # not the plane's cache
            assert current is not None and current.id != pinned
            body += list(chunks)
        latest = _once_published(client, pinned)
    lines = b"".join(body).decode().splitlines()
    assert len(lines) == 100_000
    ids = {int(json.loads(line)["order_id"][2:]) for line in lines}
    assert len(ids) == 100_000 and max(ids) < rows  # all of the old snapshot, none of the new
    assert latest["snapshot"] != pinned and latest["items"][0]["order_id"] == "o-900000"


def _once_published(client: object, old: str) -> dict[str, object]:
    """The first page once the server sees a snapshot other than ``old``: a publish is seen within
    the plane's refresh interval (1 s), so a few seconds are ample."""
    deadline = time.monotonic() + 10
    while True:
        page: dict[str, object] = client.get(ORDERS, params={"limit": 1}).json()  # type: ignore[attr-defined]
        if page["snapshot"] != old or time.monotonic() > deadline:
            return page
        time.sleep(0.1)


@pytest.mark.parametrize("sort", [None, "country", "-amount,order_date"])
def test_pages_tile_the_rows_when_the_key_is_masked_and_rows_repeat(tmp_path: Path, sort: str | None) -> None:
    """With the key masked the tie-break is every visible column, and masking makes runs of
    identical rows (five of each here) that straddle pages of three: each is returned as often as
    the read path has it, never twice, never skipped."""
    root = write_mesh(tmp_path / "demo")
    orders = root / "products/sales/orders/dataproduct.yaml"
    orders.write_text(
        orders.read_text().replace(
            "{name: order_id, logicalType: string, required: true,",
            "{name: order_id, logicalType: string, required: true, classification: pii,",
        )
    )
    lines = ["order_id,customer_id,country,amount,order_date"]
    lines += [
        f"o-{i:03d},c-{i // 5},{'fr' if i % 2 else 'de'},{(i // 10) * 2.5},2026-11-0{i // 20 + 1}" for i in range(60)
    ]
    (root / "data/orders.csv").write_text("\n".join(lines) + "\n")
    build(root)
    with serving(root, tmp_path / "cache") as running, running.client("ann") as client:
        params: dict[str, object] = {"limit": 3} | ({"sort": sort} if sort else {})
        page = client.get(ORDERS, params=params).json()
        items = list(page["items"])
        while page["next"]:
            response = client.get(ORDERS, params={"cursor": page["next"]})
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["items"]
        plane = running.platform.plane
        expected = plane.table(running.principal("ann"), "sales.orders@v1", "api").to_pylist()
    assert {r["order_id"] for r in items} == {"***"}
    key = lambda r: json.dumps(r, sort_keys=True, default=str)  # noqa: E731
    assert sorted(map(key, items)) == sorted(map(key, expected)) and len(items) == 60
    if sort == "country":
        assert [r["country"] for r in items] == sorted(r["country"] for r in items)

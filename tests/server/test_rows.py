"""The REST rows API over a real server: every format read back, typed filters (bad ones are 400
problem details naming the parameter), projection, sort, limits, masked values equal to the data
plane's, lookups by primary key (composite too), snapshot selectors, ETag and 304."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serving_mesh import ROWS, Served

ORDERS = "/api/v1/products/sales/orders/v1"
REVENUE = "/api/v1/products/sales/daily-revenue/v1"


def _plane_rows(served: Served, who: str, product: str = "sales.orders@v1") -> list[dict[str, Any]]:
    """What the data plane gives ``who`` through the REST port, ordered by the key."""
    plane = served.platform.plane
    spec = plane.product(product)
    read = plane.secure(served.principal(who), spec, "api")
    table = plane._run(read.relation.sql(dialect="duckdb"))
    key = spec.schema_.primary_key
    return sorted(table.to_pylist(), key=lambda r: tuple(str(r[k]) for k in key))


def _json_safe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return json.loads(json.dumps(rows, default=lambda v: v.isoformat()))


@pytest.mark.parametrize("who", ["ann", "carl", "cleo", "root"])
def test_json_rows_equal_the_data_plane_s_masked_and_filtered_rows(served: Served, who: str) -> None:
    expected = _json_safe(_plane_rows(served, who))
    got: list[dict[str, Any]] = []
    with served.client(who) as client:
        response = client.get(f"{ORDERS}/rows", params={"limit": 50})
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            got += body["items"]
            if body["next"] is None:
                break
            response = client.get(f"{ORDERS}/rows", params={"cursor": body["next"]})
    assert got == expected
    customers = {r["customer_id"] for r in got}
    if who in ("ann", "carl", "root"):  # pii masked (the owner too, unless it asks to unmask)
        assert customers == {"***"}
    else:
        assert "***" not in customers and len(customers) > 1
    if who == "carl":  # the row filter: his country only
        assert {r["country"] for r in got} == {"FR"} and len(got) == ROWS // 4


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet", "arrow"])
def test_each_format_reads_back(served: Served, fmt: str) -> None:
    expected = _plane_rows(served, "ann")[:20]
    with served.client("ann") as client:
        response = client.get(f"{ORDERS}/rows", params={"limit": 20, "format": fmt})
    assert response.status_code == 200, response.text
    if fmt == "ndjson":
        rows = [json.loads(line) for line in response.text.splitlines()]
        assert rows == _json_safe(expected)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [r["order_id"] for r in rows] == [r["order_id"] for r in expected]
        assert {r["customer_id"] for r in rows} == {"***"}
    else:
        if fmt == "parquet":
            table = pq.read_table(io.BytesIO(response.content))
        else:
            table = pa.ipc.open_stream(response.content).read_all()
        assert table.to_pylist() == expected
        assert table.schema.field("amount").type == pa.float64()


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/x-ndjson", "application/x-ndjson"),
        ("text/csv", "text/csv; charset=utf-8"),
        ("application/vnd.apache.parquet", "application/vnd.apache.parquet"),
        ("application/vnd.apache.arrow.stream", "application/vnd.apache.arrow.stream"),
        ("text/html;q=0.9, application/x-ndjson;q=0.5, */*;q=0.1", "application/x-ndjson"),
        ("*/*", "application/json"),
    ],
)
def test_accept_negotiates_the_format(served: Served, accept: str, media: str) -> None:
    with served.client("ann", Accept=accept) as client:
        response = client.get(f"{ORDERS}/rows", params={"limit": 2})
    assert response.status_code == 200 and response.headers["content-type"] == media


def test_an_unacceptable_accept_is_406(served: Served) -> None:
    with served.client("ann", Accept="image/png") as client:
        response = client.get(f"{ORDERS}/rows")
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"


def test_filters_projection_sort_and_limit(served: Served) -> None:
    everything = _plane_rows(served, "ann")
    params = {"country": "in:DE,FR", "amount": "ge:100", "fields": "order_id,amount", "sort": "-amount", "limit": 10}
    with served.client("ann") as client:
        body = client.get(f"{ORDERS}/rows", params=params).json()
        both = client.get(f"{ORDERS}/rows?amount=ge:100&amount=lt:200&limit=50").json()
        prefix = client.get(f"{ORDERS}/rows", params={"order_id": "prefix:o-0001", "limit": 50}).json()
        nulls = client.get(f"{ORDERS}/rows", params={"amount": "is_null:true"}).json()
        bare = client.get(f"{ORDERS}/rows", params={"country": "IT", "limit": 50}).json()
        dates = client.get(f"{ORDERS}/rows", params={"order_date": "lt:2026-11-03", "limit": 50}).json()
    wanted = [r for r in everything if r["country"] in ("DE", "FR") and r["amount"] >= 100]
    wanted.sort(key=lambda r: (-r["amount"], r["order_id"]))
    assert body["items"] == [{"order_id": r["order_id"], "amount": r["amount"]} for r in wanted[:10]]
    assert all(100 <= r["amount"] < 200 for r in both["items"]) and both["items"]
    assert [r["order_id"] for r in prefix["items"]] == [f"o-{i:05d}" for i in range(10, 20)]
    assert nulls["items"] == []
    assert {r["country"] for r in bare["items"]} == {"IT"}
    assert {r["order_date"] for r in dates["items"]} == {"2026-11-01", "2026-11-02"}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"amount": "gt:abc"}, "amount"),
        ({"amount": "prefix:1"}, "amount"),
        ({"order_date": "eq:yesterday"}, "order_date"),
        ({"country": "is_null:maybe"}, "country"),
        ({"colour": "eq:red"}, "colour"),
        ({"fields": "order_id,colour"}, "fields"),
        ({"sort": "-nope"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "51"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"as_of": "last tuesday"}, "as_of"),
        ({"cursor": "forged.cursor"}, "cursor"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_bad_input_is_a_400_problem_naming_the_parameter(served: Served, params: dict[str, str], param: str) -> None:
    with served.client("ann") as client:
        response = client.get(f"{ORDERS}/rows", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["param"] == param and problem["detail"]


def test_a_bad_major_or_unknown_product_or_route(served: Served) -> None:
    with served.client("ann") as client:
        major = client.get("/api/v1/products/sales/orders/vx/rows")
        unknown = client.get("/api/v1/products/sales/nothing/v1/rows")
        no_rest = client.get("/api/v1/products/sales/orders/v7/rows")
        route = client.get("/api/v1/nowhere")
    assert major.status_code in (400, 404) and major.headers["content-type"] == "application/problem+json"
    assert unknown.status_code == 404 and "no product" in unknown.json()["detail"]
    assert no_rest.status_code == 404
    assert route.status_code == 404 and route.headers["content-type"] == "application/problem+json"


def test_lookup_by_primary_key(served: Served) -> None:
    expected = next(r for r in _json_safe(_plane_rows(served, "ann")) if r["order_id"] == "o-00042")
    with served.client("ann") as client:
        found = client.get(f"{ORDERS}/rows/o-00042")
        fields = client.get(f"{ORDERS}/rows/o-00042", params={"fields": "amount"})
        missing = client.get(f"{ORDERS}/rows/o-99999")
        arrow = client.get(f"{ORDERS}/rows/o-00042", params={"format": "arrow"})
        filtered = client.get(f"{ORDERS}/rows/o-00042", params={"country": "DE"})
    assert found.status_code == 200 and found.json() == expected
    assert fields.json() == {"amount": expected["amount"]}
    assert missing.status_code == 404 and "no row with key o-99999" in missing.json()["detail"]
    assert pa.ipc.open_stream(arrow.content).read_all().to_pylist()[0]["order_id"] == "o-00042"
    assert filtered.status_code == 400 and filtered.json()["param"] == "country"


def test_a_row_the_row_filter_hides_is_not_found(served: Served) -> None:
    with served.client("carl") as client:  # o-00042 is delivered to IT; carl reads FR only
        assert client.get(f"{ORDERS}/rows/o-00042").status_code == 404
        assert client.get(f"{ORDERS}/rows/o-00041").json()["country"] == "FR"


def test_lookup_by_composite_key(served: Served) -> None:
    row = _json_safe(_plane_rows(served, "ann", "sales.daily-revenue@v1"))[0]
    with served.client("ann") as client:
        found = client.get(f"{REVENUE}/rows/{row['order_date']},{row['country']}")
        short = client.get(f"{REVENUE}/rows/{row['order_date']}")
        typed = client.get(f"{REVENUE}/rows/not-a-date,DE")
    assert found.status_code == 200 and found.json() == row
    assert short.status_code == 400 and "2 parts" in short.json()["detail"]
    assert typed.status_code == 400 and typed.json()["param"] == "order_date"


def test_snapshot_and_as_of_selectors(served: Served) -> None:
    record = served.platform.plane.snapshot(served.platform.plane.product("sales.orders@v1"))
    with served.client("ann") as client:
        by_id = client.get(f"{ORDERS}/rows", params={"snapshot": record.id, "limit": 1})
        as_of = client.get(f"{ORDERS}/rows", params={"as_of": "2999-01-01T00:00:00Z", "limit": 1})
        before = client.get(f"{ORDERS}/rows", params={"as_of": "2000-01-01", "limit": 1})
        unknown = client.get(f"{ORDERS}/rows", params={"snapshot": "nope"})
        both = client.get(f"{ORDERS}/rows", params={"snapshot": record.id, "as_of": "2999-01-01"})
    assert by_id.json()["snapshot"] == record.id == by_id.headers["x-quanta-snapshot"]
    assert as_of.json()["snapshot"] == record.id
    assert before.status_code == 404 and unknown.status_code == 404
    assert both.status_code == 400


def test_etag_and_if_none_match(served: Served) -> None:
    with served.client("ann") as client:
        first = client.get(f"{ORDERS}/rows", params={"limit": 5})
        tag = first.headers["etag"]
        again = client.get(f"{ORDERS}/rows", params={"limit": 5}, headers={"If-None-Match": tag})
        other = client.get(f"{ORDERS}/rows", params={"limit": 6}, headers={"If-None-Match": tag})
        csv_tag = client.get(f"{ORDERS}/rows", params={"limit": 5, "format": "csv"}).headers["etag"]
        lookup = client.get(f"{ORDERS}/rows/o-00001")
        lookup_again = client.get(f"{ORDERS}/rows/o-00001", headers={"If-None-Match": lookup.headers["etag"]})
    with served.client("cleo") as client:  # same request, another decision (customers in clear)
        cleo_tag = client.get(f"{ORDERS}/rows", params={"limit": 5}).headers["etag"]
    assert first.headers["cache-control"].startswith("private")
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert other.status_code == 200 and other.headers["etag"] != tag
    assert csv_tag != tag and cleo_tag != tag
    assert lookup_again.status_code == 304


def test_a_product_without_a_rest_grant_is_403_with_the_reason(served: Served) -> None:
    with served.client("nora") as client:
        response = client.get(f"{ORDERS}/rows")
    assert response.status_code == 403
    assert response.json()["detail"] == "no grant gives nora access to port 'api' of sales.orders"

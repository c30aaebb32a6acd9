"""Per-product OpenAPI 3.1 shows only what the caller may see, with the types received after
masking; /metrics counts requests, errors and latency per product and port."""

from __future__ import annotations

from serving_mesh import Served

OPENAPI = "/api/v1/products/sales/orders/v1/openapi.json"


def test_openapi_shows_the_caller_s_view(served: Served) -> None:
    with served.client("ann") as client:
        masked = client.get(OPENAPI).json()
    with served.client("cleo") as client:
        clear = client.get(OPENAPI).json()
    with served.client("nora") as client:
        refused = client.get(OPENAPI)
    assert masked["openapi"] == "3.1.0" and masked["info"]["title"] == "sales.orders v1"
    row = masked["components"]["schemas"]["Row"]["properties"]
    assert set(row) == {"order_id", "customer_id", "country", "amount", "order_date"}
    assert row["customer_id"]["x-quanta-mask"] == "redact" and "masked for you" in row["customer_id"]["description"]
    assert row["amount"]["type"] == "number" and row["order_date"]["format"] == "date"
    assert row["order_id"]["description"] == "Order identifier from the web shop."
    assert "x-quanta-mask" not in clear["components"]["schemas"]["Row"]["properties"]["customer_id"]
    paths = set(masked["paths"])
    base = "/api/v1/products/sales/orders/v1"
    assert {f"{base}/rows", f"{base}/rows/{{key}}", f"{base}/files/files"} == paths
    names = {p["name"] for p in masked["paths"][f"{base}/rows"]["get"]["parameters"]}
    assert {"country", "amount", "fields", "sort", "limit", "cursor", "as_of", "snapshot"} <= names
    assert refused.status_code == 403


def test_openapi_gives_a_nulled_property_its_own_type_and_a_hashed_one_string(served: Served) -> None:
    from quanta.access import Decision
    from quanta.ports.rest.columns import received_columns
    from quanta.ports.rest.openapi import property_schema
    from quanta.spec.masks import MaskRule

    spec = served.platform.plane.product("sales.orders@v1")
    decision = Decision(
        True,
        "test",
        ("amount", "customer_id"),
        {"amount": MaskRule("null", "number"), "customer_id": MaskRule("hash", "string")},
    )
    columns = received_columns(spec, None, decision)
    assert property_schema(columns["amount"])["type"] == ["number", "null"]
    assert property_schema(columns["customer_id"])["type"] == ["string", "null"]


def test_metrics_count_requests_errors_and_latency_per_product_and_port(served: Served) -> None:
    with served.client("ann") as client:
        client.get("/api/v1/products/sales/orders/v1/rows", params={"limit": 1})
        client.get("/api/v1/products/sales/orders/v1/rows", params={"limit": "x"})
        client.get("/api/v1/products/sales/orders/v1/files/files")
        text = client.get("/metrics").text
    assert 'quanta_requests_total{port="api",product="sales.orders@v1",status="200"}' in text
    assert 'quanta_requests_total{port="api",product="sales.orders@v1",status="400"}' in text
    assert 'quanta_requests_total{port="files",product="sales.orders@v1",status="200"}' in text
    assert 'quanta_request_duration_seconds_bucket{le="0.1",port="api",product="sales.orders@v1"}' in text
    assert "quanta_request_errors_total" in text


def test_a_port_named_in_the_path_that_does_not_exist_is_not_a_label(served: Served) -> None:
    with served.client("ann") as client:
        assert client.get("/api/v1/products/sales/orders/v1/files/no-such-port").status_code == 404
        text = client.get("/metrics").text
    assert "no-such-port" not in text

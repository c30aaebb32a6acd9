"""The decision matrix replayed over HTTP: every (principal, product, port) case of
``decision_matrix`` whose port is a REST or files port, read through a real server on loopback,
gives the read path's columns, masked values and row counts, and 403 where the read path refuses.

Expectations come from ``expected_rows`` (the source CSV), and each case is also compared with the
read path itself (``DataPlane.table``), so a divergence between the server and the read path fails
here even if both drifted from the fixture the same way."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from decision_matrix import CASES, REDACTED, REVOKED, UNKNOWN, Case, build_matrix_mesh, enrol, expected_rows, normalised
from quanta.errors import AccessDenied
from serving_mesh import Served, serving

HTTP_CASES = [c for c in CASES if c.port_type in ("rest", "files")]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("matrix-http")
    root = build_matrix_mesh(base / "matrix")
    with serving(root, base / "cache", enrol=enrol) as running:
        yield running


def _base(case: Case) -> str:
    domain, name = case.product.split(".")
    return f"/api/v1/products/{domain}/{name}/v1"


def _read_path(served: Served, case: Case) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """What the read path gives this case (columns, normalised rows)."""
    principal = served.platform.authenticate(served.tokens[case.principal])
    table = served.platform.plane.table(principal, case.product, case.port)
    return tuple(table.column_names), normalised(table.to_pylist())


def _all_pages(client: httpx.Client, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every row of a paginated read (two rows a page: several pages even for five orders)."""
    response = client.get(url, params={"limit": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    items, pages = list(body["items"]), 1
    while body["next"]:
        response = client.get(url, params={"cursor": body["next"]})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        pages += 1
    return items, pages


def test_the_replay_covers_rest_and_files_for_allowed_and_refused_reads() -> None:
    assert {c.port_type for c in HTTP_CASES} == {"rest", "files"}
    assert {c.product for c in HTTP_CASES if c.port_type == "rest"} == {"sales.orders", "sales.daily-revenue"}
    for port_type in ("rest", "files"):
        kinds = {(c.allowed, bool(c.masked), c.country) for c in HTTP_CASES if c.port_type == port_type}
        assert (False, False, None) in kinds and (True, True, "") in kinds


@pytest.mark.parametrize("case", [c for c in HTTP_CASES if c.port_type == "rest"], ids=lambda c: c.id)
def test_rest_rows_match_the_read_path(matrix: Served, case: Case) -> None:
    url = _base(case) + "/rows"
    with matrix.client(case.principal) as client:
        if not case.allowed:
            refused = client.get(url)
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert f"no grant gives {case.principal}" in refused.json()["detail"]
            with pytest.raises(AccessDenied):
                _read_path(matrix, case)
            return
        items, _ = _all_pages(client, url)
        arrow = client.get(url, params={"format": "arrow", "limit": 1000})
        spec = client.get(_base(case) + "/openapi.json")
    columns, read_rows = _read_path(matrix, case)
    assert columns == case.columns
    assert all(tuple(row) == case.columns for row in items)
    assert normalised(items) == read_rows == expected_rows(case, matrix.root)
    table = pa.ipc.open_stream(arrow.content).read_all()
    assert tuple(table.column_names) == case.columns
    assert normalised(table.to_pylist()) == read_rows
    for column, kind in case.masked.items():
        assert kind == "redact" and {r[column] for r in items} <= {REDACTED}
        assert table.schema.field(column).type == pa.string()
    assert spec.status_code == 200, spec.text
    properties = spec.json()["components"]["schemas"]["Row"]["properties"]
    assert tuple(properties) == case.columns
    assert {n: p["x-quanta-mask"] for n, p in properties.items() if "x-quanta-mask" in p} == case.masked


@pytest.mark.parametrize(
    "case",
    [c for c in HTTP_CASES if c.port_type == "rest" and c.allowed and c.product == "sales.orders"],
    ids=lambda c: c.id,
)
def test_rest_lookups_by_key_see_exactly_the_rows_the_read_path_shows(matrix: Served, case: Case) -> None:
    """Every order's key is looked up: the caller's rows come back as the read path shows them,
    the others (filtered out for this caller) are 404, never a masked or unfiltered value."""
    from decision_matrix import source_orders

    _, read_rows = _read_path(matrix, case)
    shown = {row["order_id"]: row for row in read_rows}
    with matrix.client(case.principal) as client:
        for order in source_orders(matrix.root):
            key = order["order_id"]
            found = client.get(_base(case) + f"/rows/{key}")
            if key in shown:
                assert found.status_code == 200, found.text
                assert normalised([found.json()]) == [shown[key]]
            else:
                assert found.status_code == 404, found.text
                assert order["customer_id"] not in found.text


@pytest.mark.parametrize("case", [c for c in HTTP_CASES if c.port_type == "files"], ids=lambda c: c.id)
def test_files_downloads_match_the_read_path(matrix: Served, case: Case) -> None:
    url = _base(case) + f"/files/{case.port}"
    with matrix.client(case.principal) as client:
        if not case.allowed:
            for file_format in ("parquet", "csv"):
                refused = client.get(url, params={"format": file_format})
                assert refused.status_code == 403, refused.text
                assert f"no grant gives {case.principal}" in refused.json()["detail"]
            with pytest.raises(AccessDenied):
                _read_path(matrix, case)
            return
        parquet = client.get(url, params={"format": "parquet"})
        text = client.get(url, params={"format": "csv"})
    columns, read_rows = _read_path(matrix, case)
    for response in (parquet, text):
        assert response.status_code == 200, response.text
        assert int(response.headers["content-length"]) == len(response.content)
        assert response.headers["x-quanta-sha256"] == hashlib.sha256(response.content).hexdigest()
    table = pq.read_table(io.BytesIO(parquet.content))
    assert tuple(table.column_names) == columns == case.columns
    assert normalised(table.to_pylist()) == read_rows == expected_rows(case, matrix.root)
    rows = list(csv.DictReader(io.StringIO(text.text)))
    header = next(csv.reader(io.StringIO(text.text)))
    assert tuple(header) == case.columns
    assert normalised(rows) == read_rows
    for column in case.masked:
        assert set(table.column(column).to_pylist()) <= {REDACTED}
        assert {r[column] for r in rows} <= {REDACTED}


def test_a_download_holds_no_value_the_caller_may_not_see(matrix: Served) -> None:
    """Byte-level: a masked or filtered caller's file holds none of the source's customer ids, and
    a filtered one no order of another country."""
    from decision_matrix import source_orders

    orders = source_orders(matrix.root)
    for case in (c for c in HTTP_CASES if c.port_type == "files" and c.allowed and c.masked):
        with matrix.client(case.principal) as client:
            for file_format in ("csv", "parquet"):
                body = client.get(_base(case) + "/files/files", params={"format": file_format}).content
                for order in orders:
                    assert order["customer_id"].encode() not in body, (case.id, file_format)
                    if case.country is not None and order["country"] != case.country:
                        assert order["order_id"].encode() not in body, (case.id, file_format)


@pytest.mark.parametrize("token", [REVOKED, UNKNOWN])
@pytest.mark.parametrize("route", ["/rows", "/files/files", "/openapi.json"])
def test_revoked_and_unknown_tokens_are_401_before_any_decision(matrix: Served, token: str, route: str) -> None:
    with matrix.client(token) as client:
        response = client.get("/api/v1/products/sales/orders/v1" + route)
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid, expired or revoked token"
    matrix.platform.limiter.succeeded("127.0.0.1")  # six failures: stay under the lock-out


MODEL_CASES = [c for c in CASES if c.port_type == "model"]


def test_the_model_replay_covers_granted_filtered_and_refused_callers() -> None:
    kinds = {(c.allowed, c.country is None) for c in MODEL_CASES}
    assert kinds == {(True, True), (True, False), (False, True)}


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda c: c.id)
def test_model_predictions_follow_the_decision(matrix: Served, case: Case) -> None:
    """Granted → 200 with the predictions; not granted → 403 before the body is read; granted with
    a row filter → 403 (the artefacts were fitted on every row). OpenAPI shows the operation only
    to a caller who may use it."""
    url = _base(case) + f"/models/{case.port}:predict"
    with matrix.client(case.principal) as client:
        response = client.post(url, json={"rows": [{"orders": 2}, {"orders": 5}]})
        garbage = client.post(url, content=b"not json", headers={"content-type": "application/json"})
        spec = client.get(_base(case) + "/openapi.json")
    operation = f"{_base(case)}/models/{case.port}:predict"
    if case.allowed and case.country is None:
        assert response.status_code == 200, response.text
        current = matrix.platform.plane.snapshot(matrix.platform.spec(case.product))
        assert response.json() == {"snapshot": current.id, "predictions": [{"revenue": 25.0}, {"revenue": 62.5}]}
        assert response.headers["x-quanta-snapshot"] == current.id
        assert garbage.status_code == 400 and "not JSON" in garbage.json()["detail"]
        assert spec.status_code == 200 and "post" in spec.json()["paths"][operation]
        return
    for refused in (response, garbage):  # decided before the body is read
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    if case.allowed:
        assert "filters rows" in response.json()["detail"]
    else:
        assert f"no grant gives {case.principal}" in response.json()["detail"]
    if spec.status_code == 200:
        assert operation not in spec.json()["paths"]


@pytest.mark.parametrize("token", [REVOKED, UNKNOWN])
def test_revoked_and_unknown_tokens_cannot_score(matrix: Served, token: str) -> None:
    with matrix.client(token) as client:
        response = client.post(
            "/api/v1/products/sales/daily-revenue/v1/models/forecast:predict", json={"rows": [{"orders": 1}]}
        )
    assert response.status_code == 401
    matrix.platform.limiter.succeeded("127.0.0.1")

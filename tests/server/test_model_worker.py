"""The model port's worker process and request checks, on the decision matrix's ``forecast`` port
(revenue from orders; marked order counts make its scoring function raise, crash, hang, return the
wrong shape, or report its environment): each failure is a problem detail that leaks nothing, the
worker is restarted or stopped as it should be, and bad rows are refused naming row and field."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from decision_matrix import build_matrix_mesh, enrol
from serving_mesh import Served, serving

URL = "/api/v1/products/sales/daily-revenue/v1/models/forecast:predict"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("model-worker")
    root = build_matrix_mesh(base / "matrix")
    with serving(root, base / "cache", enrol=enrol) as running:
        yield running


def _post(served: Served, body: object) -> tuple[int, dict]:
    with served.client("manager") as client:
        response = client.post(URL, json=body)
    return response.status_code, response.json()


def _worker_pid(served: Served) -> int:
    """The process id of the port's worker (its scoring function reports it for orders 1007)."""
    code, body = _post(served, {"rows": [{"orders": 1007}]})
    assert code == 200, body
    return int(body["predictions"][0]["revenue"])


def test_a_batch_is_scored_in_one_warm_worker_with_a_clean_environment(matrix: Served, monkeypatch) -> None:
    monkeypatch.setenv("QUANTA_TEST_SECRET", "do-not-pass")
    status, body = _post(matrix, {"rows": [{"orders": n} for n in range(10)]})
    assert status == 200, body
    assert [p["revenue"] for p in body["predictions"]] == [n * 12.5 for n in range(10)]
    pid = _worker_pid(matrix)
    assert pid != os.getpid()
    status, body = _post(matrix, {"rows": [{"orders": 1005}]})
    assert status == 200 and body["predictions"] == [{"revenue": 0.0}], body  # no variable beyond the four
    assert _worker_pid(matrix) == pid  # kept warm


@pytest.mark.parametrize(
    ("orders", "status", "kind", "says"),
    [
        (1001, 500, "exception", "the scoring function failed (RuntimeError)"),
        (1004, 500, "shape", "the scoring function returned 1 values for 'revenue' for 2 rows"),
        (1006, 500, "shape", "the scoring function returned 'extra', which the port does not declare"),
        (1002, 500, "crash", "the scoring worker stopped unexpectedly"),
    ],
)
def test_a_failing_scoring_function_is_a_problem_that_leaks_nothing(
    matrix: Served, orders: int, status: int, kind: str, says: str
) -> None:
    pid = _worker_pid(matrix)
    code, body = _post(matrix, {"rows": [{"orders": 3}, {"orders": orders}]})
    assert code == status, body
    assert body["type"] == "urn:quanta:problem:model-failed" and body["kind"] == kind
    assert body["detail"].startswith(says)
    assert "secret" not in str(body) and "Traceback" not in str(body)
    again, answer = _post(matrix, {"rows": [{"orders": 4}]})  # a dead worker is started again
    assert again == 200 and answer["predictions"] == [{"revenue": 50.0}], answer
    assert (_worker_pid(matrix) == pid) is (kind != "crash")


def test_a_batch_over_the_timeout_is_504_and_the_worker_is_replaced(matrix: Served) -> None:
    pid = _worker_pid(matrix)
    started = time.monotonic()
    code, body = _post(matrix, {"rows": [{"orders": 1003}]})
    assert code == 504 and body["type"] == "urn:quanta:problem:model-timeout", body
    assert time.monotonic() - started < 10  # the port's timeout is 2 s
    again, answer = _post(matrix, {"rows": [{"orders": 2}]})
    assert again == 200 and answer["predictions"] == [{"revenue": 25.0}]
    assert _worker_pid(matrix) != pid


@pytest.mark.parametrize(
    ("rows", "row", "field", "says"),
    [
        ([{"orders": 1}, {}], 1, "orders", "missing feature"),
        ([{"orders": 1, "country": "FR"}], 0, "country", "unknown field"),
        ([{"orders": 1}, {"orders": 2}, {"orders": "three"}], 2, "orders", "expected an integer, got 'three'"),
        ([{"orders": True}], 0, "orders", "expected an integer, got true"),
        ([{"orders": 1.5}], 0, "orders", "expected an integer, got 1.5"),
        ([{"orders": None}], 0, "orders", "expected an integer, got null"),
        ([{"orders": 1}, 7], 1, None, "expected an object of features"),
    ],
)
def test_bad_rows_are_400_naming_row_and_field(
    matrix: Served, rows: list, row: int, field: str | None, says: str
) -> None:
    code, body = _post(matrix, {"rows": rows})
    assert code == 400, body
    assert body["type"] == "urn:quanta:problem:invalid-features"
    assert body["row"] == row and body.get("field") == field
    assert says in body["detail"] and body["detail"].startswith(f"row {row}")
    assert body["errors"][0] == {"row": row, "field": field, "detail": body["errors"][0]["detail"]}


def test_every_bad_row_is_listed(matrix: Served) -> None:
    code, body = _post(matrix, {"rows": [{"orders": "x"}, {"orders": 2}, {"orders": 3, "more": 1}]})
    assert code == 400
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(0, "orders"), (2, "more")]


@pytest.mark.parametrize(
    "body", [[{"orders": 1}], {"rows": []}, {"rows": {"orders": 1}}, {"rows": [{"orders": 1}], "x": 1}]
)
def test_a_body_that_is_not_a_batch_is_400(matrix: Served, body: object) -> None:
    code, problem = _post(matrix, body)
    assert code == 400 and problem["type"] == "urn:quanta:problem:invalid-features", problem


def test_a_batch_over_the_limit_is_413(matrix: Served) -> None:
    code, body = _post(matrix, {"rows": [{"orders": 1}] * 51})  # maxBatch: 50
    assert code == 413 and "at most 50" in body["detail"], body
    assert _post(matrix, {"rows": [{"orders": 1}] * 50})[0] == 200


def test_an_unknown_model_port_is_404(matrix: Served) -> None:
    with matrix.client("manager") as client:
        for port in ("nope", "table"):
            response = client.post(URL.replace("forecast", port), json={"rows": [{"orders": 1}]})
            assert response.status_code == 404, response.text
            assert "no model port" in response.json()["detail"]


def test_the_openapi_documents_the_features_and_predictions(matrix: Served) -> None:
    with matrix.client("manager") as client:
        document = client.get("/api/v1/products/sales/daily-revenue/v1/openapi.json").json()
    operation = document["paths"][URL]["post"]
    assert set(operation["responses"]) >= {"200", "400", "403", "413", "500", "504"}
    schemas = document["components"]["schemas"]
    assert schemas["forecast.Features"]["properties"] == {
        "orders": {"type": "integer", "description": "Number of orders."}
    }
    assert schemas["forecast.Features"]["additionalProperties"] is False
    assert schemas["forecast.Request"]["properties"]["rows"]["maxItems"] == 50
    assert schemas["forecast.Prediction"]["properties"]["revenue"]["type"] == "number"

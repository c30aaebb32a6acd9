"""The fashion-retail CLV product's ``score`` model port over HTTP: on 1,000 feature rows it
equals the library's functions (``quanta.models.clv``) with the current snapshot's fitted
parameters; scoring the product's own customers gives back the product's own predictions and
next best actions; bad features are a 400 naming the row and field."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from quanta.catalog import PrincipalRecord
from quanta.examples.fashion_retail import Settings, generate
from quanta.models.clv import BgNbd, GammaGamma, expected_purchases, expected_spend, probability_alive
from quanta.project import Mesh
from serving_mesh import Served, serving

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"
PRODUCT = "customer-relations.customer-lifetime-value"
URL = "/api/v1/products/customer-relations/customer-lifetime-value/v1/models/score:predict"
WEEK = 604800.0


def _enrol(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    tokens = {}
    for record in (
        PrincipalRecord("dana", roles=("data-scientists",)),
        PrincipalRecord("cris", roles=("crm-managers",), attributes={"country": "DE"}),
    ):
        platform.add_principal(record)
        tokens[record.id], _ = platform.create_token(record.id)
    return tokens


@pytest.fixture(scope="module")
def clv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("clv-model")
    root = base / "fashion-retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".quanta", "systems"))
    generate(root / "systems", Settings(scale=0.01, seed=5))
    mesh = Mesh.load(root)
    try:
        assert all(o.status == "built" for o in mesh.build().outcomes)
    finally:
        mesh.close()
    with serving(root, base / "cache", enrol=_enrol) as running:
        yield running


def _artefacts(served: Served) -> dict:
    plane = served.platform.plane
    spec = plane.product(PRODUCT)
    return plane.manifest(spec, plane.snapshot(spec))["artefacts"]


def _model_module(served: Served) -> ModuleType:
    path = served.root / "products/customer-relations/customer-lifetime-value/model.py"
    spec = importlib.util.spec_from_file_location("clv_model_for_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _score(served: Served, rows: list[dict]) -> list[dict]:
    with served.client("dana") as client:
        response = client.post(URL, json={"rows": rows})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["predictions"]) == len(rows)
    return body["predictions"]


def test_a_thousand_rows_equal_the_library(clv: Served) -> None:
    rng = np.random.default_rng(16)
    age = rng.uniform(0.5, 104, 1000)
    rows = [
        {"frequency": int(f), "recency": float(r), "age": float(a), "avg_spend": float(s)}
        for f, r, a, s in zip(
            rng.integers(0, 25, 1000), age * rng.uniform(0, 1, 1000), age, rng.uniform(0.01, 400, 1000), strict=True
        )
    ]
    rows[0]["frequency"] = 0  # a one-off customer, exactly
    predictions = _score(clv, rows)
    fitted = _artefacts(clv)
    x = np.array([r["frequency"] for r in rows], dtype=float)
    t_x, t = np.array([r["recency"] for r in rows]), np.array([r["age"] for r in rows])
    spend = np.array([r["avg_spend"] for r in rows])
    purchases = BgNbd(*(fitted["bgnbd"][k] for k in ("r", "alpha", "a", "b")))
    future = expected_purchases(purchases, 52, x, t_x, t)
    clv_12m = np.round(future * expected_spend(GammaGamma(**fitted["gammaGamma"]), x, spend), 2)
    assert [p["expected_purchases_12m"] for p in predictions] == future.tolist()
    assert [p["p_alive"] for p in predictions] == probability_alive(purchases, x, t_x, t).tolist()
    assert [p["clv_12m"] for p in predictions] == clv_12m.tolist()
    cuts = fitted["cuts"]
    segment = np.where(
        clv_12m >= cuts["topAtLeast"],
        "top",
        np.where(clv_12m >= cuts["highAtLeast"], "high", np.where(clv_12m >= cuts["mediumAtLeast"], "medium", "low")),
    )
    net, orders = np.round(spend * (x + 1), 2), x + 1
    valuable = ((net >= cuts["netSpendAtLeast"]) & (net > cuts["netSpendAbove"])) | (
        (orders >= cuts["ordersAtLeast"]) & (orders > cuts["ordersAbove"])
    )
    alive = probability_alive(purchases, x, t_x, t)
    actions = _model_module(clv).next_best_actions(segment, alive, valuable)
    assert [p["next_best_action"] for p in predictions] == actions.tolist()
    assert len({p["next_best_action"] for p in predictions}) == 4  # every action is reached


def test_scoring_the_products_own_customers_gives_its_own_predictions(clv: Served) -> None:
    """The features of each customer, derived from the product's rows as model.py derives them,
    score to the product's own p_alive, expected purchases, 12-month value and next best action."""
    table = clv.platform.plane.table(clv.platform.principal("dana"), PRODUCT, "table").to_pylist()
    as_of = max(r["last_order_at"] for r in table)
    rows = [
        {
            "frequency": r["orders"] - 1,
            "recency": int((r["last_order_at"] - r["first_order_at"]).total_seconds()) / WEEK,
            "age": int((as_of - r["first_order_at"]).total_seconds()) / WEEK,
            "avg_spend": max(r["net_spend"] / r["orders"], 0.01),
        }
        for r in table
    ]
    predictions = _score(clv, rows)
    assert len(rows) == 1000
    for name in ("p_alive", "expected_purchases_12m", "clv_12m"):
        np.testing.assert_allclose([p[name] for p in predictions], [r[name] for r in table], rtol=1e-9, atol=1e-9)
    actions = [p["next_best_action"] for p in predictions]
    assert actions == [r["next_best_action"] for r in table]


@pytest.mark.parametrize(
    ("row", "field", "says"),
    [
        ({"frequency": 1, "recency": 2.0, "age": 3.0}, "avg_spend", "missing feature"),
        ({"frequency": 1, "recency": 2.0, "age": 3.0, "avg_spend": 9.0, "email": "a@b"}, "email", "unknown field"),
        ({"frequency": 1, "recency": "2", "age": 3.0, "avg_spend": 9.0}, "recency", "expected a number, got '2'"),
        ({"frequency": 1.5, "recency": 2.0, "age": 3.0, "avg_spend": 9.0}, "frequency", "expected an integer"),
        ({"frequency": -1, "recency": 2.0, "age": 3.0, "avg_spend": 9.0}, "frequency", "below the minimum 0"),
        ({"frequency": 1, "recency": 2.0, "age": 3.0, "avg_spend": 0}, "avg_spend", "below the minimum 0.01"),
    ],
)
def test_bad_features_are_refused_naming_row_and_field(clv: Served, row: dict, field: str, says: str) -> None:
    good = {"frequency": 1, "recency": 2.0, "age": 3.0, "avg_spend": 9.0}
    with clv.client("dana") as client:
        response = client.post(URL, json={"rows": [good, good, row]})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["row"], problem["field"], problem["param"]) == (2, field, f"rows/2/{field}")
    assert says in problem["detail"]


def test_a_role_without_the_port_is_refused(clv: Served) -> None:
    with clv.client("cris") as client:
        response = client.post(URL, json={"rows": [{"frequency": 1, "recency": 2.0, "age": 3.0, "avg_spend": 9.0}]})
    assert response.status_code == 403, response.text
    assert "no grant gives cris" in response.json()["detail"]

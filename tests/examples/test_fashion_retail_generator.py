"""The fashion-retail systems of record: deterministic per seed, dirt listed in the defects
manifest, and purchasing that follows BG/NBD with the generator's known parameters."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from quanta.examples.fashion_retail import PURCHASES, START, WEEKS, Settings, generate
from quanta.models.clv import BgNbd, fit_bgnbd


def digest(folder: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        hasher.update(str(path.relative_to(folder)).encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", Settings(scale=0.01, seed=7))
    generate(tmp_path / "b", Settings(scale=0.01, seed=7))
    generate(tmp_path / "c", Settings(scale=0.01, seed=8))
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")


def test_defects_manifest_matches_the_exports(tmp_path: Path) -> None:
    out = tmp_path / "sf"
    summary = generate(out, Settings(scale=0.02, seed=3))
    defects = json.loads((out / "defects.json").read_text())
    lines = duckdb.sql(
        f"SELECT order_line_id, count(*) AS n FROM read_csv('{out}/ecommerce/orders/*/*.csv') GROUP BY ALL HAVING n > 1"
    ).fetchall()
    assert sorted(r[0] for r in lines) == sorted(defects["duplicate_order_lines"])
    total = duckdb.sql(f"SELECT count(*) FROM read_csv('{out}/ecommerce/orders/*/*.csv')").fetchall()[0][0]
    assert summary["orderLines"] + len(lines) == total
    customers = [json.loads(line) for line in (out / "crm/customers.ndjson").read_text().splitlines()]
    odd = {
        c["customer_id"]: c["country"]
        for c in customers
        if c["country"] not in {"FR", "DE", "ES", "IT", "NL", "BE", "GB"}
    }
    assert odd == defects["inconsistent_country_codes"] and odd
    assert sorted(c["customer_id"] for c in customers if c["phone"] is None) == sorted(defects["missing_phones"])
    late = duckdb.sql(f"""SELECT r.return_id FROM read_csv('{out}/returns/returns.csv') r
        JOIN (SELECT DISTINCT order_line_id, order_ts FROM read_csv('{out}/ecommerce/orders/*/*.csv')) o
        USING (order_line_id) WHERE r.returned_at - CAST(o.order_ts AS DATE) > 60 ORDER BY 1""").fetchall()
    assert [r[0] for r in late] == sorted(defects["late_returns"])


def _summaries(out: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = duckdb.sql(f"""SELECT customer_id, min(order_ts) AS first, max(order_ts) AS last,
            count(DISTINCT order_id) - 1 AS repeats
        FROM read_csv('{out}/ecommerce/orders/*/*.csv', types={{'order_ts': 'TIMESTAMP'}})
        GROUP BY customer_id""").fetchall()
    start = datetime(START.year, START.month, START.day)
    weeks = lambda moment: (moment - start).total_seconds() / (7 * 86400)  # noqa: E731
    first = np.array([weeks(r[1]) for r in rows])
    last = np.array([weeks(r[2]) for r in rows])
    return np.array([r[3] for r in rows], dtype=float), last - first, WEEKS - first


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "seasonality"), [(11, False), (12, False), (11, True)])
def test_clv_fit_recovers_the_parameters_the_summary_states(tmp_path: Path, seed: int, seasonality: bool) -> None:
    out = tmp_path / "clv"
    summary = generate(out, Settings(scale=0.3, seed=seed, seasonality=seasonality))  # 30,000 customers
    stated = BgNbd(**summary["purchaseModel"])
    assert summary["purchaseModelBeforeSeasonality"] == asdict(PURCHASES)
    assert (stated.alpha > 1.5 * PURCHASES.alpha) is seasonality  # seasonality thins purchases: alpha grows
    fitted = fit_bgnbd(*_summaries(out))
    assert fitted.r == pytest.approx(stated.r, rel=0.05)
    assert fitted.alpha == pytest.approx(stated.alpha, rel=0.05)
    assert fitted.a == pytest.approx(stated.a, rel=0.10)
    assert fitted.b == pytest.approx(stated.b, rel=0.10)


def test_the_summary_states_the_effective_purchase_model(tmp_path: Path) -> None:
    seasonal = generate(tmp_path / "a", Settings(scale=0.01, seed=1))["purchaseModel"]
    flat = generate(tmp_path / "b", Settings(scale=0.01, seed=1, seasonality=False))["purchaseModel"]
    assert flat == asdict(PURCHASES)
    accepted = PURCHASES.alpha / seasonal["alpha"]  # the year's mean acceptance of a scheduled purchase
    assert 0.5 < accepted < 0.6 and {k: seasonal[k] for k in "rab"} == {k: flat[k] for k in "rab"}


def test_cli_generates(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from quanta.cli.main import app

    result = CliRunner().invoke(
        app,
        [
            "example",
            "fashion-retail",
            "generate",
            "--scale",
            "0.005",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "systems"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "500 customers" in result.output
    assert (tmp_path / "systems/pim/catalogue.json").exists()


def test_end_date_moves_the_history_to_end_that_day(tmp_path: Path) -> None:
    from datetime import date, timedelta

    end = date(2026, 11, 29)
    summary = generate(tmp_path / "sf", Settings(scale=0.01, seed=4, end=end))
    assert summary["start"] == (end - timedelta(weeks=WEEKS)).isoformat()
    first, last = duckdb.sql(
        f"SELECT min(order_ts)::DATE, max(order_ts)::DATE FROM read_csv('{tmp_path}/sf/ecommerce/orders/*/*.csv')"
    ).fetchall()[0]
    assert end - timedelta(days=7) <= last <= end
    assert first >= end - timedelta(weeks=WEEKS)

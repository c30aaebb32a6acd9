"""The CLV fits reproduce published results and recover known parameters."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from quanta.models.clv import (
    BgNbd,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    simulate_bgnbd,
)

CDNOW = Path(__file__).parent / "data" / "cdnow_summary.csv"


def cdnow() -> dict[str, np.ndarray]:
    with CDNOW.open() as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(r[key]) for r in rows]) for key in ("x", "t_x", "T", "zbar")}


def test_bgnbd_reproduces_fader_hardie_lee_2005() -> None:
    data = cdnow()
    fitted = fit_bgnbd(data["x"], data["t_x"], data["T"])
    published = (0.243, 4.414, 0.793, 2.426)  # Fader, Hardie & Lee (2005), CDNOW, weeks
    for got, want in zip(fitted.as_tuple(), published, strict=True):
        assert got == pytest.approx(want, rel=0.01)


def test_gamma_gamma_reproduces_fader_hardie() -> None:
    data = cdnow()
    fitted = fit_gamma_gamma(data["x"], data["zbar"])
    assert (fitted.p, fitted.q, fitted.v) == pytest.approx((6.25, 3.74, 15.44), rel=0.02)


def test_predictions_are_consistent() -> None:
    model = BgNbd(0.243, 4.414, 0.793, 2.426)
    alive = probability_alive(model, [0, 2, 2], [0, 30.43, 5.0], [38.86, 38.86, 38.86])
    assert alive[0] == 1.0 and alive[1] > alive[2]  # a recent buyer is likelier alive
    purchases = expected_purchases(model, 39, [0, 2, 2], [0, 30.43, 5.0], [38.86, 38.86, 38.86])
    assert purchases[1] > purchases[2] > 0
    spend = expected_spend(fit_gamma_gamma(cdnow()["x"], cdnow()["zbar"]), [1, 50], [100.0, 100.0])
    assert spend[0] < spend[1] < 100.0  # few purchases shrink towards the population mean


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_fit_recovers_simulated_parameters(seed: int) -> None:
    truth = BgNbd(0.25, 4.0, 0.8, 2.5)
    x, t_x, T = simulate_bgnbd(truth, 30_000, 52.0, seed)
    fitted = fit_bgnbd(x, t_x, T)
    assert fitted.r == pytest.approx(truth.r, rel=0.05) and fitted.alpha == pytest.approx(truth.alpha, rel=0.05)
    assert fitted.a == pytest.approx(truth.a, rel=0.10) and fitted.b == pytest.approx(truth.b, rel=0.10)

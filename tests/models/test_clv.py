"""The CLV fits reproduce published results and recover known parameters."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from quanta.errors import QuantaError
from quanta.models.clv import (
    BgNbd,
    GammaGamma,
    ModelError,
    NoRepeatBuyers,
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


@pytest.mark.parametrize("factor", [100.0, 0.01, 1000.0])
def test_gamma_gamma_does_not_depend_on_the_currency_unit(factor: float) -> None:
    data = cdnow()
    euros = fit_gamma_gamma(data["x"], data["zbar"])
    other = fit_gamma_gamma(data["x"], data["zbar"] * factor)  # cents for 100
    assert (other.p, other.q, other.v / factor) == pytest.approx((euros.p, euros.q, euros.v), rel=1e-6)
    spend = expected_spend(euros, data["x"], data["zbar"])
    assert expected_spend(other, data["x"], data["zbar"] * factor) / factor == pytest.approx(spend, rel=1e-6)


def test_gamma_gamma_recovers_simulated_parameters_in_any_unit() -> None:
    rng = np.random.default_rng(7)
    truth = GammaGamma(p=2.5, q=4.0, v=60.0)
    x = rng.integers(1, 12, 20_000).astype(float)
    nu = rng.gamma(truth.q, 1 / truth.v, x.size)  # spend per transaction ~ Gamma(p, nu), nu ~ Gamma(q, v)
    mean = np.array([rng.gamma(truth.p, 1 / n, int(k)).mean() for n, k in zip(nu, x, strict=True)])
    for factor in (1.0, 100.0):
        fitted = fit_gamma_gamma(x, mean * factor)
        assert (fitted.p, fitted.q, fitted.v / factor) == pytest.approx((truth.p, truth.q, truth.v), rel=0.1)


def test_no_repeat_buyers_is_a_clear_error() -> None:
    with pytest.raises(NoRepeatBuyers, match="none of the 3 customers bought more than once"):
        fit_bgnbd([0, 0, 0], [0, 0, 0], [10.0, 20.0, 30.0])
    with pytest.raises(NoRepeatBuyers, match=r"Gamma-Gamma .* none of the 2 customers"):
        fit_gamma_gamma([0, 0], [25.0, 40.0])
    with pytest.raises(ModelError, match="mean spend is infinite"):
        expected_spend(GammaGamma(2.0, 1.0, 10.0), [1], [20.0])
    assert issubclass(NoRepeatBuyers, QuantaError)


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

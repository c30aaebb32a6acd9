"""Customer lifetime value: the BG/NBD purchase model (Fader, Hardie & Lee 2005) and the
Gamma-Gamma spend model (Fader & Hardie 2013), fitted by maximum likelihood with scipy.

Inputs are per-customer arrays: ``frequency`` (repeat purchases x), ``recency`` (time of the last
purchase t_x, since the first) and ``T`` (time since the first purchase), in one time unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from quanta.errors import QuantaError


class ModelError(QuantaError):
    """A model cannot be fitted on these data (the message says why)."""


class NoRepeatBuyers(ModelError):
    """No customer bought twice: spend per transaction and drop-out cannot be estimated."""


@dataclass(frozen=True)
class BgNbd:
    """BG/NBD parameters: purchase rates ~ Gamma(r, alpha), drop-out probabilities ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)


@dataclass(frozen=True)
class GammaGamma:
    """Gamma-Gamma parameters of average spend per transaction: p, q and v (gamma)."""

    p: float
    q: float
    v: float


def _arrays(*values: ArrayLike) -> list[NDArray[np.float64]]:
    return [np.asarray(v, dtype=float) for v in values]


def bgnbd_log_likelihood(
    params: NDArray[np.float64], x: NDArray[np.float64], t_x: NDArray[np.float64], T: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per-customer log-likelihood (Fader, Hardie & Lee 2005, eq. 6)."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x), -np.inf)
    result: NDArray[np.float64] = a1 + a2 + np.logaddexp(a3, a4)
    return result


def fit_bgnbd(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters (r, alpha, a, b)."""
    x, t_x, age = _arrays(frequency, recency, T)
    if not np.any(x > 0):
        raise NoRepeatBuyers(
            f"the BG/NBD purchase model needs repeat buyers: none of the {x.size} customers bought more than once"
        )
    scale = float(np.max(age))  # fit on a unit time scale, report in the data's units

    def objective(log_params: NDArray[np.float64]) -> float:
        params = np.exp(log_params)
        return -float(np.sum(bgnbd_log_likelihood(params, x, t_x / scale, age / scale)))

    r, alpha, a, b = np.exp(_maximise(objective, 4))
    return BgNbd(float(r), float(alpha * scale), float(a), float(b))


def fit_gamma_gamma(frequency: ArrayLike, monetary: ArrayLike) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from repeat customers' average spend.

    Scale-free: spend is divided by its mean before the fit and ``v`` multiplied back, so the
    currency unit (euros or cents) changes ``v`` by the same factor and nothing else. The
    optimiser gets the analytic gradient in log-parameters.
    """
    x, m = _arrays(frequency, monetary)
    keep = (x > 0) & (m > 0)
    if not keep.any():
        raise NoRepeatBuyers(
            f"the Gamma-Gamma spend model needs repeat buyers with a positive spend: none of the {x.size} "
            "customers bought more than once"
        )
    x, m = x[keep], m[keep]
    scale = float(np.mean(m))
    log_m, log_x = np.log(m / scale), np.log(x)
    m = m / scale

    def objective(log_params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        p, q, v = np.exp(log_params)
        px = p * x
        total = np.log(x * m + v)
        ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
        ll += (px - 1) * log_m + px * log_x - (px + q) * total
        shared = digamma(px + q)
        gradient = np.array(
            [
                p * np.sum(x * (shared - digamma(px) + log_m + log_x - total)),
                q * np.sum(shared - digamma(q) + np.log(v) - total),
                v * np.sum(q / v - (px + q) / (x * m + v)),
            ]
        )
        return -float(np.sum(ll)), -gradient

    result = minimize(objective, np.zeros(3), jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-9})
    p, q, v = np.exp(result.x)
    if not (result.success and np.all(np.isfinite(result.x))):
        raise ModelError(f"the Gamma-Gamma fit did not converge on {x.size} repeat buyers: {result.message}")
    return GammaGamma(float(p), float(q), float(v * scale))


def _maximise(negative_log_likelihood: Callable[[NDArray[np.float64]], float], parameters: int) -> NDArray[np.float64]:
    """Log-parameters minimising ``negative_log_likelihood``, from all ones. BFGS with numerical
    gradients needs about a sixth of Nelder-Mead's evaluations here; Nelder-Mead polishes when
    BFGS stops on a non-finite step."""
    start = np.zeros(parameters)
    result = minimize(negative_log_likelihood, start, method="BFGS", options={"gtol": 1e-6})
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        result = minimize(
            negative_log_likelihood,
            start,
            method="Nelder-Mead",
            options={"maxiter": 20000, "xatol": 1e-8, "fatol": 1e-8},
        )
    return np.asarray(result.x, dtype=float)


def expected_purchases(
    model: BgNbd, t: float, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> NDArray[np.float64]:
    """Expected purchases in the next ``t`` periods given each customer's history (eq. 10)."""
    x, t_x, age = _arrays(frequency, recency, T)
    r, alpha, a, b = model.as_tuple()
    z = t / (alpha + age + t)
    head = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + age) / (alpha + age + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    )
    result: NDArray[np.float64] = head / (1 + (x > 0) * a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x))
    return result


def probability_alive(model: BgNbd, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> NDArray[np.float64]:
    """P(alive) given each customer's history."""
    x, t_x, age = _arrays(frequency, recency, T)
    r, alpha, a, b = model.as_tuple()
    result: NDArray[np.float64] = 1 / (1 + (x > 0) * a / (b + x - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x))
    return result


def expected_spend(model: GammaGamma, frequency: ArrayLike, monetary: ArrayLike) -> NDArray[np.float64]:
    """Expected average spend per transaction, shrunk towards the population mean for few purchases."""
    x, m = _arrays(frequency, monetary)
    p, q, v = model.p, model.q, model.v
    if q <= 1:
        raise ModelError(f"Gamma-Gamma q = {q:.3g} ≤ 1: the population's mean spend is infinite")
    population = p * v / (q - 1)
    weight = (q - 1) / (p * x + q - 1)
    result: NDArray[np.float64] = weight * population + (1 - weight) * m
    return result


def simulate_bgnbd(model: BgNbd, customers: int, T: float, seed: int) -> tuple[NDArray[np.float64], ...]:
    """Synthetic (frequency, recency, T) drawn from BG/NBD with known parameters (for tests and data)."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(model.r, 1 / model.alpha, customers)
    drop = rng.beta(model.a, model.b, customers)
    clock = np.zeros(customers)
    last = np.zeros(customers)
    count = np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        gaps = rng.exponential(1 / np.maximum(rates, 1e-12))
        clock = np.where(active, clock + gaps, clock)
        bought = active & (clock < T)
        count += bought
        last = np.where(bought, clock, last)
        active = bought & (rng.random(customers) >= drop)
    return count, last, np.full(customers, T)

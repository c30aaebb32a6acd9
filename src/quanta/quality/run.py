"""Run checks on a snapshot: every per-table metric in one scan, then samples of failing keys."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from quanta.engines.base import Relation
from quanta.quality.checks import Check, CheckResult, Status
from quanta.spec.masks import MaskRule, mask_for, mask_key
from quanta.spec.product import DataProduct


def run_checks(
    engine: Any,
    relation: Relation,
    checks: list[Check],
    product: DataProduct,
    sample_size: int = 5,
    now: datetime | None = None,
    masks: Mapping[Any, str] | None = None,
) -> list[CheckResult]:
    """Measure ``checks`` over ``relation`` (the snapshot's files) with ``engine``; failure samples
    show classified properties under the mesh's ``masks`` (per classification)."""
    metrics = list({c.metric.id: c.metric for c in checks if c.metric is not None}.values())
    measured = engine.measure(relation, metrics) if metrics else None
    keys = [k for k in product.schema_.primary_key if not _classified(product, k)]
    from quanta.sql.rewrite import mask_expression  # classified values never reach samples

    key = mask_key()
    shown = {
        p.name: mask_expression(MaskRule(mask_for(p.classification, masks), p.logical_type), p.name, key)
        for p in product.schema_.properties
        if p.is_classified
    }
    results = []
    for check in checks:
        assert check.metric is not None
        if measured is None or check.metric.id in measured.errors:
            reason = measured.errors.get(check.metric.id, "not measured") if measured else "not measured"
            results.append(CheckResult(check, "error", message=f"could not run: {reason}"))
            continue
        observed = measured.values[check.metric.id]
        if check.age:
            observed = _age_seconds(observed, now or datetime.now(UTC))
        if observed is None:
            observed = 0.0
        if check.passes(float(observed)):
            results.append(CheckResult(check, "passed", float(observed)))
            continue
        sample: list[dict[str, Any]] = []
        if check.source == "schema":
            sample = engine.failing_keys(relation, check.metric, keys, sample_size, shown)
        status: Status = "failed" if check.blocking else "warning"
        message = (
            f"{observed:g} failing row(s)"
            if check.operator == "<=" and check.limit == 0
            else f"observed {observed:g}, expected {check.operator} {check.limit:g}"
        )
        results.append(CheckResult(check, status, float(observed), message, sample))
    return results


def _age_seconds(value: Any, now: datetime) -> float:
    """Seconds since a timestamp (naive timestamps are UTC); infinite when there is none."""
    if value is None:
        return float("inf")
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return (now - moment).total_seconds()


def _classified(product: DataProduct, name: str) -> bool:
    prop = product.schema_.get(name)
    return bool(prop and prop.is_classified)

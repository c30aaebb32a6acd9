"""Compile a product's schema and SLOs into checks (engine-neutral data)."""

from __future__ import annotations

from quanta.engines.metrics import Metric, MetricKind
from quanta.quality.checks import Check
from quanta.spec.base import parse_duration
from quanta.spec.product import DataProduct

_BOUNDS: tuple[tuple[str, MetricKind, str], ...] = (
    ("minimum", "min", ">= {}"),
    ("maximum", "max", "<= {}"),
    ("exclusive_minimum", "exclusive_min", "> {}"),
    ("exclusive_maximum", "exclusive_max", "< {}"),
    ("min_length", "min_length", "length >= {}"),
    ("max_length", "max_length", "length <= {}"),
    ("pattern", "pattern", "matches {}"),
)


PRIMARY_KEY_CHECK = "primary-key:"


def compile_checks(product: DataProduct) -> list[Check]:
    """Checks implied by the schema (blocking) and by the SLOs (blocking only when the SLO says so)."""
    checks: list[Check] = []

    def failing(check_id: str, description: str, metric: Metric, column: str | None) -> None:
        checks.append(Check(check_id, description, metric, "<=", 0, True, "schema", column))

    key = product.schema_.primary_key
    if key:
        failing(
            f"{PRIMARY_KEY_CHECK}{','.join(key)}",
            f"primary key ({', '.join(key)}) is unique",
            Metric(f"unique:{','.join(key)}", "unique", tuple(key)),
            None,
        )
    for prop in product.schema_.properties:
        name = prop.name
        if prop.required or prop.primary_key:
            failing(f"required:{name}", f"{name} is never null", Metric(f"not_null:{name}", "not_null", (name,)), name)
        if prop.unique and [name] != key:
            failing(f"unique:{name}", f"{name} is unique", Metric(f"unique:{name}", "unique", (name,)), name)
        if prop.enum:
            failing(
                f"enum:{name}",
                f"{name} is one of {', '.join(map(str, prop.enum))}",
                Metric(f"allowed:{name}", "allowed_values", (name,), tuple(prop.enum)),
                name,
            )
        options = prop.logical_type_options
        if options is not None:
            for attribute, kind, text in _BOUNDS:
                value = getattr(options, attribute)
                if value is not None:
                    failing(
                        f"{kind}:{name}",
                        f"{name} {text.format(value)}",
                        Metric(f"{kind}:{name}", kind, (name,), value),
                        name,
                    )
    slos = product.slos
    if slos.completeness is not None:
        for name in slos.completeness.properties:
            checks.append(
                Check(
                    f"completeness:{name}",
                    f"{name} is filled in at least {slos.completeness.min_ratio:.0%} of rows",
                    Metric(f"ratio:{name}", "non_null_ratio", (name,)),
                    ">=",
                    slos.completeness.min_ratio,
                    slos.completeness.blocking,
                    "slo",
                    name,
                )
            )
    if slos.freshness is not None and slos.freshness.timestamp:
        stamp = slos.freshness.timestamp
        checks.append(
            Check(
                f"freshness:{stamp}",
                f"newest {stamp} is at most {slos.freshness.max_age} old",
                Metric(f"max:{stamp}", "max_value", (stamp,)),
                "<=",
                parse_duration(slos.freshness.max_age).total_seconds(),
                slos.freshness.blocking,
                "slo",
                stamp,
                age=True,
            )
        )
    if slos.volume is not None:
        count = Metric("row_count", "row_count")
        if slos.volume.min_rows is not None:
            checks.append(
                Check(
                    "volume:min-rows",
                    f"at least {slos.volume.min_rows:,} rows",
                    count,
                    ">=",
                    slos.volume.min_rows,
                    slos.volume.blocking,
                    "slo",
                )
            )
        if slos.volume.max_rows is not None:
            checks.append(
                Check(
                    "volume:max-rows",
                    f"at most {slos.volume.max_rows:,} rows",
                    count,
                    "<=",
                    slos.volume.max_rows,
                    slos.volume.blocking,
                    "slo",
                )
            )
    return checks

"""Primary keys a GROUP BY guarantees are not scanned; anything doubtful still is."""

from __future__ import annotations

from pathlib import Path

import pytest

from quanta.engines.duckdb.types import TYPES
from quanta.project import Mesh
from quanta.quality.proofs import group_keys, unique_by_construction

CASES = {
    "select o.customer_id, p.category, sum(o.quantity) as units from orders o join products p using (sku)"
    " group by o.customer_id, p.category": {"customer_id", "category"},
    "select country, order_date, sum(amount) as revenue from orders group by all": {"country", "order_date"},
    "select date_trunc('day', ts) as day, count(*) from t group by 1": {"day"},
    "select date_trunc('day', ts) as day, count(*) from t group by day": {"day"},
    "select date_trunc('day', ts) as day, count(*) from t group by date_trunc('day', ts)": {"day"},
    "select a, count(*) over () from t group by a": {"a"},
    "select a as b, max(b) as a from t group by a": {"b"},  # the group key is the input column a, output b
    "select a, count(*) from t join u on t.id = u.id group by t.a": {"a"},
    "select a, count(*) as n from t group by a having count(*) > 1": {"a"},
    "select a, count(*) from t group by rollup (a)": None,
    "select a, count(*) from t group by cube (a)": None,
    "select a, count(*) from t group by grouping sets ((a), ())": None,
    "select a, unnest(list(b)) from t group by a": None,  # generates rows
    "select a, count(*) from t group by a, b": None,  # b is not in the output
    "select a from t union all select a from u": None,
    "select a, b from t": None,
    "select * from t group by all": None,
    "select max(x) as day, count(*) from t group by day": None,  # an aggregate alias is never the key
    "select b as a, a as c, count(*) from t group by a": None,  # column or alias: in doubt
    "this is not sql": None,
}


@pytest.mark.parametrize(("sql", "expected"), CASES.items())
def test_group_keys(sql: str, expected: set[str] | None) -> None:
    got = group_keys(sql)
    assert (set(got) if got is not None else None) == expected


def test_keys_must_cover_the_groups_and_casts_must_be_lossless() -> None:
    sql = "select a, b, count(*) as n from t group by a, b"
    assert unique_by_construction(sql, ["a", "b"], {}, TYPES)
    assert unique_by_construction(sql, ["a", "b", "n"], {}, TYPES)  # a superset of a unique set is unique
    assert not unique_by_construction(sql, ["a"], {}, TYPES)
    assert unique_by_construction(sql, ["a", "b"], {"a": ("INTEGER", "BIGINT")}, TYPES)
    assert not unique_by_construction(sql, ["a", "b"], {"a": ("TIMESTAMP_NS", "TIMESTAMP")}, TYPES)
    assert not unique_by_construction(sql, ["a", "b"], {"a": ("BIGINT", "DOUBLE")}, TYPES)


def _primary_key_sli(mesh: Mesh) -> str | None:
    key = "sales.daily-revenue@v1"
    snapshot = mesh.workspace.catalog.snapshots.current(key)
    assert snapshot is not None
    (sli,) = [s for s in mesh.workspace.catalog.slis.of(key, snapshot.id) if s.check_id.startswith("primary-key:")]
    assert sli.status == "passed"
    return sli.message


def test_the_gate_skips_a_key_the_group_by_guarantees(mesh_dir: Path) -> None:
    mesh = Mesh.load(mesh_dir)
    mesh.build()
    assert _primary_key_sli(mesh) == "guaranteed by the GROUP BY of daily_revenue.sql; not scanned"


def test_the_gate_scans_when_not_proved_and_catches_duplicates(mesh_dir: Path) -> None:
    step = mesh_dir / "products/sales/daily-revenue/daily_revenue.sql"
    step.write_text(
        "select order_date, country, sum(amount) as revenue, count(*) as orders\n"
        "from orders group by rollup (order_date, country)\n"
        "having order_date is not null and country is not null"
    )
    mesh = Mesh.load(mesh_dir)
    mesh.build()
    assert _primary_key_sli(mesh) is None  # measured by the scan
    step.write_text(
        "select order_date, country, revenue, orders from (\n"
        "  select order_date, country, sum(amount) as revenue, count(*) as orders from orders group by all)\n"
        "cross join range(2)"
    )
    outcome = {o.key: o for o in Mesh.load(mesh_dir).build().outcomes}["sales.daily-revenue@v1"]
    assert outcome.status == "failed" and "primary-key:order_date,country" in (outcome.error or "")

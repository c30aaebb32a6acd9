"""Publishing a schema that breaks the last published snapshot of the same major is refused."""

from __future__ import annotations

import pytest
from four_mesh import FourMesh
from helpers import build, read, statuses

from quanta.build.compat import breaking_changes
from quanta.spec.schema import Property

PREVIOUS = [
    {"name": "id", "logicalType": "string", "required": True, "primaryKey": True},
    {"name": "qty", "logicalType": "integer", "required": True, "primaryKey": False},
    {"name": "note", "logicalType": "string", "required": False, "primaryKey": False},
]


def _props(*specs: dict) -> list[Property]:
    return [Property.model_validate(s) for s in specs]


ID = {"name": "id", "logicalType": "string", "required": True, "primaryKey": True}
QTY = {"name": "qty", "logicalType": "integer", "required": True}
NOTE = {"name": "note", "logicalType": "string"}


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (_props(ID, QTY), "property 'note' was removed or renamed"),
        (_props(ID, {**QTY, "logicalType": "string"}, NOTE), "property 'qty' changed type from integer to string"),
        (_props(ID, {**QTY, "required": False}, NOTE), "property 'qty' may now be null (it was required)"),
        (
            _props({**ID, "primaryKey": False, "required": True}, {**QTY, "primaryKey": True}, NOTE),
            "primary key changed from (id) to (qty)",
        ),
    ],
)
def test_each_breaking_change_is_named(current: list[Property], expected: str) -> None:
    assert expected in breaking_changes(PREVIOUS, current)


def test_additive_and_widening_changes_pass() -> None:
    current = _props(
        ID, {**QTY, "logicalType": "number"}, {**NOTE, "required": True}, {"name": "extra", "logicalType": "date"}
    )
    assert breaking_changes(PREVIOUS, current) == []


def test_breaking_build_is_refused_and_previous_stays_current(four: FourMesh) -> None:
    build(four.root)
    four.edit("products/sales/daily-revenue/dataproduct.yaml", "    - {name: orders, logicalType: integer}\n", "")
    four.edit("products/sales/daily-revenue/daily.sql", ", count(*) as orders", "")
    outcome = build(four.root)["sales.daily-revenue@v1"]
    assert outcome.status == "failed"
    assert "property 'orders' was removed or renamed" in (outcome.error or "")
    assert "new major version (2.0.0)" in (outcome.error or "")
    assert "orders" in read(four.root, "sales.daily-revenue")[0]


def test_additive_build_passes_and_a_new_major_may_break(four: FourMesh) -> None:
    build(four.root)
    four.edit(
        "products/sales/daily-revenue/dataproduct.yaml",
        "    - {name: orders, logicalType: integer}\n",
        "    - {name: orders, logicalType: integer}\n    - {name: biggest, logicalType: number}\n",
    )
    four.edit(
        "products/sales/daily-revenue/daily.sql", "count(*) as orders", "count(*) as orders, max(amount) as biggest"
    )
    assert statuses(build(four.root))["sales.daily-revenue@v1"] == "built"
    four.edit("products/sales/daily-revenue/dataproduct.yaml", "    - {name: orders, logicalType: integer}\n", "")
    four.edit("products/sales/daily-revenue/dataproduct.yaml", "version: 1.0.0", "version: 2.0.0")
    four.edit("products/sales/daily-revenue/daily.sql", ", count(*) as orders", "")
    outcome = build(four.root)
    assert outcome["sales.daily-revenue@v2"].status == "built"

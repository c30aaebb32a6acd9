"""Customer Lifetime Value a CRM manager can act on: lapsed valuable customers get win-back, and a
mesh without repeat buyers fails with a clear reason instead of a crash."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import duckdb
import numpy as np
import pytest

from quanta.examples.fashion_retail import Settings, generate
from quanta.project import Mesh

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fashion-retail"
MODEL = EXAMPLE / "products/customer-relations/customer-lifetime-value/model.py"
CLV_AND_INPUTS = [
    "sales.historical-purchases",
    "after-sales.returns",
    "customer.customer-marketing-360",
    "customer-relations.customer-lifetime-value",
]


def model() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clv_model", MODEL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mesh_with_systems(root: Path, settings: Settings) -> Mesh:
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".quanta", "systems"))
    generate(root / "systems", settings)
    return Mesh.load(root)


def test_the_next_best_action_rule_on_known_customers() -> None:
    clv = model()
    # ten customers: predicted segment, P(alive), past spend and orders
    segment = np.array(["top", "high", "low", "low", "medium", "low", "low", "low", "low", "low"])
    alive = np.array([0.9, 0.3, 0.05, 0.05, 0.4, 0.95, 0.5, 0.2, 0.6, 0.02])
    spend = np.array([900.0, 700, 50, 2000, 80, 3000, 60, 40, 55, 45])
    orders = np.array([6, 4, 9, 2, 2, 3, 1, 1, 2, 1])
    valuable = clv.valuable_history(spend, orders)
    # the top 20% (2 of 10) by spend: 3000 and 2000; by orders: 9 and 6
    assert valuable.tolist() == [True, False, True, True, False, True, False, False, False, False]
    actions = clv.next_best_actions(segment, alive, valuable).tolist()
    assert actions == [
        "retain-vip",  # top, active
        "win-back",  # high, lapsed
        "win-back",  # low predicted value, but 9 orders and lapsed
        "win-back",  # low predicted value, but a big spender and lapsed
        "nurture",  # medium, lapsed but not valuable: nurture as before
        "no-action",  # valuable by history but active: nothing to win back
        "no-action",  # P(alive) 50%, not valuable
        "no-action",
        "no-action",
        "no-action",
    ]


def test_ties_at_the_top_share_are_all_in() -> None:
    clv = model()
    orders = np.array([5, 5, 5, 1, 1, 1, 1, 1, 1, 1])  # 30% tie at the top: fewer than 20% have more
    assert clv.valuable_history(np.zeros(10), orders).tolist() == [True] * 3 + [False] * 7


@pytest.mark.slow
def test_lapsed_valuable_customers_get_win_back_on_the_demo_data(tmp_path: Path) -> None:
    mesh = mesh_with_systems(tmp_path / "fashion-retail", Settings(scale=0.1, seed=42))
    assert {o.status for o in mesh.build(CLV_AND_INPUTS).outcomes} == {"built"}
    found = mesh.query("""select count(*) filter (where orders >= 5 and p_alive < 0.1) as lapsed,
            count(*) filter (where orders >= 5 and p_alive < 0.1 and next_best_action = 'win-back') as won,
            count(*) filter (where p_alive > 0.5 and next_best_action = 'win-back') as alive_won
        from customer_relations.customer_lifetime_value""").to_pylist()[0]
    assert found["lapsed"] > 100 and found["won"] >= 0.9 * found["lapsed"] and found["alive_won"] == 0


def test_a_mesh_without_repeat_buyers_fails_with_the_reason(tmp_path: Path) -> None:
    root = tmp_path / "fashion-retail"
    mesh = mesh_with_systems(root, Settings(scale=0.005, seed=3))
    drops = root / "systems/ecommerce/orders"
    connection = duckdb.connect()  # keep each customer's first order only
    connection.execute(f"""create table first_orders as select * exclude (drop_date)
        from read_csv('{drops}/*/*.csv', hive_partitioning = true)
        qualify dense_rank() over (partition by customer_id order by order_ts, order_id) = 1""")
    shutil.rmtree(drops)
    (drops / "drop_date=2024-01-01").mkdir(parents=True)
    connection.execute(f"copy first_orders to '{drops / 'drop_date=2024-01-01/orders.csv'}' (header)")
    connection.close()
    outcomes = {o.key: o for o in mesh.build(CLV_AND_INPUTS).outcomes}
    failed = outcomes["customer-relations.customer-lifetime-value@v1"]
    assert failed.status == "failed"
    reason = " ".join((*failed.reasons, failed.error or ""))
    assert "NoRepeatBuyers: the BG/NBD purchase model needs repeat buyers" in reason
    assert "ZeroDivisionError" not in str(failed)

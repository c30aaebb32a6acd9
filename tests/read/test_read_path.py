"""The one read path: the fail-closed gate (the adversarial corpus), masks that no query sees
through, the stricter of old and current policies, reads that take exactly the manifest's files,
and long-lived reads that follow the current pointer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from quanta.access import LOCAL_OWNER, Principal
from quanta.blueprints import create_mesh
from quanta.errors import AccessDenied
from quanta.project import Mesh
from quanta.read.plane import QueryError

CORPUS = yaml.safe_load((Path(__file__).parent.parent / "fixtures" / "sql_corpus.yaml").read_text())
QUANTA = [sys.executable, "-m", "quanta"]


def _pii_mesh(root: Path) -> Path:
    create_mesh("demo", root)
    orders = root / "products/sales/orders/dataproduct.yaml"
    orders.write_text(
        orders.read_text().replace(
            "{name: customer_id, logicalType: string, required: true,",
            "{name: customer_id, logicalType: string, required: true, classification: pii,",
        )
    )
    return root


def _build(root: Path) -> dict[str, Any]:
    mesh = Mesh.load(root)
    try:
        return {o.key: o for o in mesh.build().outcomes}
    finally:
        mesh.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _pii_mesh(tmp_path_factory.mktemp("read") / "demo")
    assert {o.status for o in _build(root).values()} == {"built"}
    return root


@pytest.fixture
def mesh(built: Path) -> Iterator[Mesh]:
    loaded = Mesh.load(built)
    yield loaded
    loaded.close()


def _corpus_sql(entry: dict[str, str], root: Path) -> str:
    return entry["sql"].replace("{warehouse}", str(root / ".quanta" / "warehouse"))


def test_the_corpus_has_at_least_sixty_statements() -> None:
    assert len(CORPUS) >= 60


@pytest.mark.parametrize("entry", CORPUS, ids=[f"{i:02d}" for i in range(len(CORPUS))])
def test_the_read_path_refuses_every_corpus_statement(mesh: Mesh, built: Path, entry: dict[str, str]) -> None:
    with pytest.raises(QueryError) as refused:
        mesh.query(_corpus_sql(entry, built))
    assert entry["reason"] in str(refused.value)


def test_report_sql_refuses_every_corpus_statement(mesh: Mesh, built: Path) -> None:
    plane = mesh.platform.plane
    current = plane.secure(LOCAL_OWNER, plane.product("sales.orders"), None)
    query = plane.scoped_query({"current": current.relation, "previous": current.relation}, current, "report")
    assert query("select count(*) as n from current", None) == [{"n": 5}]
    for entry in CORPUS:
        with pytest.raises(QueryError):
            query(_corpus_sql(entry, built), None)
    with pytest.raises(QueryError, match="not a product you may read"):
        query("select * from sales.orders", None)  # a report reads its own snapshots only


@pytest.mark.slow
def test_quanta_query_refuses_every_corpus_statement(built: Path) -> None:
    for entry in CORPUS:
        result = subprocess.run(
            [*QUANTA, "query", "--format", "json", "--", _corpus_sql(entry, built)],
            cwd=built,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, (entry, result.stdout)
        assert "error:" in result.stderr and entry["reason"] in result.stderr, (entry, result.stderr)
        assert "Traceback" not in result.stderr and "c-1" not in result.stdout + result.stderr


def test_allowed_shapes_run_and_stay_masked(mesh: Mesh) -> None:
    rows = mesh.query(
        """with big as (select * from sales.orders where amount > 50)
        select customer_id, count(*) as n from big group by all
        union all select customer_id, 0 from (values ('x')) v(customer_id) where false"""
    ).to_pylist()
    assert rows == [{"customer_id": "***", "n": 3}]
    joined = mesh.query("select count(*) as n from sales.orders o join sales.daily_revenue r using (country)")
    assert joined.to_pylist()[0]["n"] > 0
    assert (
        mesh.query("select customer_id from sales.orders", unmask=True, limit=1).to_pylist()[0]["customer_id"] != "***"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "select count(*) as n from sales.orders where customer_id like 'c-%'",
        "select count(*) as n from sales.orders where customer_id = 'c-1'",
        "select count(distinct length(customer_id)) as n from sales.orders",
        "select count(distinct hash(customer_id)) as n from sales.orders",
        "select count(distinct md5(customer_id)) as n from sales.orders",
        "select (min(customer_id) = max(customer_id))::int as n from sales.orders",
        "select count(*) as n from (select customer_id from sales.orders group by customer_id)",
        "select count(distinct to_json(o)::varchar) - count(*) as n from sales.orders o",
        "select len(list_distinct(list(customer_id))) as n from sales.orders",
        "select count(*) as n from sales.orders a join sales.orders b on a.customer_id = b.customer_id",
        "select count(*) as n from (select customer_id, row_number() over (order by customer_id) r from sales.orders)"
        " where customer_id <> '***'",
    ],
)
def test_no_query_infers_a_masked_value(mesh: Mesh, sql: str) -> None:
    """Each query's answer is the same whatever the customer ids are (5 rows, ids c-1…c-4)."""
    expected = {
        "like": 0, "= 'c-1'": 0, "length": 1, "hash": 1, "md5": 1, "min(": 1, "group by": 1, "to_json": 0,
        "list_distinct": 1, "join": 25, "row_number": 0,
    }  # fmt: skip
    (value,) = mesh.query(sql).to_pylist()[0].values()
    assert value == next(v for k, v in expected.items() if k in sql)


def test_a_principal_reads_only_what_its_grant_opens(mesh: Mesh) -> None:
    plane = mesh.platform.plane
    analyst = Principal("ann", frozenset({"analysts"}))
    assert plane.query(analyst, "select count(*) as n from sales.orders").to_pylist() == [{"n": 5}]
    with pytest.raises(AccessDenied, match="no grant gives bob access"):
        plane.query(Principal("bob", frozenset({"sales-managers"})), "select * from sales.orders")


def test_an_old_snapshot_reads_under_the_stricter_of_its_and_the_current_policy(tmp_path: Path) -> None:
    root = _pii_mesh(tmp_path / "demo")
    first = _build(root)["sales.orders@v1"].snapshot_id
    spec = root / "products/sales/orders/dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace("logicalTypeOptions: {pattern:", "classification: pii, logicalTypeOptions: {pattern:")
    )
    assert _build(root)["sales.orders@v1"].status in ("built", "unchanged")  # the schema changed: a new snapshot
    mesh = Mesh.load(root)
    try:
        old = mesh.read("sales.orders", snapshot_id=first).to_pylist()
        assert {r["country"] for r in old} == {"***"}  # classified after publication: masked in the old one too
        exported = mesh.export("sales.orders", "csv", out=tmp_path / "old.csv", snapshot_id=first)
        assert "FR" not in exported.path.read_text()
    finally:
        mesh.close()


def test_reads_take_exactly_the_manifest_files_and_verify_finds_damage(tmp_path: Path) -> None:
    root = _pii_mesh(tmp_path / "demo")
    snapshot = _build(root)["sales.orders@v1"].snapshot_id
    data = root / ".quanta/warehouse/products/sales/orders/v1" / snapshot / "data"
    shutil.copy(data / "part-0.parquet", data / "part-1.parquet")  # an extra file is ignored
    mesh = Mesh.load(root)
    try:
        assert mesh.query("select count(*) as n from sales.orders").to_pylist() == [{"n": 5}]
    finally:
        mesh.close()
    (data / "part-1.parquet").unlink()

    def quanta(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*QUANTA, *args], cwd=root, capture_output=True, text=True, timeout=60)

    assert quanta("verify").returncode == 0
    original = (data / "part-0.parquet").read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    (data / "part-0.parquet").write_bytes(bytes(flipped))
    verified = quanta("verify", "sales.orders")
    assert verified.returncode == 1 and "does not match its checksum" in verified.stdout
    (data / "part-0.parquet").unlink()
    missing = quanta("query", "select count(*) from sales.orders")
    assert missing.returncode == 1 and "part-0.parquet is missing" in missing.stderr
    assert "damaged" in quanta("plan").stdout
    rebuilt = _build(root)["sales.orders@v1"]
    assert rebuilt.status in ("built", "unchanged") and rebuilt.reasons[0].startswith("damaged:")
    assert quanta("verify").returncode == 0


def test_failure_samples_never_show_classified_values(tmp_path: Path) -> None:
    root = _pii_mesh(tmp_path / "demo")
    spec = root / "products/sales/orders/dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace(
            "required: true, classification: pii,", "required: true, unique: true, classification: pii,"
        )
    )
    result = subprocess.run(
        [*QUANTA, "build", "."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert result.returncode == 1 and "quality gate" in result.stdout
    assert "c-1" not in result.stdout + result.stderr
    manifests = list((root / ".quanta/warehouse/products/sales/orders/v1").glob("*/manifest.json"))
    text = manifests[0].read_text()
    samples = [c["sample"] for c in json.loads(text)["checks"] if c.get("sample")]
    assert samples and all(row["customer_id"] == "***" for sample in samples for row in sample)
    assert "c-1" not in text


def test_export_refuses_a_target_inside_the_warehouse_and_limit_works(built: Path) -> None:
    inside = built / ".quanta" / "warehouse" / "x.parquet"
    result = subprocess.run(
        [*QUANTA, "export", "sales.orders", "--out", str(inside)], cwd=built, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "inside the warehouse" in result.stderr and not inside.exists()
    limited = subprocess.run(
        [*QUANTA, "query", "select * from sales.orders", "--limit", "2", "--format", "json"],
        cwd=built, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert limited.returncode == 0 and len(json.loads(limited.stdout)) == 2


def test_a_long_lived_plane_follows_the_current_pointer_within_a_second(tmp_path: Path) -> None:
    root = _pii_mesh(tmp_path / "demo")
    _build(root)
    reader = Mesh.load(root)
    try:
        assert reader.query("select count(*) as n from sales.orders").to_pylist() == [{"n": 5}]
        with (root / "data/orders.csv").open("a") as handle:
            handle.write("o-2001,c-9,FR,10.00,2026-11-05\n")
        _build(root)
        time.sleep(1.1)
        assert reader.query("select count(*) as n from sales.orders").to_pylist() == [{"n": 6}]
    finally:
        reader.close()


def test_the_plain_name_is_the_highest_major_and_a_suffix_pins_one(tmp_path: Path) -> None:
    root = _pii_mesh(tmp_path / "demo")
    shutil.copytree(root / "products/sales/orders", root / "products/sales/orders-v2")
    v2 = root / "products/sales/orders-v2/dataproduct.yaml"
    v2.write_text(v2.read_text().replace("version: 1.0.0", "version: 2.0.0").replace("classification: pii, ", ""))
    assert {o.status for o in _build(root).values()} == {"built"}
    mesh = Mesh.load(root)
    try:
        assert mesh.query("select min(customer_id) as c from sales.orders").to_pylist() == [{"c": "c-1"}]  # v2: not pii
        assert mesh.query("select min(customer_id) as c from sales.orders_v1").to_pylist() == [{"c": "***"}]
        assert mesh.query("select min(customer_id) as c from sales.orders_v2").to_pylist() == [{"c": "c-1"}]
    finally:
        mesh.close()


def test_a_row_filter_binds_the_principals_attribute_inside_the_relation(tmp_path: Path) -> None:
    root = _pii_mesh(tmp_path / "demo")
    spec = root / "products/sales/orders/dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace(
            "- {role: analysts, ports: [table, files]}",
            '- {role: analysts, ports: [table, files], rowFilter: "country = :principal.country"}',
        )
    )
    _build(root)
    mesh = Mesh.load(root)
    try:
        plane = mesh.platform.plane
        french = Principal("ann", frozenset({"analysts"}), {"country": "FR"})
        rows = plane.query(french, "select country, count(*) as n from sales.orders group by all").to_pylist()
        assert rows == [{"country": "FR", "n": 2}]
        sneaky = "select count(*) as n from sales.orders where country = 'DE' or true"
        assert plane.query(french, sneaky).to_pylist() == [{"n": 2}]  # the filter sits inside the relation
        quoted = Principal("eve", frozenset({"analysts"}), {"country": "FR' or '1'='1"})
        assert plane.query(quoted, "select count(*) as n from sales.orders").to_pylist() == [{"n": 0}]
        lacking = Principal("joe", frozenset({"analysts"}))  # granted, but without the attribute: no rows
        assert plane.query(lacking, "select count(*) as n from sales.orders").to_pylist() == [{"n": 0}]
        assert plane.query(
            lacking, "select count(*) as n from sales.orders where true or country is null"
        ).to_pylist() == [{"n": 0}]
    finally:
        mesh.close()


def test_a_limit_caps_a_query_but_never_lifts_the_query_s_own(mesh: Mesh) -> None:
    assert mesh.query("select * from sales.orders order by 1 limit 2", limit=4).num_rows == 2
    assert mesh.query("select * from sales.orders order by 1 limit 2 offset 1", limit=4).num_rows == 2
    assert mesh.query("select * from sales.orders order by 1", limit=3).num_rows == 3


def test_a_repeated_statement_is_prepared_once_and_parameters_are_bound_by_the_engine(mesh: Mesh) -> None:
    plane = mesh.platform.plane
    sql = "select count(*) as n from sales.orders where amount > $1"
    first = plane.prepare(LOCAL_OWNER, sql)
    assert plane.prepare(LOCAL_OWNER, sql) is first and "$1" in first.sql
    counts = [plane.query(LOCAL_OWNER, sql, params=[v]).to_pylist()[0]["n"] for v in (0, 10_000)]
    assert counts == [5, 0]
    injected = plane.query(
        LOCAL_OWNER, "select count(*) as n from sales.orders where country = $1", params=["x' or '1'='1"]
    )
    assert injected.to_pylist() == [{"n": 0}]

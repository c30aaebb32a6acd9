"""pgjdbc (Debian's libpostgresql-jdbc-java, the PostgreSQL JDBC driver) against the SQL port: it
signs in with SCRAM, reads through the policy with plain and server-prepared statements, reads
`DatabaseMetaData` (tables, columns, the primary key, schemas, types) for what the principal may read only, and a
refusal carries its SQLSTATE and keeps the connection."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving_mesh import ROWS, sql_serving

DRIVER = Path("/usr/share/java/postgresql.jar")
PROBE = Path(__file__).with_name("jdbc") / "JdbcProbe.java"
PASSWORD = "a jdbc password"


@pytest.fixture(scope="module")
def sql_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if not DRIVER.is_file() or shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI installs pgjdbc ({DRIVER}) and a JRE: see .ci/run")
        pytest.skip("pgjdbc is not installed: apt-get install libpostgresql-jdbc-java")
    with sql_serving(tmp_path_factory.mktemp("jdbc"), ("nora", "ann"), PASSWORD) as port:
        yield port


def _probe(port: int, user: str) -> dict[str, str]:
    done = subprocess.run(
        ["java", "-cp", str(DRIVER), str(PROBE), str(port), user, PASSWORD],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def test_pgjdbc_reads_through_the_policy_and_keeps_the_connection_after_a_refusal(sql_port: int) -> None:
    said = _probe(sql_port, "nora")
    assert said["version"] == "PostgreSQL 15"
    assert said["count"] == str(ROWS)
    assert said["lookup"] == "o-00007,49.5,2026-11-08"
    assert said["over250"] == str(sum(1 for i in range(ROWS) if (i * 7) % 500 + 0.5 > 250))
    assert said["tables"] == "daily_revenue,daily_revenue_v1,orders,orders_v1"  # each also by its major
    columns = dict(entry.split(":") for entry in said["columns"].split(","))
    assert list(columns) == ["order_id", "customer_id", "country", "amount", "order_date"]
    assert columns["order_id"] == "text" and columns["amount"] == "float8" and columns["order_date"] == "date"
    assert said["pk"] == "order_id:orders_pkey"
    assert said["schemas"] == "information_schema,pg_catalog,public,sales"
    types = dict(entry.split(":") for entry in said["types"].split(","))  # name → java.sql.Types
    assert {n: types[n] for n in ("text", "int8", "float8", "bool", "date", "timestamp")} == {
        "text": "12",
        "int8": "-5",
        "float8": "8",
        "bool": "-7",
        "date": "91",
        "timestamp": "93",
    }
    assert said["refused"].startswith("ERROR 42501")
    assert said["after"] == "42"


def test_pgjdbc_metadata_shows_nothing_the_principal_may_not_read_over_sql(sql_port: int) -> None:
    said = _probe(sql_port, "ann")  # REST and files only
    assert (
        said["tables"] == ""
        and said["columns"] == ""
        and said["pk"] == ""
        and said["schemas"] == "information_schema,pg_catalog,public"
    )
    assert said["count"].startswith("ERROR 42501")
    assert said["after"] == "42"

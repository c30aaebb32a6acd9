"""The build and inspection commands as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path


def quanta(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quanta", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_build_inspect_query_and_gc(tmp_path: Path) -> None:
    assert quanta("init", "shop", cwd=tmp_path).returncode == 0
    plan = quanta("plan", "shop", cwd=tmp_path)
    assert plan.returncode == 0 and "no published snapshot yet" in plan.stdout
    first = quanta("build", "shop", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("built") == 2
    second = quanta("build", "shop", cwd=tmp_path)
    assert second.stdout.count("skipped") == 2 and "built" not in second.stdout.replace("build ", "")
    status = quanta("status", "shop", cwd=tmp_path)
    assert "sales.orders@v1" in status.stdout and "built" in status.stdout
    show = quanta("show", "sales.orders", "--mesh", "shop", cwd=tmp_path)
    assert "quanta://sales/orders/v1" in show.stdout and "Order identifier from the web shop." in show.stdout
    assert "output ports: table (sql), files (files)" in show.stdout
    rows = quanta(
        "query",
        "select country, count(*) as n from sales.orders group by all order by 1",
        "--mesh",
        "shop",
        "--format",
        "csv",
        cwd=tmp_path,
    )
    assert list(csv.reader(io.StringIO(rows.stdout))) == [["country", "n"], ["DE", "2"], ["ES", "1"], ["FR", "2"]]
    as_json = quanta("query", "select count(*) as n from sales.daily_revenue", "-m", "shop", "-f", "json", cwd=tmp_path)
    assert json.loads(as_json.stdout) == [{"n": 5}]
    refused = quanta("query", "drop table sales.orders", "-m", "shop", cwd=tmp_path)
    assert refused.returncode == 1 and "only a read-only query" in refused.stderr
    files = quanta("query", "select * from read_csv('/etc/passwd')", "-m", "shop", cwd=tmp_path)
    assert files.returncode == 1 and "not allowed" in files.stderr
    search = quanta("search", "revenue", "--mesh", "shop", cwd=tmp_path)
    assert "sales.daily-revenue" in search.stdout and "domain: sales (1)" in search.stdout
    browse = json.loads(quanta("search", "--mesh", "shop", "-f", "json", "--status", "active", cwd=tmp_path).stdout)
    assert browse["total"] == 2 and browse["facets"]["status"] == {"active": 2}
    filtered = quanta("search", "--mesh", "shop", "-f", "json", "--domain", "marketing", cwd=tmp_path)
    assert json.loads(filtered.stdout)["total"] == 0
    gc = quanta("gc", "shop", "--keep", "1", cwd=tmp_path)
    assert gc.returncode == 0 and "removed 0 snapshot(s)" in gc.stdout


def test_failed_build_exits_1_with_the_reason(tmp_path: Path) -> None:
    quanta("init", "shop", cwd=tmp_path)
    (tmp_path / "shop/products/sales/orders/orders.sql").write_text("select nope from exports\n")
    result = quanta("build", "shop", cwd=tmp_path)
    assert result.returncode == 1
    assert "failed" in result.stdout and "nope" in result.stdout and "blocked" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_product_is_a_clear_error(tmp_path: Path) -> None:
    quanta("init", "shop", cwd=tmp_path)
    result = quanta("show", "sales.order", "--mesh", "shop", cwd=tmp_path)
    assert result.returncode == 1 and "did you mean 'sales.orders'?" in result.stderr


def test_quanta_test_reports_checks_in_json_and_junit(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    quanta("init", "shop", cwd=tmp_path)
    quanta("build", "shop", cwd=tmp_path)
    ok = quanta("test", "sales.orders", "--mesh", "shop", "--format", "json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    checks = {c["check"]: c["status"] for c in json.loads(ok.stdout)["sales.orders@v1"]}
    assert checks["primary-key:order_id"] == "passed" and checks["pattern:country"] == "passed"
    spec = tmp_path / "shop/products/sales/orders/dataproduct.yaml"
    spec.write_text(spec.read_text().replace("logicalTypeOptions: {minimum: 0}", "logicalTypeOptions: {minimum: 50}"))
    failing = quanta("test", "sales.orders", "--mesh", "shop", "--format", "junit", cwd=tmp_path)
    assert failing.returncode == 1
    suite = ET.fromstring(failing.stdout).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    (failure,) = suite.iter("failure")
    assert failure.get("message") == "2 failing row(s)"


def test_quanta_slo_table_json_and_junit(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    quanta("init", "shop", cwd=tmp_path)
    quanta("build", "shop", cwd=tmp_path)
    table = quanta("slo", "--mesh", "shop", cwd=tmp_path)
    assert table.returncode == 0 and "freshness" in table.stdout and "schedule" in table.stdout
    documents = json.loads(quanta("slo", "sales.orders", "-m", "shop", "-f", "json", cwd=tmp_path).stdout)
    assert documents[0]["schema"] == "quanta.slo-document/v1"
    junit = quanta("slo", "-m", "shop", "-f", "junit", cwd=tmp_path)
    assert junit.returncode == 0
    assert {s.get("name") for s in ET.fromstring(junit.stdout)} == {"sales.orders@v1", "sales.daily-revenue@v1"}

"""A scheduled report is rendered once per tick however many servers run: two `quanta serve`
processes over one PostgreSQL catalog, a report port scheduled every minute (so a tick is due as
they start), give exactly one claim, one ``report.rendered`` event and one rendering per format for
each tick, made by one of the two processes."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from quanta.catalog import Catalog
from serving_mesh import build, start_serve, write_mesh

REVENUE = "sales.daily-revenue@v1"
TEMPLATE = "<h1>Revenue</h1><p>Days: {{ sql('select count(*) as n from current')[0].n }}</p>\n"


def _scheduled_mesh(root: Path) -> Path:
    write_mesh(root)
    spec = root / "products/sales/daily-revenue/dataproduct.yaml"
    spec.write_text(
        spec.read_text().replace(
            "  - {id: table, type: sql}\n",
            "  - {id: table, type: sql}\n"
            "  - {id: minutely, type: report, template: minutely.html.j2, formats: [html, pdf],"
            ' schedule: "* * * * *"}\n',
        )
    )
    (spec.parent / "minutely.html.j2").write_text(TEMPLATE)
    return root


def test_two_servers_render_each_scheduled_tick_once(
    module_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTA_CATALOG", module_postgres_url)
    root = _scheduled_mesh(tmp_path / "demo")
    build(root)
    env = {"QUANTA_CATALOG": module_postgres_url, "QUANTA_STORAGE": str(root / ".quanta/warehouse")}
    processes = []
    try:
        for name in ("a", "b"):
            process, _ = start_serve(["--cache-dir", str(tmp_path / name)], tmp_path, env, tmp_path / f"{name}.log")
            processes.append(process)
        catalog = Catalog(module_postgres_url)
        try:
            deadline = time.monotonic() + 60
            while not any(t.finished_at for t in catalog.reports.ticks(REVENUE, "minutely")):
                assert time.monotonic() < deadline, "no scheduled render within a minute"
                time.sleep(0.2)
            time.sleep(3)  # both processes have made their first pass by now
            ticks = [t for t in catalog.reports.ticks(REVENUE, "minutely") if t.finished_at]
            events = catalog.events.find(kind="report.rendered")
            renders = catalog.reports.renders(REVENUE, "minutely")
        finally:
            catalog.close()
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.communicate(timeout=30)
    pids = {str(p.pid) for p in processes}
    assert ticks and all(t.error is None for t in ticks)
    for tick in ticks:
        assert tick.claimed_by.rsplit(":", 1)[1] in pids
        assert len(tick.renders) == 2
        assert len([e for e in events if e.data["tick"] == tick.tick.isoformat()]) == 1
    assert len(events) == len({e.data["tick"] for e in events}) >= len(ticks)
    first = ticks[0]
    shown = {r.format: r for r in renders if r.id in first.renders}
    assert set(shown) == {"html", "pdf"} and shown["pdf"].content.startswith(b"%PDF-")
    days = len({f"2026-11-{i % 28 + 1:02d}|{i % 4}" for i in range(240)})  # write_orders: date and country
    assert f"Days: {days}" in shown["html"].content.decode()
    assert all(r.trigger == "schedule" and r.principal == "schedule:sales.daily-revenue" for r in shown.values())


def test_a_server_started_with_report_interval_zero_renders_no_scheduled_report(
    module_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTA_CATALOG", module_postgres_url)
    root = _scheduled_mesh(tmp_path / "quiet")
    build(root)
    env = {"QUANTA_CATALOG": module_postgres_url, "QUANTA_STORAGE": str(root / ".quanta/warehouse")}
    catalog = Catalog(module_postgres_url)
    before = {t.tick for t in catalog.reports.ticks(REVENUE, "minutely")}  # the module's other servers'
    process, _ = start_serve(["--report-interval", "0", "--cache-dir", str(tmp_path / "c")], tmp_path, env)
    try:
        time.sleep(4)  # a scheduling server claims a due tick as it starts
        claimed = [t for t in catalog.reports.ticks(REVENUE, "minutely") if t.tick not in before]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        catalog.close()
    assert claimed == []

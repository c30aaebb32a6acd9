"""Audit over HTTP: every REST page, lookup, refusal and download is one audit row naming the port;
while the audit log cannot be written, reads answer 503 and readiness says why."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from quanta.catalog import AuditRow
from serving_mesh import Served, build, serving, write_mesh

ORDERS = "/api/v1/products/sales/orders/v1"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("audited")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUANTA_AUDIT_KEY", "a" * 40)
        root = write_mesh(base / "demo")
        build(root)
        with serving(root, base / "cache") as running:
            yield running


def _new_rows(served: Served, after: int) -> list[AuditRow]:
    writer = served.platform.plane.audit
    assert writer is not None and writer.flush()
    return [r for r in served.platform.catalog.audit.rows(action="read") if r.seq > after]


def test_pages_lookups_refusals_and_downloads_are_each_audited_once(audited: Served) -> None:
    before = audited.platform.catalog.audit.count()
    with audited.client("carl") as client:
        first = client.get(f"{ORDERS}/rows", params={"limit": 40, "country": "FR"})
        assert first.status_code == 200
        second = client.get(f"{ORDERS}/rows", params={"cursor": first.json()["next"]})
        assert second.status_code == 200
    with audited.client("nora") as client:
        assert client.get(f"{ORDERS}/rows").status_code == 403
        assert client.get(f"{ORDERS}/files/files", params={"format": "parquet"}).status_code == 200
    with audited.client("cleo") as client:
        key = client.get(f"{ORDERS}/rows", params={"limit": 1}).json()["items"][0]["order_id"]
        assert client.get(f"{ORDERS}/rows/{key}").status_code == 200
    rows = _new_rows(audited, before)
    seen = [(r.entry.actor, r.entry.port, r.entry.statement, r.entry.decision, r.entry.rows) for r in rows]
    assert seen == [
        ("carl", "api", "rows", "allow", 40),
        ("carl", "api", "rows", "allow", len(second.json()["items"])),
        ("nora", "api", None, "deny", None),
        ("nora", "files", "download parquet", "allow", 240),
        ("cleo", "api", "rows", "allow", 1),
        ("cleo", "api", "lookup", "allow", 1),
    ]
    assert rows[0].entry.data["filters"] == {"country": [["eq", ["FR"]]]}


def test_reads_answer_503_while_the_audit_log_cannot_be_written(audited: Served) -> None:
    catalog = audited.platform.catalog
    with catalog.engine.begin() as connection:
        connection.execute(
            text("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        )
    try:
        with audited.client("ann") as client:
            assert client.get(f"{ORDERS}/rows", params={"limit": 1}).status_code == 200  # its row is queued
            writer = audited.platform.plane.audit
            assert writer is not None
            deadline = time.monotonic() + 10
            while writer.failure is None and time.monotonic() < deadline:
                time.sleep(0.02)
            refused = client.get(f"{ORDERS}/rows", params={"limit": 1})
            assert refused.status_code == 503, refused.text
            assert refused.json()["type"] == "urn:quanta:problem:audit-unavailable"
            assert "disk full" in refused.json()["detail"]
            ready = client.get("/api/v1/ready")
            assert ready.status_code == 503 and "audit" in ready.text
    finally:
        with catalog.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER no_audit"))
    assert audited.platform.plane.audit is not None and audited.platform.plane.audit.flush(15)
    with audited.client("ann") as client:
        assert client.get(f"{ORDERS}/rows", params={"limit": 1}).status_code == 200
    assert catalog.audit.verify().intact

"""The HTTP API input against a throttling, paginating local server, and a dead one."""

from __future__ import annotations

from datetime import timedelta

from four_mesh import FakeCrm, FourMesh
from helpers import build, read, statuses


def test_all_pages_land_after_retries(four: FourMesh, crm: FakeCrm) -> None:
    outcome = build(four.root, select=["customer.customers"])
    assert statuses(outcome) == {"customer.customers@v1": "built"}
    customers = read(four.root, "customer.customers", unmask=True)
    assert sorted(r["customer_id"] for r in customers) == [f"c-{i}" for i in range(1, 9)]
    assert {r["country"] for r in customers} == {"FR", "DE", "ES"}
    assert crm.throttled == 3  # one 429 per page, each retried
    assert crm.requests == 6


def test_unchanged_source_is_fetched_but_not_rebuilt(four: FourMesh, crm: FakeCrm) -> None:
    build(four.root, select=["customer.customers"])
    before = crm.requests
    outcome = build(four.root, select=["customer.customers"])
    assert crm.requests > before
    assert statuses(outcome) == {"customer.customers@v1": "skipped"}
    crm.customers.append({"customer_id": "c-99", "name": "New", "email": "n@example.com", "country": "fr"})
    again = build(four.root, select=["customer.customers"])
    assert again["customer.customers@v1"].reasons == ("input 'crm-export' changed",)


def test_dead_server_gives_a_clear_error_and_keeps_the_last_good_snapshot(four: FourMesh, crm: FakeCrm) -> None:
    build(four.root, select=["customer.customers"])
    crm.stop()
    outcome = build(four.root, select=["customer.customers"])["customer.customers@v1"]
    assert outcome.status == "failed"
    assert "input 'crm-export'" in (outcome.error or "") and "after 4 attempts" in (outcome.error or "")
    assert "the last good snapshot stays current" in (outcome.error or "")
    assert len(read(four.root, "customer.customers")) == 8


def test_link_header_and_offset_pagination(tmp_path, crm: FakeCrm) -> None:  # type: ignore[no-untyped-def]
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    from four_mesh import make_four_mesh

    records = [{"customer_id": f"c-{i}", "name": "n", "email": "e", "country": "fr"} for i in range(7)]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: int(v[0]) for k, v in parse_qs(urlparse(self.path).query).items()}
            if self.path.startswith("/offset"):
                page = records[query.get("offset", 0) : query.get("offset", 0) + query["limit"]]
                link = None
            else:
                start = query.get("page", 0) * 2
                page = records[start : start + 2]
                link = f'</link?page={query.get("page", 0) + 1}>; rel="next"' if start + 2 < len(records) else None
            body = json.dumps(page).encode()
            self.send_response(200)
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        for style, pagination in (("link", "{type: link-header}"), ("offset", "{type: offset, pageSize: 3}")):
            mesh = make_four_mesh(tmp_path / style, f"http://127.0.0.1:{port}/{style}", "sqlite:///.quanta/c.db")
            mesh.edit("products/customer/customers/dataproduct.yaml", "    recordsPath: data\n", "")
            mesh.edit("products/customer/customers/dataproduct.yaml", "{type: cursor, cursorPath: next}", pagination)
            outcome = build(mesh.root, select=["customer.customers"])["customer.customers@v1"]
            assert outcome.status == "built", outcome.error
            assert len(read(mesh.root, "customer.customers")) == 7, style
    finally:
        server.shutdown()
        server.server_close()


def test_gc_removes_landed_responses_no_snapshot_refers_to(four: FourMesh, crm: FakeCrm) -> None:
    from quanta.project import Mesh

    build(four.root, select=["customer.customers"])
    raw = four.root / ".quanta/warehouse/raw/customer/customers/v1/crm-export"
    (first,) = raw.glob("*.ndjson")
    crm.customers.append({"customer_id": "c-99", "name": "New", "email": "n@example.com", "country": "fr"})
    build(four.root, select=["customer.customers"])
    (raw / ".abc.1234.tmp").write_text("an interrupted landing")
    assert len(list(raw.iterdir())) == 3
    mesh = Mesh.load(four.root)
    report = mesh.gc(keep=2, grace=timedelta(0))
    assert report.orphans == [str(raw / ".abc.1234.tmp")]  # both responses are still in a snapshot's lineage
    report = mesh.gc(keep=1, grace=timedelta(0))
    assert str(first) in report.orphans and not first.exists()
    (kept,) = raw.glob("*.ndjson")  # the current snapshot's response stays
    assert len(read(four.root, "customer.customers")) == 9
    assert kept.read_text().count("\n") == 9

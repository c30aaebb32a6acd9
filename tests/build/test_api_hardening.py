"""The HTTP API input against hostile or broken servers on loopback: credentials stay on the
configured origin, responses are bounded in size and time, a bad body fails only its product
(and the run), and secrets are never stored expanded."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from four_mesh import FourMesh, make_four_mesh
from helpers import build, statuses
from typer.testing import CliRunner

from quanta.build.inputs.api import ApiConnector
from quanta.cli.main import app
from quanta.project import Mesh

CUSTOMERS = [{"customer_id": f"c-{i}", "name": "n", "email": "e", "country": "fr"} for i in range(1, 5)]
CREDENTIALS = {"X-Api-Key": "CRM_KEY", "Authorization": "CRM_AUTH"}
Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Site:
    """A loopback server answering each path with a route; it records every request's headers."""

    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def headers_at(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.seen if seen.split("?")[0] == path]


def _serve(site: Site) -> Iterator[Site]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = site.routes.get(self.path.split("?")[0])
            if route is None:
                reply(self, 404)
            else:
                route(self)

        def log_message(self, *args: object) -> None:
            return

    site.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.server.daemon_threads = True
    threading.Thread(target=site.server.serve_forever, daemon=True).start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    yield from _serve(Site())


@pytest.fixture
def other() -> Iterator[Site]:
    """A second server: another origin (another port)."""
    yield from _serve(Site())


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def page(records: list[dict[str, str]], **headers: str) -> Route:
    return lambda handler: reply(handler, 200, json.dumps({"data": records}).encode(), **headers)


def redirect(to: str) -> Route:
    return lambda handler: reply(handler, 302, Location=to)


def api_mesh(root: Path, url: str, pagination: str = "{type: none}", retries: int = 0) -> FourMesh:
    """The four-product mesh whose customers read ``url`` with credentials and a 1 s timeout."""
    mesh = make_four_mesh(root, url, "sqlite:///.quanta/catalog.db")
    spec = "products/customer/customers/dataproduct.yaml"
    mesh.edit(spec, "{type: cursor, cursorPath: next}", pagination)
    headers = ", ".join(f"{k}: {v}" for k, v in CREDENTIALS.items())
    mesh.edit(spec, "    retries: 3\n    timeout: 5s\n", f"    retries: {retries}\n    timeout: 1s\n")
    mesh.edit(spec, "    system: crm\n", f"    system: crm\n    headersFromEnv: {{{headers}}}\n")
    return mesh


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KEY", "key-123")
    monkeypatch.setenv("CRM_AUTH", "Bearer token-456")


def customers_outcome(root: Path) -> tuple[str, str]:
    outcome = build(root, select=["customer.customers"])["customer.customers@v1"]
    return outcome.status, outcome.error or ""


# ---------------------------------------------------------------- credentials stay on their origin


def test_credentials_follow_a_same_origin_redirect_but_not_one_to_another_origin(
    tmp_path: Path, site: Site, other: Site
) -> None:
    site.routes["/start"] = redirect("/moved")
    site.routes["/moved"] = redirect(f"{other.origin}/customers")
    other.routes["/customers"] = page(CUSTOMERS)
    mesh = api_mesh(tmp_path / "m", f"{site.origin}/start")
    assert customers_outcome(mesh.root) == ("built", "")
    (moved,) = site.headers_at("/moved")
    assert moved["x-api-key"] == "key-123" and moved["authorization"] == "Bearer token-456"
    (moved_away,) = other.headers_at("/customers")
    assert "x-api-key" not in moved_away and "authorization" not in moved_away


def test_a_session_cookie_does_not_follow_a_redirect_to_another_port(tmp_path: Path, site: Site, other: Site) -> None:
    """Cookies are scoped by host, not port: a cookie the API sets must not reach another origin."""
    site.routes["/start"] = lambda handler: reply(
        handler, 302, Location=f"{other.origin}/customers", Set_Cookie="session=sekrit; Path=/"
    )
    other.routes["/customers"] = page(CUSTOMERS)
    mesh = api_mesh(tmp_path / "m", f"{site.origin}/start")
    assert customers_outcome(mesh.root) == ("built", "")
    (moved_away,) = other.headers_at("/customers")
    assert "cookie" not in moved_away


def test_credentials_do_not_follow_a_next_page_link_to_another_origin(tmp_path: Path, site: Site, other: Site) -> None:
    site.routes["/customers"] = page(CUSTOMERS[:2], Link=f'<{other.origin}/customers?page=2>; rel="next"')
    other.routes["/customers"] = page(CUSTOMERS[2:])
    mesh = api_mesh(tmp_path / "m", f"{site.origin}/customers", "{type: link-header}")
    assert customers_outcome(mesh.root) == ("built", "")
    assert site.headers_at("/customers")[0]["x-api-key"] == "key-123"
    (next_page,) = other.headers_at("/customers")
    assert "x-api-key" not in next_page and "authorization" not in next_page


# ---------------------------------------------------------------- bounded in time and size


def drip(head: bool) -> Route:
    """Sends a response a byte at a time, 0.1 s apart, for ten seconds: its headers or its body."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        body = json.dumps({"data": CUSTOMERS}).encode().ljust(100, b" ")
        response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body) + b"X-Pad: " + b"a" * 100 + b"\r\n\r\n"
        sent, rest = (b"", response + body) if head else (response, body)
        try:
            handler.wfile.write(sent)
            handler.wfile.flush()
            for byte in rest:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return

    return route


@pytest.mark.parametrize("head", [False, True], ids=["body", "headers"])
def test_a_slow_drip_fails_at_the_timeout(tmp_path: Path, site: Site, head: bool) -> None:
    site.routes["/customers"] = drip(head)
    mesh = api_mesh(tmp_path / "m", f"{site.origin}/customers")
    started = time.monotonic()
    status, error = customers_outcome(mesh.root)
    assert time.monotonic() - started < 6
    assert status == "failed" and "input 'crm-export'" in error
    assert "took longer than 1s" in error


@pytest.mark.parametrize("length", [True, False], ids=["announced", "streamed"])
def test_a_response_over_the_size_limit_fails(tmp_path: Path, site: Site, length: bool) -> None:
    body = json.dumps({"data": CUSTOMERS * 50}).encode()

    def big(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        if length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    site.routes["/customers"] = big
    api_mesh(tmp_path / "m", f"{site.origin}/customers")
    mesh = Mesh.load(tmp_path / "m")
    try:
        mesh.workspace.connectors.connectors["api"] = ApiConnector(max_response_bytes=1000)
        outcome = {o.key: o for o in mesh.build(["customer.customers"]).outcomes}["customer.customers@v1"]
    finally:
        mesh.close()
    assert outcome.status == "failed"
    assert "input 'crm-export'" in (outcome.error or "") and "larger than 1000 bytes" in (outcome.error or "")


# ---------------------------------------------------------------- a bad body fails its product and the run


def body(data: bytes) -> Route:
    return lambda handler: reply(handler, 200, data, Content_Type="application/json")


BAD = {
    "invalid JSON": (body(b'{"data": [1, 2'), "is not valid JSON"),
    "not UTF-8": (body(b'{"data": [{"name": "caf\xe9"}]}'), "is not UTF-8"),
    "deeply nested": (body(b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), "nested more than"),
    "redirect loop": (redirect("/customers"), "redirected more than 10 times"),
    "negative Retry-After": (lambda h: reply(h, 429, Retry_After="-5"), "invalid Retry-After '-5'"),
    "garbage Retry-After": (lambda h: reply(h, 503, Retry_After="soon"), "invalid Retry-After 'soon'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_response_fails_only_its_product_and_the_run(tmp_path: Path, site: Site, case: str) -> None:
    route, reason = BAD[case]
    site.routes["/customers"] = route
    mesh = api_mesh(tmp_path / "m", f"{site.origin}/customers", retries=1)
    outcomes = build(mesh.root)
    assert statuses(outcomes) == {
        "sales.orders@v1": "built",
        "sales.daily-revenue@v1": "built",
        "customer.customers@v1": "failed",
        "customer.customer-value@v1": "blocked",
    }
    error = outcomes["customer.customers@v1"].error or ""
    assert error.startswith("input 'crm-export': ") and reason in error, error
    loaded = Mesh.load(mesh.root)
    try:
        assert loaded.workspace.catalog.runs.runs(limit=1)[0].status == "failed"
    finally:
        loaded.close()


class Exploding:
    """A connector with a bug: its resolve raises something no connector is meant to raise."""

    def peek(self, spec: object, context: object) -> None:
        return None

    def resolve(self, spec: object, context: object) -> None:
        raise RuntimeError("boom")


def test_any_error_from_an_input_fails_only_its_product_and_the_run(tmp_path: Path, site: Site) -> None:
    api_mesh(tmp_path / "m", f"{site.origin}/customers")
    mesh = Mesh.load(tmp_path / "m")
    try:
        mesh.workspace.connectors.connectors["api"] = Exploding()  # type: ignore[assignment]
        outcomes = {o.key: o for o in mesh.build().outcomes}
        assert mesh.workspace.catalog.runs.runs(limit=1)[0].status == "failed"
    finally:
        mesh.close()
    assert statuses(outcomes)["customer.customers@v1"] == "failed"
    assert statuses(outcomes)["customer.customer-value@v1"] == "blocked"
    assert statuses(outcomes)["sales.daily-revenue@v1"] == "built"
    assert outcomes["customer.customers@v1"].error == "input 'crm-export': RuntimeError: boom"


def test_a_run_that_stops_on_an_error_is_recorded_failed(tmp_path: Path, site: Site) -> None:
    def listener(key: str, phase: str, outcome: object) -> None:
        raise RuntimeError("the front end broke")

    api_mesh(tmp_path / "m", f"{site.origin}/customers")
    mesh = Mesh.load(tmp_path / "m")
    try:
        with pytest.raises(RuntimeError):
            mesh.build(listener=listener)
        assert mesh.workspace.catalog.runs.runs(limit=1)[0].status == "failed"
    finally:
        mesh.close()


# ---------------------------------------------------------------- secrets are never stored expanded

TOKEN = "s3cr3t-path-token"


def test_a_secret_in_the_url_path_is_never_stored_shown_or_logged(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    path = f"/t/{TOKEN}/customers"
    site.routes[path] = page(CUSTOMERS, Link=f'<{path}>; rel="next"')
    mesh = api_mesh(tmp_path / "m", site.origin + "/t/${CRM_TOKEN}/customers", "{type: link-header}")
    status, error = customers_outcome(mesh.root)  # the next page is the first again: a loop
    assert status == "failed" and "does not advance" in error and TOKEN not in error
    del site.routes[path]  # then the API forgets the token: 404
    status, error = customers_outcome(mesh.root)
    assert status == "failed" and "404" in error and "${CRM_TOKEN}" in error and TOKEN not in error
    assert "customers" in error
    shown = CliRunner().invoke(app, ["status", str(mesh.root)], env={"COLUMNS": "300"})
    shown_json = CliRunner().invoke(app, ["status", str(mesh.root), "--format", "json"])
    assert shown.exit_code == 0 and shown_json.exit_code == 0, shown.output
    assert "failed" in shown.output and TOKEN not in shown.output + shown_json.output
    stored = [p for p in (mesh.root / ".quanta").rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert stored == []
    assert (mesh.root / ".quanta/catalog.db").exists()
    logged = [r.getMessage() for r in caplog.records]
    assert any("HTTP Request" in m for m in logged) and not [m for m in logged if TOKEN in m]


def test_a_secret_in_the_url_path_is_not_in_a_built_snapshots_lineage(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    site.routes[f"/t/{TOKEN}/customers"] = page(CUSTOMERS)
    mesh = api_mesh(tmp_path / "m", site.origin + "/t/${CRM_TOKEN}/customers")
    assert customers_outcome(mesh.root) == ("built", "")
    stored = [p for p in (mesh.root / ".quanta").rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert stored == []
    loaded = Mesh.load(mesh.root)
    try:
        snapshot = loaded.workspace.catalog.snapshots.current("customer.customers@v1")
        assert snapshot is not None
        (lineage,) = loaded.workspace.catalog.lineage.of(snapshot.id)
        assert lineage.source == site.origin + "/t/${CRM_TOKEN}/customers"
    finally:
        loaded.close()

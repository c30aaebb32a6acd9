"""Webhooks: events reach a receiver on loopback signed as Standard Webhooks says (verified with
its reference library), failures are retried with backoff and then abandoned, a dead receiver
delays no action, and two senders over one catalog deliver each event once."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from quanta.catalog import Catalog
from quanta.errors import ConfigError
from quanta.project.webhooks import Dispatcher, WebhookSender, secret_bytes

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


class Receiver:
    """An HTTP receiver on loopback that answers with the statuses it is given, then 204."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    found = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    try:
        yield found
    finally:
        found.close()


def test_an_event_arrives_signed_and_the_reference_library_verifies_it(catalog: Catalog, receiver: Receiver) -> None:
    event_id = catalog.events.record("build.failed", "sales.orders@v1", {"error": "boom"}, "ci")
    sender = WebhookSender(catalog.events, receiver.url, secret_bytes(SECRET))
    assert sender.deliver_due() == (1, 0)
    ((headers, body),) = receiver.received
    verified = Webhook(SECRET).verify(body, headers)
    assert verified["type"] == "build.failed"
    assert verified["data"] == {"subject": "sales.orders@v1", "actor": "ci", "error": "boom"}
    assert headers["webhook-id"] == f"evt_{event_id}"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another key, another sender!").decode()).verify(body, headers)
    assert sender.deliver_due() == (0, 0)  # delivered once
    (event,) = catalog.events.find()
    assert event.delivered_at is not None and event.attempts == 1


def test_failures_are_retried_with_backoff_then_abandoned(catalog: Catalog) -> None:
    flaky = Receiver([500, 503])
    try:
        catalog.events.record("grant.revoked", "grant 1", {}, "admin")
        sender = WebhookSender(catalog.events, flaky.url, secret_bytes(SECRET), backoff_s=(0.3, 0.3))
        assert sender.deliver_due() == (0, 1)
        assert sender.deliver_due() == (0, 0)  # waiting out its backoff
        time.sleep(0.4)
        assert sender.deliver_due() == (0, 1)
        time.sleep(0.4)
        assert sender.deliver_due() == (1, 0)
        (event,) = catalog.events.find()
        assert event.attempts == 3 and event.delivered_at is not None
        assert len({h["webhook-id"] for h, _ in flaky.received}) == 1  # one message id across retries
    finally:
        flaky.close()
    dead = "http://127.0.0.1:9/unreachable"
    catalog.events.record("grant.added", "grant 2", {}, "admin")
    sender = WebhookSender(catalog.events, dead, secret_bytes(SECRET), timeout_s=1.0, backoff_s=(0.1,))
    assert sender.deliver_due() == (0, 1)
    time.sleep(0.2)
    assert sender.deliver_due() == (0, 1)
    abandoned = catalog.events.find(kind="grant.added")[0]
    assert abandoned.abandoned_at is not None and abandoned.attempts == 2 and "Connect" in (abandoned.last_error or "")


def test_a_dead_receiver_delays_no_action(catalog: Catalog) -> None:
    """Blackholed: a listener that accepts nothing. The change and its event commit at once; only the
    dispatcher's thread waits for the receiver."""
    import socket

    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    try:
        url = f"http://127.0.0.1:{hole.getsockname()[1]}/"
        sender = WebhookSender(catalog.events, url, secret_bytes(SECRET), timeout_s=3.0)
        dispatcher = Dispatcher(sender, interval_s=0.05).start()
        try:
            started = time.perf_counter()
            for n in range(20):
                catalog.events.record("request.created", f"request {n}", {}, "ann")
            assert time.perf_counter() - started < 2.0
        finally:
            dispatcher.stop(timeout_s=10)
    finally:
        hole.close()


def test_two_senders_deliver_each_event_once(catalog: Catalog, receiver: Receiver) -> None:
    for n in range(40):
        catalog.events.record("grant.added", f"grant {n}", {"n": n}, "admin")
    senders = [WebhookSender(catalog.events, receiver.url, secret_bytes(SECRET)) for _ in range(2)]
    threads = [threading.Thread(target=lambda s=s: [s.deliver_due(limit=5) for _ in range(10)]) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [h["webhook-id"] for h, _ in receiver.received]
    assert sorted(ids) == sorted(f"evt_{e.id}" for e in catalog.events.find())
    assert len(ids) == len(set(ids)) == 40
    assert sorted(json.loads(b)["data"]["n"] for _, b in receiver.received) == list(range(40))


def test_the_environment_configures_a_signed_webhook_or_none(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUANTA_WEBHOOK_URL", raising=False)
    assert WebhookSender.from_environment(catalog.events) is None
    monkeypatch.setenv("QUANTA_WEBHOOK_URL", "http://127.0.0.1:1/")
    monkeypatch.delenv("QUANTA_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError, match="QUANTA_WEBHOOK_SECRET is not"):
        WebhookSender.from_environment(catalog.events)
    monkeypatch.setenv("QUANTA_WEBHOOK_SECRET", "short")
    with pytest.raises(ConfigError, match="too short"):
        WebhookSender.from_environment(catalog.events)
    monkeypatch.setenv("QUANTA_WEBHOOK_URL", "ftp://example/")
    with pytest.raises(ConfigError, match="http"):
        WebhookSender.from_environment(catalog.events)

"""Webhook delivery of catalog events, signed as the Standard Webhooks specification says.

Events are written to the catalog with the change that caused them (an outbox), so delivering
them never delays that change. A :class:`Dispatcher` (``quanta serve`` runs one; ``quanta events
deliver`` runs one pass) claims due events with a lease, POSTs each with ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 over
``id.timestamp.body``), and retries a failure with backoff until the schedule is used up.

Set ``QUANTA_WEBHOOK_URL`` and ``QUANTA_WEBHOOK_SECRET`` (a ``whsec_``-prefixed base64 secret, or
any string of at least 24 characters).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from quanta.errors import ConfigError

if TYPE_CHECKING:
    import httpx

    from quanta.catalog import EventRecord
    from quanta.catalog.events import Events

_log = logging.getLogger("quanta.webhooks")

URL_VARIABLE = "QUANTA_WEBHOOK_URL"
SECRET_VARIABLE = "QUANTA_WEBHOOK_SECRET"
BACKOFF_S = (1.0, 5.0, 30.0, 120.0, 600.0, 3600.0)
"""Wait before each retry; after the last one the event is abandoned (kept, marked)."""
MAX_AGE = timedelta(days=7)
"""Events older than this are not delivered (a webhook configured today gets no backlog)."""


def secret_bytes(secret: str) -> bytes:
    """The signing key: a ``whsec_`` secret's base64 payload, else the string itself."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            raise ConfigError(f"{SECRET_VARIABLE}: a whsec_ secret is base64 after the prefix") from None
    if len(secret) < 24:
        raise ConfigError(f"{SECRET_VARIABLE} is too short: use at least 24 random characters")
    return secret.encode()


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one delivery."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def payload(event: EventRecord) -> dict[str, Any]:
    """What a receiver gets for an event."""
    return {
        "type": event.kind,
        "timestamp": event.at.isoformat(),
        "data": {"subject": event.subject, "actor": event.actor, **event.data},
    }


@dataclass
class WebhookSender:
    """Delivers due events from ``events`` to one URL."""

    events: Events
    url: str
    key: bytes
    timeout_s: float = 5.0
    backoff_s: Sequence[float] = BACKOFF_S
    client: httpx.Client | None = None

    @classmethod
    def from_environment(cls, events: Events) -> WebhookSender | None:
        """The sender ``QUANTA_WEBHOOK_URL`` and ``QUANTA_WEBHOOK_SECRET`` configure (None: no webhook)."""
        url = os.environ.get(URL_VARIABLE, "").strip()
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{URL_VARIABLE} '{url}': use an http:// or https:// URL")
        secret = os.environ.get(SECRET_VARIABLE, "")
        if not secret:
            raise ConfigError(f"{URL_VARIABLE} is set but {SECRET_VARIABLE} is not: deliveries are always signed")
        return cls(events, url, secret_bytes(secret))

    def deliver_due(self, limit: int = 100) -> tuple[int, int]:
        """One pass: deliver the events due now; returns (delivered, failed)."""
        claimed = self.events.claim(limit, lease_s=self.timeout_s * 2 + 5, max_age=MAX_AGE)
        delivered = failed = 0
        for event in claimed:
            error = self._send(event)
            if error is None:
                self.events.delivered(event.id)
                delivered += 1
                continue
            failed += 1
            retry = self.backoff_s[event.attempts - 1] if event.attempts <= len(self.backoff_s) else None
            self.events.failed(event.id, error, retry)
        return delivered, failed

    def _send(self, event: EventRecord) -> str | None:
        """POST one event; None when the receiver took it (2xx), else why not."""
        import httpx

        body = json.dumps(payload(event), separators=(",", ":"), default=str).encode()
        message_id = f"evt_{event.id}"
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.key, message_id, timestamp, body),
            "user-agent": "quanta-webhooks",
        }
        try:
            if self.client is not None:
                response = self.client.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
            else:
                response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"


class Dispatcher:
    """Delivers due events on a background thread, every ``interval_s``, until stopped; with
    ``announce``, also runs it (e.g. announcing expiring grants) every ``announce_s``."""

    def __init__(
        self,
        sender: WebhookSender | None,
        interval_s: float = 1.0,
        announce: Callable[[], object] | None = None,
        announce_s: float = 60.0,
    ) -> None:
        self._sender = sender
        self._interval = interval_s
        self._announce = announce
        self._announce_s = announce_s
        self._announced = -float("inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quanta-webhooks", daemon=True)

    def start(self) -> Dispatcher:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self._announce is not None and time.monotonic() - self._announced >= self._announce_s:
                    self._announced = time.monotonic()
                    self._announce()
                if self._sender is not None:
                    self._sender.deliver_due()
            except Exception as exc:  # the catalog unreachable for a moment: try again next interval
                _log.warning("webhook delivery pass failed: %s", str(exc).strip().splitlines()[0] if str(exc) else exc)
            self._stop.wait(self._interval)

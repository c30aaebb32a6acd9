"""What one serving process holds: the platform, the ports over its data plane, metrics, the
cursor key. Nothing else: every fact about products and access is read from the catalog."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from quanta.access import Principal
from quanta.ports.downloads import Downloads
from quanta.ports.model import ModelPorts
from quanta.ports.reports import ReportPort
from quanta.ports.rest.cursor import CursorSigner
from quanta.ports.rest.rows import RestReads
from quanta.project.platform import Platform
from quanta.server.metrics import BUCKETS, ServerMetrics
from quanta.server.slis import PortSlis


@dataclass(frozen=True)
class Tls:
    """The certificate HTTPS is served with (PEM files, checked when the options are made)."""

    cert: Path
    key: Path | None = None
    """None: the certificate file holds the key too."""


@dataclass(frozen=True)
class ServeOptions:
    """How the server runs (from the command line and the environment)."""

    cache_dir: Path
    """Where download renditions are materialised."""
    secret: bytes | None = None
    """The cursor key (``QUANTA_SERVER_SECRET``); None: a random one for this process only."""
    tls: Tls | None = None
    """Serve HTTPS with this certificate (None: plain HTTP)."""
    sli_interval: float = 60.0
    """Seconds between flushes of the port SLIs to the catalog (0: only at shutdown)."""
    sql_address: str | None = None
    """``host:port`` of this server's SQL wire port (None: it runs none), for connection snippets."""
    report_interval: float = 15.0
    """Seconds between passes rendering due scheduled reports (0: no scheduled reports here)."""
    oidc_client_secret: str | None = field(default=None, repr=False)
    """The web catalog's client secret at the IdP (``QUANTA_OIDC_CLIENT_SECRET``; None: a public
    client, PKCE alone)."""


class ServerState:
    """The process's platform and ports."""

    def __init__(
        self, platform: Platform, options: ServeOptions, generation: Callable[[Principal], int] | None = None
    ) -> None:
        """``generation``: the caller's policy generation every ETag covers (the catalog's access
        generation by default: it moves with every change to principals, tokens and grants)."""
        self.platform = platform
        self.options = options
        generation = generation or (lambda _principal: platform.plane.generation)
        self.generation = generation
        self.signer = CursorSigner(options.secret)
        self.key = options.secret if options.secret is not None else secrets.token_bytes(32)
        """The server key (sessions of the web catalog): shared by every process when configured."""
        self.rest = RestReads(platform.plane, self.signer, generation)
        self.downloads = Downloads(platform.plane, options.cache_dir)
        self.reports = ReportPort(platform.plane)
        self.models = ModelPorts(platform.plane)
        self.metrics = ServerMetrics()
        self.slis = PortSlis(platform, BUCKETS, options.sli_interval)

    def observe(self, product: str, port: str, status: int, seconds: float) -> None:
        """One answered request: the Prometheus metrics and the port SLIs (memory only)."""
        self.metrics.observe(product, port, status, seconds)
        self.slis.observe(product, port, status, seconds)

    def warm(self) -> None:
        """Open the long-lived reader and read the catalog once, before the first request."""
        self.platform.plane.published()
        if self.platform._store is not None:
            self.platform.plane.reader()

    def start_background(self) -> None:
        """Announce expiring grants every minute, deliver events to the webhook, if one is set, and
        render due scheduled reports."""
        import logging
        from datetime import timedelta

        from quanta.catalog.audit import KEY_VARIABLE
        from quanta.project.webhooks import Dispatcher, WebhookSender

        log = logging.getLogger("quanta.server")
        if self.platform.plane.audit is None:
            log.warning("audit is off: set %s to record every access in the audit log", KEY_VARIABLE)
        sender = WebhookSender.from_environment(self.platform.catalog.events)
        grants = self.platform.catalog.grants
        self._dispatcher = Dispatcher(sender, announce=lambda: grants.announce(timedelta(days=7))).start()
        if self.options.report_interval > 0 and self.platform._store is not None:
            from quanta.project.report_schedule import ReportScheduler

            interval = self.options.report_interval
            self._reports = ReportScheduler(self.platform.plane, self.reports, interval_s=interval).start()

    def stop_background(self) -> None:
        scheduler = getattr(self, "_reports", None)
        if scheduler is not None:
            scheduler.stop()
        dispatcher = getattr(self, "_dispatcher", None)
        if dispatcher is not None:
            dispatcher.stop()
        self.models.close()

    def readiness(self) -> list[str]:
        """What keeps this process from serving reads (empty: ready)."""
        problems = []
        audit = self.platform.plane.audit
        if audit is not None and audit.failure is not None:
            problems.append(f"audit: the audit log cannot be written ({audit.failure}): reads are refused")
        try:
            self.platform.plane.published()
        except Exception as exc:  # the catalog is down or unreachable: report, do not fail
            problems.append(f"catalog: {type(exc).__name__}: {exc}")
        try:
            roots = self.platform.store.read_roots()
            if not any(root.exists() for root in roots):
                problems.append("storage: no snapshot folder yet")
        except Exception as exc:
            problems.append(f"storage: {exc}")
        return problems


def state_of(request: Request) -> ServerState:
    state = request.app.state.quanta
    assert isinstance(state, ServerState)
    return state

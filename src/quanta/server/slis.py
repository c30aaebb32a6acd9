"""Port SLIs off the request path: each answered request is added to its (product, port) window
in memory — a counter and a histogram bucket under a lock, no I/O — and a background thread
flushes the windows to the catalog's SLI store every interval (and once more at shutdown), as
the measurements of the products' availability and latency objectives."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from quanta.errors import NotFound
from quanta.project.platform import Platform
from quanta.quality.ports import PortWindow, port_measurements

log = logging.getLogger("quanta.server")


class PortSlis:
    """Windows of traffic per product and port, flushed every ``interval_s`` seconds."""

    def __init__(self, platform: Platform, bounds: tuple[float, ...], interval_s: float) -> None:
        self.platform = platform
        self.bounds = bounds
        self.interval_s = interval_s
        self._windows: dict[tuple[str, str], PortWindow] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def observe(self, product: str, port: str, status: int, seconds: float) -> None:
        """Count one request of ``port`` of ``product`` (none when the request named no port)."""
        if not product or not port:
            return
        with self._lock:
            window = self._windows.get((product, port))
            if window is None:
                window = self._windows[(product, port)] = PortWindow(self.bounds)
            window.observe(seconds, status >= 500)

    def flush(self, now: datetime | None = None) -> int:
        """Store the windows' measurements and start new windows; the number of records stored.
        A failure (the catalog unreachable) is logged and the interval's measurements are lost:
        serving never waits on them."""
        with self._lock:
            windows, self._windows = self._windows, {}
        moment = now or datetime.now(UTC)
        stored = 0
        for (product, port), window in sorted(windows.items()):
            try:
                spec = self.platform.plane.product(product)
                records = port_measurements(spec, port, window, moment)
                if records:
                    self.platform.catalog.slis.store(product, None, records)
                    stored += len(records)
            except NotFound:
                continue  # unpublished since: nothing to measure against
            except Exception as exc:  # the catalog is down: report, keep serving
                log.warning("port SLIs of %s/%s not stored: %s: %s", product, port, type(exc).__name__, exc)
        return stored

    def start(self) -> None:
        if self._thread is None and self.interval_s > 0:
            self._thread = threading.Thread(target=self._run, name="quanta-port-slis", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop flushing, after one last flush of what was measured since the previous one."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()

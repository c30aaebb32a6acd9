"""A product's own build time: what the run record charges it, excluding time spent waiting on
others (another run's claim on the product, another transform's module loading)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    """Wall time since it was made, less the time spent inside :meth:`waiting`."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._waited = 0.0
        self._lock = threading.Lock()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Time spent in this block is not the product's own."""
        began = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self._waited += time.perf_counter() - began

    @property
    def elapsed(self) -> float:
        """Seconds of the product's own time so far."""
        with self._lock:
            return time.perf_counter() - self._started - self._waited

"""Warm scoring workers: one child process per (product major, port, scoring-code digest),
started on first use, restarted when it died, stopped when a call overruns its timeout.

A worker answers one batch at a time (a lock per worker); the artefacts are sent again whenever
the snapshot a batch is scored with is not the one the worker holds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quanta.errors import QuantaError
from quanta.ports.model.worker import HEADER, as_sent, decode, encode

log = logging.getLogger("quanta.server")
WORKER = Path(__file__).with_name("worker.py")


class ScoringFailed(QuantaError):
    """The scoring function raised, returned the wrong shape or its worker died (HTTP 500);
    ``kind`` is ``exception``, ``shape`` or ``crash``."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class ScoringTimeout(QuantaError):
    """A batch took longer than the port's timeout; its worker was stopped (HTTP 504)."""


@dataclass(frozen=True)
class Code:
    """A port's scoring code as published: the files, the entry point and the feature types."""

    files: dict[str, str]
    entrypoint: str
    types: dict[str, str]
    digest: str


def clean_environment() -> dict[str, str]:
    """What a worker's environment holds: where Python finds Quanta and the libraries, a locale,
    nothing else (no ``QUANTA_*`` setting, token or key)."""
    import quanta

    environment = {"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONPATH": str(Path(quanta.__file__).parents[1])}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


class Worker:
    """One child process running :mod:`quanta.ports.model.worker`."""

    def __init__(self, code: Code) -> None:
        self.code = code
        self.lock = threading.Lock()
        self.snapshot: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def score(self, snapshot: str, artefacts: dict[str, Any], columns: dict[str, Any], timeout: float) -> Any:
        """The scoring function's columns (numeric ones as numpy arrays, others as lists) for
        ``columns`` (arrays or lists) with ``artefacts`` (sent if the worker holds another snapshot's)."""
        listed, arrays = {}, {}
        for name, values in columns.items():
            array, plain = as_sent(values) if not isinstance(values, list) else (None, values)
            if array is not None:
                arrays[name] = array
            else:
                listed[name] = plain
        with self.lock:
            if not self.alive():
                self._start(timeout)
            if self.snapshot != snapshot:
                self._call({"op": "artefacts", "snapshot": snapshot, "artefacts": artefacts}, timeout)
                self.snapshot = snapshot
            reply, answer = self._call({"op": "predict", "columns": listed}, timeout, arrays)
        returned = reply.get("columns")
        if not isinstance(returned, dict):
            raise ScoringFailed("the scoring worker answered no columns", "shape")
        return {**returned, **answer}

    def _start(self, timeout: float) -> None:
        self.stop()
        self._process = subprocess.Popen(
            [sys.executable, "-u", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=clean_environment(),
            cwd="/",
            close_fds=True,
        )
        self.snapshot = None
        code = self.code
        message = {"op": "code", "files": code.files, "entrypoint": code.entrypoint, "types": code.types}
        self._call(message, max(timeout, 30.0))  # importing numpy and the code takes a moment

    def _call(
        self, message: dict[str, Any], timeout: float, arrays: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        payload = encode(message, arrays)
        try:
            process.stdin.write(HEADER.pack(len(payload)) + payload)
            process.stdin.flush()
            reply, answer = decode(self._read(process, timeout))
        except (BrokenPipeError, ConnectionError, EOFError, ValueError) as exc:
            self.stop()
            said = "the scoring worker stopped unexpectedly; it is restarted on the next call"
            raise ScoringFailed(said, "crash") from exc
        if not reply.get("ok"):
            kind = str(reply.get("error", "exception"))
            text = str(reply.get("message", ""))
            if kind == "shape":
                raise ScoringFailed(f"the scoring function {text}", "shape")
            raise ScoringFailed(f"the scoring function failed ({text or 'no reason'})", kind)
        return reply, answer

    def _read(self, process: subprocess.Popen[bytes], timeout: float) -> bytes:
        """One reply frame, within ``timeout`` seconds (else the worker is stopped)."""
        assert process.stdout is not None
        fd = process.stdout.fileno()
        deadline = time.monotonic() + timeout
        head = self._exactly(fd, HEADER.size, deadline)
        (size,) = HEADER.unpack(head)
        return self._exactly(fd, size, deadline)

    def _exactly(self, fd: int, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        left = size
        while left:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(remaining, 0))
            if not ready:
                self.stop()
                raise ScoringTimeout("scoring took longer than the port's timeout; the worker was stopped")
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the worker closed its output")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        process, self._process = self._process, None
        self.snapshot = None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if process.poll() is None:
            process.kill()
        process.wait()


class WorkerPool:
    """The warm workers by (product key, port, code digest)."""

    def __init__(self) -> None:
        self._workers: dict[tuple[str, str, str], Worker] = {}
        self._guard = threading.Lock()

    def worker(self, product: str, port: str, code: Code) -> Worker:
        """The worker for this code; a worker of an older digest of the same port is stopped."""
        key = (product, port, code.digest)
        with self._guard:
            found = self._workers.get(key)
            if found is not None:
                return found
            stale = [k for k in self._workers if k[:2] == key[:2]]
            for old in stale:
                self._workers.pop(old).stop()
            worker = self._workers[key] = Worker(code)
            return worker

    def workers(self) -> list[Worker]:
        with self._guard:
            return list(self._workers.values())

    def close(self) -> None:
        with self._guard:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            with worker.lock:
                worker.stop()

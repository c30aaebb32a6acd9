"""Ctrl-C during a build: ``interrupt()`` stops the engine's running jobs at once, and they fail
with a transform error (never half a snapshot presented as done)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from conformance_kit import job, parquet_relation

from quanta.engines.base import Engine, TransformError

LONG = "select count(*) as n from big a, big b, small c"  # 10^13 rows


def test_interrupt_stops_a_running_job(fresh_engine: Callable[[], Engine], tmp_path: Path) -> None:
    engine = fresh_engine()
    inputs = (
        parquet_relation(tmp_path / "in", "big", pa.table({"x": range(100_000)})),
        parquet_relation(tmp_path / "in", "small", pa.table({"x": range(1_000)})),
    )
    outcome: dict[str, BaseException | None] = {}

    def run() -> None:
        try:
            engine.run(job(tmp_path / "out", [LONG], [("n", "integer")], inputs))
            outcome["error"] = None
        except BaseException as exc:  # handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    time.sleep(2.0)  # the job is running
    assert worker.is_alive()
    started = time.monotonic()
    engine.interrupt()
    worker.join(30)
    assert not worker.is_alive(), "the job went on after interrupt()"
    assert time.monotonic() - started < 30
    assert isinstance(outcome["error"], TransformError)
    with pytest.raises(TransformError, match="interrupted"):  # and nothing new starts on it
        engine.run(job(tmp_path / "again", ["select 1 as n"], [("n", "integer")]))

"""Ctrl-C stops a long DuckDB query at once, even one that DuckDB alone would not interrupt."""

from __future__ import annotations

import os
import signal
import threading
import time

import duckdb
import pytest

from quanta.engines.interrupt import interruptible

LONG = "SELECT count(*) FROM range(100000) a, range(100000) b, range(1000) c"  # 10^13 rows


def test_ctrl_c_interrupts_a_long_aggregate_and_leaves_the_connection_usable() -> None:
    connection = duckdb.connect(config={"threads": 2})
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        interruptible(connection, lambda: connection.sql(LONG).fetchall())
    assert time.monotonic() - started < 10
    assert connection.sql("SELECT 42").fetchall() == [(42,)]
    connection.close()


def test_results_and_errors_come_back_as_from_a_direct_call() -> None:
    connection = duckdb.connect()
    assert interruptible(connection, lambda: connection.sql("SELECT 1 + 1").fetchall()) == [(2,)]
    with pytest.raises(duckdb.CatalogException):
        interruptible(connection, lambda: connection.sql("SELECT * FROM missing").fetchall())
    connection.close()

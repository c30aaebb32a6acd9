"""Ctrl-C for long DuckDB calls.

DuckDB checks for a pending SIGINT only at some points of a query. An aggregate that produces
nothing until it ends can ignore Ctrl-C for its whole run. Running the call on a helper thread
keeps the main thread in an interruptible wait. On Ctrl-C it interrupts the connection and
re-raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def interruptible(connection: Any, call: Callable[[], T]) -> T:
    """``call()`` (a DuckDB call on ``connection``), interrupted by Ctrl-C on the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return call()
    outcome: dict[str, Any] = {}
    done = threading.Event()  # not Thread.join: a join interrupted once may not wait again

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed back to the caller's thread as is
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="duckdb-call", daemon=True).start()
    try:
        done.wait()
    except KeyboardInterrupt:
        connection.interrupt()
        done.wait()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]

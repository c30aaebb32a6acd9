"""The engine registry: built-ins and installed entry points by name, capabilities known without
starting an engine, a clear error for an unknown name; the pool that hands a build its engines."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from installed_engine import installed_engine  # noqa: F401  (a fixture)

from quanta.engines.base import Column, SqlStep, TransformJob
from quanta.engines.pool import EnginePool
from quanta.engines.registry import EngineOptions, EngineRegistry, UnknownEngine


def test_builtin_engines_are_known_by_name_and_capabilities_come_without_the_library() -> None:
    script = (
        "import sys; from quanta.engines.registry import EngineRegistry; r = EngineRegistry.default(); "
        "c = r.capabilities('duckdb'); print(c.dialect, c.parallel_jobs, sorted(c.python_modes), "
        "'duckdb' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["duckdb", "True", "['arrow']", "False"]


def test_an_unknown_engine_names_the_registered_ones() -> None:
    with pytest.raises(UnknownEngine, match=r"no engine 'sparkle' is registered \(registered: .*duckdb"):
        EngineRegistry.default().create("sparkle")


def test_an_installed_entry_point_is_registered(installed_engine: str, tmp_path: Path) -> None:  # noqa: F811
    registry = EngineRegistry.default()
    assert "serial" in registry.names()
    assert registry.capabilities("serial").parallel_jobs is False
    engine = registry.create("serial", EngineOptions(threads=1))
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    result = engine.run(
        TransformJob((), (Column("a", "integer"),), out, steps=(SqlStep("s", "select 1 as a", "duckdb"),))
    )
    assert result.rows == 1
    assert [str(out)] == sys.modules[installed_engine].RAN


def test_the_pool_creates_engines_on_first_use_and_serialises_an_engine_without_parallel_jobs(
    installed_engine: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    pool = EnginePool(EngineRegistry.default(), "duckdb")
    assert pool.capabilities("serial").name == "serial"
    assert installed_engine not in sys.modules or not sys.modules[installed_engine].RAN
    inside = {"now": 0, "most": 0}
    lock = threading.Lock()

    def job() -> None:
        with pool.slot("serial"):
            with lock:
                inside["now"] += 1
                inside["most"] = max(inside["most"], inside["now"])
            time.sleep(0.2)
            with lock:
                inside["now"] -= 1

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inside["most"] == 1
    with pool.slot() as default:
        assert default.capabilities.name == "duckdb" and default.capabilities.parallel_jobs
    pool.close()


def test_the_spark_engine_without_pyspark_names_the_extra_to_install() -> None:
    script = (
        "import sys; sys.modules['pyspark'] = None\n"
        "from quanta.engines.registry import EngineRegistry\n"
        "r = EngineRegistry.default(); print(r.capabilities('spark').dialect)\n"
        "try:\n    r.create('spark')\nexcept ImportError as exc:\n    print(exc)\n"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert shown.splitlines()[0] == "spark"
    assert "pip install 'quanta[spark]'" in shown.splitlines()[1]

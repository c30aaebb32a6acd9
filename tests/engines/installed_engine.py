"""An engine installed the way a plugin package installs one: a distribution on ``sys.path`` whose
``entry_points.txt`` names an :class:`EngineType` in group ``quanta.engines``. The engine is the
real DuckDB engine under another name, run one job at a time, recording the jobs it ran."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

MODULE = """
import dataclasses
import threading

from quanta.engines.duckdb.declaration import CAPABILITIES
from quanta.engines.duckdb.engine import DuckDBEngine
from quanta.engines.registry import EngineType

RAN = []
LOCK = threading.Lock()
RUNNING = [0, 0]  # now, most at once


class SerialEngine(DuckDBEngine):
    capabilities = dataclasses.replace(CAPABILITIES, name="serial", parallel_jobs=False)

    def run(self, job):
        with LOCK:
            RUNNING[0] += 1
            RUNNING[1] = max(RUNNING)
        try:
            RAN.append(str(job.output_dir))
            return super().run(job)
        finally:
            with LOCK:
                RUNNING[0] -= 1


ENGINE = EngineType(SerialEngine.capabilities, lambda options: SerialEngine(options.threads))
"""


@pytest.fixture
def installed_engine(tmp_path: Path) -> Iterator[str]:
    """Install the ``serial`` engine's distribution; yields its module name."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "quanta_serial_engine.py").write_text(textwrap.dedent(MODULE))
    info = site / "quanta_serial_engine-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: quanta-serial-engine\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[quanta.engines]\nserial = quanta_serial_engine:ENGINE\n")
    sys.path.insert(0, str(site))
    try:
        yield "quanta_serial_engine"
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("quanta_serial_engine", None)

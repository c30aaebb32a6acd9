"""Run `quanta` commands in a benchmark both ways: through the warm fork server and cold.

The server runs in a private runtime folder; its log gives the peak RSS of each child, since
the client process itself only waits.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path


class Modes:
    """Environments for the two ways of running a command, and the server's bookkeeping."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.warm = {**os.environ, "QUANTA_DAEMON": "1", "QUANTA_RUNTIME_DIR": str(folder)}
        self.cold = {**os.environ, "QUANTA_DAEMON": "0"}

    def both(self) -> dict[str, dict[str, str]]:
        return {"fork server": self.warm, "cold": self.cold}

    def start(self) -> None:
        """Start the server with one routed command and wait until it listens."""
        subprocess.run(
            [sys.executable, "-m", "quanta", "status", "--mesh", "/nonexistent"], env=self.warm, capture_output=True
        )
        deadline = time.monotonic() + 60
        while not list((self.folder / "quanta").glob("*.sock")):
            if time.monotonic() > deadline:
                raise SystemExit("the fork server did not start")
            time.sleep(0.1)

    def last_child_rss(self) -> float:
        """Peak RSS (MiB) of the child that ran the last command through the server."""
        log = "".join(p.read_text() for p in (self.folder / "quanta").glob("*.log"))
        return float(re.findall(r"peak RSS (\d+) MiB", log)[-1])

    def stop(self) -> None:
        for path in (self.folder / "quanta").glob("*.sock"):
            path.unlink()

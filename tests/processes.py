"""Looking at processes from tests through /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()
    except (FileNotFoundError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def state(pid: int) -> str | None:
    """The process state letter (R running, S sleeping, T stopped, Z zombie), None when gone."""
    fields = _stat(pid)
    return fields[0] if fields else None


def children(pid: int) -> list[int]:
    """Pids of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

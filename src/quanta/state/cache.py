"""``LocalState``: a checkout's caches in one SQLite file (stdlib ``sqlite3``; no SQLAlchemy on the
no-op path). Losing the file costs only re-hashing: every value can be computed again."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

STATE_FILE = ".quanta/state.db"
"""Where a checkout keeps its local state, relative to the mesh root."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS code_digests (raw_sha256 TEXT PRIMARY KEY, normalised_sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memos (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key));
"""


class LocalState:
    """File hashes (by absolute path, size and mtime), code digests (raw → normalised) and memos:
    results of pure functions by a digest of their input (such as a parsed row filter)."""

    def __init__(self, path: Path | None) -> None:
        """``path`` None keeps the caches in memory (nothing is remembered between commands)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path) if path else ":memory:", timeout=30, check_same_thread=False)
        with self._lock:
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def cached_hashes(self, paths: Sequence[str]) -> dict[str, tuple[int, int, str]]:
        found: dict[str, tuple[int, int, str]] = {}
        with self._lock:
            for start in range(0, len(paths), 500):
                chunk = list(paths[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT path, size, mtime_ns, sha256 FROM file_hashes WHERE path IN ({marks})", chunk
                )
                found.update({path: (size, mtime, sha) for path, size, mtime, sha in rows})
        return found

    def store_hashes(self, entries: dict[str, tuple[int, int, str]]) -> None:
        if not entries:
            return
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO file_hashes (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)",
                [(p, s, m, h) for p, (s, m, h) in entries.items()],
            )

    def code_digest(self, raw_sha256: str) -> str | None:
        """The normalised digest remembered for code with this raw digest, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT normalised_sha256 FROM code_digests WHERE raw_sha256 = ?", (raw_sha256,)
            ).fetchone()
        return row[0] if row else None

    def store_code_digest(self, raw_sha256: str, normalised_sha256: str) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO code_digests (raw_sha256, normalised_sha256) VALUES (?, ?)",
                (raw_sha256, normalised_sha256),
            )

    def memo(self, kind: str, key: str) -> str | None:
        """The value remembered for ``key`` of this kind, if any."""
        with self._lock:
            row = self._db.execute("SELECT value FROM memos WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return row[0] if row else None

    def remember(self, kind: str, key: str, value: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO memos (kind, key, value) VALUES (?, ?, ?)", (kind, key, value))

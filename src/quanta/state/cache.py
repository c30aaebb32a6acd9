"""``LocalState``: a checkout's caches in one SQLite file (stdlib ``sqlite3``; no SQLAlchemy on the
no-op path). Losing the file costs only re-hashing: every value can be computed again."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

STATE_FILE = ".quanta/state.db"
"""Where a checkout keeps its local state, relative to the mesh root."""

LAYOUT = 2
"""The file hash cache's layout (``PRAGMA user_version``); a cache of another layout is dropped."""

_FILE_HASHES = """CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL, device INTEGER NOT NULL, sha256 TEXT NOT NULL, stamped_ns INTEGER NOT NULL)"""
_CODE_DIGESTS = """CREATE TABLE IF NOT EXISTS code_digests (
    raw_sha256 TEXT PRIMARY KEY, normalised_sha256 TEXT NOT NULL)"""
_MEMOS = """CREATE TABLE IF NOT EXISTS memos (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key))"""
_U64 = 1 << 64


class FileStamp(NamedTuple):
    """What ``stat`` says of a file. Rewriting it moves ctime even when size and mtime are restored;
    replacing it moves the inode."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


class CachedHash(NamedTuple):
    """A file's sha256 with its stamp, and when (wall clock) that stamp was taken."""

    stamp: FileStamp
    sha256: str
    stamped_ns: int


class LocalState:
    """File hashes (by absolute path, with their stamps), code digests (raw → normalised) and
    memos: results of pure functions by a digest of their input (such as a parsed row filter)."""

    def __init__(self, path: Path | None) -> None:
        """``path`` None keeps the caches in memory (nothing is remembered between commands)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path) if path else ":memory:", timeout=30, check_same_thread=False)
        with self._lock:
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
            _prepare(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def cached_hashes(self, paths: Sequence[str]) -> dict[str, CachedHash]:
        found: dict[str, CachedHash] = {}
        with self._lock:
            for start in range(0, len(paths), 500):
                chunk = list(paths[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT path, size, mtime_ns, ctime_ns, inode, device, sha256, stamped_ns"
                    f" FROM file_hashes WHERE path IN ({marks})",
                    chunk,
                )
                found.update({row[0]: _cached(row[1:]) for row in rows})
        return found

    def store_hashes(self, entries: dict[str, CachedHash]) -> None:
        if not entries:
            return
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO file_hashes"
                " (path, size, mtime_ns, ctime_ns, inode, device, sha256, stamped_ns)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(path, *_row(entry)) for path, entry in entries.items()],
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


def _prepare(db: sqlite3.Connection) -> None:
    """Create the tables; a file hash cache of another layout is dropped (it is only a cache), in
    one transaction so that two commands opening an old file at once agree."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] != LAYOUT:
            db.execute("DROP TABLE IF EXISTS file_hashes")
            db.execute(f"PRAGMA user_version = {LAYOUT}")
        db.execute(_FILE_HASHES)
        db.execute(_CODE_DIGESTS)
        db.execute(_MEMOS)
    except BaseException:
        db.rollback()
        raise
    db.commit()


def _row(entry: CachedHash) -> tuple[int, int, int, int, int, str, int]:
    """The columns of an entry; inode and device numbers are unsigned 64-bit, SQLite's are signed."""
    size, mtime_ns, ctime_ns, inode, device = entry.stamp
    return size, mtime_ns, ctime_ns, _signed(inode), _signed(device), entry.sha256, entry.stamped_ns


def _cached(row: Sequence[int | str]) -> CachedHash:
    size, mtime_ns, ctime_ns, inode, device, sha, stamped_ns = row
    assert isinstance(sha, str)
    stamp = FileStamp(int(size), int(mtime_ns), int(ctime_ns), int(inode) % _U64, int(device) % _U64)
    return CachedHash(stamp, sha, int(stamped_ns))


def _signed(value: int) -> int:
    return value - _U64 if value >= 1 << 63 else value

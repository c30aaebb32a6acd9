"""File inputs that change are never half-read: a change during the read is retried or fails the
product (never a mixed snapshot); a change that restores size and mtime is still seen; a no-op
build does not re-read unchanged files."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from helpers import build, read

import quanta.build.inputs.files as files
from quanta.hashing import file_sha256
from quanta.project import Mesh
from quanta.state import CachedHash, FileStamp, LocalState

KEY = "sales.drops@v1"

MESH = """apiVersion: quanta/v1
kind: Mesh
name: drops
platform: {engine: duckdb, storage: .quanta/warehouse, catalog: "sqlite:///.quanta/catalog.db", threads: 2}
domains: [{name: sales}]
systems: [{name: shop, domain: sales}]
products: [products/**/dataproduct.yaml]
"""

PRODUCT = """apiVersion: quanta/v1
kind: DataProduct
name: drops
domain: sales
version: 1.0.0
inputs:
  - {id: drops, type: files, path: "data/drops.csv", system: shop}
transform: {type: python, entrypoint: load.py:build}
schema:
  properties:
    - {name: id, logicalType: integer, required: true, primaryKey: true}
    - {name: label, logicalType: string, required: true}
"""

# Reads the first half of the input, lets a "writer" overwrite the file in place (as often as the
# counter file says), then reads the rest: without protection, the two halves come from two versions.
LOAD_PY = """import os
from pathlib import Path

import pyarrow as pa

DATA = Path({data!r})
REWRITES = Path({rewrites!r})


def _overwrite():
    left = int(REWRITES.read_text()) if REWRITES.exists() else 0
    if left <= 0:
        return
    REWRITES.write_text(str(left - 1))
    before = DATA.stat()
    rows = int(os.environ.get("DROPS_NEW_ROWS", "0")) or sum(1 for _ in DATA.open()) - 1
    label = os.environ.get("DROPS_NEW_LABEL") or "w%02d" % left
    with DATA.open("w") as handle:  # in place: the inode stays, ctime moves
        handle.write("id,label\\n" + "".join(f"{{i}},{{label}}\\n" for i in range(rows)))
    if os.environ.get("DROPS_RESTORE_MTIME"):
        os.utime(DATA, ns=(before.st_atime_ns, before.st_mtime_ns))


def build(inputs, info):
    first = inputs.sql("select * from drops where id < 500")
    _overwrite()
    rest = inputs.sql("select * from drops where id >= 500")
    return pa.concat_tables([first, rest])
"""


def write_csv(path: Path, rows: int, label: str) -> None:
    path.write_text("id,label\n" + "".join(f"{i},{label}\n" for i in range(rows)))


@pytest.fixture
def drops(tmp_path: Path) -> Path:
    root = tmp_path / "drops"
    (root / "data").mkdir(parents=True)
    (root / "products/sales/drops").mkdir(parents=True)
    (root / "mesh.yaml").write_text(MESH)
    (root / "products/sales/drops/dataproduct.yaml").write_text(PRODUCT)
    data, rewrites = root / "data/drops.csv", root / "rewrites"
    (root / "products/sales/drops/load.py").write_text(LOAD_PY.format(data=str(data), rewrites=str(rewrites)))
    write_csv(data, 1000, "old")
    return root


def rewrites(root: Path, count: int) -> None:
    (root / "rewrites").write_text(str(count))


def current_id(root: Path) -> str | None:
    mesh = Mesh.load(root)
    try:
        current = mesh.workspace.catalog.snapshots.current(KEY)
        return current.id if current else None
    finally:
        mesh.close()


def published(root: Path) -> list[str]:
    mesh = Mesh.load(root)
    try:
        return [s.id for s in mesh.workspace.catalog.snapshots.list(KEY) if s.status == "published"]
    finally:
        mesh.close()


def labels(root: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in read(root, "sales.drops"):
        counts[row["label"]] = counts.get(row["label"], 0) + 1
    return counts


def test_a_file_overwritten_during_the_read_is_read_again_whole(drops: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert build(drops)[KEY].status == "built"
    write_csv(drops / "data/drops.csv", 1000, "mid")
    monkeypatch.setenv("DROPS_NEW_ROWS", "1500")
    monkeypatch.setenv("DROPS_NEW_LABEL", "new")
    rewrites(drops, 1)  # the writer strikes during the first attempt only
    outcome = build(drops)[KEY]
    assert outcome.status == "built", outcome.error
    assert labels(drops) == {"new": 1500}  # the whole new file, not 500 "mid" rows and 1000 "new" ones
    assert outcome.rows == 1500


def test_a_file_that_keeps_changing_fails_the_product_and_keeps_the_last_good_snapshot(
    drops: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build(drops)[KEY].status == "built"
    good = current_id(drops)
    write_csv(drops / "data/drops.csv", 1000, "mid")
    monkeypatch.setenv("DROPS_RESTORE_MTIME", "1")  # same size, same mtime each time: only ctime tells
    rewrites(drops, 99)
    outcome = build(drops)[KEY]
    assert outcome.status == "failed"
    assert outcome.error == (
        "input 'drops': file data/drops.csv changed while it was read (read 3 times; nothing was published)"
    )
    assert current_id(drops) == good and published(drops) == [good]
    assert labels(drops) == {"old": 1000}


def test_a_change_that_restores_size_and_mtime_is_rebuilt(drops: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "RACY_WINDOW_NS", 0)  # the cache entry is trusted: only the stamp can tell
    assert build(drops)[KEY].status == "built"
    data = drops / "data/drops.csv"
    before = data.stat()
    write_csv(data, 1000, "new")
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = data.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    outcome = build(drops)[KEY]
    assert (outcome.status, outcome.reasons) == ("built", ("input 'drops' changed",))
    assert labels(drops) == {"new": 1000}


def test_a_file_replaced_by_another_of_the_same_size_and_mtime_is_rebuilt(
    drops: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "RACY_WINDOW_NS", 0)
    assert build(drops)[KEY].status == "built"
    data, replacement = drops / "data/drops.csv", drops / "data/replacement.tmp"
    before = data.stat()
    write_csv(replacement, 1000, "new")
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, data)  # a new inode under the old name
    assert build(drops)[KEY].reasons == ("input 'drops' changed",)


def counting_hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []

    def counted(path: Path) -> str:
        calls.append(path)
        return file_sha256(path)

    monkeypatch.setattr(files, "file_sha256", counted)
    return calls


def test_a_no_op_build_does_not_read_unchanged_files_again(drops: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "RACY_WINDOW_NS", 0)
    calls = counting_hashes(monkeypatch)
    assert build(drops)[KEY].status == "built"
    assert len(calls) == 1  # fingerprinted once; the post-read check only stats
    calls.clear()
    assert build(drops)[KEY].status == "skipped"
    assert calls == []


def test_a_file_hashed_just_after_it_was_written_is_hashed_again(drops: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Timestamps tick coarsely: a write in the same tick as the hash would keep the stamp, so a
    hash taken within the window of the file's last change is not trusted."""
    monkeypatch.setattr(files, "RACY_WINDOW_NS", 3600 * 10**9)
    calls = counting_hashes(monkeypatch)
    build(drops)
    calls.clear()
    assert build(drops)[KEY].status == "skipped"
    assert len(calls) == 1


def test_an_old_state_cache_is_replaced_without_losing_code_digests(tmp_path: Path) -> None:
    path = tmp_path / ".quanta/state.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE file_hashes (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
            " sha256 TEXT NOT NULL);"
            "CREATE TABLE code_digests (raw_sha256 TEXT PRIMARY KEY, normalised_sha256 TEXT NOT NULL);"
            "INSERT INTO file_hashes VALUES ('/x.csv', 1, 2, 'abc');"
            "INSERT INTO code_digests VALUES ('raw', 'normalised');"
        )
    db.close()
    state = LocalState(path)
    try:
        assert state.cached_hashes(["/x.csv"]) == {}
        assert state.code_digest("raw") == "normalised"
        stamp = FileStamp(1, 2, 3, 4, 5)
        state.store_hashes({"/x.csv": CachedHash(stamp, "def", 6)})
        assert state.cached_hashes(["/x.csv"]) == {"/x.csv": CachedHash(stamp, "def", 6)}
    finally:
        state.close()
    again = LocalState(path)  # opening an upgraded cache keeps it
    try:
        assert "/x.csv" in again.cached_hashes(["/x.csv"])
    finally:
        again.close()

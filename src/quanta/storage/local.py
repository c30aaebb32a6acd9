"""Snapshots on a local (or mounted) file system.

Layout under the warehouse root::

    _staging/<build-id>/<domain>/<name>/v<major>/     engines write here first
    products/<domain>/<name>/v<major>/<snapshot-id>/  data/*.parquet + manifest.json
    raw/<domain>/<name>/v<major>/<input>/<sha256>.ndjson   landed API responses

A snapshot becomes visible under ``products/`` by one atomic rename of a complete folder
(manifest written last), so nothing half-written is ever found there.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quanta.hashing import file_sha256

MANIFEST = "manifest.json"
DATA = "data"


class SnapshotDamaged(Exception):
    """A snapshot's files do not match its manifest (missing, truncated or extended)."""


def manifest_files(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The data files a manifest lists: ``path`` (relative to the snapshot folder), ``bytes``, ``sha256``."""
    files = manifest.get("files")
    if not isinstance(files, list):
        raise SnapshotDamaged("the manifest lists no files")
    return [f for f in files if isinstance(f, dict) and {"path", "bytes", "sha256"} <= set(f)]


def listed_files(folder: Path, manifest: dict[str, Any], what: str) -> list[Path]:
    """The manifest's files under ``folder``, each with the listed size; :class:`SnapshotDamaged`
    names the first that is not."""
    paths = []
    for entry in manifest_files(manifest):
        relative = Path(entry["path"])
        if relative.is_absolute() or ".." in relative.parts:
            raise SnapshotDamaged(f"{what}: the manifest lists a file outside the snapshot: {entry['path']}")
        path = folder / relative
        try:
            size = path.stat().st_size
        except OSError:
            raise SnapshotDamaged(f"{what}: {entry['path']} is missing") from None
        if size != entry["bytes"]:
            raise SnapshotDamaged(f"{what}: {entry['path']} has {size} bytes, the manifest says {entry['bytes']}")
        paths.append(path)
    return paths


def new_id(now: datetime | None = None) -> str:
    """A time-ordered unique id, e.g. ``20261129T185500123456Z-9f2c4a1b``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"


def id_time(identifier: str) -> datetime | None:
    """When an id from :func:`new_id` was made; None for a name that is not such an id."""
    try:
        return datetime.strptime(identifier.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def made_before(identifier: str, moment: datetime) -> bool:
    """Whether a snapshot or build id was made before ``moment`` (a name that is no id: yes)."""
    made = id_time(identifier)
    return made is None or made < moment


@dataclass(frozen=True)
class SnapshotLocation:
    """Identity of one product major's snapshot folder."""

    domain: str
    name: str
    major: int

    @property
    def parts(self) -> tuple[str, str, str]:
        return (self.domain, self.name, f"v{self.major}")


class LocalSnapshotStore:
    """Snapshot folders under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -------------------------------------------------------------- writing

    def staging_dir(self, build_id: str, location: SnapshotLocation) -> Path:
        """An empty folder the engine writes a new snapshot's data into."""
        path = self.root.joinpath("_staging", build_id, *location.parts)
        if path.exists():
            shutil.rmtree(path)
        (path / DATA).mkdir(parents=True)
        return path

    def commit(self, staged: Path, location: SnapshotLocation, snapshot_id: str, manifest: dict[str, Any]) -> Path:
        """Write the manifest into ``staged`` and move the complete folder into place atomically."""
        _write_json(staged / MANIFEST, manifest)
        target = self.snapshot_dir(location, snapshot_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        _fsync_dir(target.parent)
        return target

    def land_raw(self, location: SnapshotLocation, input_id: str, payload: bytes) -> tuple[Path, str]:
        """Store raw input bytes content-addressed; returns the file and its sha256."""
        digest = hashlib.sha256(payload).hexdigest()
        folder = self.root.joinpath("raw", *location.parts, input_id)
        target = folder / f"{digest}.ndjson"
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            temporary = folder / f".{digest}.{secrets.token_hex(4)}.tmp"
            temporary.write_bytes(payload)
            os.replace(temporary, target)
        return target, digest

    # -------------------------------------------------------------- reading

    def snapshot_dir(self, location: SnapshotLocation, snapshot_id: str) -> Path:
        return self.root.joinpath("products", *location.parts, snapshot_id)

    def data_files(self, location: SnapshotLocation, snapshot_id: str) -> list[Path]:
        """Exactly the data files the manifest lists, each checked to exist with its listed size
        (anything else in the folder is ignored); :class:`SnapshotDamaged` otherwise."""
        folder = self.snapshot_dir(location, snapshot_id)
        return listed_files(folder, self.manifest(location, snapshot_id), f"snapshot {snapshot_id}")

    def data_uris(
        self, location: SnapshotLocation, snapshot_id: str, schemes: frozenset[str] = frozenset({"file"})
    ) -> list[str]:
        """The data files as ``file://`` URIs (every engine reads those)."""
        return [path.absolute().as_uri() for path in self.data_files(location, snapshot_id)]

    def read_roots(self) -> list[Path]:
        """Folders readers may open files under (the published snapshots)."""
        return [self.root / "products"]

    def verify(self, location: SnapshotLocation, snapshot_id: str) -> list[str]:
        """Every problem with the snapshot's files: missing, wrong size or wrong checksum."""
        folder = self.snapshot_dir(location, snapshot_id)
        try:
            manifest = self.manifest(location, snapshot_id)
        except (OSError, ValueError) as exc:
            return [f"manifest unreadable: {exc}"]
        problems = []
        for entry in manifest_files(manifest):
            path = folder / entry["path"]
            try:
                size = path.stat().st_size
            except OSError:
                problems.append(f"{entry['path']} is missing")
                continue
            if size != entry["bytes"]:
                problems.append(f"{entry['path']} has {size} bytes, the manifest says {entry['bytes']}")
            elif file_sha256(path) != entry["sha256"]:
                problems.append(f"{entry['path']} does not match its checksum")
        return problems

    def manifest(self, location: SnapshotLocation, snapshot_id: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads((self.snapshot_dir(location, snapshot_id) / MANIFEST).read_text())
        return result

    def snapshot_ids(self, location: SnapshotLocation) -> list[str]:
        """Complete snapshot folders (with a manifest) of one product major, oldest first."""
        folder = self.root.joinpath("products", *location.parts)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / MANIFEST).is_file())

    def locations(self) -> list[SnapshotLocation]:
        base = self.root / "products"
        found = []
        for major in sorted(base.glob("*/*/v*")):
            if major.is_dir() and major.name[1:].isdigit():
                found.append(SnapshotLocation(major.parent.parent.name, major.parent.name, int(major.name[1:])))
        return found

    # -------------------------------------------------------------- removing

    def delete(self, location: SnapshotLocation, snapshot_id: str) -> None:
        shutil.rmtree(self.snapshot_dir(location, snapshot_id), ignore_errors=True)

    def remove_incomplete(self, location: SnapshotLocation, before: datetime) -> list[str]:
        """Remove folders under a product major that are not complete snapshots (interrupted moves)
        and were made before ``before``."""
        folder = self.root.joinpath("products", *location.parts)
        if not folder.is_dir():
            return []
        removed = sorted(p for p in folder.iterdir() if not (p / MANIFEST).is_file() and made_before(p.name, before))
        for path in removed:
            shutil.rmtree(path, ignore_errors=True)
        return [str(p) for p in removed]

    def raw_files(self) -> dict[str, datetime]:
        """Every landed raw file (and unfinished ``.tmp`` landings) by key under ``raw/``, with
        when it was last written."""
        base = self.root / "raw"
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []
        return {p.relative_to(self.root).as_posix(): _modified(p) for p in files}

    def delete_raw(self, key: str) -> str:
        """Delete one raw file by key; returns where it was."""
        path = self.root / key
        path.unlink(missing_ok=True)
        return str(path)

    def discard_staging(self, build_id: str) -> None:
        """Remove what a build left in staging (its snapshots were moved out when committed)."""
        shutil.rmtree(self.root / "_staging" / build_id, ignore_errors=True)

    def clear_staging(self, keep: set[str], before: datetime) -> list[str]:
        """Remove staging folders of builds not in ``keep`` started before ``before``; returns
        what was removed."""
        removed = []
        staging = self.root / "_staging"
        if staging.is_dir():
            for build in sorted(staging.iterdir()):
                if build.name not in keep and made_before(build.name, before):
                    shutil.rmtree(build, ignore_errors=True)
                    removed.append(str(build))
        return removed

    def describe(self, location: SnapshotLocation, snapshot_id: str) -> str:
        """Where a snapshot lives, for messages."""
        return str(self.snapshot_dir(location, snapshot_id))


def _modified(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return datetime.now(UTC)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True, default=str)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def utcnow() -> datetime:
    return datetime.now(UTC)

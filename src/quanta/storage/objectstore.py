"""Snapshots in an S3-compatible object store, reached through PyArrow's file systems (DuckDB's
httpfs extension cannot be downloaded offline).

Same layout as :mod:`quanta.storage.local` under ``s3://bucket/prefix``. Builds stage locally;
``commit`` uploads the data files and then the manifest: a snapshot exists once its manifest
does (one PUT is atomic), so readers never see a partial one and gc removes prefixes without a
manifest. Reads go through a local cache that is itself a :class:`LocalSnapshotStore`: snapshots
are immutable, so a cached copy never goes stale.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from quanta import faults
from quanta.hashing import file_sha256
from quanta.storage.local import (
    DATA,
    MANIFEST,
    LocalSnapshotStore,
    SnapshotDamaged,
    SnapshotLocation,
    made_before,
    manifest_files,
)

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem


class ObjectSnapshotStore:
    """Snapshot prefixes under ``base`` (``bucket/prefix``) of ``filesystem``, cached in ``cache``."""

    def __init__(self, filesystem: FileSystem, base: str, cache: Path) -> None:
        self.filesystem = filesystem
        self.base = base.strip("/")
        self.cache = LocalSnapshotStore(cache)

    @classmethod
    def from_url(cls, url: str, cache: Path, endpoint: str | None = None) -> ObjectSnapshotStore:
        """``s3://bucket/prefix``; credentials and region come from the usual AWS environment
        variables, ``endpoint`` (for example ``http://127.0.0.1:9000``) points at MinIO or moto."""
        from pyarrow.fs import S3FileSystem

        parts = urlsplit(url)
        options: dict[str, Any] = {}
        if endpoint:
            target = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
            options.update(endpoint_override=target.netloc, scheme=target.scheme or "https")
        return cls(S3FileSystem(**options), f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/"), cache)

    # -------------------------------------------------------------- writing

    def staging_dir(self, build_id: str, location: SnapshotLocation) -> Path:
        return self.cache.staging_dir(build_id, location)

    def commit(self, staged: Path, location: SnapshotLocation, snapshot_id: str, manifest: dict[str, Any]) -> str:
        """Upload the data files, then the manifest; keep the staged copy as the cached one."""
        prefix = self._snapshot(location, snapshot_id)
        for path in sorted((staged / DATA).glob("*.parquet")):
            self._upload(path, f"{prefix}/{DATA}/{path.name}")
        faults.checkpoint(faults.BEFORE_MANIFEST_UPLOAD)
        payload = json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()
        with self.filesystem.open_output_stream(f"{prefix}/{MANIFEST}") as stream:
            stream.write(payload)
        self.cache.commit(staged, location, snapshot_id, manifest)
        return f"s3://{prefix}"

    def land_raw(self, location: SnapshotLocation, input_id: str, payload: bytes) -> tuple[Path, str]:
        path, digest = self.cache.land_raw(location, input_id, payload)
        key = f"{self.base}/{path.relative_to(self.cache.root).as_posix()}"
        if not self._exists(key):
            self._upload(path, key)
        return path, digest

    # -------------------------------------------------------------- reading

    def data_files(self, location: SnapshotLocation, snapshot_id: str) -> list[Path]:
        """Local copies of the snapshot's data files, downloaded on first use."""
        if not (self.cache.snapshot_dir(location, snapshot_id) / MANIFEST).is_file():
            self._download(location, snapshot_id)
        return self.cache.data_files(location, snapshot_id)

    def data_uris(
        self, location: SnapshotLocation, snapshot_id: str, schemes: frozenset[str] = frozenset({"file"})
    ) -> list[str]:
        """``s3://`` URIs of the stored files (each checked against the manifest's size) for an
        engine that reads the object store itself, so nothing passes through this machine;
        otherwise ``file://`` URIs of the local cache's copies."""
        if "s3" not in schemes:
            return [path.absolute().as_uri() for path in self.data_files(location, snapshot_id)]
        from pyarrow.fs import FileType

        prefix = self._snapshot(location, snapshot_id)
        uris = []
        for entry in manifest_files(self.manifest(location, snapshot_id)):
            relative = PurePosixPath(entry["path"])
            if relative.is_absolute() or ".." in relative.parts:
                raise SnapshotDamaged(f"snapshot {snapshot_id}: the manifest lists a file outside it: {relative}")
            key = f"{prefix}/{relative}"
            info = self.filesystem.get_file_info(key)
            if info.type != FileType.File:
                raise SnapshotDamaged(f"snapshot {snapshot_id}: {relative} is missing")
            if info.size != entry["bytes"]:
                raise SnapshotDamaged(
                    f"snapshot {snapshot_id}: {relative} has {info.size} bytes, the manifest says {entry['bytes']}"
                )
            uris.append(f"s3://{key}")
        return uris

    def read_roots(self) -> list[Path]:
        """Readers open only the local cache's copies."""
        return self.cache.read_roots()

    def verify(self, location: SnapshotLocation, snapshot_id: str) -> list[str]:
        """Every problem with the stored snapshot's files (the bucket's copy, read in full)."""
        import hashlib

        try:
            manifest = self.manifest(location, snapshot_id)
            listed = manifest_files(manifest)
        except (OSError, ValueError, SnapshotDamaged) as exc:
            return [f"manifest unreadable: {exc}"]
        problems = []
        prefix = self._snapshot(location, snapshot_id)
        for entry in listed:
            digest, size = hashlib.sha256(), 0
            try:
                with self.filesystem.open_input_stream(f"{prefix}/{entry['path']}") as stream:
                    while block := stream.read(1 << 20):
                        digest.update(block)
                        size += len(block)
            except OSError:
                problems.append(f"{entry['path']} is missing")
                continue
            if size != entry["bytes"]:
                problems.append(f"{entry['path']} has {size} bytes, the manifest says {entry['bytes']}")
            elif digest.hexdigest() != entry["sha256"]:
                problems.append(f"{entry['path']} does not match its checksum")
        return problems

    def manifest(self, location: SnapshotLocation, snapshot_id: str) -> dict[str, Any]:
        if (self.cache.snapshot_dir(location, snapshot_id) / MANIFEST).is_file():
            return self.cache.manifest(location, snapshot_id)
        with self.filesystem.open_input_stream(f"{self._snapshot(location, snapshot_id)}/{MANIFEST}") as stream:
            result: dict[str, Any] = json.loads(stream.read())
        return result

    def snapshot_ids(self, location: SnapshotLocation) -> list[str]:
        """Snapshots with a manifest, oldest first."""
        return sorted(name for name in self._children(self._major(location)) if self._complete(location, name))

    def locations(self) -> list[SnapshotLocation]:
        found = []
        for domain in self._children(f"{self.base}/products"):
            for name in self._children(f"{self.base}/products/{domain}"):
                for major in self._children(f"{self.base}/products/{domain}/{name}"):
                    if major.startswith("v") and major[1:].isdigit():
                        found.append(SnapshotLocation(domain, name, int(major[1:])))
        return sorted(found, key=lambda loc: loc.parts)

    def describe(self, location: SnapshotLocation, snapshot_id: str) -> str:
        return f"s3://{self._snapshot(location, snapshot_id)}"

    # -------------------------------------------------------------- removing

    def delete(self, location: SnapshotLocation, snapshot_id: str) -> None:
        """Manifest first, so an interrupted delete leaves an incomplete prefix for gc, never a
        snapshot with missing files."""
        prefix = self._snapshot(location, snapshot_id)
        if self._exists(f"{prefix}/{MANIFEST}"):
            self.filesystem.delete_file(f"{prefix}/{MANIFEST}")
        self._delete_dir(prefix)
        self.cache.delete(location, snapshot_id)

    def remove_incomplete(self, location: SnapshotLocation, before: datetime) -> list[str]:
        removed = self.cache.remove_incomplete(location, before)
        for name in self._children(self._major(location)):
            if made_before(name, before) and not self._complete(location, name):
                self._delete_dir(self._snapshot(location, name))
                removed.append(self.describe(location, name))
        return removed

    def raw_files(self) -> dict[str, datetime]:
        from pyarrow.fs import FileSelector, FileType

        selector = FileSelector(f"{self.base}/raw", recursive=True, allow_not_found=True)
        infos = [i for i in self.filesystem.get_file_info(selector) if i.type == FileType.File]
        return {
            str(PurePosixPath(i.path).relative_to(self.base)): _aware(i.mtime)
            for i in sorted(infos, key=lambda i: i.path)
        }

    def delete_raw(self, key: str) -> str:
        remote = f"{self.base}/{key}"
        if self._exists(remote):
            self.filesystem.delete_file(remote)
        self.cache.delete_raw(key)
        return f"s3://{remote}"

    def discard_staging(self, build_id: str) -> None:
        self.cache.discard_staging(build_id)

    def clear_staging(self, keep: set[str], before: datetime) -> list[str]:
        return self.cache.clear_staging(keep, before)

    # -------------------------------------------------------------- helpers

    def _major(self, location: SnapshotLocation) -> str:
        return "/".join((self.base, "products", *location.parts))

    def _snapshot(self, location: SnapshotLocation, snapshot_id: str) -> str:
        return f"{self._major(location)}/{snapshot_id}"

    def _complete(self, location: SnapshotLocation, snapshot_id: str) -> bool:
        return self._exists(f"{self._snapshot(location, snapshot_id)}/{MANIFEST}")

    def _exists(self, key: str) -> bool:
        from pyarrow.fs import FileType

        return bool(self.filesystem.get_file_info(key).type == FileType.File)

    def _children(self, prefix: str) -> list[str]:
        from pyarrow.fs import FileSelector, FileType

        infos = self.filesystem.get_file_info(FileSelector(prefix, recursive=False, allow_not_found=True))
        return sorted(PurePosixPath(i.path).name for i in infos if i.type == FileType.Directory)

    def _delete_dir(self, prefix: str) -> None:
        from pyarrow.fs import FileType

        if self.filesystem.get_file_info(prefix).type != FileType.NotFound:
            self.filesystem.delete_dir(prefix)

    def _upload(self, path: Path, key: str) -> None:
        from pyarrow.fs import LocalFileSystem, copy_files

        copy_files(str(path), key, source_filesystem=LocalFileSystem(), destination_filesystem=self.filesystem)

    def _download(self, location: SnapshotLocation, snapshot_id: str) -> None:
        """Copy a complete snapshot into the cache: into a private staging folder first, then one
        atomic rename, so concurrent readers never see half a download."""
        from pyarrow.fs import LocalFileSystem, copy_files

        prefix = self._snapshot(location, snapshot_id)
        manifest = self.manifest(location, snapshot_id)
        download = f"download-{secrets.token_hex(6)}"
        staged = self.cache.staging_dir(download, location)
        try:
            for entry in manifest_files(manifest):  # exactly the listed files, checksummed on entry
                relative = PurePosixPath(entry["path"])
                if relative.is_absolute() or ".." in relative.parts:
                    raise SnapshotDamaged(f"snapshot {snapshot_id}: the manifest lists a file outside it")
                target = staged / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                copy_files(
                    f"{prefix}/{relative}",
                    str(target),
                    source_filesystem=self.filesystem,
                    destination_filesystem=LocalFileSystem(),
                )
                if file_sha256(target) != entry["sha256"]:
                    raise SnapshotDamaged(f"snapshot {snapshot_id}: {relative} does not match its checksum")
            try:
                self.cache.commit(staged, location, snapshot_id, manifest)
            except OSError:  # another reader cached it first: fine when its copy is complete
                if not (self.cache.snapshot_dir(location, snapshot_id) / MANIFEST).is_file():
                    raise
        finally:
            self.cache.discard_staging(download)


def _aware(moment: datetime | None) -> datetime:
    """An object's modification time in UTC (now, when the store does not tell)."""
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""``type: files``: CSV, JSON/NDJSON or Parquet files (globs), fingerprinted by content."""

from __future__ import annotations

import glob
import time
from pathlib import Path

from quanta.build.errors import InputUnavailable
from quanta.build.inputs.base import InputContext, ResolvedInput, relation_name
from quanta.catalog import LineageRecord
from quanta.engines.base import Relation, RelationFormat
from quanta.hashing import file_sha256
from quanta.plan.fingerprints import digest
from quanta.spec.ports import InputSpec
from quanta.state import CachedHash, FileStamp, LocalState

_EXTENSIONS: dict[str, RelationFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".parquet": "parquet",
}

RACY_WINDOW_NS = 2 * 10**9
"""A cached hash is trusted only if the file last changed this long before its stamp was taken:
timestamps tick coarsely (a second on some file systems), so a write in the same tick as the
stamp would leave the stamp as it was."""


class FilesConnector:
    def peek(self, spec: InputSpec, context: InputContext) -> str | None:
        files = _matches(spec, context)
        return content_fingerprint(files, context.state) if files else None

    def resolve(self, spec: InputSpec, context: InputContext) -> ResolvedInput:
        files = _matches(spec, context)
        if not files:
            raise InputUnavailable(
                f"input '{spec.id}': no file matches {spec.options.path} (relative to {context.mesh_root})"
            )
        options = spec.options
        fmt = options.format or _EXTENSIONS.get(files[0].suffix.lower())
        if fmt is None:
            raise InputUnavailable(f"input '{spec.id}': cannot tell the format of {files[0].name}; set `format:`")
        relation_options = (("header", options.header), ("delimiter", options.delimiter)) if fmt == "csv" else ()
        relation = Relation(relation_name(spec.id), fmt, tuple(str(f) for f in files), relation_options)
        fingerprint, stamps = stamped_fingerprint(files, context.state)
        lineage = LineageRecord(spec.id, "files", fingerprint, system=options.system, source=options.path)
        return ResolvedInput(relation, lineage, tuple(zip(relation.paths, stamps, strict=True)))


def _matches(spec: InputSpec, context: InputContext) -> list[Path]:
    pattern = Path(spec.options.path)
    if not pattern.is_absolute():
        pattern = context.mesh_root / pattern
    return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file())


def content_fingerprint(files: list[Path], state: LocalState) -> str:
    """Hash of the files' contents; a file is re-read only when its stamp changed."""
    return stamped_fingerprint(files, state)[0]


def stamped_fingerprint(files: list[Path], state: LocalState) -> tuple[str, list[FileStamp]]:
    """Hash of the files' contents and each file's stamp taken before it was hashed (or found in
    the cache): a file whose stamp later differs may have been read in another version."""
    keys = [str(f.resolve()) for f in files]
    cached = state.cached_hashes(keys)
    fresh: dict[str, CachedHash] = {}
    entries = []
    for key, path in zip(keys, files, strict=True):
        stamped_ns = time.time_ns()
        stamp = FileStamp.of(path)
        entry = cached.get(key)
        if entry is None or not _trusted(entry, stamp):
            entry = CachedHash(stamp, file_sha256(path), stamped_ns)
            if FileStamp.of(path) == stamp:  # not changed while hashed: worth remembering
                fresh[key] = entry
        entries.append(entry)
    state.store_hashes(fresh)
    fingerprint = digest(*(f"{path.name}:{entry.sha256}" for path, entry in zip(files, entries, strict=True)))
    return fingerprint, [entry.stamp for entry in entries]


def _trusted(entry: CachedHash, stamp: FileStamp) -> bool:
    """The cached hash still describes the file: same stamp, and its last change (ctime) was not
    in the tick the stamp was taken in."""
    return entry.stamp == stamp and entry.stamped_ns - stamp.ctime_ns >= RACY_WINDOW_NS

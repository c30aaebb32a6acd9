"""``type: files``: CSV, JSON/NDJSON or Parquet files (globs), fingerprinted by content."""

from __future__ import annotations

import glob
from pathlib import Path

from quanta.build.errors import InputUnavailable
from quanta.build.inputs.base import InputContext, ResolvedInput, relation_name
from quanta.catalog import LineageRecord
from quanta.engines.base import Relation, RelationFormat
from quanta.hashing import file_sha256
from quanta.plan.fingerprints import digest
from quanta.spec.ports import InputSpec
from quanta.state import LocalState

_EXTENSIONS: dict[str, RelationFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".parquet": "parquet",
}


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
        lineage = LineageRecord(
            spec.id, "files", content_fingerprint(files, context.state), system=options.system, source=options.path
        )
        return ResolvedInput(relation, lineage)


def _matches(spec: InputSpec, context: InputContext) -> list[Path]:
    pattern = Path(spec.options.path)
    if not pattern.is_absolute():
        pattern = context.mesh_root / pattern
    return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file())


def content_fingerprint(files: list[Path], state: LocalState) -> str:
    """Hash of the files' contents; a file is re-read only when its size or mtime changed."""
    keys = [str(f.resolve()) for f in files]
    cached = state.cached_hashes(keys)
    fresh: dict[str, tuple[int, int, str]] = {}
    hashes = []
    for key, path in zip(keys, files, strict=True):
        stat = path.stat()
        known = cached.get(key)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            hashes.append(known[2])
            continue
        value = file_sha256(path)
        fresh[key] = (stat.st_size, stat.st_mtime_ns, value)
        hashes.append(value)
    state.store_hashes(fresh)
    return digest(*(f"{path.name}:{value}" for path, value in zip(files, hashes, strict=True)))

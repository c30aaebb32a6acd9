"""The files port's downloads: one file per request, never holding a value the read path would
mask or filter for the caller.

A caller whose decision has no mask and no row filter gets the snapshot's own file when the
snapshot is one Parquet file (so byte ranges can be served from it). Anyone else gets a
*rendition*: the secured read exported once per (snapshot, decision fingerprint, format) into the
server's cache folder and reused; its checksum is computed once and kept beside it.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from quanta.access import Principal
from quanta.errors import BadRequest, NotFound
from quanta.hashing import file_sha256
from quanta.ports.files import FORMATS
from quanta.read.plane import DataPlane, SecuredRead, Selector
from quanta.spec.product import DataProduct

MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class Download:
    """A file ready to send."""

    path: Path
    size: int
    sha256: str
    media_type: str
    filename: str
    snapshot_id: str
    fingerprint: str
    own: bool
    """The snapshot's own file (byte ranges may be served) rather than a rendition."""


class Downloads:
    """Resolves downloads for one data plane, materialising renditions under ``cache``."""

    def __init__(self, plane: DataPlane, cache: Path) -> None:
        self.plane = plane
        self.cache = cache
        self._locks: dict[str, threading.Lock] = {}
        self._manifests: dict[tuple[str, str], tuple[int, str]] = {}
        self._guard = threading.Lock()

    def formats(self, spec: DataProduct, port_id: str) -> list[str]:
        """The formats a files port offers (those this server can write); :class:`NotFound` when the
        product has no files port of that id."""
        port = spec.output(port_id)
        if port is None or port.type != "files":
            raise NotFound(f"{spec.ref} v{spec.major} has no files port '{port_id}'")
        offered = list(getattr(port.options, "formats", None) or ["parquet"])
        return [f for f in offered if f in FORMATS]

    def resolve(
        self, principal: Principal, spec: DataProduct, port_id: str, file_format: str | None, selector: Selector
    ) -> Download:
        """The file ``principal`` may download from ``port_id`` in ``file_format`` (the port's first
        format when None); :class:`AccessDenied` when the decision refuses it."""
        formats = self.formats(spec, port_id)
        chosen = file_format if file_format is not None else (formats[0] if formats else "parquet")
        if chosen not in formats:
            raise BadRequest(
                f"port '{port_id}' offers {', '.join(formats) or 'no format this server writes'}, not '{chosen}'",
                "format",
            )
        read = self.plane.secure(principal, spec, port_id, selector)
        name = f"{spec.domain}-{spec.name}-v{spec.major}-{read.snapshot.id}.{chosen}"
        clear = not read.decision.masked and not read.decision.row_filter
        if clear and chosen == "parquet" and len(read.files) == 1:
            size, digest = self._own_file(read)
            path = Path(read.files[0])
            self.plane.record_access(read, statement=f"download {chosen}", rows=read.snapshot.rows)
            return Download(path, size, digest, MEDIA_TYPES[chosen], name, read.snapshot.id, read.fingerprint, True)
        path, digest, rows = self._rendition(read, chosen)
        self.plane.record_access(read, statement=f"download {chosen}", rows=rows)
        return Download(
            path, path.stat().st_size, digest, MEDIA_TYPES[chosen], name, read.snapshot.id, read.fingerprint, False
        )

    def _own_file(self, read: SecuredRead) -> tuple[int, str]:
        """The size and sha256 of a one-file snapshot's file, from its manifest (read once: a
        snapshot never changes)."""
        key = (read.spec.key, read.snapshot.id)
        known = self._manifests.get(key)
        if known is None:
            from quanta.storage.local import manifest_files

            (entry,) = manifest_files(self.plane.manifest(read.spec, read.snapshot))
            if len(self._manifests) >= 10_000:
                self._manifests.clear()
            known = self._manifests[key] = (int(entry["bytes"]), str(entry["sha256"]))
        return known

    def _rendition(self, read: SecuredRead, file_format: str) -> tuple[Path, str, int]:
        """The secured read exported once (per snapshot, decision fingerprint and format), its sha256
        and its rows."""
        key = hashlib.sha256(f"{read.fingerprint}:{file_format}".encode()).hexdigest()[:32]
        folder = self.cache / read.spec.key.replace("@", "-") / read.snapshot.id
        target = folder / f"{key}.{file_format}"
        checksum = target.with_name(target.name + ".sha256")
        with self._lock(key):
            if not (target.is_file() and checksum.is_file()):
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                rows = self.plane.export(read, file_format, target, audited=False)
                partial = checksum.with_name("." + checksum.name + ".partial")
                partial.write_text(f"{file_sha256(target)} {rows}")
                partial.replace(checksum)
        digest, _, rows_text = checksum.read_text().strip().partition(" ")
        return target, digest, int(rows_text) if rows_text.isdigit() else -1

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

"""Per-checkout state under ``.quanta/``: caches that belong to one working copy, never to the
shared catalog (file hashes by path, normalised code digests)."""

from quanta.state.cache import CachedHash, FileStamp, LocalState

__all__ = ["CachedHash", "FileStamp", "LocalState"]

"""Per-checkout state under ``.quanta/``: caches that belong to one working copy, never to the
shared catalog (file hashes by path, normalised code digests, memos)."""

from quanta.state.cache import STATE_FILE, CachedHash, FileStamp, LocalState

__all__ = ["STATE_FILE", "CachedHash", "FileStamp", "LocalState"]

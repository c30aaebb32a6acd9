"""Credentials as pure logic: API tokens, SCRAM-SHA-256 password verifiers and a per-source limit
on failed authentications. Nothing here touches the catalog; the platform stores what this makes.

- An API token is ``qt_<id>_<secret>``: ``id`` finds its record, ``secret`` is 256 random bits.
  Only its SHA-256 is stored; a presented token is compared by hash in constant time.
- A SCRAM verifier (RFC 5802/7677) is PostgreSQL's format
  ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``: a SQL client proves it knows the
  password without the server ever keeping it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_PREFIX = "qt"
SCRAM_ITERATIONS = 4096
_TOKEN = re.compile(r"qt_([0-9a-f]{16})_([A-Za-z0-9_-]{43,})")
_NO_HASH = "0" * 64  # compared against when the token's id is unknown, so both paths do the same work


@dataclass(frozen=True)
class MintedToken:
    """A new token: ``token`` is shown once; only ``sha256`` is kept."""

    id: str
    token: str
    sha256: str


def mint_token() -> MintedToken:
    """A fresh API token (a 64-bit id and a 256-bit secret)."""
    token_id = secrets.token_hex(8)
    token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    return MintedToken(token_id, token, token_hash(token))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_token(token: str) -> str | None:
    """The id of a well-formed token, else None."""
    found = _TOKEN.fullmatch(token)
    return found.group(1) if found else None


def token_matches(token: str, stored_sha256: str | None) -> bool:
    """Whether ``token`` hashes to ``stored_sha256`` (None: unknown id), compared in constant time."""
    matched = hmac.compare_digest(token_hash(token), stored_sha256 or _NO_HASH)
    return matched and stored_sha256 is not None


# ---------------------------------------------------------------- SCRAM-SHA-256


def _normalised(password: str) -> bytes:
    """The password as SCRAM hashes it: SASLprep's normalisation (NFKC) where it applies; like
    PostgreSQL, a password SASLprep would refuse is used as it is."""
    return unicodedata.normalize("NFKC", password).encode()


def _keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha256", _normalised(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hashlib.sha256(client_key).digest(), server_key


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier of ``password`` in PostgreSQL's format (a fresh 16-byte salt)."""
    if not password:
        raise ValueError("the password is empty")
    if iterations < 4096:
        raise ValueError("SCRAM-SHA-256 needs at least 4096 iterations")
    salt = salt if salt is not None else secrets.token_bytes(16)
    stored, server = _keys(password, salt, iterations)
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored).decode()}:{b64(server).decode()}"


def parse_verifier(verifier: str) -> tuple[int, bytes, bytes, bytes]:
    """(iterations, salt, StoredKey, ServerKey) of a verifier; ValueError when malformed."""
    found = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)", verifier)
    if found is None:
        raise ValueError("not a SCRAM-SHA-256 verifier")
    iterations, salt, stored, server = found.groups()
    return int(iterations), base64.b64decode(salt), base64.b64decode(stored), base64.b64decode(server)


def password_matches(verifier: str, password: str) -> bool:
    """Whether ``password`` derives ``verifier``'s keys (constant-time comparison)."""
    iterations, salt, stored, server = parse_verifier(verifier)
    got_stored, got_server = _keys(password, salt, iterations)
    return hmac.compare_digest(got_stored + got_server, stored + server)


# ---------------------------------------------------------------- failed authentications


class FailureLimiter:
    """At most ``max_failures`` failed authentications per source (an address, a socket peer) in a
    sliding window of ``window_s`` seconds; in memory, per process."""

    def __init__(
        self, max_failures: int = 10, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, source: str) -> deque[float]:
        times = self._failures.get(source)
        if times is None:
            return deque()
        cutoff = self._clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[source]
        return times

    def failures(self, source: str) -> int:
        return len(self._recent(source))

    def retry_after(self, source: str) -> float | None:
        """Seconds until ``source`` may try again, or None when it may now."""
        times = self._recent(source)
        if len(times) < self.max_failures:
            return None
        return times[-self.max_failures] + self.window_s - self._clock()

    def failed(self, source: str) -> None:
        if len(self._failures) > 100_000:  # bounded memory: forget the sources that stopped failing
            for key in list(self._failures):
                self._recent(key)
        self._failures.setdefault(source, deque()).append(self._clock())

    def succeeded(self, source: str) -> None:
        self._failures.pop(source, None)

"""JSON Web Key Sets: the identity provider's public keys that bearer tokens are verified with.

- A **file** is read on first use and re-read whenever it changes (size, mtime or inode), so a
  rotation is an atomic replace of the file (write elsewhere, then rename over it).
- A **URL** is fetched on first use and used for ``ttl_s`` seconds; a token naming a key id the
  set does not hold triggers an early refetch (a rotation at the IdP). Fetches — scheduled or
  triggered, successful or not — are at least ``refetch_s`` apart, so a flood of unknown key ids
  costs the IdP one request per ``refetch_s``. When a fetch fails, the last good set stays in use.

Only signing keys of public-key types (``RSA``, ``EC``, ``OKP``) are kept: a symmetric (``oct``)
key, an encryption key (``use: enc``) or a private key in the set is ignored, so it can never
verify a token.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt

from quanta.errors import QuantaError

SIGNING_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_JWKS_BYTES = 1 << 20
FETCH_TIMEOUT_S = 5.0


class JwksUnavailable(QuantaError):
    """No key set could be loaded (the IdP is unreachable, the file is missing or not a JWKS): the
    platform cannot verify any bearer token, through no fault of the caller's."""


@dataclass
class KeySet:
    """The usable keys of one JWKS, by key id (``None`` for a key without one)."""

    keys: Mapping[str | None, Mapping[str, Any]]
    _built: dict[tuple[str | None, str], jwt.PyJWK] = field(default_factory=dict, repr=False)

    def find(self, kid: str | None) -> Mapping[str, Any] | None:
        """The key ``kid`` names; a token without a key id matches only a set of exactly one key."""
        if kid is None:
            return next(iter(self.keys.values())) if len(self.keys) == 1 else None
        return self.keys.get(kid)

    def key(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The key ``kid`` names, prepared for ``algorithm`` (memoised); :class:`jwt.PyJWTError`
        when the key does not fit the algorithm (another key type, or its own ``alg`` differs);
        :class:`KeyError` when there is no such key."""
        memo = (kid, algorithm)
        built = self._built.get(memo)
        if built is None:
            found = self.find(kid)
            if found is None:
                raise KeyError(kid)
            if found.get("alg") not in (None, algorithm):
                raise jwt.PyJWKError("the key declares another algorithm")
            built = self._built[memo] = jwt.PyJWK(dict(found), algorithm=algorithm)
        return built


def parse_jwks(data: bytes | str) -> KeySet:
    """The signing keys of a JWKS document; :class:`ValueError` when it is not one."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('not a JWKS: expected an object with a "keys" list')
    keys: dict[str | None, Mapping[str, Any]] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") not in SIGNING_KEY_TYPES:
            continue  # a shared secret (oct) never verifies a bearer token
        if jwk.get("use", "sig") != "sig" or _PRIVATE_MEMBERS & jwk.keys():
            continue
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            continue
        keys.setdefault(kid, jwk)
    return KeySet(keys)


class JwksSource(Protocol):
    """Where keys come from."""

    def lookup(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        """The key for ``kid`` prepared for ``algorithm``, or None when the set does not hold it;
        :class:`JwksUnavailable` when no set could ever be loaded."""
        ...


class FileJwks:
    """A JWKS file, re-read when it changes; a change that does not parse keeps the last good set."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._set: KeySet | None = None
        self._problem = ""

    def lookup(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        return _prepared(self._current(), kid, algorithm)

    def _current(self) -> KeySet:
        try:
            stat = os.stat(self.path)
            stamp: tuple[int, int, int] | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError as exc:
            stamp, self._problem = None, f"cannot read it ({exc.strerror})"
        if stamp is not None and stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._load(stamp)
        if self._set is None:
            raise JwksUnavailable(f"no JWKS: the file {self.path}: {self._problem}")
        return self._set

    def _load(self, stamp: tuple[int, int, int]) -> None:
        try:
            data = self.path.read_bytes()
            self._set = parse_jwks(data)
            self._stamp, self._problem = stamp, ""
        except OSError as exc:
            self._problem = f"cannot read it ({exc.strerror})"
        except ValueError as exc:
            self._problem = str(exc)
            self._stamp = stamp  # an unchanged broken file is not parsed again on every request


class UrlJwks:
    """A JWKS URL: cached for ``ttl_s``, refetched early for an unknown key id, fetches at least
    ``refetch_s`` apart. ``clock`` is monotonic seconds."""

    def __init__(self, url: str, ttl_s: float, refetch_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self.refetch_s = refetch_s
        self.fetches = 0
        """Fetch attempts so far (successful or not)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._set: KeySet | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._problem = ""

    def lookup(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        with self._lock:
            now = self._clock()
            if self._set is None or now - self._fetched_at >= self.ttl_s:
                self._fetch_if_allowed(now)
            if self._set is not None and self._set.find(kid) is None and kid is not None:
                self._fetch_if_allowed(now)  # perhaps the IdP rotated its keys
            current = self._set
        if current is None:
            raise JwksUnavailable(f"no JWKS: {self.url}: {self._problem}")
        return _prepared(current, kid, algorithm)

    def _fetch_if_allowed(self, now: float) -> None:
        if self._attempted_at is not None and now - self._attempted_at < self.refetch_s:
            return
        self._attempted_at = now
        self.fetches += 1
        try:
            self._set = parse_jwks(self._get())
            self._fetched_at, self._problem = now, ""
        except ValueError as exc:
            self._problem = str(exc)

    def _get(self) -> bytes:
        import httpx

        try:
            with (
                httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=False) as client,
                client.stream("GET", self.url, headers={"Accept": "application/json"}) as response,
            ):
                if response.status_code != 200:
                    raise ValueError(f"HTTP {response.status_code}")
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise ValueError(f"larger than {MAX_JWKS_BYTES} bytes")
                return body
        except httpx.HTTPError as exc:
            raise ValueError(f"cannot fetch it ({exc.__class__.__name__})") from None


def _prepared(keys: KeySet, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
    try:
        return keys.key(kid, algorithm)
    except KeyError:
        return None


def jwks_source(
    location: str, ttl_s: float, refetch_s: float, clock: Callable[[], float] = time.monotonic
) -> JwksSource:
    """The source ``location`` names: an ``http(s)://`` URL or a file path."""
    if "://" in location:
        return UrlJwks(location, ttl_s, refetch_s, clock)
    return FileJwks(Path(location))

"""Signed pagination cursors and entity tags.

A cursor is ``base64url(JSON).base64url(HMAC-SHA256)``: it pins the product, the snapshot, the
principal it was issued to, the normalised query and where the next page starts (the sort values
of its first row and how many rows equal to them were already returned: see
:mod:`quanta.ports.rest.seek`), so a publish between pages changes nothing for its reader and
nobody can forge or alter one. The key comes from
``QUANTA_SERVER_SECRET`` (shared by every serving process), else a random key made per process:
then a cursor works only on the process that issued it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from quanta.errors import BadRequest

POLICY_GENERATION_UNKNOWN = 0
"""The policy generation used until the access layer counts generations: every ETag then changes
with the decision's own fingerprint only (see :func:`entity_tag`)."""

_VERSION = 2


@dataclass(frozen=True)
class CursorState:
    """What a cursor pins."""

    product: str
    snapshot: str
    principal: str
    query: Mapping[str, Any]
    start: list[Any] | None = None
    """The sort values (encoded) of the next page's first row; None: the first page."""
    skip: int = 0
    """Rows at ``start`` (equal to it in every sort column) the previous pages already returned."""


class CursorSigner:
    """Signs and verifies cursors with one key."""

    def __init__(self, key: bytes | None = None) -> None:
        self.shared = key is not None
        """Whether the key is shared between processes (from the environment)."""
        self._key = key if key is not None else secrets.token_bytes(32)

    def sign(self, state: CursorState) -> str:
        body = {
            "v": _VERSION,
            "p": state.product,
            "s": state.snapshot,
            "u": state.principal,
            "q": state.query,
            "k": state.start,
            "n": state.skip,
        }
        payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, cursor: str) -> CursorState:
        """The state a cursor pins; :class:`BadRequest` when it is malformed, altered or foreign."""
        payload_text, dot, mac_text = cursor.partition(".")
        try:
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except ValueError:
            payload, mac = b"", b""
        if not dot or not hmac.compare_digest(mac, self._mac(payload)):
            where = "" if self.shared else " (or was issued by another server process: set QUANTA_SERVER_SECRET)"
            raise BadRequest(f"the cursor is not valid: altered, truncated{where}", "cursor")
        body = json.loads(payload)
        if body.get("v") != _VERSION:
            raise BadRequest("the cursor is from another version of the API: start again without it", "cursor")
        return CursorState(body["p"], body["s"], body["u"], body["q"], body["k"], int(body["n"]))

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


def entity_tag(snapshot_id: str, request: Mapping[str, Any], decision_fingerprint: str, generation: int) -> str:
    """THE ETag of a response: the snapshot, the normalised request (format and page included), the
    caller's decision (visible columns, masks, bound row filter) and the caller's policy generation."""
    material = json.dumps(
        {"s": snapshot_id, "r": request, "d": decision_fingerprint, "g": generation},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return '"' + hashlib.sha256(material.encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``tag`` (or ``*``); weak tags compare equal."""
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None

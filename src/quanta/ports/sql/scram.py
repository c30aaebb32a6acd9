"""The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, over a stored
verifier (never a password). A principal without a verifier gets a mock exchange with a salt
derived from a process secret, so a failure reveals nothing about who exists."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from quanta.access.credentials import SCRAM_ITERATIONS, parse_verifier

MECHANISM = "SCRAM-SHA-256"
_MOCK_KEY = secrets.token_bytes(32)


class ScramFailed(Exception):
    """The client's proof or messages were wrong."""


class ScramExchange:
    """One exchange: :meth:`first` answers the client-first message, :meth:`final` checks the
    client-final one and returns the server-final message."""

    def __init__(self, verifier: str | None, user: str) -> None:
        if verifier is not None:
            self._iterations, self._salt, self._stored, self._server = parse_verifier(verifier)
            self._mock = False
        else:
            self._iterations = SCRAM_ITERATIONS
            self._salt = hmac.new(_MOCK_KEY, user.encode(), hashlib.sha256).digest()[:16]
            self._stored = self._server = secrets.token_bytes(32)
            self._mock = True
        self._nonce = ""
        self._first_bare = ""
        self._server_first = ""

    def first(self, client_first: bytes) -> bytes:
        text = _text(client_first)
        header, _, bare = _split_header(text)
        if header[0] not in ("n", "y"):
            raise ScramFailed("channel binding is not supported")
        attributes = _attributes(bare)
        client_nonce = attributes.get("r")
        if not client_nonce or any(c in client_nonce for c in ", "):
            raise ScramFailed("the client nonce is missing or malformed")
        self._nonce = client_nonce + base64.b64encode(secrets.token_bytes(18)).decode()
        self._first_bare = bare
        salt = base64.b64encode(self._salt).decode()
        self._server_first = f"r={self._nonce},s={salt},i={self._iterations}"
        return self._server_first.encode()

    def final(self, client_final: bytes) -> bytes:
        text = _text(client_final)
        without_proof, _, proof_part = text.rpartition(",p=")
        attributes = _attributes(without_proof)
        if attributes.get("r") != self._nonce or not proof_part:
            raise ScramFailed("the nonce does not match")
        if attributes.get("c") not in ("biws", "eSws"):  # base64 of "n,," and "y,,"
            raise ScramFailed("channel binding data does not match")
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except ValueError:
            raise ScramFailed("the proof is not base64") from None
        message = f"{self._first_bare},{self._server_first},{without_proof}".encode()
        signature = hmac.new(self._stored, message, hashlib.sha256).digest()
        if len(proof) != len(signature):
            raise ScramFailed("the proof has the wrong length")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), self._stored) or self._mock:
            raise ScramFailed("password authentication failed")
        server_signature = hmac.new(self._server, message, hashlib.sha256).digest()
        return f"v={base64.b64encode(server_signature).decode()}".encode()


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScramFailed("the message is not UTF-8") from None


def _split_header(text: str) -> tuple[str, str, str]:
    parts = text.split(",", 2)
    if len(parts) != 3 or not parts[0]:
        raise ScramFailed("malformed client-first message")
    return parts[0], parts[1], parts[2]


def _attributes(text: str) -> dict[str, str]:
    found = {}
    for part in text.split(","):
        name, equals, value = part.partition("=")
        if equals and len(name) == 1:
            found[name] = value
    return found

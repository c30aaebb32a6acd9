"""A JWKS served over real HTTP on loopback: fetched once and cached for its TTL, refetched when a
new key id appears (rotation), at most once per ``jwksRefetch`` seconds however many unknown key
ids arrive; the last good keys survive an IdP outage."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oidc_idp import Idp, ec_key, rsa_key, settings
from quanta.access.oidc import JwksUnavailable, OidcVerifier, UrlJwks
from quanta.errors import AccessDenied


@dataclass
class JwksServer:
    """Serves ``body`` (with ``status``) at /jwks and counts the requests."""

    body: bytes = b""
    status: int = 200
    requests: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def served() -> Iterator[JwksServer]:
    site = JwksServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with site.lock:
                site.requests += 1
            self.send_response(site.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(site.body)))
            self.end_headers()
            self.wfile.write(site.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}/jwks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _verifier(site: JwksServer, idp: Idp, clock: Clock, ttl: int = 600, refetch: int = 60) -> OidcVerifier:
    site.body = idp.jwks_text().encode()
    oidc = settings(site.url, jwksTtl=ttl, jwksRefetch=refetch)
    return OidcVerifier(oidc, clock=clock)


def test_the_jwks_is_fetched_once_and_cached_for_its_ttl(served: JwksServer) -> None:
    idp, clock = Idp({"rsa-1": rsa_key("one"), "ec-1": ec_key("one")}), Clock()
    verifier = _verifier(served, idp, clock, ttl=600)
    assert served.requests == 0  # nothing is fetched before a token arrives
    for kid, alg in (("rsa-1", "RS256"), ("ec-1", "ES256"), ("rsa-1", "RS256")):
        assert verifier.authenticate(idp.token(kid, alg)).id == "ann"
    assert served.requests == 1
    clock.now += 599
    verifier.authenticate(idp.token())
    assert served.requests == 1
    clock.now += 1
    verifier.authenticate(idp.token())
    assert served.requests == 2  # the TTL passed


def test_a_rotated_key_is_accepted_after_one_refetch(served: JwksServer) -> None:
    idp, clock = Idp({"rsa-1": rsa_key("one")}), Clock()
    verifier = _verifier(served, idp, clock, refetch=60)
    verifier.authenticate(idp.token())
    clock.now += 61
    idp.published["rsa-2"] = rsa_key("two")  # the IdP publishes its next key and starts signing with it
    served.body = idp.jwks_text().encode()
    assert verifier.authenticate(idp.token("rsa-2")).id == "ann"
    assert served.requests == 2
    assert verifier.authenticate(idp.token("rsa-1")).id == "ann"  # the old key is still published
    assert served.requests == 2


def test_a_flood_of_unknown_key_ids_fetches_at_most_once_per_refetch_interval(served: JwksServer) -> None:
    idp, clock = Idp({"rsa-1": rsa_key("one")}), Clock()
    verifier = _verifier(served, idp, clock, refetch=60)
    verifier.authenticate(idp.token())
    with pytest.raises(AccessDenied, match="unknown key id"):
        verifier.authenticate(idp.token("rsa-9", key=rsa_key("attacker")))
    assert served.requests == 1  # the set was fetched just now: an unknown id does not refetch it
    clock.now += 60
    for _ in range(50):
        clock.now += 0.5
        with pytest.raises(AccessDenied, match="unknown key id"):
            verifier.authenticate(idp.token(secrets.token_hex(8), key=rsa_key("attacker")))
    assert served.requests == 2  # the first unknown id refetched; the other 49 were refused from the cache
    idp.published["rsa-2"] = rsa_key("two")
    served.body = idp.jwks_text().encode()
    with pytest.raises(AccessDenied, match="unknown key id"):
        verifier.authenticate(idp.token("rsa-2"))  # still inside the interval: no fetch
    assert served.requests == 2
    clock.now += 60
    assert verifier.authenticate(idp.token("rsa-2")).id == "ann"
    assert served.requests == 3


def test_the_last_good_keys_survive_an_outage_and_the_outage_is_not_hammered(served: JwksServer) -> None:
    idp, clock = Idp({"rsa-1": rsa_key("one")}), Clock()
    verifier = _verifier(served, idp, clock, ttl=100, refetch=30)
    verifier.authenticate(idp.token())
    served.status, served.body = 500, b"oops"
    clock.now += 100
    for _ in range(10):
        assert verifier.authenticate(idp.token()).id == "ann"  # stale keys rather than no keys
        clock.now += 1
    assert served.requests == 2  # one attempt at the TTL, the next not before 30 s later
    clock.now += 30
    verifier.authenticate(idp.token())
    assert served.requests == 3


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (500, b"{}", "HTTP 500"),
        (200, b"<html>", "not JSON"),
        (200, b'{"keys": {}}', '"keys" list'),
        (200, b'{"keys": [' + b'{"kty": "x"},' * 100_000 + b"{}]}", "larger than"),
    ],
)
def test_no_keys_at_all_is_unavailable_not_a_refusal(served: JwksServer, status: int, body: bytes, says: str) -> None:
    idp, clock = Idp({"rsa-1": rsa_key("one")}), Clock()
    verifier = _verifier(served, idp, clock, refetch=60)
    served.status, served.body = status, body
    for _ in range(3):
        with pytest.raises(JwksUnavailable, match=says) as raised:
            verifier.authenticate(idp.token())
        assert served.url in str(raised.value)
    assert served.requests == 1


def test_an_unreachable_idp_is_unavailable() -> None:
    source = UrlJwks("http://127.0.0.1:9/jwks", ttl_s=600, refetch_s=60)
    with pytest.raises(JwksUnavailable, match="cannot fetch it"):
        source.lookup("rsa-1", "RS256")
    assert source.fetches == 1

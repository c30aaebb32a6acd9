"""Credentials as pure logic: API tokens (random, hashed, compared in constant time), SCRAM-SHA-256
verifiers (RFC 7677's test vector) and the per-source failure rate limiter."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from quanta.access import credentials
from quanta.access.credentials import FailureLimiter, mint_token, parse_token, scram_verifier, token_hash


def test_a_minted_token_is_random_enough_and_parses_back_to_its_id() -> None:
    minted = mint_token()
    assert minted.token.startswith(f"qt_{minted.id}_")
    secret = minted.token.split("_", 2)[2]
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) * 8 >= 256
    assert parse_token(minted.token) == minted.id
    assert minted.sha256 == hashlib.sha256(minted.token.encode()).hexdigest() == token_hash(minted.token)
    assert mint_token().token != minted.token
    for bad in ("", "qt_", "xx_abc_def", "qt__secret", "qt_ab!c_secret", "qt_abc_"):
        assert parse_token(bad) is None


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    original = hmac.compare_digest

    def spy(a: str | bytes, b: str | bytes) -> bool:
        calls.append((a, b))
        return original(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(credentials.hmac, "compare_digest", spy)
    minted = mint_token()
    assert credentials.token_matches(minted.token, minted.sha256)
    assert not credentials.token_matches(minted.token + "x", minted.sha256)
    assert not credentials.token_matches(minted.token, None)  # unknown id: still one comparison
    assert len(calls) == 3


def test_the_scram_verifier_matches_rfc_7677s_test_vector() -> None:
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    verifier = scram_verifier("pencil", salt=salt, iterations=4096)
    assert verifier == (
        "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
        "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
    )
    assert credentials.password_matches(verifier, "pencil")
    assert not credentials.password_matches(verifier, "pencils")


def test_a_scram_verifier_has_a_fresh_salt_and_never_the_password() -> None:
    one, two = scram_verifier("s3cret-password"), scram_verifier("s3cret-password")
    assert one != two and "s3cret" not in one
    assert one.startswith("SCRAM-SHA-256$4096:")
    with pytest.raises(ValueError, match="empty"):
        scram_verifier("")


def test_failed_authentication_is_rate_limited_per_source() -> None:
    now = [1000.0]
    limiter = FailureLimiter(max_failures=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") is None
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == pytest.approx(60)
    assert limiter.retry_after("10.0.0.2") is None  # another source is not affected
    now[0] += 30
    assert limiter.retry_after("10.0.0.1") == pytest.approx(30)
    now[0] += 31
    assert limiter.retry_after("10.0.0.1") is None  # the failures aged out of the window
    limiter.failed("10.0.0.2")
    limiter.succeeded("10.0.0.2")
    assert limiter.failures("10.0.0.2") == 0

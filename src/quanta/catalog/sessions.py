"""Web catalog sessions: started at sign-in, found on every page, revoked at sign-out, each by id
with the SHA-256 of its secret (the cookie holding the secret is never stored). A session of a
catalog principal reads its roles from the catalog on each use; an OIDC session keeps the
principal its token's claims made at sign-in, until the token's own expiry."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from quanta.catalog.database import aware, database_now, naive
from quanta.catalog.tables import api_tokens, web_sessions

SESSION_PREFIX = "qs"


@dataclass(frozen=True)
class SessionRecord:
    """A live or ended session, never its secret."""

    id: str
    principal_id: str
    kind: str
    """``token`` (a catalog principal) or ``oidc``."""
    principal: dict[str, Any] | None
    """An OIDC principal's roles, team, attributes and admin flag as of sign-in."""
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    token_id: str | None = None
    """The API token signed in with: the session ends when it is revoked or expires."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Sessions:
    """The ``web_sessions`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def start(
        self,
        principal_id: str,
        kind: str,
        expires_at: datetime,
        principal: dict[str, Any] | None = None,
        token_id: str | None = None,
    ) -> tuple[str, SessionRecord]:
        """A new session: its credential (``qs_<id>_<secret>``, shown once) and its record. Sessions
        that ended over a day ago are deleted on the way."""
        session_id, secret = secrets.token_hex(16), secrets.token_urlsafe(32)
        with self._engine.begin() as connection:
            now = database_now(connection)
            connection.execute(
                insert(web_sessions).values(
                    id=session_id,
                    sha256=_digest(secret),
                    principal_id=principal_id,
                    kind=kind,
                    principal=principal,
                    token_id=token_id,
                    created_at=now,
                    expires_at=naive(expires_at),
                )
            )
            connection.execute(delete(web_sessions).where(web_sessions.c.expires_at < now - timedelta(days=1)))
        record = SessionRecord(session_id, principal_id, kind, principal, aware(now), expires_at, None, token_id)
        return f"{SESSION_PREFIX}_{session_id}_{secret}", record

    def find(self, credential: str) -> SessionRecord | None:
        """The live session a credential opens; None when unknown, wrong, revoked or expired."""
        prefix, _, rest = credential.partition("_")
        session_id, _, secret = rest.partition("_")
        if prefix != SESSION_PREFIX or len(session_id) != 32 or not secret:
            return None
        token = api_tokens.alias("token")
        query = (
            select(web_sessions, token.c.revoked_at.label("token_revoked"), token.c.expires_at.label("token_expires"))
            .outerjoin(token, token.c.id == web_sessions.c.token_id)
            .where(web_sessions.c.id == session_id)
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
            now = database_now(connection)
        if row is None or not hmac.compare_digest(row.sha256, _digest(secret)):
            return None
        if row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.token_id is not None and (
            row.token_revoked is not None or (row.token_expires is not None and row.token_expires <= now)
        ):
            return None  # the API token it began with was revoked (or lapsed): so is the session
        return _record(row)

    def revoke(self, session_id: str) -> bool:
        """End a session; False when unknown or ended already."""
        with self._engine.begin() as connection:
            result = connection.execute(
                update(web_sessions)
                .where(web_sessions.c.id == session_id, web_sessions.c.revoked_at.is_(None))
                .values(revoked_at=database_now(connection))
            )
        return bool(result.rowcount)

    def of(self, principal_id: str) -> list[SessionRecord]:
        """Every session of a principal, newest first."""
        query = select(web_sessions).where(web_sessions.c.principal_id == principal_id)
        with self._engine.connect() as connection:
            rows = connection.execute(query.order_by(web_sessions.c.created_at.desc())).all()
        return [_record(r) for r in rows]


def _record(row: Any) -> SessionRecord:
    return SessionRecord(
        row.id,
        row.principal_id,
        row.kind,
        row.principal,
        aware(row.created_at),
        aware(row.expires_at),
        aware(row.revoked_at) if row.revoked_at else None,
        row.token_id,
    )

"""Access: principals (users and service accounts), API tokens (their SHA-256 only) and SCRAM
verifiers. The store keeps what :mod:`quanta.access.credentials` makes; it never sees a secret.

Every change to principals, tokens or verifiers bumps the *access generation* in the same
transaction, so a process caching decisions or authentications sees the change on its next
statement by reading one number."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from quanta.catalog.database import aware, database_now, maybe_aware, naive, upsert
from quanta.catalog.records import PrincipalRecord, TokenRecord
from quanta.catalog.tables import access_generation, api_tokens, principals, scram_verifiers
from quanta.errors import Conflict, NotFound

if TYPE_CHECKING:
    from quanta.catalog.changes import Changes

KINDS = ("user", "service")


class Access:
    """Principals, their API tokens and their password verifiers."""

    def __init__(self, engine: Engine, changes: Changes) -> None:
        self._engine = engine
        self._changes = changes
        self._generation = _GenerationReader(engine)

    def generation(self) -> int:
        """The access generation: it changes whenever principals, tokens, verifiers or grants do.
        Read on every statement of a server, so it costs one query on a held connection."""
        return self._generation.read()

    def close(self) -> None:
        self._generation.close()

    def now(self) -> datetime:
        """The database's clock (aware UTC): token expiry never trusts the client's."""
        with self._engine.connect() as connection:
            return aware(database_now(connection))

    # ---------------------------------------------------------------- principals

    def add(self, principal: PrincipalRecord) -> PrincipalRecord:
        """Record a new principal; :class:`Conflict` when the id is taken."""
        if principal.kind not in KINDS:
            raise ValueError(f"a principal is a user or a service, not '{principal.kind}'")
        from sqlalchemy.exc import IntegrityError

        try:
            self._insert(principal)
        except IntegrityError:
            raise Conflict(f"principal '{principal.id}' already exists") from None
        return self.get(principal.id) or principal

    def _insert(self, principal: PrincipalRecord) -> None:
        with self._engine.begin() as connection:
            now = database_now(connection)
            values = {
                "id": principal.id,
                "kind": principal.kind,
                "display_name": principal.display_name,
                "roles": sorted(set(principal.roles)),
                "team": principal.team,
                "attributes": dict(principal.attributes),
                "admin": principal.admin,
                "created_at": now,
            }
            connection.execute(insert(principals).values(**values))
            shown = {k: values[k] for k in ("kind", "roles", "team", "admin")} | {
                "attributes": sorted(principal.attributes)
            }
            self._changes.record(connection, "principal.add", principal.id, shown)

    def get(self, principal_id: str) -> PrincipalRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(principals).where(principals.c.id == principal_id)).first()
        return _principal(row) if row is not None else None

    def require(self, principal_id: str) -> PrincipalRecord:
        found = self.get(principal_id)
        if found is None:
            raise NotFound(f"the catalog has no principal '{principal_id}'")
        return found

    def all(self) -> list[PrincipalRecord]:
        with self._engine.connect() as connection:
            return [_principal(r) for r in connection.execute(select(principals).order_by(principals.c.id))]

    def remove(self, principal_id: str) -> bool:
        """Forget a principal with its tokens and verifier; False when it did not exist."""
        with self._engine.begin() as connection:
            connection.execute(delete(api_tokens).where(api_tokens.c.principal_id == principal_id))
            connection.execute(delete(scram_verifiers).where(scram_verifiers.c.principal_id == principal_id))
            removed = connection.execute(delete(principals).where(principals.c.id == principal_id)).rowcount > 0
            if removed:
                self._changes.record(connection, "principal.remove", principal_id)
            return removed

    def update(
        self,
        principal_id: str,
        *,
        roles: tuple[str, ...] | None = None,
        team: str | None = None,
        attributes: dict[str, str] | None = None,
        admin: bool | None = None,
    ) -> PrincipalRecord:
        """Change a principal's roles, team, attributes or admin flag (None: unchanged)."""
        self.require(principal_id)
        values: dict[str, Any] = {}
        if roles is not None:
            values["roles"] = sorted(set(roles))
        if team is not None:
            values["team"] = team or None
        if attributes is not None:
            values["attributes"] = dict(attributes)
        if admin is not None:
            values["admin"] = admin
        if values:
            with self._engine.begin() as connection:
                connection.execute(update(principals).where(principals.c.id == principal_id).values(**values))
                shown = {k: (sorted(v) if k == "attributes" else v) for k, v in values.items()}  # attribute names only
                self._changes.record(connection, "principal.update", principal_id, shown)
        return self.require(principal_id)

    # ---------------------------------------------------------------- API tokens

    def add_token(self, token_id: str, principal_id: str, sha256: str, expires_at: datetime | None) -> TokenRecord:
        """Record a token by its hash (the token itself is shown once, by the caller)."""
        self.require(principal_id)
        with self._engine.begin() as connection:
            connection.execute(
                insert(api_tokens).values(
                    id=token_id,
                    principal_id=principal_id,
                    sha256=sha256,
                    created_at=database_now(connection),
                    expires_at=naive(expires_at) if expires_at else None,
                )
            )
            shown = {"token": token_id, "expiresAt": expires_at.isoformat() if expires_at else None}
            self._changes.record(connection, "token.issue", principal_id, shown, access=False)
        found = self.token(token_id)
        assert found is not None
        return found[0]

    def token(self, token_id: str) -> tuple[TokenRecord, str] | None:
        """A token's record and its stored SHA-256."""
        with self._engine.connect() as connection:
            row = connection.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        return (_token(row), row.sha256) if row is not None else None

    def tokens(self, principal_id: str | None = None) -> list[TokenRecord]:
        query = select(api_tokens).order_by(api_tokens.c.principal_id, api_tokens.c.created_at, api_tokens.c.id)
        if principal_id is not None:
            query = query.where(api_tokens.c.principal_id == principal_id)
        with self._engine.connect() as connection:
            return [_token(r) for r in connection.execute(query)]

    def revoke(self, token_id: str) -> bool:
        """Revoke a token (kept, for the record); False when unknown or already revoked."""
        with self._engine.begin() as connection:
            result = connection.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=database_now(connection))
            )
            if result.rowcount == 0:
                return False
            self._changes.record(connection, "token.revoke", token_id)
            return True

    def used(self, token_id: str) -> datetime:
        """Record a token's use now (by the database's clock); returns the time."""
        with self._engine.begin() as connection:
            now = database_now(connection)
            connection.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))
        return aware(now)

    # ---------------------------------------------------------------- SCRAM verifiers

    def set_verifier(self, principal_id: str, verifier: str) -> None:
        """Store (or replace) a principal's SCRAM-SHA-256 verifier: never its password."""
        self.require(principal_id)
        with self._engine.begin() as connection:
            now = database_now(connection)
            values = {"principal_id": principal_id, "verifier": verifier, "updated_at": now}
            upsert(connection, scram_verifiers, values, ["principal_id"], {"verifier": verifier, "updated_at": now})
            self._changes.record(connection, "password.set", principal_id)

    def verifier(self, principal_id: str) -> str | None:
        with self._engine.connect() as connection:
            query = select(scram_verifiers.c.verifier).where(scram_verifiers.c.principal_id == principal_id)
            value = connection.execute(query).scalar()
        return str(value) if value is not None else None


class _GenerationReader:
    """Reads the access generation on one held, autocommitting DBAPI connection: a few
    microseconds on SQLite, one round trip on PostgreSQL, without SQLAlchemy's per-query work."""

    _SQL = "SELECT generation FROM access_generation WHERE id = 1"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._connection: Any = None

    def read(self) -> int:
        with self._lock:
            try:
                return self._read()
            except Exception:
                self._drop()  # a broken connection: read once more on a fresh one, through SQLAlchemy
        with self._engine.connect() as connection:
            value = connection.execute(
                select(access_generation.c.generation).where(access_generation.c.id == 1)
            ).scalar()
        return int(value or 0)

    def _read(self) -> int:
        if self._connection is None:
            connection = self._engine.raw_connection()
            driver: Any = connection.driver_connection
            if hasattr(driver, "autocommit"):  # psycopg: never left idle in a transaction
                driver.autocommit = True
            self._connection = connection
        cursor = self._connection.cursor()
        try:
            cursor.execute(self._SQL)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return int(row[0]) if row else 0

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.invalidate()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    self._connection.close()
                self._connection = None


def bump_generation(connection: Connection) -> None:
    """Advance the access generation inside the caller's transaction."""
    connection.execute(
        update(access_generation)
        .where(access_generation.c.id == 1)
        .values(generation=access_generation.c.generation + 1)
    )


def _principal(row: Any) -> PrincipalRecord:
    return PrincipalRecord(
        row.id,
        row.kind,
        row.display_name,
        tuple(row.roles or ()),
        row.team,
        {str(k): str(v) for k, v in (row.attributes or {}).items()},
        bool(row.admin),
        aware(row.created_at),
    )


def _token(row: Any) -> TokenRecord:
    return TokenRecord(
        row.id,
        row.principal_id,
        aware(row.created_at),
        maybe_aware(row.expires_at),
        maybe_aware(row.revoked_at),
        maybe_aware(row.last_used_at),
    )

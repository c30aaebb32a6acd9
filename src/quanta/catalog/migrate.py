"""Catalog schema revisions: check on open, upgrade with Alembic (imported only when needed).

A new, empty catalog is created at head. An older local SQLite catalog upgrades in place when it
is opened; a shared catalog (PostgreSQL) upgrades only through ``quanta catalog upgrade``, so one
newer client never changes the schema under every other. A catalog newer than this Quanta is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

from quanta.catalog.database import shown_url
from quanta.errors import QuantaError

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009")
"""Every revision in order; each new one goes on the head (the last), and a test holds this
list equal to the migrations' history."""
HEAD = REVISIONS[-1]
MIGRATIONS = Path(__file__).parent / "migrations"
_UPGRADE_LOCK = 0x5175616E7461  # PostgreSQL advisory lock key of catalog upgrades


class CatalogOutdated(QuantaError):
    """The catalog's schema is older than this Quanta's and may not be upgraded implicitly."""


class CatalogTooNew(QuantaError):
    """The catalog was upgraded by a newer Quanta than this one."""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_current(engine: Engine) -> None:
    """Make sure the catalog is at :data:`HEAD`: create a new one, upgrade a local SQLite one,
    refuse a shared one that needs ``quanta catalog upgrade`` or one newer than this Quanta."""
    revision = current_revision(engine)
    if revision == HEAD:
        return
    if revision is not None and revision not in REVISIONS:
        raise CatalogTooNew(
            f"the catalog {shown_url(engine)} is at revision {revision}, newer than this Quanta's "
            f"(head {HEAD}): upgrade Quanta to use it"
        )
    if revision is not None and engine.dialect.name != "sqlite":
        raise CatalogOutdated(
            f"the catalog {shown_url(engine)} is at revision {revision} and this Quanta needs {HEAD}: "
            "run `quanta catalog upgrade` once (every client of a shared catalog must then be this new)"
        )
    upgrade(engine)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Run pending migrations; returns (revision before, revision after)."""
    before = current_revision(engine)
    if before == HEAD:
        return before, HEAD
    if before is not None and before not in REVISIONS:
        raise CatalogTooNew(f"the catalog is at revision {before}, newer than this Quanta's (head {HEAD})")
    from alembic import command

    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # one upgrader at a time; the others wait
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
                if _revision(connection) == HEAD:
                    return before, HEAD
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception:
        if current_revision(engine) == HEAD:  # a concurrent opener created or upgraded it first
            return before, HEAD
        raise
    return before, HEAD


def alembic_config() -> Any:
    """The Alembic configuration of the catalog's migrations (for upgrades and tests)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config

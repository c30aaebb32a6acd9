"""Safe upgrades: the tables equal the migrations' result, one head, an old catalog upgrades in place
(SQLite implicitly, PostgreSQL only by `quanta catalog upgrade`), a newer one is refused."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from quanta.catalog import Catalog
from quanta.catalog.migrate import HEAD, REVISIONS, CatalogOutdated, CatalogTooNew, alembic_config, current_revision
from quanta.catalog.tables import metadata

FIXTURE = Path(__file__).parent / "fixtures" / "main-0003"
QUANTA = [sys.executable, "-m", "quanta"]


def quanta(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*QUANTA, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )


def _sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def test_the_migrations_have_one_head_and_the_revisions_in_order() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD]
    history = [r.revision for r in script.walk_revisions()]  # head first
    assert tuple(reversed(history)) == REVISIONS


def test_the_table_definitions_equal_the_migrations_result(catalog_url: str, tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'c.db'}" if catalog_url.startswith("sqlite") else catalog_url
    Catalog(url).close()  # created by running every migration
    engine = create_engine(_sa_url(url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def _fixture_mesh(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(FIXTURE, root)
    (root / "dot-quanta").rename(root / ".quanta")
    return root


def test_a_catalog_made_by_the_previous_main_upgrades_in_place_and_rebuilds_nothing(tmp_path: Path) -> None:
    root = _fixture_mesh(tmp_path)
    database = root / ".quanta" / "catalog.db"
    with sqlite3.connect(database) as before:
        assert before.execute("select version_num from alembic_version").fetchone() == ("0003",)
    built = quanta("build", ".", cwd=root)
    assert built.returncode == 0, built.stderr
    status = json.loads(quanta("status", ".", "--format", "json", cwd=root).stdout)
    assert [p["lastBuild"]["status"] for p in status["products"]] == ["built", "built"]  # nothing rebuilt
    assert "skipped" in built.stdout and "built " not in built.stdout
    with sqlite3.connect(database) as after:
        assert after.execute("select version_num from alembic_version").fetchone() == (HEAD,)
        tables = {r[0] for r in after.execute("select name from sqlite_master where type = 'table'")}
        assert {"file_hashes", "code_digests"}.isdisjoint(tables)  # per-checkout caches left the catalog
        filled = after.execute("select count(*) from snapshots where descriptor_id is null").fetchone()
        owners = after.execute("select distinct mesh from products").fetchall()
    assert filled == (0,)  # every old snapshot got its descriptor from its manifest
    assert owners == [("demo",)]  # the first mesh to build after the upgrade claims its legacy keys
    assert (root / ".quanta" / "state.db").is_file()
    again = quanta("build", ".", cwd=root)
    assert again.returncode == 0 and "built " not in again.stdout


def _postgres_at(url: str, revision: str) -> None:
    from alembic import command

    engine = create_engine(_sa_url(url))
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def test_a_shared_postgresql_catalog_upgrades_only_through_the_command(postgres_url: str, tmp_path: Path) -> None:
    _postgres_at(postgres_url, "0003")
    with pytest.raises(CatalogOutdated, match=rf"revision 0003 and this Quanta needs {HEAD}.*quanta catalog upgrade"):
        Catalog(postgres_url)
    refused = quanta("status", "--catalog", postgres_url, cwd=tmp_path)
    assert refused.returncode == 1 and "quanta catalog upgrade" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    upgraded = quanta("catalog", "upgrade", "--catalog", postgres_url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"from revision 0003 to {HEAD}" in upgraded.stdout
    catalog = Catalog(postgres_url)
    assert current_revision(catalog.engine) == HEAD
    catalog.close()
    assert f"at revision {HEAD} already" in quanta("catalog", "upgrade", "--catalog", postgres_url, cwd=tmp_path).stdout


def test_an_older_quanta_refuses_a_newer_catalog(catalog_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}" if catalog_url.startswith("sqlite") else catalog_url
    Catalog(url).close()
    engine = create_engine(_sa_url(url))
    with engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = '0099'"))
    engine.dispose()
    with pytest.raises(CatalogTooNew, match=f"revision 0099, newer than this Quanta's \\(head {HEAD}\\)"):
        Catalog(url)
    refused = quanta("status", "--catalog", url, cwd=tmp_path)
    assert refused.returncode == 1 and "0099" in refused.stderr and HEAD in refused.stderr


def test_grants_expiring_on_a_day_expire_at_its_end_after_0007(catalog_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from alembic import command

    url = f"sqlite:///{tmp_path / 'c.db'}" if catalog_url.startswith("sqlite") else catalog_url
    _postgres_at(url, "0006")  # any URL: the catalog as 0006 left it
    engine = create_engine(_sa_url(url))
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into access_grants (product, role, ports, unmask, masks, expires, source, granted_by, "
                "granted_at) values ('sales.orders', 'analysts', '[\"table\"]', '[]', '{}', '2027-03-31', "
                "'admin', 'root', '2026-12-01 10:00:00')"
            )
        )
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")  # through 0007 and every later revision
    engine.dispose()
    catalog = Catalog(url)
    try:
        (grant,) = catalog.grants.all()
        assert grant.expires_at == datetime(2027, 4, 1, tzinfo=UTC)  # the end of its last valid day
        assert catalog.audit.count() == 0 and catalog.requests.find() == [] and catalog.events.find() == []
    finally:
        catalog.close()

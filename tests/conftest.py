"""Shared fixtures: a fresh copy of the `quanta init` mesh, and a helper to validate it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from quanta.blueprints import create_mesh

REPO = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get("QUANTA_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture
def mesh_dir(tmp_path: Path) -> Iterator[Path]:
    """A valid two-product mesh (the `quanta init` template); the working directory is its parent."""
    root = tmp_path / "demo"
    create_mesh("demo", root)
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield root
    finally:
        os.chdir(previous)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A catalog URL: SQLite in the mesh folder, or a fresh PostgreSQL database (mandatory in CI)."""
    if request.param == "sqlite":
        yield "sqlite:///.quanta/catalog.db"
        return
    yield from _postgres_database()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database (mandatory in CI)."""
    yield from _postgres_database()


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database shared by one test module (mandatory in CI)."""
    yield from _postgres_database()


def _postgres_database() -> Iterator[str]:
    import psycopg

    name = f"quanta_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

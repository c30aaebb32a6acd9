"""Platform settings: mesh defaults < profile < QUANTA_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from quanta.errors import ConfigError
from quanta.project import Mesh


def _with_profile(mesh_dir: Path) -> Mesh:
    path = mesh_dir / "mesh.yaml"
    path.write_text(
        path.read_text().replace(
            "domains:", "profiles:\n  prod: {engine: spark, catalog: 'postgresql://db.internal/quanta'}\ndomains:", 1
        )
    )
    return Mesh.load(mesh_dir)


def test_defaults_come_from_mesh_yaml(mesh_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUANTA_PROFILE", raising=False)
    platform = _with_profile(mesh_dir).settings()
    assert (platform.engine, platform.catalog) == ("duckdb", "sqlite:///.quanta/catalog.db")


def test_profile_overrides_defaults_and_environment_overrides_profile(
    mesh_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mesh = _with_profile(mesh_dir)
    assert mesh.settings("prod").engine == "spark"
    monkeypatch.setenv("QUANTA_PROFILE", "prod")
    monkeypatch.setenv("QUANTA_CATALOG", "postgresql://other/quanta")
    platform = mesh.settings()
    assert (platform.engine, platform.catalog, platform.storage) == (
        "spark",
        "postgresql://other/quanta",
        ".quanta/warehouse",
    )


def test_unknown_profile_names_where_it_looked(mesh_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"--profile and QUANTA_PROFILE; defined: prod"):
        _with_profile(mesh_dir).settings("staging")


def test_every_environment_variable_reaches_its_platform_setting(
    mesh_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "QUANTA_MEMORY_LIMIT": "2GB",
        "QUANTA_THREADS": "3",
        "QUANTA_STORAGE": "s3://bucket/warehouse",
        "QUANTA_STORAGE_ENDPOINT": "http://127.0.0.1:9000",
        "QUANTA_CACHE": "/tmp/quanta-cache",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    platform = Mesh.load(mesh_dir).settings()
    assert (platform.memory_limit, platform.threads, platform.storage, platform.storage_endpoint, platform.cache) == (
        "2GB",
        3,
        "s3://bucket/warehouse",
        "http://127.0.0.1:9000",
        "/tmp/quanta-cache",
    )


def test_a_bad_environment_value_names_the_variable(mesh_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTA_RUN_LEASE", "-3")
    with pytest.raises(ConfigError, match="QUANTA_RUN_LEASE"):
        Mesh.load(mesh_dir).settings()

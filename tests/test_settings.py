"""Platform settings: mesh defaults < profile < QUANTA_* environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from quanta.errors import ConfigError
from quanta.project import Mesh
from quanta.project.settings import resolve_standalone


def _with_profile(mesh_dir: Path) -> Mesh:
    path = mesh_dir / "mesh.yaml"
    path.write_text(
        path.read_text().replace(
            "domains:",
            "profiles:\n  prod: {master: 'spark://cluster:7077', catalog: 'postgresql://db.internal/quanta'}\ndomains:",
            1,
        )
    )
    return Mesh.load(mesh_dir)


def test_defaults_come_from_mesh_yaml(mesh_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUANTA_PROFILE", raising=False)
    platform = _with_profile(mesh_dir).settings()
    assert (platform.engine, platform.master, platform.catalog) == ("duckdb", None, "sqlite:///.quanta/catalog.db")


def test_profile_overrides_defaults_and_environment_overrides_profile(
    mesh_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mesh = _with_profile(mesh_dir)
    assert mesh.settings("prod").master == "spark://cluster:7077"
    monkeypatch.setenv("QUANTA_PROFILE", "prod")
    monkeypatch.setenv("QUANTA_CATALOG", "postgresql://other/quanta")
    platform = mesh.settings()
    assert (platform.master, platform.catalog, platform.storage) == (
        "spark://cluster:7077",
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


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("QUANTA_THREADS", "0", "greater than or equal to 1"),
        ("QUANTA_THREADS", "5000", "less than or equal to 1024"),
        ("QUANTA_THREADS", "2.5", "integer"),
        ("QUANTA_MEMORY_LIMIT", "lots", "pattern"),
        ("QUANTA_CATALOG", " ", "must not be empty"),
        ("QUANTA_STORAGE", "  ", "must not be empty"),
        ("QUANTA_STORAGE_ENDPOINT", "\t", "must not be empty"),
        ("QUANTA_CACHE", "  ", "must not be empty"),
        ("QUANTA_PROFILE", " ", "must not be empty"),
        ("QUANTA_ENGINE", "sparkle", "must name a registered engine: duckdb"),
        ("QUANTA_RUN_LEASE", "nan", "finite"),
        ("QUANTA_RUN_LEASE", "0", "greater than 0"),
        ("QUANTA_FAULT", "after-everything", "after-parquet"),
    ],
)
def test_every_bad_environment_value_names_its_variable(
    mesh_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    mesh = Mesh.load(mesh_dir)
    with pytest.raises(ConfigError) as raised:
        mesh.settings()
    assert str(raised.value).startswith(f"{name}: ") and says in str(raised.value), str(raised.value)
    with pytest.raises(ConfigError, match=name):
        resolve_standalone("sqlite:///catalog.db")


def test_an_empty_variable_counts_as_unset(mesh_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QUANTA_THREADS", "QUANTA_CATALOG", "QUANTA_ENGINE", "QUANTA_PROFILE", "QUANTA_RUN_LEASE"):
        monkeypatch.setenv(name, "")
    platform = Mesh.load(mesh_dir).settings()
    assert (platform.threads, platform.catalog, platform.engine) == (None, "sqlite:///.quanta/catalog.db", "duckdb")


def test_every_bad_variable_is_named_and_no_value_is_shown(mesh_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTA_THREADS", "x")
    monkeypatch.setenv("QUANTA_MEMORY_LIMIT", "hunter2")
    with pytest.raises(ConfigError) as raised:
        Mesh.load(mesh_dir).settings()
    message = str(raised.value)
    assert "QUANTA_THREADS" in message and "QUANTA_MEMORY_LIMIT" in message and "hunter2" not in message

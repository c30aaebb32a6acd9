"""A catalog that cannot be reached or written is a clear error naming it, never a traceback,
and never shows its password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quanta.catalog import Catalog, CatalogUnavailable


def test_a_sqlite_catalog_in_a_missing_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/catalog.db"
    with pytest.raises(CatalogUnavailable, match=r"the catalog sqlite:///.*/missing/catalog.db cannot be used: unable"):
        Catalog(url)


def test_an_unreachable_postgresql_catalog_hides_its_password() -> None:
    with pytest.raises(CatalogUnavailable) as raised:
        Catalog("postgresql://quanta:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "postgresql+psycopg://quanta:***@127.0.0.1:1/nowhere" in str(raised.value)
    assert "s3cret-pw" not in str(raised.value)


def test_a_catalog_that_cannot_be_written_fails_the_command_with_exit_1(mesh_dir: Path) -> None:
    command = f"ulimit -f 4 && {sys.executable} -m quanta build {mesh_dir}"  # files of at most 4 KiB
    result = subprocess.run(["bash", "-c", command], env={**os.environ}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "error: the catalog sqlite:///" in result.stderr and "internal error" not in result.stderr

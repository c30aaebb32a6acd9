"""Shared fixtures: a fresh copy of the `quanta init` mesh, and a helper to validate it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from quanta.blueprints import create_mesh

REPO = Path(__file__).resolve().parent.parent


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

"""Fixtures for server tests: one served, built mesh per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from serving_mesh import Served, build, serving, write_mesh


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("serve")
    root = write_mesh(base / "demo")
    build(root)
    with serving(root, base / "cache") as running:
        yield running

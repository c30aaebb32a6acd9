"""Fixtures for the web catalog: one served, built mesh (HTTP with the pages, and the SQL port)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_mesh import enrol, make_confidential

from serving_mesh import Served, build, serving, write_mesh


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("web")
    root = write_mesh(base / "demo")
    make_confidential(root)
    build(root)
    with serving(root, base / "cache", enrol=enrol, sql=True) as running:
        yield running


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Keep each phase's report on the test item, so the browser fixture knows a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report

"""The conformance suite runs every test once per registered engine (``engine_name``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from conformance_kit import GAPS, REGISTRY, engine_params, options_for

from quanta.engines.base import Engine


@pytest.fixture(scope="session", params=engine_params())
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def shared_engine(engine_name: str) -> Iterator[Engine]:
    """One engine per type for the whole session (a Spark session takes seconds to start)."""
    engine = REGISTRY.create(engine_name, options_for(engine_name))
    yield engine
    close = getattr(engine, "close", None)
    if callable(close):
        close()


@pytest.fixture
def engine(shared_engine: Engine, engine_name: str, request: pytest.FixtureRequest) -> Engine:
    """The engine under test; a known gap of it makes this test a strict xfail."""
    gap = GAPS.get((engine_name, request.node.originalname))
    if gap is not None:
        request.node.add_marker(pytest.mark.xfail(reason=gap.reason, raises=gap.raises, strict=True))
    return shared_engine


@pytest.fixture
def fresh_engine(shared_engine: Engine, engine_name: str) -> Callable[[], Engine]:
    """Makes a new engine of the type under test (for tests that stop one), sharing what the engine
    type shares between instances (a Spark session)."""
    return lambda: REGISTRY.create(engine_name, options_for(engine_name, shared_engine))

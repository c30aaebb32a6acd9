"""The ASGI application: FastAPI with the routes, problem details and the access log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from quanta.project.platform import Platform
from quanta.server import access_routes, catalog_routes, problems
from quanta.server.accesslog import AccessLog
from quanta.server.model_routes import router as model_router
from quanta.server.report_routes import router as report_router
from quanta.server.routes import router
from quanta.server.state import ServeOptions, ServerState


def create_app(
    platform: Platform,
    options: ServeOptions,
    state: ServerState | None = None,
    front_ends: Sequence[APIRouter] = (),
) -> Any:
    """The application serving ``platform`` (an ASGI callable: FastAPI inside the access log);
    ``front_ends``: more routes on the same state, e.g. the web catalog's pages."""
    server = state or ServerState(platform, options)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        server.warm()
        server.start_background()
        server.slis.start()
        try:
            yield
        finally:
            server.slis.stop()
            server.stop_background()

    app = FastAPI(
        title="Quanta",
        openapi_url=None,  # each product major has its own OpenAPI, for its caller
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.quanta = server
    problems.install(app)
    app.include_router(router)
    app.include_router(catalog_routes.router)
    app.include_router(access_routes.router)
    app.include_router(report_router)
    app.include_router(model_router)
    for front_end in front_ends:
        app.include_router(front_end)
    return AccessLog(app, server.observe)

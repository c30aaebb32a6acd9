"""The web catalog: server-rendered pages (Jinja2) at ``/`` on ``quanta serve``, from the catalog
alone, obeying the same decisions as the data ports. :data:`router` holds every page."""

from __future__ import annotations

from fastapi import APIRouter

from quanta.web import access_pages, catalog_pages, map_page, oidc_signin, static_files

router = APIRouter(include_in_schema=False)
router.include_router(static_files.router)
router.include_router(catalog_pages.router)
router.include_router(access_pages.router)
router.include_router(map_page.router)
router.include_router(oidc_signin.router)

__all__ = ["router"]

"""The HTTP APIs' own pages (`/docs`, Swagger UI) served from the service, never from a CDN.

FastAPI's default `/docs` page loads Swagger UI's script and styles from a public CDN: a city's
network may block it, and every staff member who opens the page would tell a third party their
address. The same files ship in the `swagger-ui-bundle-v2` wheel (Apache-2.0) and are served here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

if TYPE_CHECKING:
    from fastapi import FastAPI

ASSETS = "/docs/assets"


def install_api_docs(app: FastAPI) -> None:
    """`GET /docs` with this service's OpenAPI document; the app is made with `docs_url=None`."""
    from fastapi.openapi.docs import get_swagger_ui_html

    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("create the app with docs_url=None and redoc_url=None: its /docs would load from a CDN")

    async def docs(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} – API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    app.add_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.router.routes.append(Mount(ASSETS, app=StaticFiles(directory=swagger_ui_path), name="swagger-ui"))

"""The APIs' /docs pages load nothing from elsewhere: Swagger UI comes from the service itself."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from socialops_common.apidocs import install_api_docs


def an_api() -> FastAPI:
    app = FastAPI(title="socialops example", docs_url=None, redoc_url=None)

    @app.get("/items")
    async def items() -> list[str]:
        return []

    install_api_docs(app)
    return app


async def test_the_docs_page_and_every_file_it_loads_come_from_the_service() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=an_api()), base_url="http://api") as client:
        page = await client.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        loaded = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded), loaded
        assert "cdn" not in page.text.lower() and "'/openapi.json'" in page.text
        for url in loaded:
            answer = await client.get(url)
            assert answer.status_code == 200 and answer.content, url
        script = await client.get("/docs/assets/swagger-ui-bundle.js")
        assert "javascript" in script.headers["content-type"] and len(script.content) > 100_000
        assert "/docs" not in (await client.get("/openapi.json")).json()["paths"]


def test_an_app_with_fastapis_cdn_pages_is_refused() -> None:
    with pytest.raises(ValueError, match="CDN"):
        install_api_docs(FastAPI())

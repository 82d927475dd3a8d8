"""The console's only way to the platform's data: the services' HTTP APIs, with the person's own token.

It never imports their code and never opens their databases; what a page needs that an API does not give
is added to that API (in its OpenAPI document).
"""

from __future__ import annotations

from typing import Any

import httpx
import structlog

from .metrics import API_REFUSALS
from .settings import ConsoleSettings

log = structlog.get_logger("console.services")


class ServiceRefused(Exception):
    """An API said no (401, 403, 404, 409, 422 …), or did not answer (status 503)."""

    def __init__(self, service: str, status: int, detail: str) -> None:
        super().__init__(f"{service}: {status} {detail}")
        self.service = service
        self.status = status
        self.detail = detail


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        detail = body.get("detail", body.get("error", body))
        if isinstance(detail, list):  # FastAPI's validation errors
            return "; ".join(str(d.get("msg", d)) for d in detail)
        return str(detail)
    return str(body)


class Services:
    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.http = httpx.AsyncClient(timeout=settings.console_api_timeout_s)

    async def close(self) -> None:
        await self.http.aclose()

    async def request(self, service: str, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        url = self.settings.service_url(service) + path
        try:
            response = await self.http.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except httpx.HTTPError as error:
            log.warning("service did not answer", service=service, path=path, error=repr(error))
            API_REFUSALS.labels(service, "unreachable").inc()
            raise ServiceRefused(service, 503, f"{service} svarar inte") from error
        if response.status_code >= 400:
            API_REFUSALS.labels(service, str(response.status_code)).inc()
            if response.status_code >= 500:
                log.warning("service failed", service=service, path=path, status=response.status_code)
            raise ServiceRefused(service, response.status_code, _detail(response))
        return response

    async def json(self, service: str, method: str, path: str, token: str, **kwargs: Any) -> Any:
        return (await self.request(service, method, path, token, **kwargs)).json()

    async def answers(self, service: str) -> bool:
        try:
            response = await self.http.get(self.settings.service_url(service) + "/healthz", timeout=3)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

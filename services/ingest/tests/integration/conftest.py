"""Fixtures: a real ingest HTTP server (uvicorn on a free port) in front of a real broker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from socialops_ingest.inprocess import serve_in_process
from socialops_ingest.payloads import Secrets
from socialops_ingest.settings import IngestSettings

REPO = Path(__file__).resolve().parents[4]
SECRETS = Secrets(meta_app_secret="meta-app-secret", x_consumer_secret="x-consumer-secret",
                  linkedin_client_secret="linkedin-client-secret")
VERIFY_TOKEN = "helsingborg-verify-token"


def ingest_settings(bootstrap: str, **overrides: object) -> IngestSettings:
    values: dict[str, object] = dict(
        kafka_bootstrap=bootstrap, meta_app_secret=SECRETS.meta_app_secret, meta_verify_token=VERIFY_TOKEN,
        x_consumer_secret=SECRETS.x_consumer_secret, linkedin_client_secret=SECRETS.linkedin_client_secret,
        accounts_file=str(REPO / "config" / "accounts.yaml"), publish_timeout_s=3.0, kafka_request_timeout_ms=2000,
    )
    values.update(overrides)
    return IngestSettings(**values)


@contextlib.asynccontextmanager
async def _client(bootstrap: str, **overrides: object) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(ingest_settings(bootstrap, **overrides)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            yield client


@pytest.fixture
def secrets() -> Secrets:
    return SECRETS


@pytest.fixture
def verify_token() -> str:
    return VERIFY_TOKEN


@pytest.fixture
def ingest_client() -> Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]:
    """`async with ingest_client(bootstrap, **settings) as client:` a running ingest, and a client for it."""
    return _client


@pytest.fixture
def settings_for() -> Callable[..., IngestSettings]:
    """`settings_for(bootstrap, **overrides)`: the settings the test server uses (shared secrets)."""
    return ingest_settings

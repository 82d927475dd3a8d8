"""schemathesis against the served OpenAPI: no input makes the archive answer 5xx (bounded run)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from socialops_archive.main import build_app
from socialops_archive.settings import ArchiveSettings
from socialops_common.devstack import free_port

from ..conftest import TOKENS
from .test_api import seed


@pytest.fixture
def live_archive(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The real service (API side) served by uvicorn on a free port, over seeded data."""
    asyncio.run(seed(database_url))
    port = free_port()
    app = build_app(ArchiveSettings(database_url=database_url, machine_tokens=TOKENS, export_dir=str(tmp_path),
                                    smtp_port=1, mail_retry_base_s=3600), consume=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("archive did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_no_input_gives_a_server_error(live_archive: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_archive}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/items", "/items/{item_id}", "/exports", "/audit"}
    failures: list[str] = []
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case) -> None:
            for token in ("reg-token", "arch-token", "admin-token"):
                response = case.call(base_url=live_archive, headers={"Authorization": f"Bearer {token}"},
                                     timeout=10)
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}")
                case.validate_response(response, checks=[not_a_server_error])

        exercise()
    assert failures == []
    assert len(statuses) >= 3 * len(operations) and {200, 403, 422} <= set(statuses)

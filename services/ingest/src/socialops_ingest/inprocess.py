"""Serve the real ingest app with uvicorn inside the current event loop (tests, benchmark, demos)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from socialops_common.devstack import free_port

from .accounts import AccountDirectory
from .service import create_app
from .settings import IngestSettings


@contextlib.asynccontextmanager
async def serve_in_process(settings: IngestSettings, directory: AccountDirectory | None = None) -> AsyncIterator[str]:
    """Yields the base URL (`http://127.0.0.1:<free port>`) while uvicorn serves the app."""
    port = free_port()
    config = uvicorn.Config(create_app(settings, directory), host="127.0.0.1", port=port, log_config=None,
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task

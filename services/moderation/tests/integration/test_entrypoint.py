"""The console script `make run` starts: `socialops-moderation serve --port N` answers /readyz."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from socialops_common.devstack import free_port, service_environment, wait_for_port


def test_serve_starts_the_service_and_reports_ready(kafka_bootstrap, database_url):
    command = Path(sys.executable).parent / "socialops-moderation"
    assert command.exists(), "install the package: pip install -e services/moderation"
    port = free_port()
    env = service_environment(kafka_bootstrap, database_url, SOCIALOPS_MACHINE_TOKENS="editor-client:editor:t")
    process = subprocess.Popen(
        [str(command), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 30
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, client.get("/readyz").text
                time.sleep(0.2)
            assert client.get("/healthz").json() == {"status": "ok"}
            assert "socialops_moderation_review_queue_size" in client.get("/metrics").text
            assert client.get("/review", headers={"Authorization": "Bearer t"}).status_code == 200
            assert client.get("/review").status_code == 401
    finally:
        process.terminate()
        process.wait(30)

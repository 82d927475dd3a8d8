"""Every service as the container runs it (`socialops-<svc> serve` as a process), against the real
broker and database: readiness reports broker AND database, consumer lag is exported, and SIGTERM
(what `docker compose stop` sends) ends the process cleanly with exit code 0 — uvicorn runs the
lifespan's shutdown: consumers finish the batch in hand, commit, and close.

A process that hangs on SIGTERM is killed by Docker after the grace period (30 s in compose) in
the middle of whatever it does, so the hang-detector below waits at most that long.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from socialops_common.devstack import free_port, service_environment, wait_for_port

BIN = Path(sys.executable).parent
GRACE_S = 30  # stop_grace_period in docker-compose.yml

# service -> (readiness checks it must report, consumer groups whose lag it must export, extra env)
SERVICES = {
    "ingest": ({"kafka"}, [], {"SOCIALOPS_META_APP_SECRET": "s", "SOCIALOPS_ACCOUNTS_FILE": "/nonexistent.yaml"}),
    "moderation": ({"kafka", "database"}, ["moderation-{run}", "moderation-actions-{run}"],
                   {"SOCIALOPS_MODERATION_CONSUMER_GROUP": "moderation-{run}",
                    "SOCIALOPS_MODERATION_EXECUTOR_GROUP": "moderation-actions-{run}"}),
    "sla": ({"kafka", "database"}, ["sla-{run}"], {"SOCIALOPS_SLA_CONSUMER_GROUP": "sla-{run}"}),
    "archive": ({"kafka", "database"}, ["archive-{run}"], {"SOCIALOPS_ARCHIVE_GROUP_ID": "archive-{run}",
                                                         "SOCIALOPS_SNAPSHOT_DIR": "{tmp}/snapshots",
                                                         "SOCIALOPS_EXPORT_DIR": "{tmp}/exports"}),
    "console": ({"identity_provider"}, [], {"SOCIALOPS_OIDC_ISSUER": "{issuer}", "SOCIALOPS_OIDC_AUDIENCE": "a",
                                            "SOCIALOPS_CONSOLE_REQUIRED_SERVICES": ""}),
}


@pytest.mark.parametrize("service", list(SERVICES))
def test_serve_is_ready_on_broker_and_database_and_stops_cleanly_on_sigterm(service, kafka_bootstrap, database_url,
                                                                            tmp_path, test_issuer):
    checks, groups, extra = SERVICES[service]
    run = os.urandom(4).hex()
    groups = [g.format(run=run) for g in groups]
    env = service_environment(kafka_bootstrap, database_url, SOCIALOPS_LOG_FORMAT="json",
                              **{k: v.format(run=run, tmp=tmp_path, issuer=test_issuer.issuer) for k, v in extra.items()})
    port = free_port()
    log_path = tmp_path / f"{service}.log"
    with log_path.open("wb") as log:
        # No --host: by default a service listens on loopback only (containers pass --host 0.0.0.0).
        process = subprocess.Popen([str(BIN / f"socialops-{service}"), "serve", "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        listening = {c.laddr.ip for c in psutil.Process(process.pid).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        assert listening == {"127.0.0.1"}, f"{service} listens on {listening}"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 60
            while (ready := client.get("/readyz")).status_code != 200:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, ready.text
                time.sleep(0.2)
            assert set(ready.json()["checks"]) >= checks
            assert all(result == "ok" for result in ready.json()["checks"].values())
            deadline = time.monotonic() + 30
            while groups:
                metrics = client.get("/metrics").text
                if all(f'socialops_consumer_lag_messages{{group="{g}"' in metrics for g in groups):
                    break
                assert time.monotonic() < deadline, f"no lag gauge for {groups}"
                time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"{service} still running {GRACE_S} s after SIGTERM:\n{log_path.read_text()[-3000:]}")
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "Application shutdown complete" in output

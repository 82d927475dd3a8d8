"""`socialops-ingest import` and `simulate` publish through the same path as live webhooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from socialops_common.devstack import free_port, wait_for_port
from socialops_common.testing import read_topic
from socialops_common.topics import DEADLETTER, EVENTS
from socialops_ingest import payloads as p
from socialops_ingest.platforms import Context, meta
from socialops_ingest.replay import import_file

FB_PAGE = "104857600000001"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BIN = Path(sys.executable).parent


def _comment_body(run: str, n: int) -> dict:
    return p.meta_body("page", [p.page_entry(FB_PAGE, AT, [p.feed_comment(
        post_id=f"{FB_PAGE}_{run}", comment_id=f"{run}_{n}", at=AT, message=f"Fråga {n}?", author=("7", "Eva"))])])


async def test_import_replays_exported_events_and_recorded_webhooks(kafka_bootstrap, tmp_path, secrets, settings_for):
    run = uuid.uuid4().hex[:12]
    exported = meta.normalize(_comment_body(run, 1), Context(received_at=AT)).events[0]
    signed = p.sign("meta", _comment_body(run, 2), secrets)
    forged = p.sign("meta", _comment_body(run, 3), p.Secrets("wrong", "x", "y"))
    lines = [
        exported.model_dump_json(),
        json.dumps({"webhook": "meta", "body": signed.body.decode(), "headers": signed.headers}),
        json.dumps({"webhook": "meta", "body": forged.body.decode(), "headers": forged.headers}),
        f'{{"something": "else", "run": "{run}"}}',
        "",
    ]
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(lines), encoding="utf-8")

    report = await import_file(path, settings_for(kafka_bootstrap))
    assert (report.lines, report.events, report.webhooks, report.dead_lettered) == (4, 2, 1, 1)
    assert len(report.refused) == 1 and "403" in report.refused[0]
    assert not report.ok  # a refused webhook makes the command exit 1

    found = {v["item_id"]: v for _, v in await read_topic(kafka_bootstrap, EVENTS, expected=2,
                                                          where=lambda v: str(v.get("item_id", "")).startswith(run))}
    assert set(found) == {f"{run}_1", f"{run}_2"}
    assert found[f"{run}_1"]["event_id"] == exported.event_id  # replayed unchanged: consumers dedupe
    (letter,) = [v for _, v in await read_topic(kafka_bootstrap, DEADLETTER, expected=1,
                                                where=lambda v: run in v.get("payload", ""))]
    assert letter["source"] == "ingest.import" and "line 4" in letter["reason"]


def test_serve_and_simulate_commands_deliver_signed_traffic_through_http(fresh_broker, secrets, settings_for):
    """The console script end to end: `serve` in its own process, `simulate` posting signed webhooks to it."""
    port = free_port()
    env = dict(os.environ, SOCIALOPS_KAFKA_BOOTSTRAP=fresh_broker.bootstrap, SOCIALOPS_LOG_FORMAT="json",
               SOCIALOPS_META_APP_SECRET=secrets.meta_app_secret, SOCIALOPS_META_VERIFY_TOKEN="t",
               SOCIALOPS_X_CONSUMER_SECRET=secrets.x_consumer_secret,
               SOCIALOPS_LINKEDIN_CLIENT_SECRET=secrets.linkedin_client_secret,
               SOCIALOPS_ACCOUNTS_FILE=settings_for(fresh_broker.bootstrap).accounts_file)
    server = subprocess.Popen([str(BIN / "socialops-ingest"), "serve", "--port", str(port), "--host", "127.0.0.1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        result = subprocess.run(
            [str(BIN / "socialops-ingest"), "simulate", "--rate", "60", "--duration", "2", "--batch", "3",
             "--seed", "11", "--target", f"http://127.0.0.1:{port}"],
            env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.terminate()
        server.wait(20)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed 0" in result.stdout
    sent = int(result.stdout.split(" carrying ")[1].split(" events")[0])
    assert sent >= 60

    import asyncio
    found = asyncio.run(read_topic(fresh_broker.bootstrap, EVENTS, expected=sent, timeout=20))
    assert len({v["event_id"] for _, v in found}) == sent  # this broker holds only the simulation's events
    kinds = {v["kind"] for _, v in found}
    assert {"comment.created", "dm.received"} <= kinds

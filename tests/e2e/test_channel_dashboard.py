"""`make run` + `make simulate`, as processes: every panel of the channel dashboard has data, the
monthly report has the platforms' figures for every polled account, and its PDF renders.

The stack is the harness's, with the local platform servers and the insights poller started as
`make run` starts them (`config/local-insights-tokens.json`: every account but @stockholmsstad on X
has a token), then `socialops-ingest simulate` sends its signed webhooks as `make simulate` does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from harness import ACCOUNTS_FILE, REPOSITORY, SECRETS, Stack
from socialops_common.testing import required_tool
from socialops_ingest.accounts import load_inventory

REPORTS = {"Authorization": "Bearer e2e-editor"}  # a machine client with the follow-up right (harness)

pytestmark = pytest.mark.slow
DASHBOARD = REPOSITORY / "ops" / "grafana" / "dashboards" / "channels.json"
TOKENS = json.loads((REPOSITORY / "config" / "local-insights-tokens.json").read_text(encoding="utf-8"))
METRIC = re.compile(r"\b(socialops_[a-z0-9_]+)")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(scope="module")
def stack():
    platform = Stack().start(insights=True, SOCIALOPS_INSIGHTS_BACKFILL_DAYS="40",
                             SOCIALOPS_SLA_REFRESH_SECONDS="2", SOCIALOPS_SLA_KPI_REFRESH_SECONDS="2")
    try:
        yield platform
    finally:
        platform.stop()


def samples(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = line.split("{", 1)[0].split(" ", 1)[0]
            found.setdefault(name, []).append(line)
    return found


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(1.0)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def test_every_channel_panel_has_data_and_the_report_has_the_platforms_figures(stack: Stack, tmp_path: Path):
    pdftoppm = required_tool("pdftoppm", "apt-get install -y poppler-utils")
    sla = stack.services["sla"].url
    polled = [a for a in load_inventory(ACCOUNTS_FILE) if a.status.value == "active" and a.key.decode() in TOKENS]
    assert len(polled) >= 9

    def every_polled_account_has_followers() -> bool:
        metrics = samples(httpx.get(f"{sla}/metrics", timeout=10).text)
        lines = " ".join(metrics.get("socialops_channel_followers", []))
        return all(f'account="{a.external_id}"' in lines for a in polled)

    wait_for(every_polled_account_has_followers, 240, "the poller's figures in the SLA service's gauges")
    env = dict(os.environ, **SECRETS, SOCIALOPS_ACCOUNTS_FILE=str(ACCOUNTS_FILE))
    simulate = subprocess.run(  # `make simulate`, shorter
        [str(Path(sys.executable).parent / "socialops-ingest"), "simulate", "--rate", "20", "--duration", "20",
         "--seed", "15", "--target", stack.services["ingest"].url],
        env=env, capture_output=True, text=True, timeout=180)
    assert simulate.returncode == 0, simulate.stdout + simulate.stderr

    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))

    def empty_panels() -> list[str]:
        metrics = samples(httpx.get(f"{sla}/metrics", timeout=10).text)
        return [p["title"] for p in board["panels"]
                if not any(metrics.get(name) for t in p["targets"] for name in METRIC.findall(t["expr"]))]

    wait_for(lambda: not empty_panels(), 120, "data in every panel")

    # the last whole month has the platforms' figures for every polled account (backfill: 40 days)
    month = datetime.now(STOCKHOLM).strftime("%Y-%m")
    report = httpx.get(f"{sla}/reports/monthly", params={"month": month}, timeout=60, headers=REPORTS).json()
    assert {(n["platform"], n["account_id"], n["state"]) for n in report["not_polled"]} == {("x", "18905800", "no_token")}
    previous = report["trend"][-2]["month"]
    before = httpx.get(f"{sla}/reports/monthly", params={"month": previous}, timeout=60, headers=REPORTS).json()
    channels = {(c["platform"], c["account_id"]): c for c in before["channels"]}
    for account in polled:
        channel = channels[(account.platform.value, account.external_id)]
        assert channel["insights"]["state"] == "ok", channel
        assert channel["interactions"] is not None and channel["posts_per_week"] is not None, channel
        if account.platform.value != "x":  # X gives no reach
            assert channel["reach"] is not None and channel["new_followers"] is not None, channel
        if account.platform.value == "facebook":  # the others give the follower count of today only
            assert channel["followers"] is not None and channel["engagement_rate"] is not None, channel

    pdf = httpx.get(f"{sla}/reports/monthly.pdf", params={"month": previous}, timeout=120, headers=REPORTS)
    assert pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "city.pdf").write_bytes(pdf.content)
    subprocess.run([pdftoppm, "-r", "40", "-png", str(tmp_path / "city.pdf"), str(tmp_path / "page")], check=True,
                   timeout=60)
    assert len(list(tmp_path.glob("page-*.png"))) >= 3


def test_the_insights_poller_serves_the_event_contract_too(stack: Stack) -> None:
    poller = stack.services["insights"].url
    contract = httpx.get(f"{poller}/asyncapi", timeout=10)
    assert contract.status_code == 200 and "social.insights.v1" in contract.json()["channels"]
    assert "social.insights.v1" in httpx.get(f"{poller}/docs/asyncapi", timeout=10).text

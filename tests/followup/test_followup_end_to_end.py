"""Issue 15 end to end: local servers speaking the four platforms' insights APIs -> the insights
poller -> metric snapshots on a real broker -> the SLA service's KPIs in a real database -> the
monthly report PDF, rendered to PNG pages by pdftoppm, its text extracted, its charts there, and
e-mailed exactly once to a real SMTP server."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import numpy
import pytest
from PIL import Image
from prometheus_client import CollectorRegistry
from socialops_common.events import AccountRecord, Platform
from socialops_common.testing import Mailbox, SettableClock, required_tool, wait_until
from socialops_ingest.accounts import publish_inventory
from socialops_ingest.insights.config import load_config
from socialops_ingest.insights.fakes import FakeData, FakePlatforms, serve_fakes, urls
from socialops_ingest.insights.poller import InsightsPoller
from socialops_ingest.publisher import EventPublisher
from socialops_ingest.settings import IngestSettings
from socialops_sla.app import SlaRuntime, create_app
from socialops_sla.calendar import STOCKHOLM
from socialops_sla.config import ManualClock, SlaSettings

pytestmark = pytest.mark.slow

# Friday 4 December 2026, 09:00 in Stockholm: November's report was due on the 2nd (its second
# working day), and every November post is over three days old (its figures final).
NOW = datetime(2026, 12, 4, 9, tzinfo=STOCKHOLM).astimezone(UTC)
NOVEMBER = [date(2026, 11, d) for d in range(1, 31)]


def inventory(suffix: str) -> list[AccountRecord]:
    culture = dict(department=f"Kulturförvaltningen {suffix}", department_email=f"kultur-{suffix}@example.se")
    return [
        AccountRecord(platform=Platform.FACEBOOK, external_id=f"9{suffix}", name="Stadsbiblioteket", **culture),
        AccountRecord(platform=Platform.INSTAGRAM, external_id=f"1784{suffix}", name="stadsbiblioteket", **culture),
        AccountRecord(platform=Platform.LINKEDIN, external_id=f"urn:li:organization:{suffix}", name="Kulturen",
                      **culture),
        AccountRecord(platform=Platform.X, external_id=f"7{suffix}", name="@kulturen", **culture),
        # no token for this one: not polled, and the report says so
        AccountRecord(platform=Platform.X, external_id=f"8{suffix}", name="@stadsbyggnad",
                      department=f"Stadsbyggnadskontoret {suffix}", department_email=f"sbk-{suffix}@example.se"),
    ]


async def test_platforms_to_poller_to_kpis_to_a_pdf_mailed_once(kafka_bootstrap: str, database_url: str,
                                                                tmp_path: Path):
    pdftoppm = required_tool("pdftoppm", "apt-get install -y poppler-utils")
    pdftotext = required_tool("pdftotext", "apt-get install -y poppler-utils")
    suffix = str(uuid.uuid4().int)[:9]
    accounts = inventory(suffix)
    facebook, instagram, linkedin, x_polled, x_without = accounts
    clock = SettableClock(NOW)
    fakes = FakePlatforms(accounts, FakeData(now=clock))
    mailbox = Mailbox().start()
    async with serve_fakes(fakes) as base:
        ingest = IngestSettings(kafka_bootstrap=kafka_bootstrap, insights_backfill_days=45,
                                insights_http_backoff_s=0.01, **urls(base),
                                insights_tokens={a.key.decode(): f"token-{a.external_id}" for a in accounts[:4]})
        publisher = EventPublisher(ingest, timeout_s=10)
        poller = InsightsPoller(ingest, publisher, load_config(), clock=clock, inventory=lambda: accounts)
        sla = SlaRuntime(SlaSettings(kafka_bootstrap=kafka_bootstrap, database_url=database_url,
                                     sla_consumer_group=f"followup-{suffix}", sla_refresh_seconds=3600,
                                     sla_kpi_refresh_seconds=0, sla_mail_poll_seconds=0.2, smtp_host="127.0.0.1",
                                     smtp_port=mailbox.port, sla_communication_email=f"kommunikation-{suffix}@example.se",
                                     machine_tokens="reports:communications:reports-token"),
                         ManualClock(NOW), CollectorRegistry())
        try:
            await publish_inventory(publisher, accounts)
            report = await poller.run_cycle()
            assert report.polled[x_without.key.decode()] == "no_token"
            assert {report.polled[a.key.decode()] for a in accounts[:4]} == {"ok"}
            await sla.start()
            service = sla.service
            pool = service.pool

            async def settled() -> bool:
                statuses = await pool.fetchval("SELECT count(*) FROM sla_insights_status WHERE account_id LIKE $1",
                                               f"%{suffix}")
                days = await pool.fetchval("SELECT count(*) FROM sla_account_days WHERE account_id = $1 AND "
                                           "day = '2026-11-30'", facebook.external_id)
                return statuses == 5 and days == 1

            await wait_until(settled, timeout=60)
            await wait_until(lambda: _stable(pool), timeout=60)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(sla, False)), base_url="http://sla",
                                       headers={"Authorization": "Bearer reports-token"})
            department = facebook.department
            body = (await client.get("/reports/monthly", params={"month": "2026-11", "department": department})).json()
            channels = {c["platform"] + ":" + c["account_id"]: c for c in body["channels"]}

            # the KPIs are the definitions applied to what the platforms answered
            fb = channels[facebook.key.decode()]
            daily = [fakes.data.daily(facebook.external_id, d)["reach"] for d in NOVEMBER]
            assert fb["reach_basis"] == "daily_average" and fb["reach"] == pytest.approx(sum(daily) / 30)
            posts = fakes.data.posts_between(facebook.external_id, datetime(2026, 11, 1, tzinfo=STOCKHOLM),
                                             datetime(2026, 12, 1, tzinfo=STOCKHOLM) - timedelta(microseconds=1))
            parts = [fakes.data.post_figures(facebook.external_id, p) for p in posts]
            assert fb["interactions"] == sum(f["reactions"] + f["comments"] + f["shares"] for f in parts)
            assert fb["link_clicks"] == sum(f["link_clicks"] for f in parts)
            assert fb["interaction_parts"] == ["reactions", "comments", "shares"]  # no saves on Facebook
            assert fb["new_followers"] == sum(fakes.data.daily(facebook.external_id, d)["new_followers"] for d in NOVEMBER)
            li = channels[linkedin.key.decode()]
            assert li["reach_basis"] == "month" and li["reach"] == fakes.data.monthly_reach(linkedin.external_id,
                                                                                         date(2026, 11, 1))
            xs = channels[x_polled.key.decode()]
            assert xs["reach"] is None and xs["missing"]["reach"] == "not_on_platform"
            ig = channels[instagram.key.decode()]
            assert ig["reach_basis"] == "daily_average" and ig["interaction_parts"] == ["reactions", "comments",
                                                                                       "shares", "saves"]
            assert body["summary"]["reach_by_platform"]["facebook"]["basis"] == "daily_average"

            # a re-poll an hour later changes nothing of November
            clock.at = NOW + timedelta(hours=1)
            rows_before = await pool.fetchval("SELECT count(*) FROM sla_account_days WHERE day < '2026-12-01'")
            await poller.run_cycle()
            await wait_until(lambda: _stable(pool), timeout=60)
            again = (await client.get("/reports/monthly", params={"month": "2026-11", "department": department})).json()
            assert without_polling_times(again) == without_polling_times(body)
            assert await pool.fetchval("SELECT count(*) FROM sla_account_days WHERE day < '2026-12-01'") == rows_before

            # the city's report says who was not polled
            city = (await client.get("/reports/monthly", params={"month": "2026-11"})).json()
            assert {(n["account_id"], n["state"]) for n in city["not_polled"]} >= {(x_without.external_id, "no_token")}

            # the department's report is mailed once, to its address, with the PDF
            ours = lambda: [m for m in mailbox.messages if m["To"] == facebook.department_email  # noqa: E731
                            and m["Subject"].startswith("Månadsrapport")]
            await wait_until(lambda: ours(), timeout=60)
            assert await service.plan_monthly_reports() == 0
            await service.mail.send_due()
            message = ours()[0]
            assert message["Subject"] == f"Månadsrapport sociala medier november 2026: {department}"
            pdf = next(part for part in message.iter_attachments()).get_content()

            # rendered: PNG pages, the text extractable, the charts drawn
            pages, text = await asyncio.to_thread(rendered, pdf, tmp_path, pdftoppm, pdftotext)
            assert len(pages) >= 3
            for words in ("November 2026", department, "Det viktigaste", "Nyckeltal", "Räckvidd per dag",
                          "Svar inom 24 timmar", "Inlägg per vecka", "Sena fredagsinlägg", "Borttagna kommentarer",
                          "Så räknas siffrorna", "Stadsbiblioteket"):
                assert words in text, words
            assert await asyncio.to_thread(charted, pages[1]), "the trend charts' bars and lines are drawn on page 2"
            pdf_endpoint = await client.get("/reports/monthly.pdf", params={"month": "2026-11"})
            assert pdf_endpoint.headers["content-type"] == "application/pdf"
            _, city_text = await asyncio.to_thread(rendered, pdf_endpoint.content, tmp_path / "city", pdftoppm,
                                                   pdftotext)
            assert "@stadsbyggnad" in city_text and "ingen token" in city_text
            await client.aclose()

            # exactly once, across a restart too
            await sla.stop()
            restarted = SlaRuntime(sla.settings, ManualClock(NOW + timedelta(days=1)), CollectorRegistry())
            await restarted.start()
            try:
                assert await restarted.service.plan_monthly_reports() == 0
                await restarted.service.mail.send_due()
            finally:
                await restarted.stop()
            assert len(ours()) == 1
        finally:
            await sla.stop()
            await poller.http.close()
            await publisher.stop()
            mailbox.stop()


def rendered(pdf: bytes, folder: Path, pdftoppm: str, pdftotext: str) -> tuple[list[Path], str]:
    """The PDF's pages as PNG files (pdftoppm) and its text (pdftotext)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.pdf").write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", "50", "-png", str(folder / "report.pdf"), str(folder / "page")], check=True,
                   timeout=60)
    text = subprocess.run([pdftotext, str(folder / "report.pdf"), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    return sorted(folder.glob("page-*.png")), text


def without_polling_times(report: dict) -> dict:
    """The report but when each account was last polled (a re-poll moves that, and only that)."""
    return {**report, "channels": [{**c, "insights": {**c["insights"], "last_success_at": None}}
                                   for c in report["channels"]]}


async def _stable(pool) -> bool:
    """The consumer has caught up: no figure changed for a moment."""
    first = await pool.fetchval("SELECT count(*) + coalesce(sum(extract(epoch FROM updated_at)), 0) FROM sla_post_figures")
    await asyncio.sleep(1.0)
    return first == await pool.fetchval(
        "SELECT count(*) + coalesce(sum(extract(epoch FROM updated_at)), 0) FROM sla_post_figures")


def charted(page: Path) -> bool:
    """Enough pixels in the charts' colours (bars: blue, green, orange) — page 1 has a few dozen."""
    pixels = numpy.asarray(Image.open(page).convert("RGB"), dtype=int).reshape(-1, 3)
    colours = numpy.array([(11, 95, 165), (46, 125, 50), (224, 123, 0)])
    near = (numpy.abs(pixels[:, None, :] - colours[None, :, :]).sum(axis=2) < 40).any(axis=1)
    return int(near.sum()) > 500

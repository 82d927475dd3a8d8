"""Communications follows up the month in the console: the city, a department, an account, and the PDF."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from console_harness import assert_accessible, sign_in

pytestmark = pytest.mark.slow


def this_month() -> str:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m")


def kpi(page, name: str) -> str:  # noqa: ANN001
    """This month's cell of a key figure's row."""
    return page.locator("table.kpis tr", has=page.locator("th", has_text=name)).locator("td").first.inner_text()


def test_communications_sees_the_month_against_the_one_before_and_downloads_the_report(page, console_stack) -> None:
    month = this_month()
    sign_in(page, console_stack, "klara.kommunikation")
    page.click("nav >> text=Uppföljning")
    page.wait_for_url("**/uppfoljning")
    page.fill("#month", month)
    page.click("button:has-text('Visa')")
    page.wait_for_url(f"**/uppfoljning?month={month}*")
    assert "hela staden" in page.locator("h1").inner_text().lower() or "stad" in page.locator("h1").inner_text()
    header = page.locator("table.kpis thead").inner_text()
    assert month in header  # and the month before beside it
    # the seeded stack: citizens' comments this month, one of them hidden by the rules, a DM to answer
    removed = kpi(page, "Borttagna kommentarer")
    removed_count, _, comments = removed.partition(" av ")
    assert int(removed_count) >= 1 and int(comments.split()[0]) >= int(removed_count), removed
    assert int(kpi(page, "Frågor och meddelanden")) >= 1
    # no insights poller in this stack: the platforms' figures are missing, never 0
    assert kpi(page, "Interaktioner") == "saknas"
    assert "Statistik saknas" in page.locator("main").inner_text()
    assert_accessible(page, console_stack, "communications-followup")

    # one department, then the PDF of what the page shows
    page.select_option("#scope", "department:Kulturförvaltningen")
    page.click("button:has-text('Visa')")
    page.wait_for_url("**scope=department*")
    assert "Kulturförvaltningen" in page.locator("h1").inner_text()
    link = page.locator("a:has-text('Ladda ner månadsrapporten (PDF)')")
    href = link.get_attribute("href")
    assert href and "scope=department" in href
    pdf = page.request.get(console_stack.console + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")


def test_the_contact_center_has_no_follow_up_and_the_api_wants_a_right(page, console_stack) -> None:
    sign_in(page, console_stack, "kim.kontaktcenter")
    assert page.locator("nav >> text=Uppföljning").count() == 0
    response = page.goto(console_stack.console + "/uppfoljning")
    assert response is not None and response.status == 403
    assert "behörighet" in page.locator("main").inner_text().lower()
    sla = console_stack.stack.services["sla"].url
    month = this_month()
    assert httpx.get(f"{sla}/reports/monthly", params={"month": month}, timeout=10).status_code == 401

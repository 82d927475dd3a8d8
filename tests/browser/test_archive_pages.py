"""Archivists, registrars and archive administrators at work in the console, in real headless Chromium."""

from __future__ import annotations

import re
import zipfile
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from console_harness import (
    DM_TEXT,
    EDITED_TEXT,
    PERSONNUMMER,
    ConsoleStack,
    assert_accessible,
    sign_in,
    tab_to,
)

pytestmark = pytest.mark.slow


def test_signed_out_the_console_sends_people_to_the_provider_with_pkce(console_stack: ConsoleStack) -> None:
    for path in ("/", "/inloggning", "/arkiv/sok?q=badhuset"):
        response = httpx.get(console_stack.console + path, follow_redirects=False)
        assert response.status_code == 302, (path, response.status_code)
        target = urlparse(response.headers["location"])
        query = parse_qs(target.query)
        assert f"{target.scheme}://{target.netloc}" == console_stack.idp.issuer
        assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
        assert query["state"][0] and query["code_challenge"][0] and query["nonce"][0]
        assert query["redirect_uri"] == [console_stack.console + "/inloggning/svar"]
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    discovery = httpx.get(console_stack.idp.issuer + "/.well-known/openid-configuration").json()
    assert discovery["issuer"] == console_stack.idp.issuer
    ready = httpx.get(console_stack.console + "/readyz")
    assert ready.status_code == 200 and set(ready.json()["checks"]) == {"identity_provider", "archive"}


def test_an_archivist_finds_the_comment_sees_both_versions_masked_and_no_dm(page, console_stack) -> None:
    sign_in(page, console_stack, "astrid.arkivarie")
    assert page.locator("h1").inner_text() == "Hej Astrid Arkivarie!"
    assert_accessible(page, console_stack, "archivist-start")

    page.click("text=Sök i arkivet")
    page.fill("#q", "badhuset")
    page.click("button:has-text('Sök')")
    assert "q=badhuset" in page.url  # the search lives in the URL: bookmark, back and reload work
    results = page.locator("ol.results > li")
    assert results.count() >= 2
    assert page.locator("ol.results mark", has_text="badhuset").count() >= 1
    assert PERSONNUMMER not in page.content()
    assert_accessible(page, console_stack, "archivist-search")
    page.reload()
    assert page.locator("ol.results > li").count() == results.count()

    page.click(f"a[href='/arkiv/objekt/{console_stack.seeded['comment']}']")
    versions = page.locator("ol.versions > li")
    assert versions.count() == 2
    assert page.locator("ol.versions ins", has_text="december").count() == 1  # the edit, marked
    assert page.locator("ol.versions del", has_text="nu?").count() == 1
    content = page.content()
    assert PERSONNUMMER not in content and "█" in content  # masked for an archivist, as the API does
    assert "Skärmdumpen visar texten utan maskering" in content
    assert page.locator("text=Kedjan av kontrollsummor stämmer").count() == 1
    assert_accessible(page, console_stack, "archivist-item")

    response = page.goto(f"{console_stack.console}/arkiv/objekt/{console_stack.seeded['dm']}")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Du har inte behörighet att se det här"
    assert DM_TEXT not in page.locator("body").inner_text()
    assert_accessible(page, console_stack, "archivist-403")


def test_a_registrar_sees_the_comment_unmasked_and_its_registration_with_the_snapshot(page, console_stack) -> None:
    sign_in(page, console_stack, "rolf.registrator", f"/arkiv/objekt/{console_stack.seeded['comment']}")
    assert page.url.endswith(f"/arkiv/objekt/{console_stack.seeded['comment']}")  # back where they were going
    shown = page.locator("ol.versions").inner_text()
    assert EDITED_TEXT in shown and PERSONNUMMER in shown
    assert page.locator("text=" + console_stack.seeded["registration"]).count() >= 1
    image = page.locator("figure.snapshot img")
    assert image.get_attribute("alt").startswith("Skärmdump av kommentaren")
    assert page.evaluate("img => img.complete && img.naturalWidth > 100", image.element_handle())
    assert_accessible(page, console_stack, "registrar-item")

    page.click("text=Diarieförda borttagningar")
    row = page.locator("tr", has_text=console_stack.seeded["registration"])
    assert "skickat" in row.inner_text()
    assert_accessible(page, console_stack, "registrar-registrations")
    response = page.goto(f"{console_stack.console}/arkiv/objekt/{console_stack.seeded['dm']}")
    assert response.status == 200 and DM_TEXT in page.locator("main").inner_text()


def test_a_registrar_exports_and_the_package_validates_as_an_eark_sip(page, console_stack, tmp_path) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "archive" / "tests"))
    from eark_support import errors_of, validate_package

    sign_in(page, console_stack, "rolf.registrator", "/arkiv/export")
    assert_accessible(page, console_stack, "registrar-export-form")
    page.select_option("#account", "104857600000001")
    today = date.today()
    page.fill("#from", (today - timedelta(days=1)).isoformat())
    page.fill("#to", (today + timedelta(days=1)).isoformat())
    page.click("button:has-text('Beställ export')")
    page.wait_for_url("**/arkiv/export/*")
    # The status updates itself (no reload) and is announced in the live region.
    page.wait_for_selector("[data-status='ready']", timeout=120_000)
    assert "Klart att hämta" in page.locator("#meddelanden").inner_text()
    assert_accessible(page, console_stack, "registrar-export-ready")
    with page.expect_download() as download:
        page.click("text=Hämta paketet (zip)")
    package = tmp_path / "package.zip"
    download.value.save_as(package)
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    assert any(name.endswith("representations/rep1/data/items.json") for name in names)
    report = validate_package(package)  # as the archive's own export test does
    assert str(report.structure.status).endswith("WELLFORMED")
    assert str(report.metadata.schema_results.status).endswith("VALID")
    # Only SIP14 remains, the validator's known conflict with the METS schema (docs/archive.md).
    assert {e.split(":")[0] for e in errors_of(report)} <= {"SIP14"}


def test_an_archive_admin_reads_who_did_what_and_manages_retention(page, console_stack) -> None:
    sign_in(page, console_stack, "ada.arkivadmin", "/admin/logg")
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    assert page.locator("th", has_text="Astrid Arkivarie <astrid.arkivarie@stad.example>").count() >= 1
    assert_accessible(page, console_stack, "admin-audit-log")
    page.fill("#principal", "rolf")
    page.click("button:has-text('Visa')")
    assert all("Rolf Registrator" in text for text in page.locator("tbody th").all_inner_texts())

    page.click("text=Gallring och bevarande")
    page.select_option("#item_class", "comment")
    page.fill("#keep_days", "3650")
    page.fill("#decision", "KS 2026/42 Gallringsbeslut för sociala medier")
    page.click("button:has-text('Spara regeln')")
    assert "Gallringsregeln är sparad." in page.content()
    assert "3650 dagar" in page.get_by_role("row", name=re.compile(r"^Kommentarer ")).inner_text()
    page.fill("#hold-reason", "Begäran om utlämnande, dnr KS 2026/77")
    page.select_option("#hold-account", "104857600000001")
    page.click("button:has-text('Lägg beslutet')")
    assert "Bevarandebeslutet är lagt." in page.content()
    assert_accessible(page, console_stack, "admin-retention")
    page.click("button:has-text('Provkör')")
    assert "Provkörningen skulle gallra" in page.content()


def test_the_main_tasks_work_with_the_keyboard_alone(page, console_stack) -> None:
    sign_in(page, console_stack, "astrid.arkivarie")
    tab_to(page, "el.classList.contains('skip')")
    page.keyboard.press("Enter")
    tab_to(page, "el.getAttribute('href') === '/arkiv/sok'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/arkiv/sok")
    tab_to(page, "el.id === 'q'")
    page.keyboard.type("badhuset")
    page.keyboard.press("Enter")
    page.wait_for_url("**/arkiv/sok?*")
    tab_to(page, f"el.getAttribute('href') === '/arkiv/objekt/{console_stack.seeded['comment']}'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/arkiv/objekt/{console_stack.seeded['comment']}")
    assert page.locator("ol.versions > li").count() == 2
    # the focus is always visible: a focused link has an outline
    tab_to(page, "el.tagName === 'A'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    # signing out with the keyboard too
    tab_to(page, "el.textContent.trim() === 'Logga ut'", limit=200)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{console_stack.idp.issuer}/oauth2/end_session*")  # signed out at the provider too
    page.click("button:has-text('End session')")
    page.wait_for_url(f"{console_stack.console}/utloggad*")
    assert page.locator("h1").inner_text() == "Du är utloggad"
    assert_accessible(page, console_stack, "signed-out")
    page.goto(console_stack.console + "/arkiv/sok")
    assert page.url.startswith(console_stack.idp.issuer)  # the session is gone


def test_pages_reflow_at_320_pixels(page, console_stack) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    sign_in(page, console_stack, "rolf.registrator", f"/arkiv/objekt/{console_stack.seeded['comment']}")
    for path in ("/", "/arkiv/sok?q=badhuset", f"/arkiv/objekt/{console_stack.seeded['comment']}",
                 "/arkiv/diarieforing", "/arkiv/export", "/tillganglighet"):
        page.goto(console_stack.console + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 321)
            .filter(e => !e.closest('.table table')).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        assert width <= 320, f"{path} is {width} px wide at a 320 px viewport: {wide}"
    assert_accessible(page, console_stack, "accessibility-statement-320px")

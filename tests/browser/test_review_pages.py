"""Editors review in the console: the queue of their accounts, one key to confirm, undo within a minute."""

from __future__ import annotations

import json

import pytest
from console_harness import (
    INSULTS,
    LIBRARY_ID,
    LIBRARY_POST,
    ConsoleStack,
    assert_accessible,
    sign_in,
    tab_to,
    wait_for,
)

pytestmark = pytest.mark.slow


def graph_calls(stack: ConsoleStack, comment_id: str) -> list[dict]:
    """The local Graph API's calls on the comment (socialops_moderation.fake_platforms records each)."""
    return [call for call in stack.stack.graph.calls if call["path"].endswith(f"/{comment_id}")]


def test_an_editor_confirms_with_the_keyboard_alone_and_the_comment_is_hidden_and_registered(page, browser,
                                                                                          console_stack, tmp_path) -> None:
    sign_in(page, console_stack, "louise.redaktor")
    tab_to(page, "el.getAttribute('href') === '/granskning'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/granskning")
    assert page.locator("ol.results > li").count() >= 2
    assert INSULTS[0] in page.locator("main").inner_text()
    assert_accessible(page, console_stack, "editor-review-queue")
    # the oldest first: open it with the keyboard
    tab_to(page, "el.closest('ol.results') && el.tagName === 'A'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/granskning/*")
    main = page.locator("main").inner_text()
    assert INSULTS[0] in page.locator("blockquote.text").inner_text()  # the first written (the thread shows both)
    assert "Kränkning" in main and "Riktlinjen:" in main
    assert "Dölj" in page.locator("button[data-key='b']").inner_text() or "dold" in page.locator(
        "button[data-key='b']").inner_text()
    assert_accessible(page, console_stack, "editor-review-item")
    page.keyboard.press("b")  # Bekräfta: hide, as the default policy would have
    page.wait_for_selector("button[data-key='z']")  # the next item, with the undo of this verdict
    comment_id = f"{LIBRARY_POST}_i0"
    wait_for(lambda: any(call["method"] == "POST" and call["data"].get("is_hidden") == "true"
                         for call in graph_calls(console_stack, comment_id)), timeout=120, what="the hide")
    # The executed hide is a removal: registered, and the registrar finds it in the archive's pages.
    registration = wait_for(lambda: next((r for r in console_stack.archive_api("/registrations")["registrations"]
                                          if r["account_id"] == LIBRARY_ID and r["email"]["status"] == "sent"), None),
                            what="the hidden comment registered")
    registrar = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm").new_page()
    try:
        sign_in(registrar, console_stack, "rolf.registrator", "/arkiv/diarieforing")
        row = registrar.locator("tr", has_text=registration["number"])
        assert "skickat" in row.inner_text()
        row.locator("a").first.click()
        assert INSULTS[0] in registrar.locator("ol.versions").inner_text()
        assert "Louise Lind" in registrar.locator("main").inner_text()  # the verdict names the person
    finally:
        registrar.context.close()
    # Her verdict as training data for the city's own model: the masked text and the class, no names.
    page.goto(console_stack.console + "/granskning")
    with page.expect_download() as download:
        page.click("text=Ladda ner granskade kommentarer")
    saved = tmp_path / "granskade.jsonl"
    download.value.save_as(saved)
    rows = [json.loads(line) for line in saved.read_text("utf-8").splitlines()]
    confirmed = next(r for r in rows if INSULTS[0] in r["text"])
    assert confirmed["expected_action"] == "hide" and confirmed["split"] in ("train", "heldout")
    assert "Louise" not in saved.read_text("utf-8")


def test_the_commenter_is_told_once_as_a_private_reply(page, console_stack) -> None:
    """After the hide above: Louise sends the notice, edited; a second try sends nothing."""
    sign_in(page, console_stack, "louise.redaktor", "/granskning/borttagna")
    entry = page.locator("ol.results > li", has_text=INSULTS[0])
    assert_accessible(page, console_stack, "editor-notices")
    text = entry.locator("textarea")
    assert "dolt" in text.input_value()
    text.fill(text.input_value() + " (Skickat från bibliotekets redaktion.)")
    entry.locator("button:has-text('Skicka meddelandet')").click()
    page.wait_for_url("**/granskning/borttagna?skickat=*")
    comment_id = f"{LIBRARY_POST}_i0"

    def notices() -> list[dict]:
        return [c for c in console_stack.stack.graph.calls if c["path"].endswith("/messages")
                and ((c.get("json") or {}).get("recipient") or {}).get("comment_id") == comment_id]

    wait_for(notices, what="the Private Reply at the local Graph API")
    sent = notices()
    assert len(sent) == 1 and "bibliotekets redaktion" in sent[0]["json"]["message"]["text"]
    page.reload()
    entry = page.locator("ol.results > li", has_text=INSULTS[0])
    assert entry.locator("textarea").count() == 0  # sent once: no form any more, its status instead
    assert "Meddelande:" in entry.inner_text()
    assert len(notices()) == 1


def test_a_verdict_can_be_undone_within_a_minute_and_the_comment_comes_back(page, console_stack) -> None:
    sign_in(page, console_stack, "louise.redaktor", "/granskning")
    second = page.locator("ol.results > li", has_text=INSULTS[1]).locator("a")
    second.click()
    page.wait_for_url("**/granskning/*")  # loaded, with its keyboard shortcuts
    page.keyboard.press("b")
    page.wait_for_selector("button[data-key='z']")
    comment_id = f"{LIBRARY_POST}_i1"
    wait_for(lambda: any(call["data"].get("is_hidden") == "true" for call in graph_calls(console_stack, comment_id)),
             timeout=120, what="the hide")
    page.wait_for_load_state()
    page.keyboard.press("z")  # Ångra
    page.wait_for_url("**/granskning/*")
    assert page.locator("button[data-key='b']").count() == 1  # waiting for a verdict again
    wait_for(lambda: any(call["data"].get("is_hidden") == "false" for call in graph_calls(console_stack, comment_id)),
             timeout=120, what="the unhide")


def test_communications_reads_the_queue_and_the_contact_center_has_none(page, console_stack) -> None:
    sign_in(page, console_stack, "klara.kommunikation", "/granskning")
    assert page.locator("h1").inner_text() == "Granskning"
    page.locator("ol.results a").first.click()
    assert page.locator("button[data-key='b']").count() == 0  # read-only
    page.goto(console_stack.console + "/granskning")
    assert page.locator("text=Ladda ner granskade kommentarer").count() == 0  # no verdicts to export either
    page.goto(console_stack.console + "/utloggad")
    page.context.clear_cookies()
    sign_in(page, console_stack, "kim.kontaktcenter", "/granskning")
    assert page.locator("h1").inner_text() == "Du har inte behörighet att se det här"

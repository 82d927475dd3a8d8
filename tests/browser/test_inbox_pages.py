"""The contact center and editors answer in the console: the inbox, claims, replies on every platform, likes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from console_harness import (
    DM_TEXT,
    LIBRARY_POST,
    LINKEDIN_ORG,
    PAGE_ID,
    THANKS_TEXT,
    ConsoleStack,
    assert_accessible,
    library_question,
    linkedin_question,
    send_delivery,
    sign_in,
    wait_for,
    x_question,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def sla_state(stack: ConsoleStack, item_id: str) -> str | None:
    inbox = httpx.get(stack.stack.services["sla"].url + "/inbox", params={"state": "met"},
                      headers={"Authorization": "Bearer e2e-editor"}, timeout=10).json()
    return next((i["state"] for i in inbox["items"] if i["item_id"] == item_id), None)


def open_item(page, text: str) -> None:  # noqa: ANN001
    page.locator("ol.inbox > li", has_text=text).locator("h3 a").click()


def answer(page, text: str) -> None:  # noqa: ANN001
    """Write above the prefilled signature and send."""
    box = page.locator("#text")
    box.focus()
    page.keyboard.press("Control+Home")
    page.keyboard.type(text)
    page.click("button:has-text('Skicka svaret')")
    page.wait_for_url("**klart=svar")


def test_a_question_appears_by_itself_is_claimed_and_answered_once_with_the_signature(page, browser,
                                                                                     console_stack) -> None:
    sign_in(page, console_stack, "louise.redaktor", "/inkorg")
    assert_accessible(page, console_stack, "editor-inbox")
    comment_id = f"{LIBRARY_POST}_q{uuid.uuid4().hex[:6]}"
    question = "När öppnar biblioteket igen efter renoveringen?"
    send_delivery(console_stack, library_question(datetime.now(UTC), comment_id, question))
    # no reload: the list updates itself and says so to screen readers
    page.wait_for_selector(f"ol.inbox >> text={question}", timeout=120_000)
    # the live region is emptied, then filled 50 ms later, so that a screen reader reads it again
    expect(page.locator("#meddelanden")).to_contain_text("Inkorgen uppdaterad", timeout=10_000)
    open_item(page, question)
    page.wait_for_url("**/inkorg/*")
    assert "arbetstid kvar" in page.locator("dl.facts").inner_text()
    page.click("button:has-text('Jag tar den')")
    assert "Du sedan" in page.locator("dl.facts").inner_text()
    item_url = page.url.split("?")[0]
    assert_accessible(page, console_stack, "editor-inbox-item")

    other = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm").new_page()
    try:
        sign_in(other, console_stack, "kim.kontaktcenter", item_url.replace(console_stack.console, ""))
        assert "Louise Lind sedan" in other.locator("dl.facts").inner_text()
        assert other.locator("button:has-text('Ta över från Louise Lind')").count() == 1
    finally:
        other.context.close()

    box = page.locator("#text")
    assert box.input_value().strip().endswith("Vänliga hälsningar, Louise Lind, kommunikatör")
    answer(page, "Hej! Biblioteket öppnar igen den 8 januari.")

    def replies() -> list[dict]:
        return console_stack.stack.graph.called("POST", f"/{comment_id}/comments")

    wait_for(replies, what="the reply at the local Graph API")
    assert wait_for(lambda: sla_state(console_stack, comment_id) == "met", what="the SLA counting it answered")
    page.goto(item_url)
    assert "Besvarad" in page.locator("dl.facts").inner_text()
    sent = replies()
    assert len(sent) == 1
    assert sent[0]["data"]["message"].startswith("Hej! Biblioteket öppnar igen den 8 januari.")
    assert sent[0]["data"]["message"].rstrip().endswith("Vänliga hälsningar, Louise Lind, kommunikatör")


def test_a_double_submit_sends_once(page, console_stack) -> None:
    comment_id = f"{LIBRARY_POST}_q{uuid.uuid4().hex[:6]}"
    send_delivery(console_stack, library_question(datetime.now(UTC), comment_id, "Kan man låna e-böcker nu?"))
    sign_in(page, console_stack, "louise.redaktor", "/inkorg")
    page.wait_for_selector("ol.inbox >> text=Kan man låna e-böcker nu?", timeout=120_000)
    open_item(page, 'Kan man låna e-böcker nu?')
    page.wait_for_url("**/inkorg/*")
    page.locator("#text").fill("Ja, i appen. Vänliga hälsningar, Louise Lind, kommunikatör")
    form = page.locator("form[action$='/svar']")
    form.evaluate("f => { f.requestSubmit(); f.requestSubmit(); }")  # two submits of the same form
    page.wait_for_url("**klart=svar")
    wait_for(lambda: console_stack.stack.graph.called("POST", f"/{comment_id}/comments"), what="the reply")
    page.wait_for_timeout(2000)
    assert len(console_stack.stack.graph.called("POST", f"/{comment_id}/comments")) == 1


def test_the_contact_center_answers_a_messenger_dm_through_the_send_api(page, console_stack) -> None:
    sign_in(page, console_stack, "kim.kontaktcenter", "/inkorg?platform=facebook")
    open_item(page, DM_TEXT)
    page.wait_for_url("**/inkorg/*")
    assert "Samtalet" in page.locator("main").inner_text()
    answer(page, "Hej! Din ansökan handläggs nu, du får besked inom två veckor.")

    def sent() -> list[dict]:
        return [c for c in console_stack.stack.graph.called("POST", f"/{PAGE_ID}/messages")
                if (c.get("json") or {}).get("recipient", {}).get("id") == "5550003"]

    wait_for(sent, what="the Send API call")
    call = sent()[0]["json"]
    assert call["messaging_type"] == "RESPONSE" and call["message"]["text"].startswith("Hej! Din ansökan")
    assert wait_for(lambda: sla_state(console_stack, "m_browser_1") == "met", what="the DM answered")


def test_replies_on_x_and_linkedin_go_to_their_apis(page, console_stack) -> None:
    now = datetime.now(UTC)
    tweet_id = str(1790000000000000000 + int(now.timestamp()))
    send_delivery(console_stack, x_question(now, tweet_id, "@helsingborg När töms sopkärlen i jul?"))
    comment = f"69{int(now.timestamp())}"
    send_delivery(console_stack, linkedin_question(now, comment, "Hur söker man sommarjobb hos er?"))
    sign_in(page, console_stack, "kim.kontaktcenter", "/inkorg?platform=x")
    page.wait_for_selector("ol.inbox >> text=När töms sopkärlen i jul?", timeout=120_000)
    open_item(page, 'När töms sopkärlen i jul?')
    page.wait_for_url("**/inkorg/*")
    page.locator("#text").fill("Hej! Tömning som vanligt, utom juldagen. /Kim, kontaktcenter")
    page.click("button:has-text('Skicka svaret')")
    page.wait_for_url("**klart=svar")
    posted = wait_for(lambda: [c for c in console_stack.stack.x.called("POST", "/2/tweets")
                               if (c.get("json") or {}).get("reply", {}).get("in_reply_to_tweet_id") == tweet_id],
                      what="the reply at the local X API")
    assert posted[0]["json"]["text"].startswith("Hej! Tömning som vanligt")

    page.goto(console_stack.console + "/inkorg?platform=linkedin")
    page.wait_for_selector("ol.inbox >> text=Hur söker man sommarjobb hos er?", timeout=120_000)
    open_item(page, 'Hur söker man sommarjobb hos er?')
    page.wait_for_url("**/inkorg/*")
    page.locator("#text").fill("Hej! Sök på helsingborg.se/sommarjobb senast 1 mars. /Kim")
    page.click("button:has-text('Skicka svaret')")
    page.wait_for_url("**klart=svar")
    commented = wait_for(lambda: [c for c in console_stack.stack.linkedin.calls
                                  if c["method"] == "POST" and "/comments" in c["path"]], what="the LinkedIn comment")
    assert commented[0]["json"]["actor"] == LINKEDIN_ORG and "sommarjobb" in commented[0]["json"]["message"]["text"]


def test_a_friendly_comment_is_liked_once(page, console_stack) -> None:
    sign_in(page, console_stack, "louise.redaktor", "/inkorg/vanliga")
    entry = page.locator("ol.results > li", has_text=THANKS_TEXT)
    assert_accessible(page, console_stack, "editor-friendly")
    entry.locator("button:has-text('Gilla')").click()
    page.wait_for_url("**gillad=*")

    def likes() -> list[dict]:
        return [c for c in console_stack.stack.graph.calls if c["method"] == "POST" and c["path"].endswith("/likes")]

    wait_for(likes, what="the like at the local Graph API")
    page.reload()
    entry = page.locator("ol.results > li", has_text=THANKS_TEXT)
    assert entry.locator("button:has-text('Gilla')").count() == 0 and "Gillad" in entry.inner_text()
    assert len(likes()) == 1

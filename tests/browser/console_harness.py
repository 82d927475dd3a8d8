"""What the console's browser tests share (fixtures in conftest.py): browser tests of the console: real headless Chromium (Debian's, never a downloaded one) driven by
Playwright, against the platform as real processes (ingest, moderation, archive, console), signed in
through a real local OpenID Connect provider, with axe-core checking every page.

Traffic goes in as the platforms send it (signed webhooks through ingest), so what the pages show went
through moderation, the executor (a local Graph API) and the archive like anything in production.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from socialops_common.local_idp import LocalIdentityProvider

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))  # the end-to-end harness: Stack, SECRETS

from harness import SECRETS, Stack  # noqa: E402
from socialops_ingest import payloads as p  # noqa: E402

AXE = HERE / "vendor" / "axe-core-4.11.0" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8") + "\n;true"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGE_ID = "104857600000001"  # Helsingborgs stad (config/accounts.yaml)
POST_ID = f"{PAGE_ID}_9001"
LIBRARY_ID = "104857600000002"  # Helsingborgs bibliotek: policy review_first (insults wait for an editor)
LIBRARY_POST = f"{LIBRARY_ID}_7001"
INSULTS = ("Politikerna är idioter som inte fattar något om bibliotek",
           "Ni i styrelsen är rätt dumma i huvudet som stänger på lördagar")
# A personnummer with a valid check digit (Luhn): moderation hides the comment, the archive masks it.
PERSONNUMMER = "811218-9876"
FIRST_TEXT = f"Varför stänger badhuset redan nu? Mitt personnummer är {PERSONNUMMER} om ni vill ringa."
EDITED_TEXT = f"Varför stänger badhuset redan i december? Mitt personnummer är {PERSONNUMMER} om ni vill ringa."
THANKS_TEXT = "Tack för att ni berättar om badhuset, bra med framförhållning!"
DM_TEXT = "Hej! Jag undrar hur det går med min ansökan om bygglov."
BROWSER_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions"]


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(int(d) for d in digits):
        doubled = digit * (2 - position % 2)
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


assert luhn_valid(PERSONNUMMER.replace("-", "")), "the test's personnummer must pass the checksum"


@dataclass
class ConsoleStack:
    stack: Stack
    idp: LocalIdentityProvider
    screenshots: Path
    seeded: dict[str, str] = field(default_factory=dict)

    @property
    def console(self) -> str:
        return self.stack.services["console"].url

    def archive_api(self, path: str, **params: object) -> dict:
        headers = {"Authorization": "Bearer e2e-registrar"}
        return httpx.get(self.stack.services["archive"].url + path, params=params, headers=headers, timeout=10).json()


SECRETS_OF_PLATFORMS = p.Secrets(SECRETS["SOCIALOPS_META_APP_SECRET"], SECRETS["SOCIALOPS_X_CONSUMER_SECRET"],
                                 SECRETS["SOCIALOPS_LINKEDIN_CLIENT_SECRET"])
X_ACCOUNT = "19446000"  # Helsingborgs stad on X (config/accounts.yaml)
LINKEDIN_ORG = "urn:li:organization:2414183"  # Helsingborgs stad as employer on LinkedIn


def send_delivery(stack: ConsoleStack, delivery: p.Delivery) -> None:
    response = httpx.post(stack.stack.services["ingest"].url + delivery.path, content=delivery.body,
                          headers=delivery.headers, timeout=10)
    assert response.status_code == 200, response.text


def library_question(at: datetime, comment_id: str, text: str) -> p.Delivery:
    change = p.feed_comment(post_id=LIBRARY_POST, comment_id=comment_id, at=at, message=text,
                            author=("5550301", "Frida Frågvis"))
    return p.sign("meta", p.meta_body("page", [p.page_entry(LIBRARY_ID, at, [change])]), SECRETS_OF_PLATFORMS)


def x_question(at: datetime, tweet_id: str, text: str) -> p.Delivery:
    reply = p.tweet(tweet_id=tweet_id, at=at, text=text, user=("5550401", "undrande", "Ulla Undrande"),
                    in_reply_to=("1790000000000000001", X_ACCOUNT))
    return p.sign("x", p.x_body(X_ACCOUNT, tweet_create_events=[reply]), SECRETS_OF_PLATFORMS)


def linkedin_question(at: datetime, comment_id: str, text: str) -> p.Delivery:
    notification = p.linkedin_notification(
        notification_id=int(at.timestamp()), organization=LINKEDIN_ORG, action="COMMENT",
        post_urn="urn:li:activity:7200000000000000001", comment_urn=f"urn:li:comment:(urn:li:activity:7200000000000000001,{comment_id})",
        actor="urn:li:person:frageställare1", at=at, text=text)
    return p.sign("linkedin", p.linkedin_body([notification]), SECRETS_OF_PLATFORMS)


def deliveries(now: datetime) -> list[p.Delivery]:
    secrets = SECRETS_OF_PLATFORMS

    def page(at: datetime, change: dict) -> p.Delivery:
        return p.sign("meta", p.meta_body("page", [p.page_entry(PAGE_ID, at, [change])]), secrets)

    def library(at: datetime, change: dict) -> p.Delivery:
        return p.sign("meta", p.meta_body("page", [p.page_entry(LIBRARY_ID, at, [change])]), secrets)

    citizen = ("5550001", "Eva Ek")
    return [
        page(now - timedelta(minutes=30), p.feed_post(page_id=PAGE_ID, post_id=POST_ID, at=now - timedelta(minutes=30),
                                                      message="Badhuset stänger för renovering i december.",
                                                      page_name="Helsingborgs stad")),
        page(now - timedelta(minutes=20), p.feed_comment(post_id=POST_ID, comment_id=f"{POST_ID}_c1",
                                                         at=now - timedelta(minutes=20), message=FIRST_TEXT,
                                                         author=citizen)),
        page(now - timedelta(minutes=15), p.feed_comment(post_id=POST_ID, comment_id=f"{POST_ID}_c1", verb="edited",
                                                         at=now - timedelta(minutes=15), message=EDITED_TEXT,
                                                         author=citizen)),
        page(now - timedelta(minutes=10), p.feed_comment(post_id=POST_ID, comment_id=f"{POST_ID}_c2",
                                                         at=now - timedelta(minutes=10), message=THANKS_TEXT,
                                                         author=("5550002", "Olle Ås"))),
        p.sign("meta", p.meta_body("page", [p.messaging_entry(PAGE_ID, now - timedelta(minutes=5), sender="5550003",
                                                              recipient=PAGE_ID, mid="m_browser_1", text=DM_TEXT)]),
               secrets),
        library(now - timedelta(minutes=40), p.feed_post(page_id=LIBRARY_ID, post_id=LIBRARY_POST,
                                                         at=now - timedelta(minutes=40), page_name="Helsingborgs bibliotek",
                                                         message="Från januari har biblioteket stängt på lördagar.")),
        *[library(now - timedelta(minutes=30 - n), p.feed_comment(post_id=LIBRARY_POST, comment_id=f"{LIBRARY_POST}_i{n}",
                                                                  at=now - timedelta(minutes=30 - n), message=text,
                                                                  author=(f"555010{n}", f"Kritiker {n}")))
          for n, text in enumerate(INSULTS)],
    ]


def wait_for(condition, timeout: float = 120.0, what: str = "condition"):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    raise TimeoutError(f"{what} not met in {timeout} s")


def sign_in(page, stack: ConsoleStack, subject: str, path: str = "/") -> None:  # noqa: ANN001
    """Open the console signed out: the provider's page comes, the person chooses who they are."""
    page.goto(stack.console + path)
    assert page.url.startswith(stack.idp.issuer), page.url
    page.click(f"button[value='{subject}']")
    page.wait_for_url(f"{stack.console}/**")


def assert_accessible(page, stack: ConsoleStack, name: str) -> Path:  # noqa: ANN001
    """Zero axe-core violations (WCAG 2.1 A and AA), and a full-page screenshot to look at."""
    # Evaluated through the DevTools protocol: the console's CSP (no inline scripts) stays as it is.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    problems = [f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:5]}"
                for v in result["violations"]]
    shot = stack.screenshots / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot of {name}: {shot}")
    assert problems == [], f"{name}: " + "\n".join(problems)
    assert result["passes"], "axe ran no rule at all"
    return shot


def tab_to(page, matches: str, *, limit: int = 80) -> None:  # noqa: ANN001
    """Press Tab until the focused element matches the JavaScript predicate `matches` (on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!(el && ({matches})); }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {matches}")

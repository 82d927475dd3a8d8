"""Fixtures of the console's browser tests (what they share is in console_harness.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_harness import BROWSER_ARGS, LIBRARY_ID, POST_ID, ConsoleStack, deliveries, wait_for  # noqa: E402
from harness import Stack  # noqa: E402
from socialops_common.devstack import free_port  # noqa: E402
from socialops_common.local_idp import LOCAL_AUDIENCE, LocalIdentityProvider  # noqa: E402
from socialops_common.testing import required_tool  # noqa: E402


@pytest.fixture(scope="session")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    idp = LocalIdentityProvider(free_port())
    with idp.running():
        stack = Stack()
        try:
            stack.start(("ingest", "moderation", "sla", "archive", "console"), **{
                "SOCIALOPS_OIDC_ISSUER": idp.issuer, "SOCIALOPS_OIDC_AUDIENCE": LOCAL_AUDIENCE,
                "SOCIALOPS_OIDC_CLIENT_ID": "socialops-console", "SOCIALOPS_OIDC_CLIENT_SECRET": "local-console-secret",
                "SOCIALOPS_CONSOLE_SECURE_COOKIES": "false", "SOCIALOPS_SNAPSHOT_WAIT_S": "1",
                "SOCIALOPS_OUTBOX_POLL_S": "0.2",
            })
            console = ConsoleStack(stack, idp, tmp_path_factory.mktemp("screenshots"))
            ingest = stack.services["ingest"].url
            for delivery in deliveries(datetime.now(UTC)):
                response = httpx.post(ingest + delivery.path, content=delivery.body, headers=delivery.headers, timeout=10)
                assert response.status_code == 200, response.text
                time.sleep(0.3)  # in order, as a page's webhooks come
            item = wait_for(lambda: next((i for i in console.archive_api("/items", q="december")["items"]
                                          if i["platform_item_id"] == f"{POST_ID}_c1" and i["versions"] == 2), None),
                            what="the edited comment archived")
            console.seeded["comment"] = str(item["id"])
            registration = wait_for(lambda: next((r for r in console.archive_api("/registrations")["registrations"]
                                                  if r.get("item") == item["id"] and r["snapshot"]
                                                  and r["email"]["status"] == "sent"), None),
                                    what="the hidden comment registered, rendered and mailed")
            console.seeded["registration"] = registration["number"]
            moderation = stack.services["moderation"].url
            wait_for(lambda: len(httpx.get(f"{moderation}/review", params={"account_id": LIBRARY_ID},
                                           headers={"Authorization": "Bearer e2e-editor"}, timeout=10).json()) >= 2,
                     what="the library's insults waiting for review")
            dm = wait_for(lambda: next(iter(console.archive_api("/items", type="dm")["items"]), None),
                          what="the DM archived")
            console.seeded["dm"] = str(dm["id"])
            yield console
        finally:
            stack.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return required_tool("chromium", "apt-get install -y chromium")


@pytest.fixture(scope="module")
def browser(chromium_path: str, console_stack: ConsoleStack):  # noqa: ANN201 - a Playwright Browser
    # The stack first: Playwright's sync API holds an event loop, and the stack's set-up runs its own.
    # Per module, not per session: while Playwright runs, its loop is this thread's running loop, and the
    # other test files this xdist worker runs after these need `asyncio.run` of their own.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201 - a Playwright Page in a fresh context (no cookies)
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()




@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    # A browser test that fails on a loaded machine is only explained by what the services logged then:
    # their logs' tails go into the report (CI shows nothing else of a run that is gone).
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, "funcargs", {}).get("console_stack")
    if report.when == "call" and report.failed and stack is not None:
        for name, service in stack.stack.services.items():
            report.sections.append((f"{name} log (last lines)", service.log_tail(40)))

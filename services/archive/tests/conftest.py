"""Fixtures for the archive's tests: a real SMTP server, the running app, event builders."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest
from socialops_common.devstack import free_port
from socialops_common.events import (
    Author,
    EventKind,
    Platform,
    SocialEvent,
    social_event_id,
)
from socialops_common.stack import SmtpSink
from socialops_common.testing import wait_until

# Machine-client tokens (name:role:token): the identity-provider path is tested in test_people.py.
TOKENS = "test-archivist:archivist:arch-token,test-registrar:registrar:reg-token,test-admin:archive_admin:admin-token"


class MailBox(SmtpSink):
    """A real SMTP server (aiosmtpd) collecting what it receives."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.messages: list[Message] = []

    def keep(self, content: bytes) -> None:
        self.messages.append(message_from_bytes(content))


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, MailBox]]:
    """A real SMTP server on a free port, collecting what it receives."""
    box = MailBox(free_port())
    box.start()
    try:
        yield "127.0.0.1", box.port, box
    finally:
        box.stop()


def comment_event(
    *,
    account: str,
    thread: str,
    item: str,
    kind: EventKind = EventKind.COMMENT_CREATED,
    text: str | None = "Varför är badhuset stängt i helgen?",
    author: Author | None = None,
    at: datetime | None = None,
    version: str = "",
    platform: Platform = Platform.FACEBOOK,
) -> SocialEvent:
    at = at or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return SocialEvent(
        event_id=social_event_id(platform, kind, item, version),
        kind=kind,
        platform=platform,
        account_id=account,
        item_id=item,
        thread_id=thread,
        parent_id=thread if kind is not EventKind.POST_PUBLISHED else None,
        author=author or Author(id="u-1", name="Anna Andersson"),
        text=text,
        permalink=f"https://facebook.com/{item}",
        occurred_at=at,
        received_at=at + timedelta(seconds=2),
        raw={"id": item, "message": text, "verb": kind.value},
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@contextlib.asynccontextmanager
async def running_app(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (consumer and workers) and talk to it over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://archive") as client:
            yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def item_once_its_registration_is_sent(client: httpx.AsyncClient, item_id: int, token: str) -> dict:
    """The item's detail once its registration mail is marked sent (a moment after the relay accepted it)."""

    async def sent() -> dict | None:
        found = (await client.get(f"/items/{item_id}", headers=bearer(token))).json()
        return found if (found.get("registration") or {}).get("email", {}).get("status") == "sent" else None

    return await wait_until(sent, timeout=20)


async def settle(seconds: float = 0.2) -> None:
    await asyncio.sleep(seconds)

"""Server-side sessions: the browser holds a random id in an HttpOnly, SameSite=Lax cookie; what the
session holds (the person's access token among it) never leaves the server.

Kept in this process's memory: a restart signs everyone out (they sign in again at the provider, usually
without typing anything). Behind a load balancer, run one console or pin sessions to an instance.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "socialops_session"
ROTATE = "socialops.session.rotate"  # a handler sets scope[ROTATE] = True after signing in (no fixation)


@dataclass
class StoredSession:
    data: dict[str, Any]
    created_at: float
    seen_at: float


@dataclass
class SessionStore:
    """Sessions by id, dropped after `max_age_s` in all or `idle_s` without a request (pure but for the clock)."""

    max_age_s: float
    idle_s: float
    clock: Any = time.monotonic
    _sessions: dict[str, StoredSession] = field(default_factory=dict)

    def load(self, session_id: str | None) -> dict[str, Any] | None:
        if not session_id:
            return None
        stored = self._sessions.get(session_id)
        if stored is None:
            return None
        now = self.clock()
        if now - stored.created_at > self.max_age_s or now - stored.seen_at > self.idle_s:
            del self._sessions[session_id]
            return None
        stored.seen_at = now
        return dict(stored.data)

    def save(self, session_id: str, data: dict[str, Any]) -> None:
        now = self.clock()
        stored = self._sessions.get(session_id)
        self._sessions[session_id] = StoredSession(dict(data), stored.created_at if stored else now, now)
        if len(self._sessions) % 256 == 0:
            self.forget_expired()

    def drop(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def forget_expired(self) -> None:
        now = self.clock()
        for key in [k for k, s in self._sessions.items()
                    if now - s.created_at > self.max_age_s or now - s.seen_at > self.idle_s]:
            del self._sessions[key]

    def __len__(self) -> int:
        return len(self._sessions)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


class ServerSideSessions:
    """ASGI middleware: `scope["session"]` is the session's dict (what Starlette's `request.session` reads)."""

    def __init__(self, app: ASGIApp, store: SessionStore, *, secure: bool) -> None:
        self.app = app
        self.store = store
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookie = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie.load(value.decode("latin-1"))
        presented = cookie[COOKIE].value if COOKIE in cookie else None
        loaded = self.store.load(presented)
        session_id = presented if loaded is not None else None
        scope["session"] = loaded if loaded is not None else {}

        async def send_with_cookie(message: Message) -> None:
            nonlocal session_id
            if message["type"] == "http.response.start":
                data = scope["session"]
                headers = list(message.get("headers", []))
                if not data:
                    if presented:  # signed out or expired: forget it on both sides
                        self.store.drop(presented)
                        headers.append((b"set-cookie", self._cookie("", max_age=0)))
                else:
                    if session_id is None or scope.get(ROTATE):
                        self.store.drop(session_id)
                        session_id = new_session_id()
                        headers.append((b"set-cookie", self._cookie(session_id)))
                    self.store.save(session_id, data)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, value: str, max_age: int | None = None) -> bytes:
        parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts).encode("latin-1")


def csrf_token(session: dict[str, Any]) -> str:
    """The session's token for forms (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_valid(session: dict[str, Any], presented: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and presented) and hmac.compare_digest(str(expected), str(presented))

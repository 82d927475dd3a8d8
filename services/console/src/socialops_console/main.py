"""Console entrypoint: open this first.

The people's side of the platform (SPEC, "console"): server-rendered Swedish pages (Jinja2, no build
step, a few lines of our own JavaScript) for archivists and registrars today, the inbox and review next.
People sign in with the city's identity provider (OpenID Connect, code flow with PKCE: `signin.py`); the
console keeps a server-side session (`sessions.py`) and reads and writes only through the services'
HTTP APIs with the person's own access token (`services.py`). Pages: `pages_archive.py`.

Run: `socialops-console serve --port 8084`.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from socialops_common.identity import Permission
from socialops_common.observability import Health, configure_logging, metrics_route, serve_http
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import pages_archive, pages_followup, pages_inbox, pages_review
from .services import Services
from .sessions import ServerSideSessions, SessionStore
from .settings import ConsoleSettings
from .signin import CALLBACK_PATH, SIGNED_OUT_PATH, SignIn, signed_in
from .web import Visit, page, render

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
                                 b" form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """The security headers on every answer, and `Server-Timing: app;dur=<ms>` (the time the page took
    here, API calls included: what bench/console_search.py reads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - began) * 1000:.1f}".encode()
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS, (b"server-timing", took)]
            await send(message)

        await self.app(scope, receive, with_headers)


@page()
async def start(visit: Visit) -> Response:
    return visit.render("start.html")


async def login(request: Request) -> Response:
    if signed_in(request) is not None:
        return RedirectResponse("/", status_code=303)
    return await request.app.state.signin.redirect_to_provider(request)


async def callback(request: Request) -> Response:
    return await request.app.state.signin.callback(request)


async def logout(request: Request) -> Response:
    return await request.app.state.signin.sign_out(request)


async def signed_out(request: Request) -> Response:
    return render(request, "utloggad.html")


async def signin_failed(request: Request) -> Response:
    return render(request, "fel/inloggning.html", status_code=401)


async def accessibility(request: Request) -> Response:
    found = signed_in(request)
    return render(request, "tillganglighet.html", person=found[0] if found else None)


async def not_found(request: Request, _: Exception) -> Response:
    found = signed_in(request)
    return render(request, "fel/404.html", status_code=404, person=found[0] if found else None)


async def server_error(request: Request, _: Exception) -> Response:
    return render(request, "fel/500.html", status_code=500)


def build_app(settings: ConsoleSettings) -> Starlette:
    services = Services(settings)
    signin = SignIn(settings)
    health = Health()

    def answering(name: str, answers) -> object:  # noqa: ANN001 - an async "does it answer" function
        async def check() -> None:
            if not await answers():
                raise ConnectionError(f"{name} does not answer")
        return check

    health.add("identity_provider", answering("the identity provider", signin.authenticator.keys.answers))  # type: ignore[union-attr]
    for name in settings.required_services():
        health.add(name, answering(name, lambda name=name: services.answers(name)))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        health.started = True
        try:
            yield
        finally:
            health.started = False
            await services.close()

    routes = [
        Route("/", start),
        Route("/inloggning", login),
        Route(CALLBACK_PATH, callback),
        Route("/inloggning/misslyckades", signin_failed),
        Route("/utloggning", logout, methods=["POST"]),
        Route(SIGNED_OUT_PATH, signed_out),
        Route("/tillganglighet", accessibility),
        Route("/robots.txt", lambda _: PlainTextResponse("User-agent: *\nDisallow: /\n")),
        *pages_archive.ROUTES,
        *pages_review.ROUTES,
        *pages_inbox.ROUTES,
        *pages_followup.ROUTES,
        *health.routes(),
        metrics_route(),
        Mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: not_found, 500: server_error})
    app.state.settings, app.state.services, app.state.signin = settings, services, signin
    store = SessionStore(max_age_s=settings.console_session_hours * 3600,
                         idle_s=settings.console_session_idle_minutes * 60)
    app.state.sessions = store
    app.add_middleware(ServerSideSessions, store=store, secure=settings.console_secure_cookies)
    app.add_middleware(SecurityHeaders)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-console", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the console")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (containers pass 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    settings = ConsoleSettings()
    if args.port:
        settings = settings.model_copy(update={"http_port": args.port})
    configure_logging("console", settings.log_level, settings.log_format)
    return serve_http(build_app(settings), host=args.host, port=settings.http_port, log_config=None,
                      access_log=False)


__all__ = ["Permission", "build_app", "main"]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

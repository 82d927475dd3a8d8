"""Signing in with the city's identity provider: OpenID Connect authorization code flow with PKCE (S256),
state and nonce (Authlib's Starlette client), and signing out at the provider too.

The session keeps the access token the provider issued for the APIs; the console checks it exactly as the
APIs do (socialops_common.oidc) and calls the APIs with it, so every API sees, audits and authorises the
person, never the console.
"""

from __future__ import annotations

import time
import warnings
from typing import Any
from urllib.parse import urlsplit

import authlib.deprecate
import structlog

with warnings.catch_warnings():  # Authlib warns about its own httpx module on import; not ours to act on
    # (authlib.deprecate turns its warnings to "always" when imported, so it is imported first)
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError
from socialops_common.identity import Person, Role, Unauthenticated
from socialops_common.oidc import Authenticator, IdentityProviderUnavailable
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .metrics import SIGN_INS
from .sessions import ROTATE, csrf_valid
from .settings import ConsoleSettings

log = structlog.get_logger("console.signin")
CALLBACK_PATH = "/inloggning/svar"
SIGNED_OUT_PATH = "/utloggad"


class SignIn:
    def __init__(self, settings: ConsoleSettings) -> None:
        if not settings.oidc_issuer:
            raise ValueError("the console needs SOCIALOPS_OIDC_ISSUER (and _AUDIENCE, _CLIENT_ID, _CLIENT_SECRET)")
        self.settings = settings
        self.authenticator = Authenticator(settings)
        self.oauth = OAuth()
        self.oauth.register(
            "city",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret or None,
            server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
        )

    @property
    def client(self) -> Any:
        return self.oauth.city

    def url(self, path: str) -> str:
        return self.settings.public_url() + path

    async def redirect_to_provider(self, request: Request) -> Response:
        """Send a signed-out person to the provider, remembering where they were going."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method == "GET" and not target.startswith(("/inloggning", "/utloggning")):
            request.session["return_to"] = target
        return await self.client.authorize_redirect(request, self.url(CALLBACK_PATH))

    async def callback(self, request: Request) -> Response:
        try:
            tokens = await self.client.authorize_access_token(request)
            person = await self.authenticator.person(f"Bearer {tokens['access_token']}")
        except (OAuthError, Unauthenticated, KeyError) as error:
            log.warning("sign-in refused", error=repr(error))
            SIGN_INS.labels("refused").inc()
            return RedirectResponse("/inloggning/misslyckades", status_code=303)
        except IdentityProviderUnavailable:
            SIGN_INS.labels("provider_unavailable").inc()
            return RedirectResponse("/inloggning/misslyckades", status_code=303)
        return_to = request.session.get("return_to") or "/"
        request.session.clear()
        request.session.update({
            "access_token": tokens["access_token"],
            "expires_at": float(tokens.get("expires_at") or time.time() + float(tokens.get("expires_in", 3600))),
            "id_token": tokens.get("id_token"),
            "person": {"subject": person.subject, "name": person.name, "email": person.email,
                       "roles": sorted(role.value for role in person.roles), "departments": sorted(person.departments),
                       "title": person.title},
        })
        request.scope[ROTATE] = True  # a new session id now that it holds a person
        log.info("signed in", subject=person.subject, roles=person.role_names)
        SIGN_INS.labels("signed_in").inc()
        return RedirectResponse(_local(return_to), status_code=303)

    async def sign_out(self, request: Request) -> Response:
        async with request.form() as form:
            if not csrf_valid(request.session, form.get("csrf")):
                return RedirectResponse("/", status_code=303)
        id_token = request.session.get("id_token")
        request.session.clear()
        try:
            metadata = await self.client.load_server_metadata()
        except Exception:  # noqa: BLE001 - the provider away: signed out here all the same
            metadata = {}
        if metadata.get("end_session_endpoint"):
            return await self.client.logout_redirect(request, post_logout_redirect_uri=self.url(SIGNED_OUT_PATH),
                                                     id_token_hint=id_token)
        return RedirectResponse(SIGNED_OUT_PATH, status_code=303)


def _local(target: str) -> str:
    """Only paths of this site after sign-in (never an open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def signed_in(request: Request) -> tuple[Person, str] | None:
    """The person of this session and their access token, while the token is valid."""
    data = request.session.get("person")
    token = request.session.get("access_token")
    if not data or not token or float(request.session.get("expires_at", 0)) <= time.time() + 5:
        return None
    known = {role.value for role in Role}
    person = Person(subject=data["subject"], name=data["name"], email=data.get("email"),
                    roles=frozenset(Role(r) for r in data.get("roles", []) if r in known),
                    departments=frozenset(data.get("departments", [])), title=data.get("title"))
    return person, token

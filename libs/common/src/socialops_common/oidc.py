"""The adapter between an HTTP request and `identity.Person`: the issuer's keys, fetched and cached.

`install_identity(app, settings)` gives any Starlette or FastAPI app an `Authenticator` in
`app.state.authenticator` and turns `Unauthenticated` into 401 and `IdentityProviderUnavailable` into 503.
A route (or FastAPI dependency) calls `await authenticate(request)` for the `Person`.

Keys come from the issuer's discovery document (`<issuer>/.well-known/openid-configuration`, its
`jwks_uri`). They are cached; a token naming a key id we do not have makes us fetch them again (the
provider rotated its keys), at most once per `SOCIALOPS_OIDC_JWKS_REFETCH_S`, so that a stream of tokens
with made-up key ids cannot make us hammer the provider.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import structlog
from joserfc.jwk import KeySet
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from .identity import (
    MachineTokens,
    Person,
    TokenRules,
    Unauthenticated,
    person_from_access_token,
    unverified_key_id,
)
from .settings import CommonSettings

log = structlog.get_logger("identity")


class IdentityProviderUnavailable(Exception):
    """The issuer's keys could not be fetched and none are cached: tokens cannot be checked now."""


class IssuerKeys:
    """The signing keys of one issuer, from its discovery document and JWKS."""

    def __init__(self, issuer: str, *, refetch_after_s: float = 30.0, max_age_s: float = 3600.0,
                 timeout_s: float = 5.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.refetch_after_s = refetch_after_s
        self.max_age_s = max_age_s
        self.timeout_s = timeout_s
        self._keys: KeySet | None = None
        self._key_ids: set[str] = set()
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            discovery = (await client.get(f"{self.issuer}/.well-known/openid-configuration")).raise_for_status().json()
            if str(discovery.get("issuer", "")).rstrip("/") != self.issuer:
                raise IdentityProviderUnavailable(
                    f"the discovery document names issuer {discovery.get('issuer')!r}, not {self.issuer!r}")
            document = (await client.get(discovery["jwks_uri"])).raise_for_status().json()
        # Only public signing keys: a symmetric ("oct") key in a JWKS is never a reason to accept HS*.
        public = [key for key in document.get("keys", []) if key.get("kty") in {"RSA", "EC"}
                  and key.get("use", "sig") == "sig"]
        self._keys = KeySet.import_key_set({"keys": public})
        self._key_ids = {key["kid"] for key in public if "kid" in key}
        self._fetched_at = time.monotonic()
        log.info("issuer keys fetched", issuer=self.issuer, keys=len(public))

    async def keys_for(self, key_id: str | None) -> KeySet:
        age = time.monotonic() - self._fetched_at
        stale = self._keys is None or age > self.max_age_s
        unknown = key_id is not None and key_id not in self._key_ids and age > self.refetch_after_s
        if stale or unknown:
            async with self._lock:
                age = time.monotonic() - self._fetched_at
                if self._keys is None or age > self.max_age_s or (
                        key_id is not None and key_id not in self._key_ids and age > self.refetch_after_s):
                    try:
                        await self._fetch()
                    except (httpx.HTTPError, ValueError, KeyError, IdentityProviderUnavailable) as error:
                        log.warning("issuer keys not fetched", issuer=self.issuer, error=repr(error))
                        if self._keys is None:
                            raise IdentityProviderUnavailable(f"keys of {self.issuer} not available: {error}") from error
        assert self._keys is not None
        return self._keys

    async def answers(self) -> bool:
        try:
            await self.keys_for(None)
        except IdentityProviderUnavailable:
            return False
        return True


class Authenticator:
    """Turns an `Authorization: Bearer …` header into a `Person`: a JWT from the issuer, or a machine token."""

    def __init__(self, settings: CommonSettings) -> None:
        self.machine_tokens = MachineTokens.parse(settings.machine_tokens)
        self.rules: TokenRules | None = None
        self.keys: IssuerKeys | None = None
        if settings.oidc_issuer:
            if not settings.oidc_audience:
                raise ValueError("SOCIALOPS_OIDC_AUDIENCE must be set with SOCIALOPS_OIDC_ISSUER")
            self.rules = TokenRules(
                issuer=settings.oidc_issuer.rstrip("/"), audience=settings.oidc_audience,
                roles_claim=settings.oidc_roles_claim, departments_claim=settings.oidc_departments_claim,
                clock_skew_s=settings.oidc_clock_skew_s,
            )
            self.keys = IssuerKeys(settings.oidc_issuer, refetch_after_s=settings.oidc_jwks_refetch_s)

    async def person(self, authorization: str | None) -> Person:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("an access token is required: Authorization: Bearer <token>")
        if token.count(".") == 2 and self.rules is not None and self.keys is not None:
            keys = await self.keys.keys_for(unverified_key_id(token))
            return person_from_access_token(token, keys, self.rules)
        machine = self.machine_tokens.person(token)
        if machine is None:
            raise Unauthenticated("the access token is not valid here")
        return machine

    async def provider_answers(self) -> bool | None:
        """For readiness: None when no provider is configured."""
        return None if self.keys is None else await self.keys.answers()


async def authenticate(connection: HTTPConnection) -> Person:
    authenticator: Authenticator = connection.app.state.authenticator
    return await authenticator.person(connection.headers.get("authorization"))


def _unauthenticated(_: Any, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _unavailable(_: Any, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"the identity provider does not answer: {error}"}, status_code=503)


def install_identity(app: Any, settings: CommonSettings) -> Authenticator:
    """Put an `Authenticator` on the app and answer its refusals with 401 (and 503 when the provider is away)."""
    authenticator = Authenticator(settings)
    app.state.authenticator = authenticator
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(IdentityProviderUnavailable, _unavailable)
    return authenticator

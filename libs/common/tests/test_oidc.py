"""The issuer's keys over real HTTP: from the local provider's discovery and JWKS, and after a key rotation."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from socialops_common.devstack import free_port
from socialops_common.identity import Role, Unauthenticated
from socialops_common.local_idp import LOCAL_AUDIENCE, LocalIdentityProvider
from socialops_common.oidc import Authenticator, IdentityProviderUnavailable
from socialops_common.settings import CommonSettings
from socialops_common.testing import TestIssuer


def sign_in(issuer: str, subject: str) -> str:
    """The authorization code flow as a browser and the console do it; returns the access token."""
    with httpx.Client(base_url=issuer) as client:
        discovery = client.get("/.well-known/openid-configuration").json()
        params = {"response_type": "code", "client_id": "console", "redirect_uri": "http://127.0.0.1:9/callback",
                  "scope": "openid profile email", "state": "s", "nonce": "n"}
        redirect = client.post(discovery["authorization_endpoint"], params=params, data={"sub": subject})
        code = parse_qs(urlparse(redirect.headers["location"]).query)["code"][0]
        tokens = client.post(discovery["token_endpoint"], auth=("console", "local"), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"]}).json()
    return tokens["access_token"]


async def test_an_access_token_of_the_local_provider_names_the_person() -> None:
    with LocalIdentityProvider(free_port()).running() as idp:
        token = sign_in(idp.issuer, "rolf.registrator")
        authenticator = Authenticator(CommonSettings(oidc_issuer=idp.issuer, oidc_audience=LOCAL_AUDIENCE))
        person = await authenticator.person(f"Bearer {token}")
        assert (person.subject, person.name, person.email) == (
            "rolf.registrator", "Rolf Registrator", "rolf.registrator@stad.example")
        assert person.roles == {Role.REGISTRAR}
        assert await authenticator.provider_answers() is True
        other = Authenticator(CommonSettings(oidc_issuer=idp.issuer, oidc_audience="another-api"))
        with pytest.raises(Unauthenticated):
            await other.person(f"Bearer {token}")


async def test_a_rotated_key_is_fetched_once_and_made_up_key_ids_do_not_hammer_the_provider(test_issuer: TestIssuer) -> None:
    issuer = test_issuer
    first = issuer.key
    second = RSAKey.generate_key(2048, parameters={"kid": "k2", "use": "sig"})
    authenticator = Authenticator(CommonSettings(**issuer.settings(), oidc_jwks_refetch_s=0.5))
    assert (await authenticator.person(f"Bearer {issuer.token(roles=['archivist'])}")).roles == {Role.ARCHIVIST}
    assert issuer.jwks_fetches == 1
    issuer.keys = [first, second]  # the provider rotates
    await asyncio.sleep(0.6)
    assert (await authenticator.person(f"Bearer {issuer.token(key=second)}")).subject == "00u-test-person"
    assert issuer.jwks_fetches == 2
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k-made-up", "use": "sig"})
    await asyncio.sleep(0.6)
    for _ in range(20):
        with pytest.raises(Unauthenticated):
            await authenticator.person(f"Bearer {issuer.token(key=stranger)}")
    assert issuer.jwks_fetches == 3  # once for the unknown id, then not again within the interval




async def test_no_provider_and_no_cached_keys_is_unavailable_not_accepted() -> None:
    authenticator = Authenticator(CommonSettings(oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_audience="a"))
    key = RSAKey.generate_key(2048, parameters={"kid": "k"})
    token = jwt.encode({"alg": "RS256", "kid": "k"}, {"sub": "x"}, key)
    with pytest.raises(IdentityProviderUnavailable):
        await authenticator.person(f"Bearer {token}")
    assert await authenticator.provider_answers() is False


async def test_without_a_bearer_token_or_with_a_static_token_of_nobody() -> None:
    authenticator = Authenticator(CommonSettings(machine_tokens="monitor:archivist:m0n1t0r"))
    for header in (None, "", "Basic dXNlcjpwdw==", "Bearer ", "Bearer wrong"):
        with pytest.raises(Unauthenticated):
            await authenticator.person(header)
    assert (await authenticator.person("Bearer m0n1t0r")).subject == "client:monitor"

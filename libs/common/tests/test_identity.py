"""Access tokens are checked as the identity provider's contract says; roles give the rights of one table."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from socialops_common.identity import (
    PERMISSIONS,
    MachineTokens,
    Permission,
    Person,
    Role,
    TokenRules,
    Unauthenticated,
    person_from_access_token,
    unverified_key_id,
)

ISSUER = "https://login.microsoftonline.com/tenant-id/v2.0"
AUDIENCE = "api://socialops"
RULES = TokenRules(issuer=ISSUER, audience=AUDIENCE)
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "rsa-other", "use": "sig"})
PUBLISHED = KeySet.import_key_set({"keys": [RSA.as_dict(private=False), EC.as_dict(private=False)]})


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "iat": now,
        "nbf": now, "exp": now + 3600, "name": "Louise Lind", "preferred_username": "louise.lind@stad.se",
        "roles": ["editor", "registrar"], "departments": ["Kulturförvaltningen"],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict[str, object], key=RSA, alg: str = "RS256") -> str:  # noqa: ANN001
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, payload, key)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_valid_entra_style_token_names_the_person_with_roles_and_departments() -> None:
    person = person_from_access_token(signed(claims()), PUBLISHED, RULES)
    assert person.subject == "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
    assert (person.name, person.email) == ("Louise Lind", "louise.lind@stad.se")
    assert person.roles == {Role.EDITOR, Role.REGISTRAR}
    assert person.departments == {"Kulturförvaltningen"}
    assert person.display_name == "Louise Lind <louise.lind@stad.se>"
    assert person.kind == "person"


def test_es256_is_accepted_too() -> None:
    person = person_from_access_token(signed(claims(), key=EC, alg="ES256"), PUBLISHED, RULES)
    assert Role.EDITOR in person.roles


def test_audience_may_be_a_list_that_contains_ours() -> None:
    person = person_from_access_token(signed(claims(aud=["other-api", AUDIENCE])), PUBLISHED, RULES)
    assert person.subject


@pytest.mark.parametrize("why, token", [
    ("another issuer", lambda: signed(claims(iss="https://evil.example/"))),
    ("the wrong audience", lambda: signed(claims(aud="api://someone-else"))),
    ("expired beyond the clock skew", lambda: signed(claims(exp=int(time.time()) - 120))),
    ("not yet valid beyond the clock skew", lambda: signed(claims(nbf=int(time.time()) + 300))),
    ("no expiry", lambda: signed(claims(exp=None))),
    ("no subject", lambda: signed(claims(sub=None))),
    ("signed by a key not in the JWKS", lambda: signed(claims(), key=OTHER)),
])
def test_tokens_that_must_not_pass(why: str, token) -> None:  # noqa: ANN001
    with pytest.raises(Unauthenticated):
        person_from_access_token(token(), PUBLISHED, RULES)


def test_alg_none_is_refused() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}."
    with pytest.raises(Unauthenticated):
        person_from_access_token(token, PUBLISHED, RULES)


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    """The classic confusion: the RSA public key (which anyone can fetch) used as an HMAC secret."""
    public_pem = RSA.as_pem(private=False)
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'rsa-1'}).encode())}.{b64(json.dumps(claims()).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(mac)}"
    with pytest.raises(Unauthenticated):
        person_from_access_token(forged, PUBLISHED, RULES)
    # A key set cannot even be made to hold that "secret": the library refuses a public key as an oct key.
    with pytest.raises(ValueError, match="Asymmetric public keys"):
        KeySet.import_key_set({"keys": [{"kty": "oct", "k": b64(public_pem), "kid": "rsa-1"}]})


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = signed(claims()).split(".")
    elevated = b64(json.dumps(claims(roles=["archive_admin"])).encode())
    with pytest.raises(Unauthenticated):
        person_from_access_token(f"{header}.{elevated}.{signature}", PUBLISHED, RULES)


def test_a_small_clock_skew_is_tolerated() -> None:
    person = person_from_access_token(signed(claims(exp=int(time.time()) - 20)), PUBLISHED, RULES)
    assert person.subject


def test_unknown_roles_are_ignored_and_keycloak_realm_roles_are_read_by_path() -> None:
    token = signed(claims(roles=None, realm_access={"roles": ["archivist", "offline_access"]}))
    rules = TokenRules(issuer=ISSUER, audience=AUDIENCE, roles_claim="realm_access.roles")
    assert person_from_access_token(token, PUBLISHED, rules).roles == {Role.ARCHIVIST}
    assert person_from_access_token(signed(claims(roles=["superuser"])), PUBLISHED, RULES).roles == frozenset()


def test_the_key_id_is_read_without_trusting_the_token() -> None:
    assert unverified_key_id(signed(claims())) == "rsa-1"
    assert unverified_key_id("not a token") is None


def test_the_rights_table() -> None:
    archivist = Person("a", "A", roles=frozenset({Role.ARCHIVIST}))
    registrar = Person("r", "R", roles=frozenset({Role.REGISTRAR}))
    contact_center = Person("k", "K", roles=frozenset({Role.CONTACT_CENTER}))
    communications = Person("c", "C", roles=frozenset({Role.COMMUNICATIONS}))
    assert archivist.may(Permission.SEARCH) and not archivist.may(Permission.READ_PERSONAL_DATA)
    assert registrar.may(Permission.READ_DIRECT_MESSAGES) and registrar.may(Permission.RESEND_REGISTRATION)
    assert contact_center.may(Permission.ANSWER) and not contact_center.may(Permission.REVIEW)
    assert communications.may(Permission.READ_INBOX) and not communications.may(Permission.ANSWER)
    assert not archivist.may(Permission.READ_INBOX)
    assert set(PERMISSIONS) == set(Role)
    # every right is given to someone
    assert set().union(*PERMISSIONS.values()) == set(Permission)


def test_machine_tokens_name_the_client_never_the_token() -> None:
    tokens = MachineTokens.parse("diarium:registrar:s3cret-1, probe:archivist+communications:s3cret-2")
    client = tokens.person("s3cret-2")
    assert client is not None and client.subject == "client:probe" and client.kind == "machine"
    assert client.roles == {Role.ARCHIVIST, Role.COMMUNICATIONS}
    assert "s3cret" not in client.display_name
    assert tokens.person("s3cret") is None and len(tokens) == 2
    with pytest.raises(ValueError, match="name:role"):
        MachineTokens.parse("just-a-token")
    with pytest.raises(ValueError, match="unknown role"):
        MachineTokens.parse("x:admin:t")


def test_a_person_works_on_their_departments_accounts_and_where_they_are_a_listed_editor() -> None:
    from socialops_common.identity import works_on

    louise = Person("l", "Louise", "Louise.Kommunikator@helsingborg.se", frozenset({Role.EDITOR}),
                    departments=frozenset({"Kulturförvaltningen"}))
    assert works_on(louise, "Kulturförvaltningen")
    assert works_on(louise, "Stadsledningsförvaltningen", ["louise.kommunikator@helsingborg.se"])
    assert not works_on(louise, "Vård- och omsorgsförvaltningen", ["vard@helsingborg.se"])
    assert not works_on(Person("x", "X", None, frozenset({Role.EDITOR})), "Kulturförvaltningen", [""])
    assert works_on(Person("c", "C", roles=frozenset({Role.COMMUNICATIONS})), "Vård- och omsorgsförvaltningen")
    assert works_on(Person("client:x", "x", kind="machine"), None)

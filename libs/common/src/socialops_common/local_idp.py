"""A real OpenID Connect provider for `make run` and the tests, with one local person per role.

It is `oidc-provider-mock` (a Flask app on Authlib: discovery, authorization code with PKCE, token,
userinfo, JWKS, end session), with one change: its access tokens are JWTs signed with its own key and
carrying what Entra ID puts in an access token for an API (`iss`, `aud`, `sub`, `exp`, `nbf`, `iat`,
`roles`, `name`, `email`), so every service checks them exactly as it checks the city's real provider.

Sign-in is a choice of person (no passwords): the provider's page lists the people below as buttons.
Never for production: anyone who reaches it can be anyone. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

LOCAL_AUDIENCE = "socialops-api"
ACCESS_TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class LocalPerson:
    subject: str  # what the sign-in page shows on its button
    name: str
    email: str
    roles: tuple[str, ...]
    departments: tuple[str, ...] = ()
    title: str | None = None

    def claims(self) -> dict[str, object]:
        claims: dict[str, object] = {"name": self.name, "email": self.email, "preferred_username": self.email,
                                     "roles": list(self.roles), "departments": list(self.departments)}
        if self.title:
            claims["jobTitle"] = self.title
        return claims


# One person per role (README: "Sign in"). Departments match config/accounts.yaml.
LOCAL_PEOPLE: tuple[LocalPerson, ...] = (
    LocalPerson("astrid.arkivarie", "Astrid Arkivarie", "astrid.arkivarie@stad.example", ("archivist",),
                title="arkivarie"),
    LocalPerson("rolf.registrator", "Rolf Registrator", "rolf.registrator@stad.example", ("registrar",),
                title="registrator"),
    LocalPerson("ada.arkivadmin", "Ada Arkivadmin", "ada.arkivadmin@stad.example", ("archive_admin",),
                title="arkivadministratör"),
    # Louise works on the city's main accounts as a listed editor (her e-mail is in their `editors`) and
    # on the culture department's by her departments claim: both ways a person is tied to accounts.
    LocalPerson("louise.redaktor", "Louise Lind", "louise.kommunikator@helsingborg.se", ("editor",),
                ("Kulturförvaltningen",), title="kommunikatör"),
    LocalPerson("kim.kontaktcenter", "Kim Karlsson", "kim.karlsson@stad.example", ("contact_center",),
                ("Stadsledningsförvaltningen, Avdelningen för kommunikation och näringsliv", "Kulturförvaltningen",
                 "Vård- och omsorgsförvaltningen", "Stadsledningsförvaltningen, HR-avdelningen",
                 "Stadsledningskontoret, Kommunikationsavdelningen"),
                title="kontaktcenter"),
    LocalPerson("klara.kommunikation", "Klara Kommunikation", "klara.kommunikation@stad.example",
                ("communications",), title="kommunikationschef"),
)


def create_provider_app(people: Sequence[LocalPerson] = LOCAL_PEOPLE, *, audience: str = LOCAL_AUDIENCE,
                        access_token_seconds: int = ACCESS_TOKEN_SECONDS):  # noqa: ANN201 - a Flask app
    import warnings

    import flask

    with warnings.catch_warnings():  # the mock imports Authlib's deprecated JOSE module: not ours to act on
        warnings.simplefilter("ignore", DeprecationWarning)  # (after authlib.deprecate's own "always")
        import oidc_provider_mock
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    def jwt_access_token(client, grant_type, user, scope):  # noqa: ANN001, ARG001 - Authlib's generator call
        storage = flask.g.oidc_provider_mock_storage
        private = storage.jwk.as_dict(is_private=True)
        key = RSAKey.import_key(private)
        now = int(time.time())
        claims = {
            "iss": flask.request.host_url.rstrip("/"), "aud": audience, "sub": user.sub,
            "iat": now, "nbf": now, "exp": now + access_token_seconds, "jti": str(uuid.uuid4()),
            "client_id": client.get_client_id(), "scope": scope or "",
            **{k: v for k, v in user.claims.items() if k in
               {"name", "email", "preferred_username", "roles", "departments", "jobTitle"}},
        }
        return jwt.encode({"alg": "RS256", "kid": private["kid"], "typ": "at+jwt"}, claims, key)

    # The import name places the mock's own templates (sign-in and sign-out pages) on the template path.
    app = flask.Flask(oidc_provider_mock.__name__)
    app.config["OAUTH2_ACCESS_TOKEN_GENERATOR"] = jwt_access_token
    oidc_provider_mock.init_app(
        app, require_nonce=True,
        access_token_max_age=timedelta(seconds=access_token_seconds),
        user_claims=[oidc_provider_mock.User(sub=p.subject, claims=p.claims()) for p in people],
    )
    # The mock turns on Werkzeug's interactive debugger; a sign-in server must not run code for a browser.
    app.debug = False
    app.wsgi_app = getattr(app.wsgi_app, "app", app.wsgi_app)
    app.secret_key = secrets.token_bytes(16)
    return app


@dataclass
class LocalIdentityProvider:
    """The provider served on 127.0.0.1:port in a thread of this process (tests), or as a process (make run)."""

    port: int
    people: Sequence[LocalPerson] = LOCAL_PEOPLE
    audience: str = LOCAL_AUDIENCE

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @contextmanager
    def running(self) -> Iterator[LocalIdentityProvider]:
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request in the tests' output

        server = make_server("127.0.0.1", self.port, create_provider_app(self.people, audience=self.audience),
                             threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="local-idp", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            thread.join(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-local-idp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--audience", default=LOCAL_AUDIENCE)
    args = parser.parse_args(argv)
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", args.port, create_provider_app(audience=args.audience), threaded=True)
    print(f"local identity provider on http://127.0.0.1:{args.port} (people: "
          f"{', '.join(p.subject for p in LOCAL_PEOPLE)})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

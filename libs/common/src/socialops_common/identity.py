"""Who is asking, and what they may do: the one table of roles and rights, and the people behind a request.

People sign in with the city's identity provider (OpenID Connect: Entra ID in most cities, Keycloak where a
city runs its own). Every HTTP API accepts the provider's JWT access tokens; the roles come from a claim
(`SOCIALOPS_OIDC_ROLES_CLAIM`, default `roles` as Entra app roles use). Static tokens
(`SOCIALOPS_MACHINE_TOKENS`) exist only for machine clients (a diarium integration, a monitoring probe):
they name the client, never a person.

This module is pure: the verification of a token against keys it is given, and the rights of a role. The
adapter that fetches the issuer's keys is `socialops_common.oidc`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# Asymmetric signatures only: `none` and the HS* family (a shared secret, or the public key misused as
# one) are refused before any key is looked at.
ACCEPTED_ALGORITHMS = ("RS256", "ES256")


class Role(StrEnum):
    ARCHIVIST = "archivist"  # searches and reads the archive; personal data masked, no DMs
    REGISTRAR = "registrar"  # also personal data and DMs unmasked, registrations, exports
    ARCHIVE_ADMIN = "archive_admin"  # audit log, retention rules, legal holds; reads masked
    EDITOR = "editor"  # the department's social-media editor: answers, reviews, notifies
    CONTACT_CENTER = "contact_center"  # answers direct messages and, where agreed, comments
    COMMUNICATIONS = "communications"  # the communication department: follow-up, read-only elsewhere


class Permission(StrEnum):
    # archive
    SEARCH = "search"
    READ = "read"
    READ_PERSONAL_DATA = "read_personal_data"
    READ_DIRECT_MESSAGES = "read_direct_messages"
    EXPORT = "export"
    RESEND_REGISTRATION = "resend_registration"
    READ_AUDIT_LOG = "read_audit_log"
    MANAGE_RETENTION = "manage_retention"
    # moderation
    READ_REVIEW_QUEUE = "read_review_queue"
    REVIEW = "review"  # confirm or override a decision
    NOTIFY_COMMENTER = "notify_commenter"
    # answering (the SLA's items, the console's inbox)
    READ_INBOX = "read_inbox"
    ANSWER = "answer"  # claim, reply, like, "no answer needed"
    READ_CONVERSATIONS = "read_conversations"  # the thread or DM conversation around an item to answer
    # follow-up
    READ_FOLLOWUP = "read_followup"


# What each role may do: the one place it is written down (docs/operations.md shows this table).
PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.ARCHIVIST: frozenset({Permission.SEARCH, Permission.READ}),
    Role.REGISTRAR: frozenset({
        Permission.SEARCH, Permission.READ, Permission.READ_PERSONAL_DATA, Permission.READ_DIRECT_MESSAGES,
        Permission.EXPORT, Permission.RESEND_REGISTRATION,
    }),
    Role.ARCHIVE_ADMIN: frozenset({
        Permission.SEARCH, Permission.READ, Permission.EXPORT, Permission.READ_AUDIT_LOG,
        Permission.MANAGE_RETENTION,
    }),
    Role.EDITOR: frozenset({
        Permission.READ_INBOX, Permission.ANSWER, Permission.READ_CONVERSATIONS, Permission.READ_REVIEW_QUEUE,
        Permission.REVIEW, Permission.NOTIFY_COMMENTER, Permission.READ_FOLLOWUP,
    }),
    Role.CONTACT_CENTER: frozenset({Permission.READ_INBOX, Permission.ANSWER, Permission.READ_CONVERSATIONS}),
    Role.COMMUNICATIONS: frozenset({
        Permission.READ_INBOX, Permission.READ_CONVERSATIONS, Permission.READ_REVIEW_QUEUE, Permission.READ_FOLLOWUP,
    }),
}

ROLE_NAMES_SV: Mapping[Role, str] = {
    Role.ARCHIVIST: "arkivarie",
    Role.REGISTRAR: "registrator",
    Role.ARCHIVE_ADMIN: "arkivadministratör",
    Role.EDITOR: "redaktör",
    Role.CONTACT_CENTER: "kontaktcenter",
    Role.COMMUNICATIONS: "kommunikationsavdelningen",
}


@dataclass(frozen=True)
class Person:
    """The one behind a request: a person from the identity provider, or a named machine client."""

    subject: str  # the token's `sub` (stable per person), or "client:<name>"
    name: str
    email: str | None = None
    roles: frozenset[Role] = frozenset()
    departments: frozenset[str] = frozenset()  # from the departments claim, when the provider sends one
    kind: Literal["person", "machine"] = "person"
    title: str | None = None  # job title, for a reply's signature

    def may(self, permission: Permission) -> bool:
        return any(permission in PERMISSIONS[role] for role in self.roles)

    def refusal(self, permission: Permission) -> str:
        """Why a 403 (every service says it the same way; the console reads the right back from it)."""
        return f"{self.role_names or 'no role'} may not {permission.value.replace('_', ' ')}"

    @property
    def display_name(self) -> str:
        """What audit logs and verdicts show: the name and e-mail ("Louise Lind <louise@stad.se>")."""
        return f"{self.name} <{self.email}>" if self.email else self.name

    @property
    def role_names(self) -> str:
        return ",".join(sorted(role.value for role in self.roles))

    def as_record(self) -> dict[str, Any]:
        """The person as events and audit rows carry it (never a token)."""
        return {"subject": self.subject, "name": self.name, "email": self.email, "kind": self.kind}


# Who sees every account's inbox and review queue (read-only for communications), not only their own.
CITY_WIDE_ROLES = frozenset({Role.COMMUNICATIONS})


def works_on(person: Person, department: str | None, editors: Iterable[str] = ()) -> bool:
    """Whether an account's items are the person's to answer and review.

    A person works on the accounts of the departments their token names (the departments claim), and on
    every account whose inventory entry lists their e-mail among its `editors`. The communication
    department and machine clients see every account. (docs/operations.md, "Roles and rights")
    """
    if person.kind == "machine" or CITY_WIDE_ROLES & person.roles:
        return True
    if department and department in person.departments:
        return True
    email = (person.email or "").casefold()
    return bool(email) and email in {editor.casefold() for editor in editors}


class Unauthenticated(Exception):
    """The request carries no credentials we accept. The message says why, for the log and the 401."""


@dataclass(frozen=True)
class TokenRules:
    issuer: str
    audience: str
    roles_claim: str = "roles"
    departments_claim: str = "departments"
    clock_skew_s: int = 60


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path (Keycloak puts realm roles in `realm_access.roles`)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, Iterable):
        return [item for item in value if isinstance(item, str)]
    return []


def roles_from(values: Iterable[str]) -> frozenset[Role]:
    known = {role.value for role in Role}
    return frozenset(Role(value) for value in values if value in known)


def unverified_key_id(token: str) -> str | None:
    """The `kid` a token says it was signed with (to know whether the keys must be fetched again)."""
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
    except (JoseError, ValueError, TypeError, UnicodeError):
        return None
    kid = header.get("kid") if isinstance(header, Mapping) else None
    return kid if isinstance(kid, str) else None


def person_from_access_token(token: str, keys: KeySet, rules: TokenRules, *, now: int | None = None) -> Person:
    """Verify a JWT access token (signature, algorithm, iss, aud, exp, nbf) and say who it names."""
    try:
        decoded = jwt.decode(token, keys, algorithms=list(ACCEPTED_ALGORITHMS))
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise Unauthenticated(f"token refused: {type(error).__name__}: {error}") from None
    claims = dict(decoded.claims)
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=rules.clock_skew_s,
        iss={"essential": True, "value": rules.issuer},
        aud={"essential": True, "value": rules.audience},
        exp={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise Unauthenticated(f"token refused: {type(error).__name__}: {error}") from None
    email = claims.get("email")
    if not isinstance(email, str):
        username = claims.get("preferred_username") or claims.get("upn")
        email = username if isinstance(username, str) and "@" in username else None
    name = claims.get("name") if isinstance(claims.get("name"), str) else (email or str(claims["sub"]))
    title = claims.get("jobTitle") or claims.get("title")
    return Person(
        subject=str(claims["sub"]),
        name=name,
        email=email,
        roles=roles_from(_strings(_claim(claims, rules.roles_claim))),
        departments=frozenset(_strings(_claim(claims, rules.departments_claim))),
        title=title if isinstance(title, str) else None,
    )


@dataclass
class MachineTokens:
    """`SOCIALOPS_MACHINE_TOKENS`: comma-separated `name:role[+role…]:token` entries, one per machine client.

    For programs only (a diarium integration, monitoring, scripts): people sign in with the identity
    provider. The audit log names the client ("client:diarium"), never the token.
    """

    entries: list[tuple[str, frozenset[Role], str]] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> MachineTokens:
        entries = []
        for entry in filter(None, (part.strip() for part in spec.split(","))):
            name, sep1, rest = entry.partition(":")
            roles, sep2, token = rest.partition(":")
            if not (sep1 and sep2 and name and token):
                raise ValueError(f"machine token entry for {name or '?'!r} is not name:role[+role]:token")
            try:
                parsed = frozenset(Role(role.strip()) for role in roles.split("+"))
            except ValueError as error:
                known = ", ".join(role.value for role in Role)
                raise ValueError(f"machine client {name!r}: unknown role in {roles!r} (known: {known})") from error
            entries.append((name, parsed, token))
        return cls(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def person(self, presented: str) -> Person | None:
        found = None
        for name, roles, token in self.entries:
            # every entry is compared, in constant time: timing tells nothing about how much matched
            if hmac.compare_digest(token.encode(), presented.encode()):
                found = Person(subject=f"client:{name}", name=name, roles=roles, kind="machine")
        return found


def token_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:8]

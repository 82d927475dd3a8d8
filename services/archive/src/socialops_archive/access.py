"""Who may do what (pure): bearer tokens, roles and personal-data masking."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ARCHIVIST = "archivist"  # search and read, personal data masked, no DMs
    REGISTRAR = "registrar"  # also personal data and DMs unmasked, exports
    ADMIN = "admin"  # retention and the audit log; reads masked like an archivist


class Permission(StrEnum):
    SEARCH = "search"
    READ = "read"
    READ_PERSONAL_DATA = "read_personal_data"
    READ_DIRECT_MESSAGES = "read_direct_messages"
    EXPORT = "export"
    READ_AUDIT_LOG = "read_audit_log"
    MANAGE_RETENTION = "manage_retention"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ARCHIVIST: frozenset({Permission.SEARCH, Permission.READ}),
    Role.REGISTRAR: frozenset(
        {Permission.SEARCH, Permission.READ, Permission.READ_PERSONAL_DATA, Permission.READ_DIRECT_MESSAGES,
         Permission.EXPORT}
    ),
    Role.ADMIN: frozenset(
        {Permission.SEARCH, Permission.READ, Permission.EXPORT, Permission.READ_AUDIT_LOG,
         Permission.MANAGE_RETENTION}
    ),
}


@dataclass(frozen=True)
class Principal:
    name: str  # what the audit log shows: the role and a token fingerprint, never the token
    role: Role

    def may(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]


class TokenBook:
    """Tokens from `SOCIALOPS_ARCHIVE_TOKENS`: comma-separated `token:role` pairs."""

    def __init__(self, spec: str) -> None:
        self._tokens: list[tuple[str, Role]] = []
        for pair in filter(None, (p.strip() for p in spec.split(","))):
            token, sep, role = pair.rpartition(":")
            if not sep or not token:
                raise ValueError(f"archive token entry {pair[:4]}… is not token:role")
            try:
                self._tokens.append((token, Role(role.strip())))
            except ValueError as error:
                raise ValueError(f"unknown archive role {role!r} (archivist, registrar, admin)") from error

    def __len__(self) -> int:
        return len(self._tokens)

    def principal(self, presented: str) -> Principal | None:
        found = None
        for token, role in self._tokens:
            # compare every entry in constant time, so timing does not tell how much matched
            if hmac.compare_digest(token.encode(), presented.encode()):
                found = Principal(name=f"{role.value}:{_fingerprint(token)}", role=role)
        return found


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:8]


MASK = "█"


def mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace each [start, end) span with block characters (same length, so offsets still hold)."""
    chars = list(text)
    for start, end in spans:
        for i in range(max(0, start), min(len(chars), end)):
            if not chars[i].isspace():
                chars[i] = MASK
    return "".join(chars)


PERSONAL_DATA_RULE_PREFIX = "personal_data"


def personal_data_spans(rules: list[dict]) -> list[tuple[int, int]]:
    """Helsingborg guidelines (seed 001): personal data (personnummer, phone, e-mail, address) must
    not stand — the archive keeps it, but shows it only to roles allowed to see personal data."""
    return [
        (span["start"], span["end"])
        for hit in rules
        if str(hit.get("rule_id", "")).startswith(PERSONAL_DATA_RULE_PREFIX)
        for span in hit.get("spans", [])
    ]


def masked_text(text: str | None, decision: dict | None) -> str | None:
    """The text as a role without personal-data access sees it."""
    if text is None or decision is None:
        return text
    if decision.get("masked_text") is not None:
        return decision["masked_text"]
    spans = personal_data_spans(decision.get("rules", []))
    return mask_spans(text, spans) if spans else text

"""What people read (pure): Swedish words for the platform's values, sv-SE dates in Europe/Stockholm,
Swedish alphabetical order, the differences between two versions of a text, and marked search words.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from socialops_common.identity import PERMISSIONS, ROLE_NAMES_SV

STOCKHOLM = ZoneInfo("Europe/Stockholm")

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december")
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")

PLATFORMS = {"facebook": "Facebook", "instagram": "Instagram", "x": "X", "linkedin": "LinkedIn"}
ITEM_TYPES = {"post": "inlägg", "comment": "kommentar", "reply": "svar", "mention": "omnämnande",
              "dm": "direktmeddelande"}
EVENT_KINDS = {
    "post.published": "publicerat", "post.edited": "ändrat", "post.deleted": "borttaget av kontot",
    "comment.created": "skriven", "comment.edited": "ändrad av skribenten",
    "comment.deleted_by_author": "borttagen av skribenten", "comment.hidden": "dold av staden",
    "comment.unhidden": "visas igen", "comment.deleted_by_city": "borttagen av staden",
    "reply.by_account": "svar från kontot", "mention": "omnämnande", "dm.received": "mottaget",
    "dm.sent": "skickat", "metrics.snapshot": "statistik",
}
MODERATION_ACTIONS = {"allow": "får stå kvar", "review": "väntar på granskning", "hide": "dold", "delete": "borttagen"}
SLA_STATES = {"open": "öppen", "at_risk": "snart försenad", "breached": "försenad", "met": "besvarad",
              "cancelled": "stängd"}
# Never colour alone: every state has a symbol too (shown with its words).
SLA_ICONS = {"open": "○", "at_risk": "◔", "breached": "●", "met": "✓", "cancelled": "–"}
MAIL_STATES = {"pending": "väntar på att skickas", "failed": "misslyckades – försöker igen", "sent": "skickat"}
MAIL_ICONS = {"pending": "…", "failed": "✗", "sent": "✓"}
EXPORT_STATES = {"pending": "byggs", "ready": "klart att hämta", "failed": "misslyckades"}
OPERATIONS = {"hide": "dold", "delete": "borttagen", "block": "blockerad", "unhide": "visas igen",
              "reply": "svar", "like": "gillad", "notify": "meddelande"}
ACTION_STATUS = {"done": "utförd", "dry_run": "provkörning (ingen token)", "failed": "misslyckades",
                 "unsupported": "går inte på plattformen"}
CAPTURE_REASONS = {"yearly": "årlig", "closure": "vid avslut"}
ARCHIVE_LEVELS = {"overview": "översiktsbild", "unique": "unik information", "full": "fullständig"}
ITEM_CLASSES = {"post": "inlägg", "comment": "kommentarer", "reply": "svar", "mention": "omnämnanden",
                "dm": "direktmeddelanden", "removed_comment": "borttagna kommentarer"}
AUDIT_ACTIONS = {
    "search": "sökte", "search_csv": "hämtade sökning som CSV", "read": "läste", "registrations": "listade diarieföringar",
    "registration_resend": "skickade diarieföring igen", "snapshot": "öppnade skärmdump", "export": "beställde export",
    "exports": "listade exporter", "export_status": "såg exportstatus", "export_download": "hämtade export",
    "captures": "listade arkiveringar", "capture_overview": "öppnade översiktsbild", "audit": "läste loggen",
    "retention_rules": "läste gallringsregler", "retention_rule_set": "ändrade gallringsregel",
    "holds": "listade bevarandebeslut", "hold_place": "lade bevarandebeslut", "hold_release": "hävde bevarandebeslut",
    "disposal": "körde gallring", "disposal_read": "läste gallringskörning", "accounts": "listade konton",
}
RULE_FAMILIES = {
    "abuse.threat": "hot", "abuse.personal_attack": "personangrepp", "abuse.hate": "hets eller rasism",
    "abuse.insult": "kränkning", "abuse.profanity": "svordomar", "abuse": "kränkningar",
    "personal_data.personnummer": "personnummer", "personal_data.samordningsnummer": "samordningsnummer",
    "personal_data.phone": "telefonnummer", "personal_data.email": "e-postadress",
    "personal_data.address": "gatuadress", "personal_data.bank_account": "bank- eller kortnummer",
    "personal_data": "personuppgifter", "links.blocked": "blockerad länk", "links.shortener": "förkortad länk",
    "links.unknown": "okänd länk", "links.rumour": "rykte eller vilseledande källa", "links": "länkar",
    "spam.repeat": "upprepade inlägg", "spam.campaign": "kampanj", "spam.flood": "många inlägg på kort tid",
    "spam.links": "länkspam", "spam": "spam", "questions.direct": "fråga som ska besvaras",
    "questions.report": "anmälan av hot eller kränkning som ska besvaras",
}
def roles_needed(right: str) -> str | None:
    """The roles that have a right, in Swedish ("arkivarie, registrator eller arkivadministratör"), from the
    one table of rights (socialops_common.identity.PERMISSIONS)."""
    names = [ROLE_NAMES_SV[role] for role, rights in PERMISSIONS.items() if any(p.value == right for p in rights)]
    if not names:
        return None
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} eller {names[-1]}"


def rule_name(rule_id: str) -> str:
    """The rule in words: the most specific name known, "personuppgifter" for "personal_data.x"."""
    parts = rule_id.split(".")
    for end in range(len(parts), 0, -1):
        name = RULE_FAMILIES.get(".".join(parts[:end]))
        if name:
            return name
    return rule_id


def parse_instant(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def local(value: str | datetime | None) -> datetime | None:
    instant = parse_instant(value)
    return instant.astimezone(STOCKHOLM) if instant else None


def short_time(value: str | datetime | None) -> str:
    """sv-SE: "2026-12-01 14:05" in Stockholm time."""
    at = local(value)
    return at.strftime("%Y-%m-%d %H:%M") if at else ""


def long_time(value: str | datetime | None) -> str:
    """"tisdag 1 december 2026 kl. 14.05" in Stockholm time."""
    at = local(value)
    if at is None:
        return ""
    return f"{WEEKDAYS[at.weekday()]} {at.day} {MONTHS[at.month - 1]} {at.year} kl. {at:%H.%M}"


def day_start(day: str | None, *, next_day: bool = False) -> datetime | None:
    """A date typed in a form ("2026-11-30") as the instant its Stockholm day starts (or the next day's)."""
    if not day:
        return None
    parsed = date.fromisoformat(day)
    if next_day:
        parsed += timedelta(days=1)
    return datetime.combine(parsed, time(0), STOCKHOLM).astimezone(UTC)


# Swedish alphabetical order: a–z, then å, ä, ö (Unicode puts ä before å). Accented letters sort with their
# base letter; æ and ø with ä and ö as in Swedish dictionaries; ü with y.
_SWEDISH_LETTERS = {"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}", "ü": "y", "é": "e", "è": "e", "à": "a",
                    "á": "a", "ç": "c", "ñ": "n", "ß": "ss"}


def swedish_key(value: str) -> str:
    folded = value.casefold()
    return "".join(_SWEDISH_LETTERS.get(char, char) for char in folded)


def swedish_sorted(values: Iterable[str]) -> list[str]:
    return sorted(values, key=swedish_key)


_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(before: str | None, after: str | None) -> list[tuple[str, str]]:
    """The change from one version to the next, word by word: ("same"|"added"|"removed", text) parts."""
    old, new = _TOKENS.findall(before or ""), _TOKENS.findall(after or "")
    parts: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(("same", "".join(new[b1:b2])))
            continue
        if op in ("delete", "replace"):
            parts.append(("removed", "".join(old[a1:a2])))
        if op in ("insert", "replace"):
            parts.append(("added", "".join(new[b1:b2])))
    return [part for part in parts if part[1]]


def diff_markup(before: str | None, after: str | None) -> Markup:
    """The difference as HTML: <del>/<ins>, each also said in words for screen readers and print."""
    out = []
    for kind, text in word_diff(before, after):
        if kind == "same":
            out.append(escape(text))
        elif kind == "added":
            out.append(Markup('<ins><span class="visually-hidden">[tillagt: </span>{}'
                              '<span class="visually-hidden">]</span></ins>').format(text))
        else:
            out.append(Markup('<del><span class="visually-hidden">[borttaget: </span>{}'
                              '<span class="visually-hidden">]</span></del>').format(text))
    return Markup("").join(out)


def marked(text: str | None, spans: Iterable[Iterable[int]] | None, tag: str = "mark") -> Markup:
    """The text with the given [start, end) spans marked (search words, the rule's matched spans)."""
    if not text:
        return Markup("")
    cuts: list[tuple[int, int]] = []
    for span in spans or []:
        start, end = list(span)[:2]
        start, end = max(0, int(start)), min(len(text), int(end))
        if start < end and (not cuts or start >= cuts[-1][1]):
            cuts.append((start, end))
    out, at = [], 0
    for start, end in sorted(cuts):
        out.append(escape(text[at:start]))
        out.append(Markup(f"<{tag}>") + escape(text[start:end]) + Markup(f"</{tag}>"))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def count_words(count: int | None, capped: bool, shown: int, more: bool) -> str:
    """"42 träffar", "fler än 10 000 träffar", "1 träff"; when not counted: what the page shows."""
    if count is None:
        suffix = " (fler finns)" if more else ""
        return f"{shown} {'träff' if shown == 1 else 'träffar'} på sidan{suffix}"
    if capped:
        return f"fler än {10_000:,} träffar".replace(",", " ")
    return f"{count:,} {'träff' if count == 1 else 'träffar'}".replace(",", " ")


def hours_minutes(seconds: float) -> str:
    minutes = int(round(abs(seconds) / 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min" if minutes else "mindre än en minut"


def time_left(seconds: float | None) -> str:
    """"2 h 10 min arbetstid kvar", or how late in working time: "försenad 1 h 5 min (arbetstid)"."""
    if seconds is None:
        return ""
    if seconds >= 0:
        return f"{hours_minutes(seconds)} arbetstid kvar"
    return f"försenad {hours_minutes(seconds)} (arbetstid)"

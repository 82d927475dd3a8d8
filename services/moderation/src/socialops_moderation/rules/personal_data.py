"""Personal data that must never stand in a public comment field, and masking of it.

Guideline (seeds/001_206af399bca50804.txt, "Riktlinjer vid hantering av kommentarer"):
"Det är inte tillåtet att skriva ut sekretessbelagda uppgifter. Tänk efter innan du delar
information öppet, skriv inte ut personuppgifter, telefonnummer eller annat material som kan vara
känsligt."

Rule ids: `personal_data.personnummer`, `personal_data.samordningsnummer` (both Luhn-checked, with
`YYMMDD-NNNC`, `YYYYMMDDNNNC`, `YYMMDD NNNC`, en dash and `+`), `personal_data.phone`
(`phonenumbers`, region SE, VALID leniency so dates and sums are not phones; public numbers such
as 112, 1177, 114 14 and the city's switchboard are allowed by configuration),
`personal_data.email`, `personal_data.address` (street + number, or postnummer + ort),
`personal_data.bank_account` (card numbers with Luhn, Swedish IBAN, account numbers after "konto").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from socialops_common.events import RuleHit

from . import CLAUSE_PERSONAL_DATA, hit

# The separators people write between birth date and the last four digits (issue 5).
_PNR = re.compile(
    r"(?<![\d\w-])(?P<century>19|20)?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"\s?(?P<sep>[-+–—]|\s)?\s?(?P<last>\d{4})(?![\d])"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}(?![\w])")
_STREET_SUFFIXES = (
    "gatan|vägen|gränd|gränden|stigen|liden|gången|hagen|vången|allén|allé|torget|torg|backe|backen|plan|leden|gata|väg|stråket|"
    "esplanaden|promenaden|platsen|kajen|parken|höjden|slingan|ringen|road|street|avenue|lane"
)
_STREET = re.compile(
    rf"\b[A-ZÅÄÖ][a-zåäöé]+(?:{_STREET_SUFFIXES})\s+\d{{1,4}}(?:\s?[A-Za-z](?![a-zåäö]))?(?:\s*,?\s*(?:lgh|lägenhet)\s*\d+)?",
)
_POSTCODE = re.compile(r"(?<!\d)\d{3}\s?\d{2}\s+[A-ZÅÄÖ][a-zåäö]+(?:\s[A-ZÅÄÖ][a-zåäö]+)?")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_IBAN = re.compile(r"\bSE\d{2}(?:\s?\d{4}){5}\b", re.IGNORECASE)
_ACCOUNT = re.compile(
    r"\b(?:kontonummer|kontonr|konto|clearingnummer|clearingnr|clearing|account number|account no)\b"
    r"[\s:.]*(?:är\s+|is\s+)?(?P<number>\d[\d ,.-]{5,22}\d)",
    re.IGNORECASE,
)


# A Swedish phone number has at least 7 digits, perhaps with spaces, dashes, dots, brackets or "+".
_ENOUGH_DIGITS = re.compile(r"\d(?:[\s\-.()/+]*\d){6,}")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass(frozen=True)
class PersonalDataConfig:
    # Public numbers that may always stand: emergency, healthcare advice, police tip line, the
    # city's switchboard (kontaktcenter). Configuration, see settings.
    allowed_phone_numbers: tuple[str, ...] = ("112", "1177", "114 14", "042-10 50 00")
    allowed_email_domains: tuple[str, ...] = ("helsingborg.se",)
    region: str = "SE"

    def phone_allowed(self, number: phonenumbers.PhoneNumber, raw: str) -> bool:
        national = phonenumbers.national_significant_number(number)
        digits = re.sub(r"\D", "", raw)
        for allowed in self.allowed_phone_numbers:
            allowed_digits = re.sub(r"\D", "", allowed)
            if digits == allowed_digits or national == allowed_digits.lstrip("0"):
                return True
        return False


def find_personnummer(text: str) -> list[tuple[int, int, str]]:
    """(start, end, "personnummer" | "samordningsnummer") for every Luhn-valid number in `text`."""
    found = []
    for m in _PNR.finditer(text):
        month, day = int(m.group("mm")), int(m.group("dd"))
        if not 1 <= month <= 12:
            continue
        if 1 <= day <= 31:
            label = "personnummer"
        elif 61 <= day <= 91:
            label = "samordningsnummer"  # day + 60 (Skatteverket)
        else:
            continue
        if not luhn_valid(m.group("yy") + m.group("mm") + m.group("dd") + m.group("last")):
            continue
        found.append((m.start(), m.end(), label))
    return found


def classify_personal_data(text: str, config: PersonalDataConfig | None = None) -> list[RuleHit]:
    config = config or PersonalDataConfig()
    spans: dict[str, list[tuple[int, int, str]]] = {}
    taken: list[tuple[int, int]] = []

    def add(rule: str, start: int, end: int, label: str) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        spans.setdefault(rule, []).append((start, end, label))

    for start, end, label in find_personnummer(text):
        add(f"personal_data.{label}", start, end, label)
    for m in _EMAIL.finditer(text):
        domain = m.group().rsplit("@", 1)[1].lower()
        if not any(domain == d or domain.endswith("." + d) for d in config.allowed_email_domains):
            add("personal_data.email", m.start(), m.end(), "email")
    for m in _IBAN.finditer(text):
        add("personal_data.bank_account", m.start(), m.end(), "bank_account")
    for m in _ACCOUNT.finditer(text):
        digits = re.sub(r"\D", "", m.group("number"))
        if 7 <= len(digits) <= 18:
            add("personal_data.bank_account", m.start("number"), m.end("number"), "bank_account")
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            add("personal_data.bank_account", m.start(), m.end(), "card_number")
    if _ENOUGH_DIGITS.search(text):  # the matcher is slow: only where a phone number could be
        for match in phonenumbers.PhoneNumberMatcher(text, config.region, leniency=phonenumbers.Leniency.VALID):
            if not config.phone_allowed(match.number, match.raw_string):
                add("personal_data.phone", match.start, match.end, "phone")
    for m in _STREET.finditer(text):
        add("personal_data.address", m.start(), m.end(), "address")
    for m in _POSTCODE.finditer(text):
        add("personal_data.address", m.start(), m.end(), "address")

    confidence = {
        "personal_data.personnummer": 0.98,
        "personal_data.samordningsnummer": 0.97,
        "personal_data.email": 0.95,
        "personal_data.phone": 0.9,
        "personal_data.bank_account": 0.9,
        "personal_data.address": 0.8,
    }
    return [hit(rule, CLAUSE_PERSONAL_DATA, confidence[rule], found) for rule, found in spans.items()]


def mask(text: str, hits: list[RuleHit]) -> str:
    """`text` with every personal-data span replaced by its label, e.g. "[personnummer]"."""
    spans = sorted(
        {(s.start, s.end, s.label) for h in hits if h.rule_id.startswith("personal_data.") for s in h.spans},
        reverse=True,
    )
    masked = text
    last_start = len(text) + 1
    for start, end, label in spans:
        if end > last_start:  # overlapping spans: the earlier replacement already covers it
            continue
        masked = masked[:start] + f"[{label}]" + masked[end:]
        last_start = start
    return masked

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

Numbers written past a filter are read too (issue 14): digits spelt out in words ("noll sju noll,
fyra fem sex …", "sjuttioåtta", "nollsju") and digits split by spaces, dashes or "streck"
("0 7 0 - 5 5 5 …", "19 47 03 12 - 48 77") are joined into one digit string (`spelled_numbers`)
and checked as a phone number or a personnummer like any other; a street name followed by a
house number in words ("Kullagatan tjugotre") is an address.
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
# "Terrordådet på Drottninggatan 2017": a bare 19xx/20xx after a street name is the year of an event
# (issue 14, round 5; city_comments15 train), not a house number.
_YEAR_AFTER_STREET = re.compile(r"\s(19|20)\d\d$")
# What follows the number says it is not one home (issue 14, round 7; city_comments23 and 25 train):
# a range of house numbers is a block of flats ("stambytet på Björkängsvägen 12–18"), a unit makes
# it a count ("gropen på Lundavägen fyller 1 år").
_NOT_ONE_HOME_AFTER = re.compile(
    r"\s?([–—-]\s?\d|(år|års|dagar|dygn|veckor|månader|timmar|minuter|gånger|meter|km|kr|kronor|procent)\b|%)")
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
    """(start, end, "personnummer" | "samordningsnummer") for every Luhn-valid number in `text`, and for
    one the text calls a personnummer ("pnr 19910407 2389") whatever its check digit."""
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
        if not luhn_valid(m.group("yy") + m.group("mm") + m.group("dd") + m.group("last")) and not _NAMED_PNR.search(
                text[max(0, m.start() - 24) : m.start()]):
            continue
        found.append((m.start(), m.end(), label))
    return found


# 2026-12 (issue 14, round 3): a number the writer calls a personnummer is one, whether or not its
# check digit holds (mistyped, or made up for a post): masking it costs little, while publishing a
# real one mistyped by a digit costs a person their privacy. Without the word, the check digit
# keeps dates and order numbers out.
_NAMED_PNR = re.compile(
    r"(?i)\b(personnummer|personnumret|personnr|person\s?nr|pers\.?\s?nr|pnr|p-nr)\b\W{0,3}(är\W{0,3}|:\W{0,2})?$")


_UNITS = {"noll": 0, "en": 1, "ett": 1, "ena": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7,
          "åtta": 8, "nio": 9, "nia": 9, "sjua": 7, "nolla": 0, "etta": 1, "tvåa": 2, "trea": 3, "femma": 5, "sexa": 6}
_TEENS = {"tio": 10, "elva": 11, "tolv": 12, "tretton": 13, "fjorton": 14, "femton": 15, "sexton": 16,
          "sjutton": 17, "arton": 18, "nitton": 19}
_TENS = {"tjugo": 20, "tjugu": 20, "trettio": 30, "fyrtio": 40, "femtio": 50, "sextio": 60, "sjuttio": 70,
         "åttio": 80, "nittio": 90}
_NUMBER_PIECE = re.compile(
    "|".join(sorted(map(re.escape, [*_TENS, *_TEENS, *_UNITS]), key=len, reverse=True))
)
_TOKEN = re.compile(r"[^\W_]+|[-–—]")
_JOINERS = {"-", "–", "—", "streck", "bindestreck", "och"}


def _word_digits(word: str) -> str | None:
    """The digits a number word stands for ("sjuttioåtta" → "78", "nollsju" → "07"), else None."""
    if word.isdigit():
        return word if len(word) <= 4 else None
    out, i = "", 0
    while i < len(word):
        m = _NUMBER_PIECE.match(word, i)
        if not m:
            return None
        piece = m.group()
        i = m.end()
        if piece in _TENS:
            unit = _NUMBER_PIECE.match(word, i)
            if unit and unit.group() in _UNITS and unit.group() not in ("noll", "nolla"):
                out += str(_TENS[piece] + _UNITS[unit.group()])
                i = unit.end()
            else:
                out += str(_TENS[piece])
        elif piece in _TEENS:
            out += str(_TEENS[piece])
        else:
            out += str(_UNITS[piece])
    return out


_NUMBERISH = re.compile(r"(?:\d{1,4}|(?:" + _NUMBER_PIECE.pattern + r")+)", re.IGNORECASE)
_WORDS = re.compile(r"[^\W_]+")


def spelled_numbers(text: str, min_digits: int = 7) -> list[tuple[int, int, str]]:
    """(start, end, digits) for every run of number words and short digit groups with at least
    `min_digits` digits, of which at least one was written as a word or the run was split."""
    # Cheap test first: a run of 7 digits needs at least two number-like words or groups.
    if sum(1 for w in _WORDS.findall(text) if _NUMBERISH.fullmatch(w) and w.lower() not in ("en", "ett")) < 2:
        return []
    runs: list[tuple[int, int, str]] = []
    start = end = -1
    digits, pieces, worded = "", 0, False

    def close() -> None:
        if len(digits) >= min_digits and (worded or pieces >= 4):
            runs.append((start, end, digits))

    for m in _TOKEN.finditer(text):
        token = m.group().lower()
        # "i" between a word and a number is not one ("en", "ett" are: "ett två tre")
        value = _word_digits(token) if token not in ("en", "ett") or digits else None
        if value is not None:
            if not digits:
                start = m.start()
            gap = text[end:m.start()] if digits else ""
            if digits and not re.fullmatch(r"[\s,.:;/()]*", gap):
                close()
                start, digits, pieces, worded = m.start(), "", 0, False
            digits += value
            pieces += 1
            worded = worded or not token.isdigit()
            end = m.end()
        elif digits and token in _JOINERS and re.fullmatch(r"[\s,.:;/()]*", text[end:m.start()]):
            end = m.end()  # "streck", a dash: still the same number
        elif digits:
            close()
            digits, pieces, worded = "", 0, False
    if digits:
        close()
    return runs


_STREET_NUMBER_WORD = re.compile(
    rf"\b[A-ZÅÄÖ][a-zåäöé]+(?:{_STREET_SUFFIXES})\s+(?:nummer\s+|nr\s+)?(?P<number>[a-zåäö]+)(?:\s?[A-Za-z](?![a-zåäö]))?"
)


def classify_personal_data(
    text: str, config: PersonalDataConfig | None = None, normalised: object | None = None
) -> list[RuleHit]:
    """`normalised` is accepted for the classifier's uniform call; the patterns read the original."""
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
    for start, end, digits in spelled_numbers(text):
        if _luhn_personnummer(digits):
            add("personal_data.personnummer", start, end, "personnummer")
        elif _phone_digits(digits, config):
            add("personal_data.phone", start, end, "phone")
    for m in _STREET.finditer(text):
        if not _YEAR_AFTER_STREET.search(m.group()) and not _NOT_ONE_HOME_AFTER.match(text, m.end()):
            add("personal_data.address", m.start(), m.end(), "address")
    for m in _STREET_NUMBER_WORD.finditer(text):
        number = _word_digits(m.group("number").lower())
        if number and m.group("number").lower() not in ("en", "ett") and 0 < int(number) < 400:
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


def _luhn_personnummer(digits: str) -> bool:
    if len(digits) == 12 and digits[:2] in ("19", "20"):
        digits = digits[2:]
    if len(digits) != 10:
        return False
    month, day = int(digits[2:4]), int(digits[4:6])
    return 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91) and luhn_valid(digits)


def _phone_digits(digits: str, config: PersonalDataConfig) -> bool:
    if not 8 <= len(digits) <= 12:
        return False
    try:
        number = phonenumbers.parse(digits, config.region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and not config.phone_allowed(number, digits)


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

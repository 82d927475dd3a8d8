"""Personal-data masking (pure). Who may see what is the one rights table in `socialops_common.identity`."""

from __future__ import annotations

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

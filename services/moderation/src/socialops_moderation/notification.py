"""What the commenter is told when the city hides or deletes a comment.

Guideline (seeds/001_206af399bca50804.txt, "Dölja eller ta bort kommentar"): "Upptäcker du en
otrevlig kommentar som strider mot våra riktlinjer så behöver du eventuellt dölja eller ta bort den
och meddela personen som skrivit kommentaren." Written per "Tonalitet – så pratar vi": klarspråk,
"vi/oss" and "du/dig", personal, no abbreviations or internal terms, human and helpful.
"""

from __future__ import annotations

from socialops_common.events import ModerationAction

_REASONS = [
    # (rule prefix, why, in plain Swedish) — first match wins, most serious first
    ("abuse.threat", "den innehöll ett hot"),
    ("abuse.personal_attack", "den innehöll ett personligt påhopp"),
    ("abuse.hate", "den innehöll rasism eller kränkningar av en grupp människor"),
    ("abuse.insult", "den innehöll kränkande ord om andra"),
    ("abuse.profanity", "den innehöll svordomar"),
    # the learned second opinion, when a policy lets it remove (issue 14)
    ("model.threat", "den innehöll ett hot"),
    ("model.attack", "den innehöll ett personligt påhopp"),
    ("model.hate", "den innehöll rasism eller kränkningar av en grupp människor"),
    ("model.scam", "den såg ut som bedrägeri eller reklam"),
    ("spam.scam", "den såg ut som bedrägeri eller reklam"),
    ("links.misinformation", "den länkade till information som inte stämmer eller som kan vilseleda"),
    (
        "personal_data",
        "den innehöll personuppgifter, till exempel ett personnummer, ett telefonnummer eller en adress. "
        "Vi gör så för att skydda dig och andra",
    ),
    ("links.blocked", "den länkade till en sida med information som inte stämmer eller som kan vilseleda"),
    ("links", "den innehöll en länk eller uppgift som vi inte har kunnat kontrollera"),
    ("spam", "samma eller nästan samma text har skrivits flera gånger"),
]


DEFAULT_SIGNATURE = "Vänliga hälsningar, Helsingborgs stad"


def notification_for(
    action: ModerationAction, rule_ids: list[str], block_author: bool, signature: str = DEFAULT_SIGNATURE
) -> str | None:
    """The message to the commenter for a hide or delete, or None when nothing was removed."""
    if action not in (ModerationAction.HIDE, ModerationAction.DELETE):
        return None
    why = next(
        (reason for prefix, reason in _REASONS if any(r == prefix or r.startswith(prefix + ".") for r in rule_ids)),
        "den inte följde våra regler för kommentarer",
    )
    done = "dolt" if action == ModerationAction.HIDE else "tagit bort"
    lines = [f"Hej! Vi har {done} din kommentar eftersom {why}."]
    lines.append(
        "Vi vill att alla ska kunna vara med i samtalet och att tonen ska vara vänlig mot alla."
        if not any(r.startswith(("personal_data", "spam", "links")) for r in rule_ids)
        else "Du är välkommen att skriva igen."
    )
    if any(r.startswith("personal_data") for r in rule_ids):
        lines.append("Har du en fråga om ditt ärende? Skicka ett privat meddelande till oss, så hjälper vi dig där.")
    if block_author:
        lines.append("Du kan inte längre kommentera på vårt konto.")
    # "Vi rekommenderar att man signerar sitt svar … med namn och titel" ("Svara så fort som möjligt")
    lines.append(f"Har du frågor om beslutet är du välkommen att kontakta oss. {signature}")
    return " ".join(lines)

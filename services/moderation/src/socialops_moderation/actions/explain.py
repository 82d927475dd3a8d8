"""What an action's state means, in plain Swedish for the people in the console (pure).

The outcome's `detail` is the platform's own words (English, for logs and support); `error_code` is
stable (`graph:10/2018278`, `x:403`, …). This turns both into a sentence a contact-center agent can act
on ("Tonalitet – så pratar vi", seeds/001: klarspråk, du/vi, no internal terms).
"""

from __future__ import annotations

from socialops_common.events import ActionOperation, EventKind, Platform

from .capabilities import DIRECT_MESSAGES

Op = ActionOperation

PLATFORM_NAMES = {Platform.FACEBOOK: "Facebook", Platform.INSTAGRAM: "Instagram", Platform.X: "X",
                  Platform.LINKEDIN: "LinkedIn"}

_DONE = {
    Op.REPLY: "Svaret är publicerat.",
    Op.LIKE: "Kommentaren är gillad.",
    Op.NOTIFY: "Meddelandet till personen är skickat.",
    Op.HIDE: "Kommentaren är dold.",
    Op.UNHIDE: "Kommentaren visas igen.",
    Op.DELETE: "Kommentaren är borttagen.",
    Op.BLOCK_AUTHOR: "Personen är blockerad.",
}

_UNSUPPORTED = {
    (Platform.INSTAGRAM, Op.LIKE): "Instagram låter inte oss gilla kommentarer via sin tjänst för företag. Gilla den i Instagram-appen.",
    (Platform.INSTAGRAM, Op.BLOCK_AUTHOR): "Instagram låter inte oss blockera någon via sin tjänst för företag. Blockera i Instagram-appen.",
    (Platform.X, Op.DELETE): "X låter inte kontot ta bort andras inlägg, bara dölja svar. Svaret döljs i stället.",
    (Platform.X, Op.NOTIFY): "X har inget sätt att meddela den som skrev. Skriv ett direktmeddelande i X om det behövs.",
    (Platform.LINKEDIN, Op.HIDE): "LinkedIn kan inte dölja kommentarer. Ta bort kommentaren eller låt den stå kvar.",
    (Platform.LINKEDIN, Op.UNHIDE): "LinkedIn kan inte dölja kommentarer, så det finns inget att visa igen.",
    (Platform.LINKEDIN, Op.BLOCK_AUTHOR): "LinkedIn låter inte oss blockera någon via sin tjänst. Blockera på linkedin.com.",
    (Platform.LINKEDIN, Op.NOTIFY): "LinkedIn har inget sätt att meddela den som skrev.",
}

_RATE_LIMITED = "{name} begränsar just nu hur mycket vi får göra. Försök igen om en stund."
_TOKEN = ("Kontots nyckel till {name} har gått ut eller dragits tillbaka. "
          "Be den som administrerar kopplingen att förnya den.")


def message_sv(*, status: str, operation: ActionOperation, platform: Platform, item_kind: EventKind | None = None,
               error_code: str | None = None) -> str:
    """One sentence for the person who asked: what happened, and what to do now."""
    name = PLATFORM_NAMES[platform]
    if status == "pending":
        return f"Skickas till {name} …"
    if status == "done":
        if operation == Op.REPLY and item_kind in DIRECT_MESSAGES:
            return "Svaret är skickat."
        return _DONE[operation]
    if status == "dry_run":
        return f"Inget skickades: kontot är inte kopplat till {name} än (provläge)."
    if status == "unsupported":
        if item_kind in DIRECT_MESSAGES and platform == Platform.LINKEDIN:
            return "LinkedIn låter inte oss svara på meddelanden. Svara på linkedin.com."
        if item_kind in DIRECT_MESSAGES and operation == Op.LIKE:
            return "Ett direktmeddelande kan inte gillas."
        return _UNSUPPORTED.get((platform, operation), f"{name} har inget sätt att göra detta.")
    return _failed(error_code or "", operation, platform, item_kind, name)


def _failed(code: str, operation: ActionOperation, platform: Platform, item_kind: EventKind | None, name: str) -> str:
    prefix, _, rest = code.partition(":")
    main, _, sub = rest.partition("/")
    if code == "invalid":
        return "Begäran saknade uppgifter som behövs. Ladda om sidan och försök igen."
    if rest == "network":
        return f"Vi fick inte kontakt med {name}. Försök igen om en stund."
    if rest == "no-answer" or code == "interrupted":
        return (f"{name} svarade inte, men det kan ändå ha gått fram. "
                f"Titta på {name} innan du försöker igen, så att det inte blir dubbelt.")
    if prefix == "graph":
        if main == "10" and (sub == "2018278" or operation == Op.NOTIFY):
            if operation == Op.NOTIFY:
                return ("Det går inte längre att skicka ett privat svar på kommentaren: det går bara en gång per "
                        "kommentar och inom 7 dagar från att den skrevs.")
            return ("Meddelandet kunde inte skickas: det har gått mer än 24 timmar sedan personen skrev till oss. "
                    "Personen behöver skriva igen innan vi kan svara här.")
        if main == "190":
            return _TOKEN.format(name=name)
        if main in {"4", "17", "32", "341", "613"} or main.startswith("800"):
            return _RATE_LIMITED.format(name=name)
        if main in {"1", "2"}:
            return f"{name} hade ett tillfälligt fel. Försök igen om en stund."
        if main == "10" or main.isdigit() and 200 <= int(main) <= 299:
            return f"Kontot saknar behörighet hos {name} för detta. Be den som administrerar kopplingen att kontrollera den."
        return f"{name} sa nej ({code})."
    if main == "429":
        return _RATE_LIMITED.format(name=name)
    if main == "401":
        return _TOKEN.format(name=name)
    if main == "403":
        if platform == Platform.X:
            return ("X tillät inte detta, till exempel för att personen inte tar emot meddelanden från kontot "
                    "eller för att kontots avtal med X inte omfattar det.")
        return f"{name} tillät inte detta. Be den som administrerar kopplingen att kontrollera kontots behörigheter."
    if main.isdigit() and int(main) >= 500:
        return f"{name} hade ett tillfälligt fel. Försök igen om en stund."
    return f"{name} sa nej ({code})." if code else f"Det gick inte att genomföra hos {name}."

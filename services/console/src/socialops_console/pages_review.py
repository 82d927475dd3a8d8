"""Granskning: editors judge what the rules and the model were unsure of (docs/moderation.md, "In the browser").

The moderation service's review API decides who sees which item (the accounts the person works on) and
records every verdict as a new decision; the thread comes from the archive. Each action has one key
(shown on the page, and possible to turn off: WCAG 2.1.4).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from socialops_common.identity import Permission
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import formatting as fmt
from .web import Visit, page

# The reasons an editor picks from when changing a decision (free text may be added).
CHANGE_REASONS = (
    "Kritik av ett beslut, inget påhopp",
    "En åsikt som får stå kvar",
    "Ett citat eller en rapport om hot, inget hot",
    "Ironi eller ett talesätt",
    "Länken är till en säker källa",
    "Personuppgifterna är offentliga (t.ex. ett växelnummer)",
    "Allvarligare än regeln sa",
)
MODEL_CLASSES = {"threat": "hot", "hate": "hat mot grupp", "attack": "personangrepp", "scam": "bedrägeri"}
SPEECH_ACTS = {"question": "fråga", "directive": "uppmaning", "expressive": "känsloyttring", "assertion": "påstående"}


def shown_text(item: dict[str, Any]) -> tuple[str, list[list[int]]]:
    """The text a reviewer reads, and where to mark the rules' spans (pure).

    Personal data is masked (the API gives masked text); a masked text may have another length than the
    original, so spans are marked only when no personal-data rule matched."""
    text = item.get("masked_text") or ""
    if any(r["rule_id"].startswith("personal_data") for r in item["rules"]):
        return text, []
    spans = [[s["start"], s["end"]] for r in item["rules"] for s in r.get("spans", [])]
    spans += [[w["start"], w["end"]] for w in ((item.get("model") or {}).get("words") or [])]
    return text, sorted(spans)


async def _thread(visit: Visit, item: dict[str, Any]) -> list[dict[str, Any]] | None:
    if not visit.person.may(Permission.READ_CONVERSATIONS):
        return None
    return (await visit.api("archive", "GET", "/conversation", params={
        "platform": item["platform"], "account": item["account_id"], "thread": item["thread_id"]}))["items"]


@page(Permission.READ_REVIEW_QUEUE)
async def queue(visit: Visit) -> Response:
    values = dict(visit.request.query_params)
    params = {key: values[key] for key in ("account_id", "rule", "platform") if values.get(key)}
    items = await visit.api("moderation", "GET", "/review", params={**params, "limit": 200})
    accounts = sorted({(i["platform"], i["account_id"], i.get("account_name") or i["account_id"]) for i in items},
                      key=lambda a: fmt.swedish_key(a[2]))
    rules = fmt.swedish_sorted({r["rule_id"] for i in items for r in i["rules"]})
    # Bulk confirm only when the list is one rule of one account (never a wider sweep).
    bulk = bool(params.get("account_id") and params.get("rule") and "." in params["rule"] and items
                and visit.person.may(Permission.REVIEW))
    return visit.render("granskning/lista.html", items=items, values=values, bulk=bulk, rules=rules,
                        accounts=accounts, model_classes=MODEL_CLASSES,
                        notice=values.get("klart"), undo=values.get("angra"))


@page(Permission.REVIEW)
async def verdicts_download(visit: Visit) -> Response:
    """The verdicts that stand on the editor's accounts as training data for the city's own model
    (docs/moderation.md, "Learning from the reviewers"): masked texts and classes, no names."""
    account = visit.request.query_params.get("account_id")
    response = await visit.raw("moderation", "GET", "/review/verdicts.jsonl", params={"account_id": account} if account else {})
    return Response(response.content, media_type="application/x-ndjson; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="granskade-kommentarer.jsonl"'})


@page(Permission.READ_REVIEW_QUEUE)
async def one(visit: Visit) -> Response:
    decision_id = visit.request.path_params["decision_id"]
    item = await visit.api("moderation", "GET", f"/review/{decision_id}")
    text, spans = shown_text(item)
    return visit.render(
        "granskning/objekt.html", item=item, text=text, spans=spans, thread=await _thread(visit, item),
        reasons=CHANGE_REASONS, model_classes=MODEL_CLASSES, speech_acts=SPEECH_ACTS,
        undo=visit.request.query_params.get("angra"), may_review=visit.person.may(Permission.REVIEW),
    )


async def _next_waiting(visit: Visit, after: str) -> str:
    waiting = await visit.api("moderation", "GET", "/review", params={"limit": 5})
    following = [i for i in waiting if i["decision_id"] != after]
    return f"/granskning/{following[0]['decision_id']}" if following else "/granskning"


@page(Permission.REVIEW)
async def verdict(visit: Visit) -> Response:
    form = await visit.form()
    decision_id = visit.request.path_params["decision_id"]
    if form is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    if form.get("verdict") == "confirm":
        body: dict[str, Any] = {"verdict": "confirm"}
    else:
        reason = " – ".join(part for part in (form.get("reason_choice", "").strip(), form.get("reason", "").strip())
                            if part)
        if form.get("action") not in ("allow", "hide", "delete") or not reason:
            return visit.render("fel/ogiltig.html", status_code=422,
                                detail="Välj vad som ska hända med kommentaren och skriv eller välj ett skäl.")
        body = {"verdict": "override", "action": form["action"], "reason": reason,
                "block_author": form.get("block_author") == "ja" and form["action"] == "delete"}
    resolved = await visit.api("moderation", "POST", f"/review/{decision_id}", json=body)
    target = await _next_waiting(visit, decision_id)
    return RedirectResponse(f"{target}?{urlencode({'angra': decision_id, 'beslut': resolved['action']})}",
                            status_code=303)


@page(Permission.REVIEW)
async def undo(visit: Visit) -> Response:
    if await visit.form() is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    decision_id = visit.request.path_params["decision_id"]
    await visit.api("moderation", "POST", f"/review/{decision_id}/undo")
    return RedirectResponse(f"/granskning/{decision_id}", status_code=303)


@page(Permission.REVIEW)
async def confirm_all(visit: Visit) -> Response:
    form = await visit.form()
    if form is None or not form.get("account_id") or not form.get("rule"):
        return visit.render("fel/ogiltig.html", status_code=400, detail="Välj ett konto och en regel först.")
    done = await visit.api("moderation", "POST", "/review/confirm-all",
                           json={"account_id": form["account_id"], "rule": form["rule"]})
    return RedirectResponse(f"/granskning?{urlencode({'klart': len(done)})}", status_code=303)


@page(Permission.READ_REVIEW_QUEUE)
async def removals(visit: Visit) -> Response:
    """Comments hidden or deleted in the last 7 days, and the notice to each commenter (Private Replies)."""
    found = await visit.api("moderation", "GET", "/review/removals", params={"limit": 100})
    return visit.render("granskning/borttagna.html", removals=found, sent=visit.request.query_params.get("skickat"),
                        may_notify=visit.person.may(Permission.NOTIFY_COMMENTER), request_id=uuid.uuid4().hex)


@page(Permission.NOTIFY_COMMENTER)
async def notify(visit: Visit) -> Response:
    form = await visit.form()
    if form is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    text = form.get("text", "").strip()
    if not text:
        return visit.render("fel/ogiltig.html", status_code=422, detail="Meddelandet kan inte vara tomt.")
    body = {key: form.get(key, "") for key in ("event_id", "platform", "account_id", "item_id", "thread_id",
                                                 "item_kind")}
    # One notice per comment, ever: the moderation service derives the action's id from the comment.
    await visit.api("moderation", "POST", "/actions", json={**body, "operation": "notify", "text": text,
                                                            "request_id": form.get("request_id", "")})
    return RedirectResponse(f"/granskning/borttagna?{urlencode({'skickat': form['item_id']})}", status_code=303)


ROUTES = [
    Route("/granskning/borttagna", removals),
    Route("/granskning/borttagna/meddela", notify, methods=["POST"]),
    Route("/granskning", queue),
    Route("/granskning/bekrafta-alla", confirm_all, methods=["POST"]),
    Route("/granskning/granskade-kommentarer.jsonl", verdicts_download),
    Route("/granskning/{decision_id:str}", one),
    Route("/granskning/{decision_id:str}", verdict, methods=["POST"]),
    Route("/granskning/{decision_id:str}/angra", undo, methods=["POST"]),
]

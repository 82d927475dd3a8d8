"""Inkorg: the contact center and editors answer what needs an answer (docs/sla.md, "The inbox").

Items, deadlines, claims and notes come from the SLA service; the thread or DM conversation from the
archive; a reply, and a like of a friendly comment, go out as platform actions through the moderation
service (carried out by its executor, dry run without a token). Every API checks who may see and do what.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from socialops_common.identity import Permission
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import formatting as fmt
from .services import ServiceRefused
from .web import Visit, page

FILTERS = ("account", "department", "state", "platform")
# Meta's Send API answers a person only within 24 hours of their last message (messaging_type RESPONSE).
MESSAGING_WINDOW = timedelta(hours=24)
NO_ANSWER_REASONS = ("Frågan är redan besvarad i tråden", "Frågan ställs till andra läsare", "Retorisk fråga",
                     "Besvarad på annat sätt (telefon, e-post)", "Skräp eller dubblett")


def signature_of(name: str, title: str | None) -> str:
    """Helsingborg (seed 001, "Svara så fort som möjligt"): "vänliga hälsningar, Louise kommunikatör"."""
    return f"Vänliga hälsningar, {name}" + (f", {title}" if title else "")


def outside_messaging_window(item: dict[str, Any], now: datetime) -> bool:
    occurred = fmt.parse_instant(item.get("occurred_at"))
    return (item.get("kind") == "dm" and item.get("platform") in ("facebook", "instagram") and occurred is not None
            and now - occurred > MESSAGING_WINDOW)


async def _inbox(visit: Visit, values: dict[str, str]) -> dict[str, Any]:
    params = {key: values[key] for key in FILTERS if values.get(key)}
    return await visit.api("sla", "GET", "/inbox", params=params)


def _kept(values: dict[str, str]) -> dict[str, str]:
    return {key: values[key] for key in FILTERS if values.get(key)}


@page(Permission.READ_INBOX)
async def inbox(visit: Visit) -> Response:
    values = dict(visit.request.query_params)
    result = await _inbox(visit, values)
    return visit.render("inkorg/lista.html", result=result, values=values,
                        refresh="/inkorg/lista?" + urlencode(_kept(values)), time_left=fmt.time_left)


@page(Permission.READ_INBOX)
async def inbox_list(visit: Visit) -> Response:
    """The list alone: what the page fetches every few seconds (new items and state changes, announced)."""
    values = dict(visit.request.query_params)
    return visit.render("inkorg/_lista.html", result=await _inbox(visit, values), values=values, time_left=fmt.time_left)


async def _actions_on(visit: Visit, item: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        return await visit.api("moderation", "GET", "/actions", params={
            "platform": item["platform"], "account_id": item["account_id"], "item_id": item["item_id"]})
    except ServiceRefused:
        return []


@page(Permission.READ_INBOX)
async def item(visit: Visit) -> Response:
    event_id = visit.request.path_params["event_id"]
    found = await visit.api("sla", "GET", f"/inbox/{event_id}")
    conversation = None
    if visit.person.may(Permission.READ_CONVERSATIONS):
        try:
            conversation = (await visit.api("archive", "GET", "/conversation", params={
                "platform": found["platform"], "account": found["account_id"], "thread": found["thread_id"]}))["items"]
        except ServiceRefused as refused:
            if refused.status >= 500:
                conversation = None  # the archive is away: the rest of the page still helps
            else:
                raise
    replies = [a for a in await _actions_on(visit, found) if a["operation"] == "reply"]
    now = datetime.now(UTC)
    return visit.render(
        "inkorg/arende.html", item=found, conversation=conversation, replies=replies, time_left=fmt.time_left,
        signature=signature_of(visit.person.name, visit.person.title), request_id=uuid.uuid4().hex,
        may_answer=visit.person.may(Permission.ANSWER), reasons=NO_ANSWER_REASONS,
        outside_window=outside_messaging_window(found, now), mine=(found.get("claim") or {}).get("subject") == visit.person.subject,
        taken_from_me=(found.get("claim") or {}).get("taken_from_subject") == visit.person.subject,
        notice=visit.request.query_params.get("klart"),
    )


def _back(event_id: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/inkorg/{event_id}?{urlencode({'klart': notice})}", status_code=303)


async def _posted(visit: Visit) -> tuple[str, dict[str, str]] | Response:
    form = await visit.form()
    if form is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    return visit.request.path_params["event_id"], form


@page(Permission.ANSWER)
async def claim(visit: Visit) -> Response:
    posted = await _posted(visit)
    if isinstance(posted, Response):
        return posted
    event_id, form = posted
    try:
        await visit.api("sla", "POST", f"/inbox/{event_id}/claim", json={"take_over": form.get("take_over") == "ja"})
    except ServiceRefused as refused:
        if refused.status == 409:
            return _back(event_id, "upptaget")
        raise
    return _back(event_id, "tagen")


@page(Permission.ANSWER)
async def release(visit: Visit) -> Response:
    posted = await _posted(visit)
    if isinstance(posted, Response):
        return posted
    event_id, _ = posted
    await visit.api("sla", "DELETE", f"/inbox/{event_id}/claim")
    return _back(event_id, "lamnad")


@page(Permission.ANSWER)
async def note(visit: Visit) -> Response:
    posted = await _posted(visit)
    if isinstance(posted, Response):
        return posted
    event_id, form = posted
    if not form.get("text", "").strip():
        return visit.render("fel/ogiltig.html", status_code=422, detail="Anteckningen är tom.")
    await visit.api("sla", "POST", f"/inbox/{event_id}/notes", json={"text": form["text"].strip()})
    return _back(event_id, "anteckning")


@page(Permission.ANSWER)
async def no_answer(visit: Visit) -> Response:
    posted = await _posted(visit)
    if isinstance(posted, Response):
        return posted
    event_id, form = posted
    reason = " – ".join(p for p in (form.get("reason_choice", "").strip(), form.get("reason", "").strip()) if p)
    if not reason:
        return visit.render("fel/ogiltig.html", status_code=422, detail="Skriv eller välj varför inget svar behövs.")
    await visit.api("sla", "POST", f"/items/{event_id}/no-answer-needed", json={"reason": reason})
    return _back(event_id, "stangd")


@page(Permission.ANSWER)
async def reply(visit: Visit) -> Response:
    posted = await _posted(visit)
    if isinstance(posted, Response):
        return posted
    event_id, form = posted
    text = form.get("text", "").strip()
    if not text:
        return visit.render("fel/ogiltig.html", status_code=422, detail="Svaret är tomt.")
    found = await visit.api("sla", "GET", f"/inbox/{event_id}")
    if outside_messaging_window(found, datetime.now(UTC)):
        return visit.render("fel/ogiltig.html", status_code=409, detail=(
            "Meddelandet kom för mer än 24 timmar sedan. Facebook och Instagram tillåter då inget svar härifrån: "
            "svara i Meta Business Suite."))
    body = {"operation": "reply", "event_id": found["event_id"], "platform": found["platform"],
            "account_id": found["account_id"], "item_id": found["item_id"], "thread_id": found["thread_id"],
            "item_kind": found["item_kind"], "text": text, "request_id": form.get("request_id") or uuid.uuid4().hex}
    if found["kind"] == "dm":
        body["recipient_id"] = found["author_id"]
    await visit.api("moderation", "POST", "/actions", json=body)
    return _back(event_id, "svar")


@page(Permission.READ_INBOX)
async def friendly(visit: Visit) -> Response:
    found = await visit.api("moderation", "GET", "/review/friendly", params={"limit": 100})
    capabilities = await visit.api("moderation", "GET", "/actions/capabilities")
    can_like = {(c["platform"], c["on"]): c for c in capabilities if c["operation"] == "like"}
    return visit.render("inkorg/vanliga.html", items=found, can_like=can_like,
                        may_answer=visit.person.may(Permission.ANSWER), liked=visit.request.query_params.get("gillad"))


@page(Permission.ANSWER)
async def like(visit: Visit) -> Response:
    form = await visit.form()
    if form is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    body = {key: form.get(key, "") for key in ("event_id", "platform", "account_id", "item_id", "thread_id", "item_kind")}
    # One like per comment, whoever clicks: the moderation service derives the action's id from the item.
    await visit.api("moderation", "POST", "/actions", json={**body, "operation": "like",
                                                            "request_id": uuid.uuid4().hex})
    return RedirectResponse(f"/inkorg/vanliga?{urlencode({'gillad': form.get('item_id', '')})}", status_code=303)


ROUTES = [
    Route("/inkorg", inbox),
    Route("/inkorg/lista", inbox_list),
    Route("/inkorg/vanliga", friendly),
    Route("/inkorg/vanliga/gilla", like, methods=["POST"]),
    Route("/inkorg/{event_id:str}", item),
    Route("/inkorg/{event_id:str}/ta", claim, methods=["POST"]),
    Route("/inkorg/{event_id:str}/lamna", release, methods=["POST"]),
    Route("/inkorg/{event_id:str}/anteckning", note, methods=["POST"]),
    Route("/inkorg/{event_id:str}/inget-svar", no_answer, methods=["POST"]),
    Route("/inkorg/{event_id:str}/svar", reply, methods=["POST"]),
]

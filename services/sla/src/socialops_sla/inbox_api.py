"""The inbox's HTTP API (the console's Inkorg is its client):

GET    /inbox                           items that need an answer, for the accounts the person works on, by deadline
                                        (filters: account, department, state, platform), with counts
GET    /inbox/{event_id}                one item, with its claim and notes
POST   /inbox/{event_id}/claim          {"take_over": false}: "Jag tar den" (409 when someone else has it)
DELETE /inbox/{event_id}/claim          let go of one's own claim
POST   /inbox/{event_id}/notes          {"text": "…"}: an internal note

Reading needs the `read_inbox` right, acting `answer` (socialops_common.identity); an item of an account the
person does not work on is 404 to them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from socialops_common.events import Platform
from socialops_common.identity import Permission, Person
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .access import person_with
from .inbox import NOTE_MAX, ClaimedByOther, Inbox, InboxFilters, counts, row_view, visible
from .service import SlaService


def inbox_routes(service: Callable[[], SlaService]) -> list[Route]:
    def inbox() -> Inbox:
        return Inbox(service().pool)

    def view(row: Any, now: datetime) -> dict[str, Any]:
        sla = service()
        promise, _ = sla.promise_for(Platform(row["platform"]), row["account_id"])
        return row_view(row, promise, now, sla.accounts.get((row["platform"], row["account_id"])))

    async def theirs(request: Request, permission: Permission) -> tuple[Person, Any] | JSONResponse:
        person = await person_with(request, permission)
        if isinstance(person, JSONResponse):
            return person
        row = await inbox().item(request.path_params["event_id"])
        if row is None or not visible(person, service().accounts, row["platform"], row["account_id"]):
            return JSONResponse({"error": "no such item in this person's inbox"}, status_code=404)
        return person, row

    async def listing(request: Request) -> JSONResponse:
        person = await person_with(request, Permission.READ_INBOX)
        if isinstance(person, JSONResponse):
            return person
        query = request.query_params
        filters = InboxFilters(account=query.get("account") or None, department=query.get("department") or None,
                               state=query.get("state") or None, platform=query.get("platform") or None)
        now = service().clock.now()
        sla = service()
        rows = [r for r in await inbox().items(now, filters) if visible(person, sla.accounts, r["platform"], r["account_id"])]
        mine = [a for a in sla.accounts.values() if visible(person, sla.accounts, a.platform.value, a.external_id)]
        names = {(a.platform.value, a.external_id): a.name for a in mine}
        return JSONResponse({
            "now": now.isoformat(), "items": [view(r, now) for r in rows], "counts": counts(rows, names),
            "accounts": [{"platform": a.platform.value, "external_id": a.external_id, "name": a.name,
                          "department": a.department} for a in sorted(mine, key=lambda a: a.name)],
            "departments": sorted({a.department for a in mine}),
        })

    async def one(request: Request) -> JSONResponse:
        found = await theirs(request, Permission.READ_INBOX)
        if isinstance(found, JSONResponse):
            return found
        _, row = found
        return JSONResponse({**view(row, service().clock.now()), "notes_list": await inbox().notes(row["event_id"])})

    async def claim(request: Request) -> JSONResponse:
        found = await theirs(request, Permission.ANSWER)
        if isinstance(found, JSONResponse):
            return found
        person, row = found
        body = await request.json() if await request.body() else {}
        try:
            claimed = await inbox().claim(row["event_id"], person, service().clock.now(),
                                          take_over=bool(body.get("take_over")))
        except ClaimedByOther as other:
            return JSONResponse({"error": f"claimed by {other.claim['name']}", "claim": other.claim}, status_code=409)
        return JSONResponse({"claim": claimed})

    async def release(request: Request) -> JSONResponse:
        found = await theirs(request, Permission.ANSWER)
        if isinstance(found, JSONResponse):
            return found
        person, row = found
        return JSONResponse({"released": await inbox().release(row["event_id"], person)})

    async def note(request: Request) -> JSONResponse:
        found = await theirs(request, Permission.ANSWER)
        if isinstance(found, JSONResponse):
            return found
        person, row = found
        text = str((await request.json()).get("text", "")).strip()
        if not text or len(text) > NOTE_MAX:
            return JSONResponse({"error": f"a note is 1 to {NOTE_MAX} characters"}, status_code=422)
        return JSONResponse({"note": await inbox().add_note(row["event_id"], person, text)}, status_code=201)

    return [
        Route("/inbox", listing, methods=["GET"]),
        Route("/inbox/{event_id}", one, methods=["GET"]),
        Route("/inbox/{event_id}/claim", claim, methods=["POST"]),
        Route("/inbox/{event_id}/claim", release, methods=["DELETE"]),
        Route("/inbox/{event_id}/notes", note, methods=["POST"]),
    ]

"""The query API for archivists and registrars (FastAPI; OpenAPI at /docs and /openapi.json)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, model_validator
from socialops_common.events import Platform, SlaState
from socialops_common.identity import Permission, Person, works_on
from socialops_common.observability import Stopwatch
from socialops_common.oidc import authenticate

from . import metrics, queries
from .queries import SearchFilters
from .retention import run_disposal

# Declared for the OpenAPI document; the token itself is checked by `authenticate`.
bearer = HTTPBearer(auto_error=False, description="an access token of the city's identity provider "
                    "(or a machine client's token from SOCIALOPS_MACHINE_TOKENS)")


class ItemType(StrEnum):
    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    MENTION = "mention"
    DM = "dm"


class ExportRequest(BaseModel):
    account: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$",
                         description="the platform id of the account")
    from_: datetime = Field(alias="from")
    to: datetime

    model_config = {"populate_by_name": True}

    @model_validator(mode="after")
    def _period(self) -> ExportRequest:
        if self.from_.tzinfo is None or self.to.tzinfo is None:
            raise ValueError("from and to need a time zone (e.g. 2026-01-01T00:00:00Z)")
        if self.to <= self.from_:
            raise ValueError("to must be after from")
        return self


class ExportCreated(BaseModel):
    id: str
    status: str


def _pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


async def principal_of(request: Request, _: Annotated[object, Depends(bearer)]) -> Person:
    return await authenticate(request)


async def audit(
    request: Request, principal: Person, action: str, target: str | None, query: dict[str, Any], status: int
) -> None:
    """Every read, search and export is written down: who (the person), what, when, with which query."""
    await _pool(request).execute(
        "INSERT INTO audit_log (principal, role, action, target, query, status, subject, email)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        principal.display_name, principal.role_names, action, target, json.dumps(query, default=str), status,
        principal.subject, principal.email,
    )


async def require(request: Request, principal: Person, permission: Permission, action: str,
                  target: str | None = None, query: dict[str, Any] | None = None) -> None:
    if not principal.may(permission):
        await audit(request, principal, action, target, query or {}, 403)
        raise HTTPException(403, principal.refusal(permission))


router = APIRouter()
Who = Annotated[Person, Depends(principal_of)]


def search_filters(
    q: Annotated[str | None, Query(max_length=500, description="full-text query (Swedish stemming)")] = None,
    account: Annotated[str | None, Query(max_length=200)] = None,
    platform: Platform | None = None,
    department: Annotated[str | None, Query(max_length=200)] = None,
    type: ItemType | None = None,  # noqa: A002 - the API's word
    author: Annotated[str | None, Query(max_length=200, description="author id or name")] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    removed: bool | None = None,
    hidden: bool | None = None,
    rule: Annotated[str | None, Query(max_length=200, description="moderation rule id or prefix")] = None,
    sla: SlaState | None = None,
) -> SearchFilters:
    for value in (from_, to):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise HTTPException(422, "from/to need a time zone (e.g. 2026-01-01T00:00:00Z)")
    if from_ and to and to <= from_:
        raise HTTPException(422, "to must be after from")
    return SearchFilters(
        q=q or None, account=account, platform=platform.value if platform else None, department=department,
        item_type=type.value if type else None, author=author, from_=from_, to=to, removed=removed,
        hidden=hidden, rule=rule, sla=sla.value if sla else None,
    )


Filters = Annotated[SearchFilters, Depends(search_filters)]


def _with_dm_access(principal: Person, f: SearchFilters) -> SearchFilters:
    if f.item_type == "dm" and not principal.may(Permission.READ_DIRECT_MESSAGES):
        return f  # the caller answers 403
    return SearchFilters(**{**f.__dict__, "include_direct_messages": principal.may(Permission.READ_DIRECT_MESSAGES)})


@router.get("/items", summary="Search the archive")
async def search_items(
    request: Request, principal: Who, f: Filters,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    await require(request, principal, Permission.SEARCH, "search", query=f.as_audit())
    if f.item_type == "dm":
        await require(request, principal, Permission.READ_DIRECT_MESSAGES, "search", query=f.as_audit())
    visible = _with_dm_access(principal, f)
    with Stopwatch() as watch:
        async with _pool(request).acquire() as connection:
            items = await queries.search(connection, visible, principal, limit, offset)
            # A count over text the reader may not see (personal data) would tell what it holds.
            count = (await queries.count_matches(connection, visible)
                     if not f.q or principal.may(Permission.READ_PERSONAL_DATA) else None)
            if f.q:
                await queries.highlights(connection, items, f.q)
    metrics.QUERY_SECONDS.labels("search").observe(watch.seconds)
    await audit(request, principal, "search", None, {**f.as_audit(), "limit": limit, "offset": offset}, 200)
    return {"items": items, "limit": limit, "offset": offset,
            "count": count, "count_capped": count is not None and count > queries.COUNT_CAP,
            "next_offset": offset + limit if len(items) == limit else None}


@router.get("/items.csv", summary="The same search as CSV", response_class=Response)
async def export_search_csv(
    request: Request, principal: Who, f: Filters,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Response:
    await require(request, principal, Permission.SEARCH, "search_csv", query=f.as_audit())
    if f.item_type == "dm":
        await require(request, principal, Permission.READ_DIRECT_MESSAGES, "search_csv", query=f.as_audit())
    with Stopwatch() as watch:
        async with _pool(request).acquire() as connection:
            items = await queries.search(connection, _with_dm_access(principal, f), principal, limit, 0)
    metrics.QUERY_SECONDS.labels("search_csv").observe(watch.seconds)
    out = io.StringIO()
    columns = ["id", "platform", "account_id", "department", "type", "platform_item_id", "thread_id",
               "author_id", "author_name", "occurred_at", "versions", "hidden", "deleted_by_city",
               "deleted_by_author", "removed_at", "text"]
    writer = csv.writer(out)
    writer.writerow(columns)
    for item in items:
        flat = {**item, "author_id": item["author"]["id"], "author_name": item["author"]["name"]}
        writer.writerow([flat[c] for c in columns])
    await audit(request, principal, "search_csv", None, {**f.as_audit(), "limit": limit, "rows": len(items)}, 200)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="archive-search.csv"'})


@router.get("/items/{item_id}", summary="One item with all versions, thread, history and registration")
async def get_item(request: Request, principal: Who, item_id: Annotated[int, PathParam(ge=1, le=2**62)]) -> dict[str, Any]:
    await require(request, principal, Permission.READ, "read", str(item_id))
    with Stopwatch() as watch:
        async with _pool(request).acquire() as connection:
            detail = await queries.item_detail(connection, item_id, principal)
    metrics.QUERY_SECONDS.labels("item").observe(watch.seconds)
    if detail is None:
        await audit(request, principal, "read", str(item_id), {}, 404)
        raise HTTPException(404, f"no archived item {item_id}")
    if detail["type"] == "dm":
        await require(request, principal, Permission.READ_DIRECT_MESSAGES, "read", str(item_id))
    await audit(request, principal, "read", str(item_id), {}, 200)
    return detail


MAIL_STATE = {
    # pending: not sent yet and no attempt failed; failed: an attempt failed, the next one is scheduled
    "pending": "o.status <> 'sent' AND o.last_error IS NULL",
    "failed": "o.status <> 'sent' AND o.last_error IS NOT NULL",
    "sent": "o.status = 'sent'",
}
REGISTRATION_COLUMNS = (
    "g.id, g.number, g.registered_at, m.operation, m.source, m.removed_by, m.removed_at, m.reason,"
    " m.platform, m.account_id, i.id AS item_ref, s.pdf_sha256, s.png_sha256, o.status, o.attempts,"
    " o.last_error, o.sent_at, o.recipient, o.next_attempt_at"
    " FROM registration g JOIN removal m ON m.id = g.removal_ref"
    " LEFT JOIN item i ON i.platform = m.platform AND i.account_id = m.account_id"
    " AND i.platform_item_id = m.platform_item_id"
    " LEFT JOIN snapshot s ON s.registration_ref = g.id LEFT JOIN mail_outbox o ON o.registration_ref = g.id"
)


@router.get("/conversation", summary="The thread or DM conversation around an item someone is answering")
async def read_conversation(
    request: Request, principal: Who, platform: Platform,
    account: Annotated[str, Query(min_length=1, max_length=200)],
    thread: Annotated[str, Query(min_length=1, max_length=400)],
) -> dict[str, Any]:
    """For the people who answer (editors, the contact center) and communications: only for accounts they
    work on; personal data masked unless their role may read it, as everywhere in the archive."""
    query = {"platform": platform.value, "account": account, "thread": thread}
    await require(request, principal, Permission.READ_CONVERSATIONS, "conversation", thread, query)
    row = await _pool(request).fetchrow(
        "SELECT department, record FROM account WHERE platform = $1 AND external_id = $2", platform.value, account)
    editors = json.loads(row["record"]).get("editors", []) if row else []
    if not works_on(principal, row["department"] if row else None, editors):
        await audit(request, principal, "conversation", thread, query, 403)
        raise HTTPException(403, "not an account this person works on")
    async with _pool(request).acquire() as connection:
        items = await queries.conversation(connection, platform.value, account, thread, principal)
    await audit(request, principal, "conversation", thread, query, 200)
    return {"items": items}


@router.get("/registrations", summary="Registrations of removed comments with their e-mail status")
async def list_registrations(
    request: Request, principal: Who,
    status: Annotated[str | None, Query(pattern="^(pending|failed|sent)$",
                                        description="e-mail status: pending, failed (retrying) or sent")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="registrations older than this id")] = None,
) -> dict[str, Any]:
    await require(request, principal, Permission.READ, "registrations")
    state = MAIL_STATE.get(status or "", "true")
    rows = await _pool(request).fetch(
        f"SELECT {REGISTRATION_COLUMNS} WHERE {state} AND ($1::bigint IS NULL OR g.id < $1)"
        " ORDER BY g.id DESC LIMIT $2", before, limit,
    )
    counts = await _pool(request).fetchrow(
        "SELECT count(*) AS total,"
        + ", ".join(f" count(*) FILTER (WHERE {condition}) AS {name}" for name, condition in MAIL_STATE.items())
        + " FROM registration g LEFT JOIN mail_outbox o ON o.registration_ref = g.id")
    await audit(request, principal, "registrations", None, {"status": status, "before": before}, 200)
    return {"registrations": [queries.registration_view(r) for r in rows], "counts": dict(counts),
            "next_before": rows[-1]["id"] if len(rows) == limit else None}


@router.post("/registrations/{registration_id}/resend", status_code=202,
             summary="Try the registrar e-mail again now (registrars; for one whose sending failed)")
async def resend_registration(request: Request, principal: Who,
                              registration_id: Annotated[int, PathParam(ge=1, le=2**62)]) -> dict[str, Any]:
    await require(request, principal, Permission.RESEND_REGISTRATION, "registration_resend", str(registration_id))
    row = await _pool(request).fetchrow(
        "UPDATE mail_outbox SET next_attempt_at = now() WHERE registration_ref = $1 AND status = 'pending'"
        " RETURNING attempts", registration_id)
    if row is None:
        status = await _pool(request).fetchval(
            "SELECT status FROM mail_outbox WHERE registration_ref = $1", registration_id)
        await audit(request, principal, "registration_resend", str(registration_id), {}, 404 if status is None else 409)
        if status is None:
            raise HTTPException(404, "no such registration")
        raise HTTPException(409, f"the e-mail is {status}: nothing to send again")
    await audit(request, principal, "registration_resend", str(registration_id), {}, 202)
    request.app.state.desk.wake()
    return {"id": registration_id, "status": "pending", "attempts": row["attempts"]}


@router.get("/registrations/{registration_id}/snapshot.{fmt}", summary="The snapshot of a removed comment",
            response_class=Response)
async def get_snapshot(
    request: Request, principal: Who, registration_id: Annotated[int, PathParam(ge=1, le=2**62)],
    fmt: Annotated[str, PathParam(pattern="^(pdf|png)$")],
) -> Response:
    # The snapshot shows the removed text unmasked: it is the registered document itself.
    await require(request, principal, Permission.READ_PERSONAL_DATA, "snapshot", str(registration_id))
    column = "pdf" if fmt == "pdf" else "png"
    data = await _pool(request).fetchval(
        f"SELECT {column} FROM snapshot WHERE registration_ref = $1", registration_id
    )
    if data is None:
        await audit(request, principal, "snapshot", str(registration_id), {"format": fmt}, 404)
        raise HTTPException(404, "no snapshot (yet) for that registration")
    await audit(request, principal, "snapshot", str(registration_id), {"format": fmt}, 200)
    return Response(bytes(data), media_type="application/pdf" if fmt == "pdf" else "image/png")


@router.post("/exports", status_code=202, response_model=ExportCreated, summary="Build an E-ARK SIP package")
async def create_export(request: Request, principal: Who, body: ExportRequest) -> ExportCreated:
    query = {"account": body.account, "from": body.from_.isoformat(), "to": body.to.isoformat()}
    await require(request, principal, Permission.EXPORT, "export", body.account, query)
    export_id = str(uuid.uuid4())
    await _pool(request).execute(
        "INSERT INTO export_package (id, account_id, period_from, period_to, requested_by)"
        " VALUES ($1, $2, $3, $4, $5)",
        uuid.UUID(export_id), body.account, body.from_, body.to, principal.display_name,
    )
    await audit(request, principal, "export", export_id, query, 202)
    request.app.state.exports.wake()
    return ExportCreated(id=export_id, status="pending")


async def _export_row(request: Request, principal: Person, export_id: str, action: str) -> Any:
    await require(request, principal, Permission.EXPORT, action, export_id)
    try:
        key = uuid.UUID(export_id)
    except ValueError as error:
        raise HTTPException(404, "no such export") from error
    row = await _pool(request).fetchrow("SELECT * FROM export_package WHERE id = $1", key)
    if row is None:
        raise HTTPException(404, "no such export")
    return row


@router.get("/exports", summary="Recent export packages, newest first")
async def list_exports(request: Request, principal: Who,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    await require(request, principal, Permission.EXPORT, "exports")
    rows = await _pool(request).fetch("SELECT * FROM export_package ORDER BY requested_at DESC LIMIT $1", limit)
    await audit(request, principal, "exports", None, {}, 200)
    return {"exports": [_export_view(row) for row in rows]}


def _export_view(row: Any) -> dict[str, Any]:
    return {"id": str(row["id"]), "account": row["account_id"], "from": row["period_from"].isoformat(),
            "to": row["period_to"].isoformat(), "status": row["status"], "items": row["items"],
            "sha256": row["sha256"], "error": row["error"], "requested_by": row["requested_by"],
            "requested_at": row["requested_at"].isoformat(),
            "package": f"/exports/{row['id']}/package" if row["status"] == "ready" else None}


@router.get("/accounts", summary="The account inventory as the archive holds it (for filters)")
async def list_accounts(request: Request, principal: Who) -> dict[str, Any]:
    await require(request, principal, Permission.SEARCH, "accounts")
    rows = await _pool(request).fetch(
        "SELECT platform, external_id, name, department, status, archive_level, closed_date FROM account"
        " ORDER BY department, name")
    return {"accounts": [{**dict(r), "closed_date": r["closed_date"].isoformat() if r["closed_date"] else None}
                         for r in rows]}


@router.get("/exports/{export_id}", summary="An export's status")
async def get_export(request: Request, principal: Who, export_id: str) -> dict[str, Any]:
    row = await _export_row(request, principal, export_id, "export_status")
    await audit(request, principal, "export_status", export_id, {}, 200)
    return _export_view(row)


@router.get("/exports/{export_id}/package", summary="The package as a zip, when ready", response_class=Response)
async def get_export_package(request: Request, principal: Who, export_id: str) -> Response:
    row = await _export_row(request, principal, export_id, "export_download")
    if row["status"] != "ready":
        return JSONResponse({"id": export_id, "status": row["status"], "error": row["error"]}, status_code=409)
    path = Path(row["path"])
    if not await asyncio.to_thread(path.exists):
        raise HTTPException(410, "the package file is gone from the export folder")
    await audit(request, principal, "export_download", export_id, {}, 200)
    return FileResponse(path, media_type="application/zip", filename=path.name)


@router.get("/captures", summary="Account captures (yearly and at closure) and their collection cases")
async def list_captures(request: Request, principal: Who,
                        account: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    await require(request, principal, Permission.READ, "captures")
    rows = await _pool(request).fetch(
        "SELECT id, platform, account_id, reason, year, level, period_from, period_to, collection_case,"
        " overview_sha256, export_ref, captured_at FROM account_capture"
        " WHERE $1::text IS NULL OR account_id = $1 ORDER BY id", account)
    await audit(request, principal, "captures", account, {}, 200)
    return {"captures": [
        {**{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()},
         "export_ref": str(r["export_ref"]) if r["export_ref"] else None,
         "overview": f"/captures/{r['id']}/overview.pdf",
         "package": f"/exports/{r['export_ref']}/package" if r["export_ref"] else None}
        for r in rows]}


@router.get("/captures/{capture_id}/overview.pdf", summary="A capture's overview snapshot (översiktsbild)",
            response_class=Response)
async def get_capture_overview(request: Request, principal: Who,
                               capture_id: Annotated[int, PathParam(ge=1, le=2**62)]) -> Response:
    await require(request, principal, Permission.READ, "capture_overview", str(capture_id))
    pdf = await _pool(request).fetchval("SELECT overview_pdf FROM account_capture WHERE id = $1", capture_id)
    await audit(request, principal, "capture_overview", str(capture_id), {}, 200 if pdf else 404)
    if pdf is None:
        raise HTTPException(404, "no such capture")
    return Response(bytes(pdf), media_type="application/pdf")


@router.get("/audit", summary="The audit log (admins): who read, searched or exported what, and when")
async def read_audit_log(
    request: Request, principal: Who,
    who: Annotated[str | None, Query(alias="principal", max_length=200,
                                     description="part of the name, e-mail or subject")] = None,
    action: Annotated[str | None, Query(max_length=50)] = None,
    target: Annotated[str | None, Query(max_length=200)] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="entries older than this id (paging)")] = None,
) -> dict[str, Any]:
    filters = {"principal": who, "action": action, "target": target,
               "from": from_.isoformat() if from_ else None, "to": to.isoformat() if to else None}
    await require(request, principal, Permission.READ_AUDIT_LOG, "audit", query=filters)
    for value in (from_, to):
        if value is not None and value.utcoffset() is None:
            raise HTTPException(422, "from/to need a time zone (e.g. 2026-01-01T00:00:00Z)")
    pattern = None if who is None else "%" + who.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await _pool(request).fetch(
        "SELECT * FROM audit_log WHERE ($1::text IS NULL OR principal ILIKE $1 OR subject ILIKE $1 OR email ILIKE $1)"
        " AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR target = $3)"
        " AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)"
        " AND ($6::bigint IS NULL OR id < $6) ORDER BY id DESC LIMIT $7",
        pattern, action, target, from_, to, before, limit,
    )
    await audit(request, principal, "audit", None, filters, 200)
    return {"entries": [
        {"id": r["id"], "at": r["at"].isoformat(), "principal": r["principal"], "subject": r["subject"],
         "email": r["email"], "role": r["role"], "action": r["action"], "target": r["target"],
         "query": json.loads(r["query"]), "status": r["status"]}
        for r in rows
    ], "next_before": rows[-1]["id"] if len(rows) == limit else None}


class RetentionRuleBody(BaseModel):
    keep_days: int = Field(ge=1, le=365 * 200)
    decision: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00]+$",
                          description="the disposal decision (gallringsbeslut) the rule rests on")


class ItemClass(StrEnum):
    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    MENTION = "mention"
    DM = "dm"
    REMOVED_COMMENT = "removed_comment"


class HoldBody(BaseModel):
    account: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00]+$")
    item: int | None = Field(default=None, ge=1, le=2**62)
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00]+$")

    model_config = {"populate_by_name": True}

    @model_validator(mode="after")
    def _scope(self) -> HoldBody:
        if self.account is None and self.item is None and self.from_ is None and self.to is None:
            raise ValueError("a hold needs an account, an item or a period")
        for value in (self.from_, self.to):
            if value is not None and value.tzinfo is None:
                raise ValueError("from and to need a time zone")
        if self.from_ and self.to and self.to <= self.from_:
            raise ValueError("to must be after from")
        return self


class DisposalBody(BaseModel):
    dry_run: bool = True


@router.get("/retention/rules", summary="Retention rules per item class (admins)")
async def list_retention_rules(request: Request, principal: Who) -> dict[str, Any]:
    await require(request, principal, Permission.MANAGE_RETENTION, "retention_rules")
    rows = await _pool(request).fetch("SELECT * FROM retention_rule ORDER BY item_class")
    await audit(request, principal, "retention_rules", None, {}, 200)
    return {"rules": [{"item_class": r["item_class"], "keep_days": r["keep_days"], "decision": r["decision"],
                       "set_by": r["set_by"], "set_at": r["set_at"].isoformat()} for r in rows]}


@router.put("/retention/rules/{item_class}", summary="Set how long a class of items is kept (admins)")
async def set_retention_rule(request: Request, principal: Who, item_class: ItemClass,
                             body: RetentionRuleBody) -> dict[str, Any]:
    query = {"keep_days": body.keep_days, "decision": body.decision}
    await require(request, principal, Permission.MANAGE_RETENTION, "retention_rule_set", item_class.value, query)
    await _pool(request).execute(
        "INSERT INTO retention_rule (item_class, keep_days, decision, set_by) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (item_class) DO UPDATE SET keep_days = $2, decision = $3, set_by = $4, set_at = now()",
        item_class.value, body.keep_days, body.decision, principal.display_name,
    )
    await audit(request, principal, "retention_rule_set", item_class.value, query, 200)
    return {"item_class": item_class.value, **query}


@router.get("/holds", summary="Legal holds (admins)")
async def list_holds(request: Request, principal: Who) -> dict[str, Any]:
    await require(request, principal, Permission.MANAGE_RETENTION, "holds")
    rows = await _pool(request).fetch("SELECT * FROM legal_hold ORDER BY id")
    await audit(request, principal, "holds", None, {}, 200)
    return {"holds": [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()}
                      for r in rows]}


@router.post("/holds", status_code=201, summary="Place a legal hold (admins)")
async def place_hold(request: Request, principal: Who, body: HoldBody) -> dict[str, Any]:
    query = body.model_dump(mode="json", by_alias=True)
    await require(request, principal, Permission.MANAGE_RETENTION, "hold_place", None, query)
    hold_id = await _pool(request).fetchval(
        "INSERT INTO legal_hold (account_id, item_ref, period_from, period_to, reason, placed_by)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        body.account, body.item, body.from_, body.to, body.reason, principal.display_name,
    )
    await audit(request, principal, "hold_place", str(hold_id), query, 201)
    return {"id": hold_id}


@router.post("/holds/{hold_id}/release", summary="Release a legal hold (admins)")
async def release_hold(request: Request, principal: Who,
                       hold_id: Annotated[int, PathParam(ge=1, le=2**62)]) -> dict[str, Any]:
    await require(request, principal, Permission.MANAGE_RETENTION, "hold_release", str(hold_id))
    released = await _pool(request).fetchval(
        "UPDATE legal_hold SET released_at = now(), released_by = $2 WHERE id = $1 AND released_at IS NULL"
        " RETURNING id", hold_id, principal.display_name)
    await audit(request, principal, "hold_release", str(hold_id), {}, 200 if released else 404)
    if released is None:
        raise HTTPException(404, "no active hold with that id")
    return {"id": hold_id, "released": True}


@router.post("/disposals", status_code=201, summary="Run disposal (dry run by default; admins)")
async def create_disposal(request: Request, principal: Who, body: DisposalBody) -> dict[str, Any]:
    await require(request, principal, Permission.MANAGE_RETENTION, "disposal", None, {"dry_run": body.dry_run})
    async with _pool(request).acquire() as connection:
        report = await run_disposal(connection, principal.display_name, datetime.now(UTC), dry_run=body.dry_run)
    await audit(request, principal, "disposal", str(report.run_id), {"dry_run": body.dry_run}, 201)
    return {"id": report.run_id, "dry_run": report.dry_run, "disposed": report.disposed,
            "held_back": report.held_back}


@router.get("/disposals/{run_id}", summary="A disposal run and what it disposed (admins)")
async def get_disposal(request: Request, principal: Who,
                       run_id: Annotated[int, PathParam(ge=1, le=2**62)]) -> dict[str, Any]:
    await require(request, principal, Permission.MANAGE_RETENTION, "disposal_read", str(run_id))
    pool = _pool(request)
    run = await pool.fetchrow("SELECT * FROM disposal_run WHERE id = $1", run_id)
    if run is None:
        raise HTTPException(404, "no such disposal run")
    log = await pool.fetch("SELECT * FROM disposal_log WHERE run_ref = $1 ORDER BY id", run_id)
    await audit(request, principal, "disposal_read", str(run_id), {}, 200)

    def plain(row: Any) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}

    return {**plain(run), "log": [plain(r) for r in log]}


def install(app: FastAPI) -> None:
    app.include_router(router)

    @app.middleware("http")
    async def refuse_nul_characters(request: Request, call_next: Any) -> Response:
        """PostgreSQL text cannot hold NUL: say so (422) instead of failing deep inside a query."""
        if "%00" in request.url.query or "%00" in request.url.path or "\x00" in request.url.path:
            return JSONResponse({"detail": "NUL characters are not allowed in the path or query"},
                                status_code=422)
        return await call_next(request)

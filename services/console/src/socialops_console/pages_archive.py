"""The archive's pages, for archivists, registrars and archive administrators (docs/archive.md, "In the browser").

Everything comes from the archive's API with the person's own token: the API masks personal data and
refuses DMs exactly as it does for any other client, and writes each read to its audit log.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from socialops_common.identity import Permission
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import formatting as fmt
from .web import Visit, page

PAGE_SIZE = 25
SEARCH_FIELDS = ("q", "account", "platform", "department", "type", "author", "from", "to", "removed", "hidden",
                 "rule", "sla")
RULE_CHOICES = ("abuse", "abuse.threat", "abuse.personal_attack", "abuse.hate", "abuse.insult", "personal_data",
                "links", "spam", "questions.direct", "questions.report")


def search_query(values: dict[str, str]) -> dict[str, str]:
    """The form as the archive API's query: dates are whole Stockholm days, the end day included (pure)."""
    query = {key: values[key].strip() for key in SEARCH_FIELDS if values.get(key, "").strip()}
    for key, next_day in (("from", False), ("to", True)):
        if key in query:
            try:
                query[key] = fmt.day_start(query[key], next_day=next_day).isoformat()  # type: ignore[union-attr]
            except ValueError:
                query.pop(key)
    for key in ("removed", "hidden"):
        choice = query.pop(key, None)
        if choice in ("ja", "nej"):
            query[key] = "true" if choice == "ja" else "false"
    return query


async def accounts_of(visit: Visit) -> list[dict[str, Any]]:
    accounts = (await visit.api("archive", "GET", "/accounts"))["accounts"]
    return sorted(accounts, key=lambda a: (fmt.swedish_key(a["department"]), fmt.swedish_key(a["name"])))


@page(Permission.SEARCH)
async def search(visit: Visit) -> Response:
    values = {key: value for key, value in visit.request.query_params.items()}
    try:
        number = max(1, int(values.get("page", "1")))
    except ValueError:
        number = 1
    accounts = await accounts_of(visit)
    searched = any(values.get(key) for key in SEARCH_FIELDS) or "page" in values
    result = None
    if searched:
        query = search_query(values)
        result = await visit.api("archive", "GET", "/items", params={
            **query, "limit": PAGE_SIZE, "offset": (number - 1) * PAGE_SIZE})
    names = {(a["platform"], a["external_id"]): a["name"] for a in accounts}
    kept = {key: values[key] for key in SEARCH_FIELDS if values.get(key)}
    return visit.render(
        "arkiv/sok.html", values=values, result=result, page_number=number, accounts=accounts,
        departments=fmt.swedish_sorted({a["department"] for a in accounts}), names=names, rules=RULE_CHOICES,
        count_text=fmt.count_words(result["count"], result["count_capped"], len(result["items"]),
                                   result["next_offset"] is not None) if result else "",
        page_link=lambda n: "/arkiv/sok?" + urlencode({**kept, "page": n}),
        csv_link="/arkiv/sok.csv?" + urlencode(kept),
    )


@page(Permission.SEARCH)
async def search_csv(visit: Visit) -> Response:
    query = search_query(dict(visit.request.query_params))
    response = await visit.raw("archive", "GET", "/items.csv", params=query)
    return Response(response.content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="arkivsokning.csv"'})


@page(Permission.READ)
async def item(visit: Visit) -> Response:
    item_id = int(visit.request.path_params["item_id"])
    detail = await visit.api("archive", "GET", f"/items/{item_id}")
    accounts = {(a["platform"], a["external_id"]): a for a in await accounts_of(visit)}
    versions = detail["versions"]
    shown = []
    for number, version in enumerate(versions):
        previous = versions[number - 1]["text"] if number else None
        shown.append({**version, "changes": fmt.diff_markup(previous, version["text"]) if number else None})
    # The rule's matched spans, marked in the version the decision was made on.
    # (Masked personal data can change the text's length, so spans are shown only on unmasked text.)
    unmasked = visit.person.may(Permission.READ_PERSONAL_DATA)
    spans_by_event: dict[str, list[list[int]]] = {}
    for decision in detail["moderation"]:
        hits = decision.get("hits") or []
        if not unmasked and any(h.get("rule_id", "").startswith("personal_data") for h in hits):
            continue
        spans_by_event.setdefault(decision["event_id"], []).extend(
            [span["start"], span["end"]] for hit in hits for span in hit.get("spans", []))
    return visit.render(
        "arkiv/objekt.html", item=detail, versions=shown, spans=spans_by_event,
        account=accounts.get((detail["platform"], detail["account_id"])),
        may_see_snapshot=unmasked)


@page(Permission.READ_PERSONAL_DATA)
async def snapshot(visit: Visit) -> Response:
    registration = int(visit.request.path_params["registration_id"])
    fmt_ = visit.request.path_params["fmt"]
    if fmt_ not in ("png", "pdf"):
        return visit.render("fel/404.html", status_code=404)
    response = await visit.raw("archive", "GET", f"/registrations/{registration}/snapshot.{fmt_}")
    disposition = "inline" if fmt_ == "png" else f'inline; filename="skarmdump-{registration}.pdf"'
    return Response(response.content, media_type=response.headers.get("content-type", "application/octet-stream"),
                    headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"})


@page(Permission.READ)
async def registrations(visit: Visit) -> Response:
    status = visit.request.query_params.get("status") or None
    if status not in (None, "pending", "failed", "sent"):
        status = None
    before = visit.request.query_params.get("before")
    params: dict[str, Any] = {"limit": 50}
    if status:
        params["status"] = status
    if before and before.isdigit():
        params["before"] = before
    result = await visit.api("archive", "GET", "/registrations", params=params)
    return visit.render("arkiv/diarieforing.html", result=result, status=status,
                        may_resend=visit.person.may(Permission.RESEND_REGISTRATION),
                        notice=visit.request.query_params.get("skickat"))


@page(Permission.RESEND_REGISTRATION)
async def resend(visit: Visit) -> Response:
    form = await visit.form()
    if form is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    registration = int(visit.request.path_params["registration_id"])
    await visit.api("archive", "POST", f"/registrations/{registration}/resend")
    return RedirectResponse(f"/arkiv/diarieforing?status=failed&skickat={registration}", status_code=303)


@page(Permission.EXPORT)
async def exports(visit: Visit) -> Response:
    accounts = await accounts_of(visit)
    listed = (await visit.api("archive", "GET", "/exports", params={"limit": 30}))["exports"]
    names = {a["external_id"]: a["name"] for a in accounts}
    return visit.render("arkiv/export.html", accounts=accounts, exports=listed, names=names, errors=[], values={})


@page(Permission.EXPORT)
async def create_export(visit: Visit) -> Response:
    form = await visit.form()
    if form is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    errors = []
    if not form.get("account"):
        errors.append(("account", "Välj vilket konto som ska exporteras."))
    try:
        start, end = fmt.day_start(form.get("from")), fmt.day_start(form.get("to"), next_day=True)
    except ValueError:
        start = end = None
    if start is None or end is None:
        errors.append(("from", "Skriv in både första och sista dagen, som ÅÅÅÅ-MM-DD."))
    elif end <= start:
        errors.append(("to", "Sista dagen kan inte vara före den första."))
    if errors:
        accounts = await accounts_of(visit)
        listed = (await visit.api("archive", "GET", "/exports", params={"limit": 30}))["exports"]
        return visit.render("arkiv/export.html", status_code=422, accounts=accounts, exports=listed,
                            names={a["external_id"]: a["name"] for a in accounts}, errors=errors, values=form)
    created = await visit.api("archive", "POST", "/exports", json={
        "account": form["account"], "from": start.isoformat(), "to": end.isoformat()})  # type: ignore[union-attr]
    return RedirectResponse(f"/arkiv/export/{created['id']}", status_code=303)


async def _export_and_name(visit: Visit) -> tuple[dict[str, Any], str | None]:
    export_id = visit.request.path_params["export_id"]
    export = await visit.api("archive", "GET", f"/exports/{export_id}")
    names = {a["external_id"]: a["name"] for a in await accounts_of(visit)}
    return export, names.get(export["account"])


@page(Permission.EXPORT)
async def export_status(visit: Visit) -> Response:
    export, name = await _export_and_name(visit)
    return visit.render("arkiv/export_status.html", export=export, account_name=name)


@page(Permission.EXPORT)
async def export_status_part(visit: Visit) -> Response:
    """The status alone: what the page's script fetches every few seconds until the package is ready."""
    export, name = await _export_and_name(visit)
    return visit.render("arkiv/_export_state.html", export=export, account_name=name)


@page(Permission.EXPORT)
async def export_package(visit: Visit) -> Response:
    export_id = visit.request.path_params["export_id"]
    response = await visit.raw("archive", "GET", f"/exports/{export_id}/package")
    return Response(response.content, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="e-arkiv-{export_id}.zip"'})


@page(Permission.READ)
async def captures(visit: Visit) -> Response:
    listed = (await visit.api("archive", "GET", "/captures"))["captures"]
    names = {(a["platform"], a["external_id"]): a["name"] for a in await accounts_of(visit)}
    return visit.render("arkiv/arkiveringar.html", captures=listed, names=names)


@page(Permission.READ)
async def capture_overview(visit: Visit) -> Response:
    capture = int(visit.request.path_params["capture_id"])
    response = await visit.raw("archive", "GET", f"/captures/{capture}/overview.pdf")
    return Response(response.content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="oversikt-{capture}.pdf"'})


@page(Permission.READ_AUDIT_LOG)
async def audit_log(visit: Visit) -> Response:
    values = dict(visit.request.query_params)
    params: dict[str, Any] = {"limit": 50}
    if values.get("principal", "").strip():
        params["principal"] = values["principal"].strip()
    if values.get("action") in fmt.AUDIT_ACTIONS:
        params["action"] = values["action"]
    try:
        if values.get("from"):
            params["from"] = fmt.day_start(values["from"]).isoformat()  # type: ignore[union-attr]
        if values.get("to"):
            params["to"] = fmt.day_start(values["to"], next_day=True).isoformat()  # type: ignore[union-attr]
    except ValueError:
        pass
    if values.get("before", "").isdigit():
        params["before"] = values["before"]
    result = await visit.api("archive", "GET", "/audit", params=params)
    kept = {k: v for k, v in values.items() if k in ("principal", "action", "from", "to") and v}
    older = ("/admin/logg?" + urlencode({**kept, "before": result["next_before"]})) if result["next_before"] else None
    return visit.render("admin/logg.html", result=result, values=values, older=older,
                        actions=sorted(fmt.AUDIT_ACTIONS.items(), key=lambda a: fmt.swedish_key(a[1])))


@page(Permission.MANAGE_RETENTION)
async def retention(visit: Visit) -> Response:
    rules = (await visit.api("archive", "GET", "/retention/rules"))["rules"]
    holds = (await visit.api("archive", "GET", "/holds"))["holds"]
    accounts = await accounts_of(visit)
    return visit.render("admin/gallring.html", rules={r["item_class"]: r for r in rules}, holds=holds,
                        accounts=accounts, names={a["external_id"]: a["name"] for a in accounts},
                        notice=visit.request.query_params.get("klart"), disposal=None)


@page(Permission.MANAGE_RETENTION)
async def set_retention_rule(visit: Visit) -> Response:
    form = await visit.form()
    if form is None or form.get("item_class") not in fmt.ITEM_CLASSES:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt eller ofullständigt.")
    if not form.get("keep_days", "").isdigit() or not form.get("decision", "").strip():
        return visit.render("fel/ogiltig.html", status_code=422,
                            detail="Ange hur många dagar som ska sparas och vilket gallringsbeslut regeln bygger på.")
    await visit.api("archive", "PUT", f"/retention/rules/{form['item_class']}",
                    json={"keep_days": int(form["keep_days"]), "decision": form["decision"].strip()})
    return RedirectResponse("/admin/gallring?klart=regel", status_code=303)


@page(Permission.MANAGE_RETENTION)
async def place_hold(visit: Visit) -> Response:
    form = await visit.form()
    if form is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    body: dict[str, Any] = {"reason": form.get("reason", "").strip()}
    if form.get("account"):
        body["account"] = form["account"]
    try:
        if form.get("from"):
            body["from"] = fmt.day_start(form["from"]).isoformat()  # type: ignore[union-attr]
        if form.get("to"):
            body["to"] = fmt.day_start(form["to"], next_day=True).isoformat()  # type: ignore[union-attr]
    except ValueError:
        return visit.render("fel/ogiltig.html", status_code=422, detail="Datum skrivs ÅÅÅÅ-MM-DD.")
    if not body["reason"] or len(body) == 1:
        return visit.render("fel/ogiltig.html", status_code=422,
                            detail="Ett bevarandebeslut behöver ett skäl och ett konto eller en period.")
    await visit.api("archive", "POST", "/holds", json=body)
    return RedirectResponse("/admin/gallring?klart=bevarande", status_code=303)


@page(Permission.MANAGE_RETENTION)
async def release_hold(visit: Visit) -> Response:
    if await visit.form() is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    await visit.api("archive", "POST", f"/holds/{int(visit.request.path_params['hold_id'])}/release")
    return RedirectResponse("/admin/gallring?klart=havt", status_code=303)


@page(Permission.MANAGE_RETENTION)
async def trial_disposal(visit: Visit) -> Response:
    """A dry run: what the rules would dispose of now, and what holds keep (nothing is removed)."""
    if await visit.form() is None:
        return visit.render("fel/ogiltig.html", status_code=400, detail="Formuläret var för gammalt. Försök igen.")
    report = await visit.api("archive", "POST", "/disposals", json={"dry_run": True})
    rules = (await visit.api("archive", "GET", "/retention/rules"))["rules"]
    holds = (await visit.api("archive", "GET", "/holds"))["holds"]
    accounts = await accounts_of(visit)
    return visit.render("admin/gallring.html", rules={r["item_class"]: r for r in rules}, holds=holds,
                        accounts=accounts, names={a["external_id"]: a["name"] for a in accounts},
                        notice=None, disposal=report)


ROUTES = [
    Route("/arkiv/sok", search),
    Route("/arkiv/sok.csv", search_csv),
    Route("/arkiv/objekt/{item_id:int}", item),
    Route("/arkiv/diarieforing", registrations),
    Route("/arkiv/diarieforing/{registration_id:int}/skarmdump.{fmt:str}", snapshot),
    Route("/arkiv/diarieforing/{registration_id:int}/skicka-igen", resend, methods=["POST"]),
    Route("/arkiv/export", exports),
    Route("/arkiv/export", create_export, methods=["POST"]),
    Route("/arkiv/export/{export_id:str}", export_status),
    Route("/arkiv/export/{export_id:str}/status", export_status_part),
    Route("/arkiv/export/{export_id:str}/paket", export_package),
    Route("/arkiv/arkiveringar", captures),
    Route("/arkiv/arkiveringar/{capture_id:int}/oversikt.pdf", capture_overview),
    Route("/admin/logg", audit_log),
    Route("/admin/gallring", retention),
    Route("/admin/gallring/regel", set_retention_rule, methods=["POST"]),
    Route("/admin/gallring/bevarande", place_hold, methods=["POST"]),
    Route("/admin/gallring/bevarande/{hold_id:int}/hav", release_hold, methods=["POST"]),
    Route("/admin/gallring/provkorning", trial_disposal, methods=["POST"]),
]

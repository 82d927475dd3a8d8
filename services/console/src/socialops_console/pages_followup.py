"""Uppföljning: the month's figures for the city, a department or an account, and the monthly report as PDF
(docs/sla.md, "Follow-up"). Everything from the SLA service's report API; the definitions are written there."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from socialops_common.identity import Permission
from starlette.responses import Response
from starlette.routing import Route

from . import formatting as fmt
from .web import Visit, page

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def last_month(now: datetime) -> str:
    local = now.astimezone(fmt.STOCKHOLM)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def scope_params(values: dict[str, str]) -> dict[str, str]:
    month = values.get("month", "")
    params = {"month": month if MONTH.match(month) else last_month(datetime.now(UTC))}
    scope = values.get("scope", "")
    if scope.startswith("department:"):
        params["department"] = scope.removeprefix("department:")
    elif scope.startswith("account:"):
        params["account"] = scope.removeprefix("account:")
    return params


def values_for_pdf(values: dict[str, str], params: dict[str, str]) -> dict[str, str]:
    """The PDF link carries the form's own fields, so the PDF is of what the page shows."""
    return {"month": params["month"], **({"scope": values["scope"]} if values.get("scope") else {})}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def number(value: float | None) -> str:
    if value is None:
        return "saknas"
    return f"{round(value):,}".replace(",", " ")


@page(Permission.READ_FOLLOWUP)
async def followup(visit: Visit) -> Response:
    values = dict(visit.request.query_params)
    params = scope_params(values)
    report: dict[str, Any] = await visit.api("sla", "GET", "/reports/monthly", params=params)
    city = await visit.api("sla", "GET", "/reports/monthly", params={"month": params["month"]})
    departments = fmt.swedish_sorted({d["department"] for d in city["departments"]})
    accounts = sorted(({"platform": c["platform"], "account_id": c["account_id"], "name": c["name"] or c["account_id"]}
                       for c in city["channels"]), key=lambda c: fmt.swedish_key(c["name"]))
    return visit.render("uppfoljning.html", report=report, values=values, params=params, departments=departments,
                        accounts=accounts, percent=percent, number=number, pdf_link=f"/uppfoljning/rapport.pdf?{urlencode(values_for_pdf(values, params))}",
                        hours=lambda s: "–" if s is None else fmt.hours_minutes(s))


@page(Permission.READ_FOLLOWUP)
async def report_pdf(visit: Visit) -> Response:
    params = scope_params(dict(visit.request.query_params))
    response = await visit.raw("sla", "GET", "/reports/monthly.pdf", params=params)
    return Response(response.content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="manadsrapport-{params["month"]}.pdf"'})


ROUTES = [Route("/uppfoljning", followup), Route("/uppfoljning/rapport.pdf", report_pdf)]

"""What every page shares: the signed-in person, templates with Swedish filters, CSRF, and the error pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialops_common.identity import ROLE_NAMES_SV, Permission, Person
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from . import formatting as fmt
from .services import ServiceRefused, Services
from .sessions import csrf_token, csrf_valid
from .signin import SignIn, signed_in

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_env = TEMPLATES.env
_env.filters.update({
    "tid": fmt.short_time, "lang_tid": fmt.long_time, "regel": fmt.rule_name, "markerad": fmt.marked,
})
_env.globals.update({
    "PLATFORMS": fmt.PLATFORMS, "ITEM_TYPES": fmt.ITEM_TYPES, "EVENT_KINDS": fmt.EVENT_KINDS,
    "MODERATION_ACTIONS": fmt.MODERATION_ACTIONS, "SLA_STATES": fmt.SLA_STATES, "SLA_ICONS": fmt.SLA_ICONS,
    "MAIL_STATES": fmt.MAIL_STATES, "MAIL_ICONS": fmt.MAIL_ICONS, "EXPORT_STATES": fmt.EXPORT_STATES,
    "OPERATIONS": fmt.OPERATIONS, "ACTION_STATUS": fmt.ACTION_STATUS, "CAPTURE_REASONS": fmt.CAPTURE_REASONS,
    "ARCHIVE_LEVELS": fmt.ARCHIVE_LEVELS, "ITEM_CLASSES": fmt.ITEM_CLASSES, "AUDIT_ACTIONS": fmt.AUDIT_ACTIONS,
    "ROLE_NAMES": {role.value: name for role, name in ROLE_NAMES_SV.items()}, "Permission": Permission,
    "diff": fmt.diff_markup,
})


@dataclass(frozen=True)
class Visit:
    """One signed-in request: the person, their token, and the way to the APIs."""

    request: Request
    person: Person
    token: str
    services: Services

    async def api(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        return await self.services.json(service, method, path, self.token, **kwargs)

    async def raw(self, service: str, method: str, path: str, **kwargs: Any):  # noqa: ANN201 - httpx.Response
        return await self.services.request(service, method, path, self.token, **kwargs)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, template, status_code=status_code, person=self.person, **context)

    async def form(self) -> dict[str, str] | None:
        """The posted form, or None when its CSRF token is missing or wrong."""
        async with self.request.form() as form:
            values = {key: str(value) for key, value in form.items()}
        return values if csrf_valid(self.request.session, values.get("csrf")) else None


def render(request: Request, template: str, *, status_code: int = 200, person: Person | None = None,
           **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, {
        "person": person, "csrf": csrf_token(request.session), "path": request.url.path, **context,
    }, status_code=status_code)


Handler = Callable[[Visit], Awaitable[Response]]


def page(needs: Permission | None = None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A route for signed-in people; with `needs`, only for those who have that right (else the 403 page)."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            signin: SignIn = request.app.state.signin
            found = signed_in(request)
            if found is None:
                if request.method != "GET":
                    return RedirectResponse("/", status_code=303)
                return await signin.redirect_to_provider(request)
            person, token = found
            visit = Visit(request, person, token, request.app.state.services)
            if needs is not None and not person.may(needs):
                return forbidden(visit, needs.value)
            try:
                return await handler(visit)
            except ServiceRefused as refused:
                return refused_page(visit, refused)

        endpoint.__name__ = handler.__name__
        return endpoint

    return decorate


def forbidden(visit: Visit, right: str | None = None) -> HTMLResponse:
    return visit.render("fel/403.html", status_code=403, needed=fmt.roles_needed(right) if right else None)


def refused_page(visit: Visit, refused: ServiceRefused) -> Response:
    if refused.status == 401:  # the token expired or was revoked: sign in again, then come back
        visit.request.session.clear()
        return RedirectResponse(visit.request.url.path, status_code=303)
    if refused.status == 403:
        # the longest right named in the refusal: "may not read personal data" is not "read"
        named = [p.value for p in Permission if f"may not {p.value.replace('_', ' ')}" in refused.detail]
        right = max(named, key=len, default=None)
        return forbidden(visit, right)
    if refused.status == 404:
        return visit.render("fel/404.html", status_code=404)
    if refused.status in (400, 409, 410, 422):
        return visit.render("fel/ogiltig.html", status_code=refused.status, detail=refused.detail)
    return visit.render("fel/503.html", status_code=503, service=refused.service)

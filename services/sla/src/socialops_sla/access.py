"""Who asks, and may they: the person behind a request's token and the 403 when their roles lack the right."""

from __future__ import annotations

from socialops_common.identity import Permission, Person
from socialops_common.oidc import authenticate
from starlette.requests import Request
from starlette.responses import JSONResponse


async def person_with(request: Request, permission: Permission) -> Person | JSONResponse:
    """The person (401 from `authenticate` without a valid token), or the 403 response to return."""
    person = await authenticate(request)
    if not person.may(permission):
        return JSONResponse({"error": person.refusal(permission)}, status_code=403)
    return person

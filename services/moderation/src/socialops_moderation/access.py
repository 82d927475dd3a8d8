"""What every moderation API route needs: who is calling, with which right, and a service that has started.

Access tokens of the city's identity provider (or machine tokens): 401 for a missing or refused token
(socialops_common.oidc), 403 when the person lacks the right (the rights table is
socialops_common.identity); 503 while the service is still starting.
"""


from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPBearer
from socialops_common.events import AccountRecord
from socialops_common.identity import Permission, Person, works_on
from socialops_common.oidc import authenticate

T = TypeVar("T")

bearer = HTTPBearer(auto_error=False, description="an access token of the city's identity provider")


def require(person: Person, permission: Permission) -> Person:
    if not person.may(permission):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=person.refusal(permission))
    return person


async def signed_in(request: Request, _: Annotated[object, Depends(bearer)]) -> Person:
    """Anyone with a valid token; the right is checked by the caller (it depends on the request's body)."""
    return await authenticate(request)


def allowed(permission: Permission):  # noqa: ANN201 - a FastAPI dependency
    async def person_with_right(person: Annotated[Person, Depends(signed_in)]) -> Person:
        return require(person, permission)
    return person_with_right


def works_on_account(person: Person, record: AccountRecord | None) -> bool:
    """Whether the account (its inventory record; None when not in the inventory) is the person's to act on."""
    return works_on(person, record.department if record else None, record.editors if record else ())


def started(dependency: T | None) -> T:
    """The store or producer once the service has started them; until then 503."""
    if dependency is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="starting")
    return dependency

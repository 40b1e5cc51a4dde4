"""What the REST API's resources share: refusing with a problem, paging, finding an account,
the documented error answers, and the token dependencies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.users import Role
from kaufland_sync.web.auth import ApiPrincipal, require_token
from kaufland_sync.web.deps import PROBLEM_MEDIA_TYPE

__all__ = [
    "MAX_LIMIT",
    "ApiError",
    "Limit",
    "Offset",
    "Operator",
    "Viewer",
    "account_by_name",
    "account_names",
    "responses",
]

#: Largest page a list returns.
MAX_LIMIT = 500
DEFAULT_LIMIT = 50

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]

#: Any caller with a valid token / an operator's or admin's token.
Viewer = Annotated[ApiPrincipal, Depends(require_token(Role.VIEWER))]
Operator = Annotated[ApiPrincipal, Depends(require_token(Role.OPERATOR))]


class ApiError(Exception):
    """Refuse the request with a problem (turned into ``application/problem+json`` by the
    API's exception handler). ``errors`` name the inputs at fault; ``extra`` adds members."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extra = extra


def not_found(what: str) -> ApiError:
    return ApiError(404, "Not Found", f"{what} does not exist")


_TITLES = {
    400: "Bad request",
    401: "No valid API token",
    403: "Role too low",
    404: "Not found",
    409: "Conflict",
    422: "Invalid request",
    503: "Service unavailable",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem answers a route may give: ``codes``, plus 401 (no
    valid token) and 422 (a parameter or body refused) for every route."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        code: {"description": _TITLES[code], "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}}}
        for code in sorted({401, 422, *codes})
    }


def account_by_name(session: Session, name: str) -> Account:
    """The account named ``name`` (404 problem when there is none)."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise not_found(f"account {name!r}")
    return account


def account_names(session: Session) -> dict[int, str]:
    return {
        account_id: name for account_id, name in session.execute(select(Account.id, Account.name))
    }

"""Signing in and out of the web app: ``GET /login`` (the form), ``POST /login``, ``POST
/logout``.

The login form is CSRF-protected like every other form: ``GET /login`` gives the visitor a
session holding only a CSRF token, which the form sends back; signing in replaces that session
with the user's (new CSRF token included). After a login the browser goes to ``next`` when it
is a path on this site (never another host), else to the dashboard.

Answers: 303 to ``next`` on success; 200 with the form and an error for a wrong name or
password (which of the two is never said); 429 with ``Retry-After`` while throttled; 403 with
the form when the CSRF token is missing or stale (an expired form).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

# Imported at run time: FastAPI reads the dependencies' annotations.
from kaufland_sync.store.models.users import User
from kaufland_sync.web.auth import (
    attempt_login,
    csrf_matches,
    current_user,
    end_session,
    is_safe_next,
    start_session,
    verify_csrf,
)
from kaufland_sync.web.deps import get_context
from kaufland_sync.web.templating import templates

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_HOME = "/"
# Form fields are capped: nothing legitimate is longer, and the password is hashed.
_MAX_FIELD = 1024


def _next_or_home(target: str | None) -> str:
    return target if target is not None and is_safe_next(target) else _HOME


def _form(
    request: Request,
    *,
    next_path: str,
    name: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    context: dict[str, Any] = {
        "next": next_path if next_path != _HOME else "",
        "name": name,
        "error": error,
    }
    return templates.TemplateResponse(
        request, "login.html", context, status_code=status_code, headers=headers
    )


@router.get("/login", name="login")
def login_form(
    request: Request,
    user: Annotated[User | None, Depends(current_user)],
    next: str | None = None,
) -> Response:
    """The login form; a signed-in user goes straight on to ``next``."""
    target = _next_or_home(next)
    if user is not None:
        return RedirectResponse(target, status_code=303)
    return _form(request, next_path=target)


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=_MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=_MAX_FIELD)] = "",
    next: Annotated[str, Form(max_length=_MAX_FIELD)] = "",
) -> Response:
    """Check the name and password and sign in."""
    target = _next_or_home(next)
    name = name.strip()
    if not await csrf_matches(request):
        return _form(
            request,
            next_path=target,
            name=name,
            error="The form had expired. Please sign in again.",
            status_code=403,
        )
    if not name or not password:
        return _form(request, next_path=target, name=name, error="Enter your name and password.")
    context = get_context(request)
    client = request.client.host if request.client else "unknown"
    now = context.clock()

    def check() -> tuple[User | None, int | None]:
        with context.factory() as session, session.begin():
            result = attempt_login(session, name=name, password=password, ip=client, now=now)
            return result.user, result.retry_after

    # Hashing takes tens of milliseconds of CPU: off the event loop.
    user, retry_after = await run_in_threadpool(check)
    if retry_after is not None:
        minutes = max(1, round(retry_after / 60))
        return _form(
            request,
            next_path=target,
            name=name,
            error=f"Too many failed logins. Try again in about {minutes} minute(s).",
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
    if user is None:
        return _form(request, next_path=target, name=name, error="Wrong name or password.")
    start_session(request, user, now)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> Response:
    """Sign out and go to the login page (htmx requests get ``HX-Redirect``)."""
    end_session(request)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303)

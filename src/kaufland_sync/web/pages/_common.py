"""What the management pages share, in one place: the route dependencies (context, roles,
CSRF), reading filters and ids with errors that name the field, the account choices of filter
forms, paging, telling htmx from a plain request, the "not here" answer and asking a worker to
send an account's outbox.

Each page module keeps only what is its own; a rule that two pages need lives here, so the
pages cannot drift apart (one page answering 404 where another says 200, one reading ``page=0``
differently, one forgetting ``Vary``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kaufland_sync.logging import get_logger
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import JobKind, JobTrigger
from kaufland_sync.store.models.users import Role, User
from kaufland_sync.web.auth import require_user, verify_csrf
from kaufland_sync.web.deps import WebContext, get_context
from kaufland_sync.web.templating import templates

__all__ = [
    "CSRF",
    "MAX_ID",
    "AccountChoice",
    "Admin",
    "Context",
    "Csrf",
    "CsrfChecked",
    "FilterError",
    "Operator",
    "Paging",
    "Viewer",
    "account_choices",
    "account_names",
    "answer_status",
    "is_htmx",
    "list_response",
    "missing",
    "page_count",
    "page_number",
    "paging",
    "parse_account",
    "parse_date",
    "parse_id",
    "parse_storefront",
    "submit_outbox",
    "when",
]

log = get_logger(__name__)

# --- route dependencies ------------------------------------------------------------------------

#: The app's context (store, queue, clock, settings).
Context = Annotated[WebContext, Depends(get_context)]
#: The signed-in user, at least of the role named (a visitor is sent to sign in, a lower role
#: gets 403).
Viewer = Annotated[User, Depends(require_user(Role.VIEWER))]
Operator = Annotated[User, Depends(require_user(Role.OPERATOR))]
Admin = Annotated[User, Depends(require_user(Role.ADMIN))]
#: The CSRF check, for ``dependencies=[Csrf]`` (or ``dependencies=CSRF``) of a POST route...
Csrf = Depends(verify_csrf)
CSRF = [Csrf]
#: ... or as a parameter (``_csrf: CsrfChecked``), where the route lists its dependencies.
CsrfChecked = Annotated[None, Depends(verify_csrf)]

#: The largest id a path may carry (the tables' integer keys are 32-bit).
MAX_ID = 2**31 - 1
#: The largest page number read from a query string; anything else is page 1.
_MAX_PAGE = 1_000_000


# --- filters -----------------------------------------------------------------------------------


class FilterError(ValueError):
    """A query parameter or form field the page cannot use; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class AccountChoice:
    """One account in a filter's list, with the storefronts it sells on."""

    id: int
    name: str
    storefronts: tuple[str, ...]


def account_choices(session: Session) -> list[AccountChoice]:
    """Every account by name, with its storefront codes (for the account and storefront
    selects)."""
    accounts = session.scalars(
        select(Account).options(selectinload(Account.storefronts)).order_by(Account.name)
    )
    return [
        AccountChoice(
            account.id,
            account.name,
            tuple(sorted(s.storefront.value for s in account.storefronts)),
        )
        for account in accounts
    ]


def account_names(session: Session) -> list[str]:
    """Every account's name, sorted (for an account select that sends names)."""
    return list(session.scalars(select(Account.name).order_by(Account.name)))


def _text(value: str | None) -> str:
    return (value or "").strip()


def parse_account(value: str | None, choices: list[AccountChoice]) -> AccountChoice | None:
    """The account a filter names (by id, as the selects send it, or by name, as a person
    may type it into the address bar); None for an empty value."""
    text = _text(value)
    if not text:
        return None
    for choice in choices:
        if str(choice.id) == text or choice.name == text:
            return choice
    raise FilterError("account", f"there is no account {text!r}")


def parse_storefront(value: str | None) -> Storefront | None:
    """A storefront code of the filter; None for an empty value."""
    text = _text(value)
    if not text:
        return None
    try:
        return Storefront.parse(text)
    except ValueError:
        codes = ", ".join(code.value for code in Storefront)
        raise FilterError("storefront", f"{text!r} is not a storefront; one of {codes}") from None


def parse_date(value: str | None, field: str) -> date | None:
    """A ``YYYY-MM-DD`` filter date (UTC calendar day); None for an empty value."""
    text = _text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(field, f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


def parse_id(value: str, what: str) -> int:
    """A record id from a path (``what`` names the record in the message)."""
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise FilterError("id", f"{what} {value!r}: not an id (a whole number from 1)")
    return int(text)


# --- paging ------------------------------------------------------------------------------------


def page_count(total: int, size: int) -> int:
    """How many pages ``total`` rows fill, ``size`` a page; an empty list is one (empty)
    page."""
    return max(1, -(-total // size))


def page_number(text: str) -> int:
    """The ``page`` query parameter as a number from 1; anything else (empty, 0, words, absurdly
    large) is the first page rather than an error, so a mangled link still shows something."""
    return int(text) if text.isdigit() and 0 < int(text) < _MAX_PAGE else 1


@dataclass(frozen=True, slots=True)
class Paging:
    """Where a list of ``total`` rows stands: the page shown (1-based, clamped to the last
    page), how many pages there are, and the links to the neighbours (None at either end)."""

    number: int
    count: int
    size: int
    previous_link: str | None
    next_link: str | None

    @property
    def offset(self) -> int:
        """How many rows come before this page."""
        return (self.number - 1) * self.size

    def slice(self, rows: Sequence[Any]) -> list[Any]:
        """This page's part of ``rows`` (for lists sorted in Python)."""
        return list(rows[self.offset : self.offset + self.size])

    def values(self) -> dict[str, Any]:
        """The template values every paged list uses."""
        return {
            "page": self.number,
            "page_count": self.count,
            "previous_link": self.previous_link,
            "next_link": self.next_link,
        }


def paging(
    path: str,
    filters: Mapping[str, str],
    total: int,
    page: str,
    size: int,
    *,
    defaults: Mapping[str, str] | None = None,
) -> Paging:
    """The page ``page`` (the query text) of ``total`` rows, ``size`` a page, with links to
    ``path`` that keep the non-empty ``filters`` (a filter equal to its entry in ``defaults`` is
    left out, so links stay short and bookmarks canonical)."""
    count = page_count(total, size)
    number = min(page_number(page), count)
    skip = defaults or {}

    def link(target: int) -> str:
        values = {k: v for k, v in filters.items() if v and skip.get(k) != v}
        if target > 1:
            values["page"] = str(target)
        return path + (f"?{urlencode(values)}" if values else "")

    return Paging(
        number=number,
        count=count,
        size=size,
        previous_link=link(number - 1) if number > 1 else None,
        next_link=link(number + 1) if number < count else None,
    )


# --- answers -----------------------------------------------------------------------------------


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it then wants a fragment to swap in, not a page)."""
    return bool(request.headers.get("hx-request"))


def answer_status(request: Request, status: int) -> int:
    """``status`` for a plain request; 200 for htmx, which swaps no error answer into the page
    (the answer's own text says what went wrong)."""
    return 200 if is_htmx(request) else status


def list_response(
    request: Request, prefix: str, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """A list page (``pages/<prefix>_list.html``) or, to htmx, its results fragment
    (``pages/<prefix>_table.html``). The same address answers both, so caches are told the
    answer varies with ``HX-Request``."""
    kind = "table" if is_htmx(request) else "list"
    answer = templates.TemplateResponse(
        request, f"pages/{prefix}_{kind}.html", values, status_code=status_code
    )
    answer.headers["Vary"] = "HX-Request"
    return answer


def missing(
    request: Request,
    user: User,
    message: str,
    *,
    title: str,
    back: tuple[str, str],
    choices: Sequence[tuple[str, str]] = (),
    status_code: int = 404,
) -> HTMLResponse:
    """The page for a record that cannot be shown: not in the store (404, ``message`` says
    which record and where it would come from), or held by several accounts (409, with
    ``choices`` as (label, link) pairs to pick from). ``back`` is the (link, label) to the
    list."""
    return templates.TemplateResponse(
        request,
        "pages/_missing.html",
        {
            "user": user,
            "title": title,
            "message": message,
            "choices": list(choices),
            "back": back,
        },
        status_code=status_code,
    )


def submit_outbox(context: WebContext, account_id: int) -> bool:
    """Ask a worker to send the account's due outbox messages now; whether it was asked. If
    the queue cannot be reached the messages stay in the outbox and the scheduled outbox run
    sends them: logged, not an error for the person who acted."""
    try:
        context.queue.submit(account_id=account_id, kind=JobKind.OUTBOX, trigger=JobTrigger.MANUAL)
    except Exception as exc:
        log.warning("outbox job not queued", account_id=account_id, error=str(exc))
        return False
    return True


def when(moment: datetime | None) -> str:
    """A stored time as people read it on these pages: UTC to the second."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")

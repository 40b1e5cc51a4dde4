"""The Accounts pages: seller accounts, their storefronts and settings, the connection test and
the job schedules, for people who would rather not use ``kaufland-sync accounts``.

Everyone signed in may read (no key is ever put in a page: the client key is masked, the secret
key is not even decrypted to render); only admins change accounts, storefront settings and
schedules; operators and admins may run the connection test, which calls Kaufland.

Nothing here holds a business rule of its own. Adding goes through ``AccountService.add`` (the
secret key is encrypted with the app's secret box before it reaches the session), changes
through ``AccountRepository`` (which validates every value and names the field), the test
through ``kaufland_sync.accounts.check_connection`` (what ``accounts test`` runs) and schedules
through ``jobs.ledger.set_interval`` (what ``schedules set`` runs). This module only turns form
fields into those calls and their errors into messages next to the field they are about. Every
change runs in one transaction, so a refused value leaves the account as it was.

The add form lives at ``/accounts/_new``: an account name starts with a letter or a digit
(``validate_account_name``), so no account can be called ``_new`` and every name, ``new``
included, keeps its own page at ``/accounts/{name}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kaufland_sync.accounts import (
    AccountService,
    ConnectionReport,
    base_url_for,
    check_connection,
    environment_for,
)
from kaufland_sync.jobs import ledger
from kaufland_sync.pricing import ROUNDING_RULES
from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError, mask
from kaufland_sync.sellerapi import ApiResponse, RetryPolicy
from kaufland_sync.sellerapi import errors as api_errors
from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models.common import UnitCondition, WriteableVatIndicator
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.accounts import (
    BASE_CURRENCIES,
    AccountError,
    AccountExistsError,
    AccountNotFoundError,
    AccountRepository,
    InvalidSettingError,
    SameSellerError,
    validate_account_name,
)
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import (
    DEFAULT_DIRECTIONS,
    Account,
    AccountStorefront,
    Environment,
    OnDeactivate,
    SyncDirection,
)
from kaufland_sync.store.models.jobs import (
    ALLOWED_INTERVALS,
    DEFAULT_INTERVALS,
    Job,
    JobKind,
    JobSchedule,
    JobState,
    JobTrigger,
)
from kaufland_sync.store.models.users import Role, User
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages._common import CSRF, Admin, Context, Operator, Viewer, is_htmx, missing
from kaufland_sync.web.templating import templates

__all__ = ["FIELD_LABELS", "ConnectionVerdict", "router", "verdict_for"]

router = APIRouter(include_in_schema=False)


#: How people read each field the forms post (the model attribute, or the form's own name).
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "client_key": "Client key",
    "secret_key": "Secret key",
    "environment": "Environment",
    "base_url": "Base URL",
    "storefront": "Storefronts",
    "base_currency": "Catalogue currency",
    "restock_returns": "Restock returns",
    "direction_offers": "Offers direction",
    "direction_stock": "Stock direction",
    "direction_prices": "Prices direction",
    "direction_orders": "Orders direction",
    "currency_rate": "Currency rate",
    "rounding": "Rounding",
    "markup_percent": "Markup %",
    "use_minimum_price": "Send a minimum price",
    "minimum_price_percent": "Minimum price %",
    "handling_time": "Handling time",
    "id_shipping_group": "Shipping group",
    "condition": "Condition",
    "vat_indicator": "VAT indicator",
    "buffer_stock": "Buffer stock",
    "max_stock": "Maximum stock",
    "on_deactivate": "On deactivation",
    "warehouse": "Warehouses",
    "warehouses": "Warehouses",
}

ENVIRONMENTS: tuple[tuple[str, str], ...] = (
    (Environment.PRODUCTION.value, "Production (Kaufland)"),
    (Environment.PLAYGROUND.value, "Playground (Kaufland's test system)"),
    (Environment.CUSTOM.value, "Other: a base URL (the sandbox, a proxy)"),
)
DIRECTIONS: tuple[tuple[str, str], ...] = (
    (SyncDirection.TO_KAUFLAND.value, "to Kaufland"),
    (SyncDirection.FROM_KAUFLAND.value, "from Kaufland"),
    (SyncDirection.BOTH.value, "both ways"),
    (SyncDirection.OFF.value, "off"),
)
INTERVAL_LABELS: dict[int, str] = {m: (f"every {m} min" if m else "off") for m in ALLOWED_INTERVALS}
JOB_LABELS: dict[JobKind, str] = {
    JobKind.ORDERS: "Orders (import)",
    JobKind.OUTBOX: "Outbox (shipments, cancellations, refunds)",
    JobKind.STOCK: "Stock (push amounts)",
    JobKind.RETURNS: "Returns (import)",
    JobKind.OFFERS: "Offers (push every field)",
    JobKind.TICKETS: "Buyer tickets (import)",
    JobKind.CATEGORIES: "Categories (refresh)",
    JobKind.PERFORMANCE: "Seller performance",
}
# Optional storefront settings: an empty field clears them (the CLI's ``none``).
_OPTIONAL_SETTINGS = (
    "minimum_price_percent",
    "handling_time",
    "id_shipping_group",
    "condition",
    "vat_indicator",
    "max_stock",
)
_REQUIRED_SETTINGS = (
    *(f"direction_{kind}" for kind in DEFAULT_DIRECTIONS),
    "currency_rate",
    "rounding",
    "markup_percent",
    "buffer_stock",
    "on_deactivate",
)
# Generous but finite: a form never needs more, and a flood of fields is refused cheaply.
_MAX_FIELD = 2000
# The connection test is a person waiting on a button: one retry at most, a bounded wait.
_TEST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=1.0)
_TEST_TIMEOUT = 15.0
# The columns' sizes (store/models/accounts.py): PostgreSQL refuses longer values.
_CLIENT_KEY_LENGTH = 128
_BASE_URL_LENGTH = 500
# Kaufland refuses signatures more than 5 minutes off; a minute off is worth mentioning (the
# same thresholds as ``check_connection``, which adds the problem or warning sentence).
_CLOCK_LIMIT_SECONDS = 300.0
_CLOCK_WARNING_SECONDS = 60.0


# ---------------------------------------------------------------------------------------------
# Form input


@dataclass(frozen=True)
class FormInput:
    """The text fields of a posted form (files ignored), trimmed, each cut to a sane length."""

    pairs: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str:
        values = self.all(name)
        return values[-1] if values else ""

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)


async def posted_form(request: Request) -> FormInput:
    """Dependency: the posted form, read on the event loop so the route itself can be a plain
    ``def`` (run in the thread pool, where its database work does not block other requests)."""
    form = await request.form()
    return FormInput(
        tuple(
            (key, value.strip()[:_MAX_FIELD])
            for key, value in form.multi_items()
            if isinstance(value, str)
        )
    )


Posted = Annotated[FormInput, Depends(posted_form)]


class FormErrors(dict[str, str]):
    """Field name → what is wrong with it, in words that name the field."""

    def add(self, field_name: str, reason: str) -> None:
        label = FIELD_LABELS.get(field_name, field_name.replace("_", " ").capitalize())
        self.setdefault(field_name, f"{label}: {reason}")

    def add_setting_error(self, error: InvalidSettingError) -> None:
        self.add(error.field, _reason(error))


def _reason(error: InvalidSettingError) -> str:
    value = str(error.value)
    if value in ("''", "", "none"):
        return error.reason
    return f"{value} — {error.reason}"


class _Refused(Exception):
    """Raised inside a transaction to roll it back when the form had errors."""


# ---------------------------------------------------------------------------------------------
# Reading


def _fmt_time(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class ScheduleRow:
    kind: str
    label: str
    interval: int
    next_due: datetime | None
    last_success: datetime | None
    last_run: datetime | None
    last_state: str | None
    last_error: str | None
    pending: bool


def _successes(session: Session, account_id: int) -> dict[JobKind, datetime]:
    """When the newest successful job of each kind ended, for one account (what
    ``ledger.last_success`` answers for every account, kept to one account's rows here)."""
    rows = session.execute(
        select(Job.kind, func.max(Job.finished_at))
        .where(Job.account_id == account_id, Job.state == JobState.DONE)
        .group_by(Job.kind)
    )
    return {JobKind(kind): when for kind, when in rows if when is not None}


def _last_runs(session: Session, account_id: int) -> dict[JobKind, Job]:
    """The newest finished job of each kind for the account (done, failed or dropped)."""
    newest = (
        select(func.max(Job.id))
        .where(Job.account_id == account_id, Job.finished_at.is_not(None))
        .group_by(Job.kind)
    )
    return {job.kind: job for job in session.scalars(select(Job).where(Job.id.in_(newest)))}


def _schedule_rows(session: Session, account: Account) -> list[ScheduleRow]:
    """Every job kind with its interval (the default while the scheduler has not written the
    account's schedule yet: reading a page writes nothing) and its last and next runs."""
    stored = {
        s.kind: s
        for s in session.scalars(select(JobSchedule).where(JobSchedule.account_id == account.id))
    }
    successes = _successes(session, account.id)
    runs = _last_runs(session, account.id)
    pending = set(
        session.scalars(
            select(Job.kind).where(
                Job.account_id == account.id,
                Job.state.in_([JobState.QUEUED, JobState.RETRYING]),
            )
        )
    )
    rows = []
    for kind in JobKind:
        schedule = stored.get(kind)
        interval = schedule.interval_minutes if schedule else DEFAULT_INTERVALS[kind]
        last = runs.get(kind)
        rows.append(
            ScheduleRow(
                kind=kind.value,
                label=JOB_LABELS.get(kind, kind.value),
                interval=interval,
                next_due=schedule.next_due_at if schedule and interval else None,
                last_success=successes.get(kind),
                last_run=last.finished_at if last else None,
                last_state=last.state.value if last else None,
                last_error=last.last_error if last and last.state is not JobState.DONE else None,
                pending=kind in pending,
            )
        )
    return rows


def _storefront_view(settings: AccountStorefront) -> dict[str, Any]:
    code = settings.storefront
    return {
        "code": code.value,
        "currency": code.currency.value,
        "directions": {kind: settings.direction(kind).value for kind in DEFAULT_DIRECTIONS},
        "values": _storefront_values(settings),
        "warehouses": settings.warehouse_map(),
    }


def _storefront_values(settings: AccountStorefront) -> dict[str, str]:
    """The storefront's settings as the form shows them (empty = unset)."""
    values: dict[str, str] = {}
    for kind in DEFAULT_DIRECTIONS:
        values[f"direction_{kind}"] = settings.direction(kind).value
    for name in (
        "currency_rate",
        "rounding",
        "markup_percent",
        "buffer_stock",
        *_OPTIONAL_SETTINGS,
    ):
        value = getattr(settings, name)
        values[name] = "" if value is None else str(value)
    values["on_deactivate"] = settings.on_deactivate.value
    values["use_minimum_price"] = "on" if settings.use_minimum_price else ""
    values["warehouses"] = "\n".join(f"{k}={v}" for k, v in settings.warehouse_map().items())
    return values


def _account_view(account: Account, successes: Mapping[JobKind, datetime]) -> dict[str, Any]:
    """What the pages show of an account: never the secret key, the client key masked."""
    try:
        url = base_url_for(account)
    except InvalidSettingError:
        url = ""
    return {
        "name": account.name,
        "environment": account.environment.value,
        "base_url": url,
        "custom_url": account.base_url or "",
        "client_key_masked": mask(account.client_key),
        "base_currency": account.base_currency or "",
        "restock_returns": account.restock_returns,
        "push_callback_url": account.push_callback_url or "",
        "storefronts": [_storefront_view(s) for s in account.storefronts],
        "last_success": {kind.value: successes[kind] for kind in JobKind if kind in successes},
        "updated_at": account.updated_at,
    }


def _load(session: Session, name: str) -> Account:
    return AccountRepository(session).get(name)


def _not_found(request: Request, user: User, name: str) -> HTMLResponse:
    return missing(
        request,
        user,
        f"There is no account named “{name}”.",
        title="Account not found",
        back=("/accounts", "Back to the accounts"),
    )


def _choices() -> dict[str, Any]:
    """Option lists every form of these pages draws from."""
    return {
        "environments": ENVIRONMENTS,
        "all_storefronts": [(s.value, s.currency.value) for s in Storefront],
        "currencies": BASE_CURRENCIES,
        "directions": DIRECTIONS,
        "direction_labels": dict(DIRECTIONS),
        "direction_kinds": list(DEFAULT_DIRECTIONS),
        "rounding_rules": ROUNDING_RULES,
        "conditions": [c.value for c in UnitCondition],
        "vat_indicators": [v.value for v in WriteableVatIndicator],
        "on_deactivate_choices": [o.value for o in OnDeactivate],
        "intervals": INTERVAL_LABELS,
        "labels": FIELD_LABELS,
        "fmt_time": _fmt_time,
    }


# ---------------------------------------------------------------------------------------------
# The list


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, context: Context, user: Viewer) -> HTMLResponse:
    """Every account with its environment, storefronts and the last successful sync of each
    kind."""
    with context.factory() as session:
        successes = ledger.last_success(session)
        accounts = [
            _account_view(
                account,
                {kind: when for (aid, kind), when in successes.items() if aid == account.id},
            )
            for account in AccountRepository(session).list()
        ]
    return templates.TemplateResponse(
        request,
        "pages/accounts_list.html",
        {
            "user": user,
            "accounts": accounts,
            "kinds": [kind.value for kind in JobKind],
            "can_manage": user.role.allows(Role.ADMIN),
            **_choices(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Adding and editing an account


def _blank_account_form() -> dict[str, Any]:
    return {
        "name": "",
        "client_key": "",
        "environment": Environment.PRODUCTION.value,
        "base_url": "",
        "storefronts": [],
        "base_currency": "",
        "restock_returns": False,
    }


def _account_form_values(form: FormInput) -> dict[str, Any]:
    """What was typed, to show again with the errors (never the secret key)."""
    return {
        "name": form.get("name"),
        "client_key": form.get("client_key"),
        "environment": form.get("environment"),
        "base_url": form.get("base_url"),
        "storefronts": form.all("storefront"),
        "base_currency": form.get("base_currency"),
        "restock_returns": form.has("restock_returns"),
    }


def _environment(form: FormInput, errors: FormErrors) -> tuple[Environment, str | None] | None:
    """The environment and stored URL of the form, as ``accounts add`` derives them from
    ``--playground`` / ``--base-url``; a custom environment needs its URL."""
    chosen = form.get("environment")
    url = form.get("base_url")
    try:
        if chosen == Environment.PLAYGROUND.value:
            return environment_for(None, playground=True)
        if chosen == Environment.PRODUCTION.value:
            return environment_for(None, playground=False)
        if chosen == Environment.CUSTOM.value:
            if not url:
                errors.add("base_url", "required for the 'other' environment, ending in /v2")
                return None
            if len(url) > _BASE_URL_LENGTH:
                errors.add("base_url", f"is {len(url)} characters long; at most 500 fit")
                return None
            return environment_for(url, playground=False)
    except InvalidSettingError as exc:
        errors.add_setting_error(exc)
        return None
    errors.add("environment", "choose production, playground or other")
    return None


def _client_key(form: FormInput, errors: FormErrors) -> str:
    """The client key as typed; the column holds 128 characters (Kaufland's keys are 32)."""
    key = form.get("client_key")
    if not key:
        errors.add("client_key", "must not be empty (copy it from the seller portal)")
    elif len(key) > _CLIENT_KEY_LENGTH:
        errors.add("client_key", f"is {len(key)} characters long; at most 128 fit")
    return key


def _currency(form: FormInput, errors: FormErrors) -> str | None:
    value = form.get("base_currency").upper()
    if value and value not in BASE_CURRENCIES:
        errors.add("base_currency", f"{value} — must be one of {', '.join(BASE_CURRENCIES)}")
    return value or None


def _storefronts(form: FormInput, errors: FormErrors) -> list[Storefront]:
    codes: list[Storefront] = []
    for text in form.all("storefront"):
        try:
            codes.append(Storefront.parse(text))
        except ValueError as exc:
            errors.add("storefront", str(exc))
    if not codes and "storefront" not in errors:
        errors.add("storefront", "choose at least one storefront to sell on")
    return codes


def _store_errors(errors: FormErrors, exc: Exception) -> None:
    """An error of the account rules, next to the field it is about."""
    if isinstance(exc, InvalidSettingError):
        errors.add_setting_error(exc)
    elif isinstance(exc, AccountExistsError):
        errors.add("name", f"{exc.name} — an account with this name already exists")
    elif isinstance(exc, SameSellerError):
        errors.add("client_key", str(exc))
    elif isinstance(exc, MasterKeyError):
        errors.add("secret_key", f"cannot be encrypted: {exc}")
    else:
        errors.add("account", str(exc))


def _account_form(
    request: Request,
    user: User,
    *,
    mode: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "pages/accounts_form.html",
        {"user": user, "mode": mode, "form": values, "errors": errors or {}, **_choices()},
        status_code=status_code,
    )


@router.get("/accounts/_new", response_class=HTMLResponse)
def new_account_page(request: Request, user: Admin) -> HTMLResponse:
    """The form that adds an account."""
    return _account_form(request, user, mode="add", values=_blank_account_form())


@router.post("/accounts/_new", response_class=HTMLResponse, dependencies=CSRF)
def add_account(request: Request, context: Context, user: Admin, form: Posted) -> Response:
    """Add an account the way ``kaufland-sync accounts add`` does, plus the catalogue currency
    and restocking that ``accounts set`` would change next, all in one transaction."""
    errors = FormErrors()
    name = form.get("name")
    try:
        validate_account_name(name)
    except InvalidSettingError as exc:
        errors.add("name", exc.reason)
    client_key = _client_key(form, errors)
    secret = form.get("secret_key")
    if not secret:
        errors.add("secret_key", "must not be empty (copy it from the seller portal)")
    where = _environment(form, errors)
    currency = _currency(form, errors)
    codes = _storefronts(form, errors)
    if not errors and where is not None:
        environment, url = where
        try:
            with transaction(context.factory) as session:
                service = AccountService(AccountRepository(session), context.secret_box())
                account = service.add(
                    name,
                    client_key=client_key,
                    secret_key=secret,
                    environment=environment,
                    base_url=url,
                    storefronts=codes,
                )
                if currency is not None:
                    service.repository.set_base_currency(account, currency)
                account.restock_returns = form.has("restock_returns")
        except (AccountError, MasterKeyError) as exc:
            _store_errors(errors, exc)
    if errors:
        return _account_form(
            request,
            user,
            mode="add",
            values=_account_form_values(form),
            errors=errors,
            status_code=422,
        )
    return RedirectResponse(f"/accounts/{name}?added=1", status_code=303)


@router.get("/accounts/{name}/edit", response_class=HTMLResponse)
def edit_account_page(request: Request, context: Context, user: Admin, name: str) -> Response:
    """The form that changes an account's keys, environment and catalogue settings."""
    with context.factory() as session:
        try:
            account = _load(session, name)
        except AccountNotFoundError:
            return _not_found(request, user, name)
        values = {
            "name": account.name,
            "client_key": account.client_key,
            "environment": account.environment.value,
            "base_url": account.base_url or "",
            "base_currency": account.base_currency or "",
            "restock_returns": account.restock_returns,
        }
    return _account_form(request, user, mode="edit", values=values)


@router.post("/accounts/{name}/edit", response_class=HTMLResponse, dependencies=CSRF)
def update_account(
    request: Request, context: Context, user: Admin, form: Posted, name: str
) -> Response:
    """Change the keys (an empty secret key keeps the stored one), the environment, the
    catalogue currency and restocking, all or nothing."""
    with context.factory() as session:
        if AccountRepository(session).find(name) is None:
            return _not_found(request, user, name)
    errors = FormErrors()
    client_key = _client_key(form, errors)
    where = _environment(form, errors)
    currency = _currency(form, errors)
    secret = form.get("secret_key")
    if not errors and where is not None:
        environment, url = where
        try:
            with transaction(context.factory) as session:
                repository = AccountRepository(session)
                account = repository.get(name)
                # "One seller, one account" is checked for the key where the account ends up.
                repository.set_environment(account, environment, url, client_key=client_key)
                if secret:
                    AccountService(repository, context.secret_box()).set_secret_key(account, secret)
                repository.set_base_currency(account, currency)
                account.restock_returns = form.has("restock_returns")
        except AccountNotFoundError:
            return _not_found(request, user, name)
        except (AccountError, MasterKeyError) as exc:
            _store_errors(errors, exc)
    if errors:
        values = _account_form_values(form) | {"name": name}
        return _account_form(
            request, user, mode="edit", values=values, errors=errors, status_code=422
        )
    return RedirectResponse(f"/accounts/{name}?saved=account", status_code=303)


# ---------------------------------------------------------------------------------------------
# One account: storefronts, schedules, the connection test


def _detail(
    request: Request,
    context: WebContext,
    user: User,
    name: str,
    *,
    status_code: int = 200,
    storefront_errors: Mapping[str, Mapping[str, str]] | None = None,
    storefront_values: Mapping[str, Mapping[str, str]] | None = None,
    add_error: str | None = None,
    schedule_errors: Mapping[str, str] | None = None,
    verdict: ConnectionVerdict | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    with context.factory() as session:
        try:
            account = _load(session, name)
        except AccountNotFoundError:
            return _not_found(request, user, name)
        view = _account_view(account, _successes(session, account.id))
        schedules = _schedule_rows(session, account)
    for item in view["storefronts"]:
        typed = (storefront_values or {}).get(item["code"])
        if typed is not None:
            item["values"] = dict(typed)
    sold = {item["code"] for item in view["storefronts"]}
    return templates.TemplateResponse(
        request,
        "pages/accounts_detail.html",
        {
            "user": user,
            "account": view,
            "schedules": schedules,
            "can_manage": user.role.allows(Role.ADMIN),
            "can_test": user.role.allows(Role.OPERATOR),
            "storefront_errors": storefront_errors or {},
            "addable": [(s.value, s.currency.value) for s in Storefront if s.value not in sold],
            "add_error": add_error,
            "schedule_errors": schedule_errors or {},
            "verdict": verdict,
            "notice": notice,
            **_choices(),
        },
        status_code=status_code,
    )


_NOTICES = {
    "account": "Saved the account.",
    "storefront": "Saved the storefront settings.",
    "schedules": "Saved the schedules.",
    "added-storefront": "Added the storefront.",
    "removed-storefront": "Removed the storefront.",
}


@router.get("/accounts/{name}", response_class=HTMLResponse)
def account_page(request: Request, context: Context, user: Viewer, name: str) -> HTMLResponse:
    """One account: its environment and keys (masked), storefronts with their settings, job
    schedules, and the connection test."""
    query = request.query_params
    notice = "Added the account. Test the connection next." if query.get("added") else None
    notice = _NOTICES.get(query.get("saved", ""), notice)
    return _detail(request, context, user, name, notice=notice)


@router.post("/accounts/{name}/storefronts", response_class=HTMLResponse, dependencies=CSRF)
def add_storefront(
    request: Request, context: Context, user: Admin, form: Posted, name: str
) -> Response:
    """Start selling on one more storefront, with default settings."""
    try:
        code = Storefront.parse(form.get("storefront"))
    except ValueError as exc:
        return _detail(
            request, context, user, name, status_code=422, add_error=f"Storefront: {exc}"
        )
    message = None
    try:
        with transaction(context.factory) as session:
            account = _load(session, name)
            if account.storefront(code) is None:
                AccountRepository(session).add_storefront(account, code)
            else:
                message = f"Storefront: account {name} already sells on {code.value}"
    except AccountNotFoundError:
        return _not_found(request, user, name)
    if message is not None:
        return _detail(request, context, user, name, status_code=422, add_error=message)
    return RedirectResponse(f"/accounts/{name}?saved=added-storefront", status_code=303)


@router.post(
    "/accounts/{name}/storefronts/{code}/remove", response_class=HTMLResponse, dependencies=CSRF
)
def remove_storefront(
    request: Request, context: Context, user: Admin, form: Posted, name: str, code: str
) -> Response:
    """Stop selling on a storefront (its settings here are deleted; Kaufland is not told). The
    form's box must be ticked: settings are easy to lose with one stray click."""
    if form.get("confirm") != "yes":
        message = (
            f"Storefront {code.upper()} of {name}: tick the box to confirm that you want to "
            "stop selling there"
        )
        return _detail(request, context, user, name, status_code=422, add_error=message)
    try:
        with transaction(context.factory) as session:
            repository = AccountRepository(session)
            repository.remove_storefront(repository.get(name), code)
    except AccountNotFoundError:
        return _not_found(request, user, name)
    except (AccountError, ValueError) as exc:
        return _detail(request, context, user, name, status_code=422, add_error=str(exc))
    return RedirectResponse(f"/accounts/{name}?saved=removed-storefront", status_code=303)


def _parse_warehouses(text: str, errors: FormErrors) -> dict[str, int | None]:
    """``LOCAL=ID`` lines (as ``--warehouse`` takes them) into local code → Kaufland id."""
    wanted: dict[str, int | None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        local, sep, value = line.partition("=")
        if not sep or not local.strip() or not value.strip().isdigit():
            errors.add(
                "warehouses",
                f"line {number} ({line}) — write LOCAL=ID, with a whole-number Kaufland id",
            )
            continue
        wanted[local.strip()] = int(value.strip())
    return wanted


def _setting_changes(form: FormInput) -> list[dict[str, Any]]:
    """The storefront form as groups of ``update_storefront`` changes: each group is validated
    on its own, so every bad field gets its message at once (the minimum price's switch and
    percent belong together)."""
    groups: list[dict[str, Any]] = [{name: form.get(name)} for name in _REQUIRED_SETTINGS]
    groups += [
        {name: form.get(name) or None}
        for name in _OPTIONAL_SETTINGS
        if name != "minimum_price_percent"
    ]
    groups.append(
        {
            "minimum_price_percent": form.get("minimum_price_percent") or None,
            "use_minimum_price": form.has("use_minimum_price"),
        }
    )
    return groups


@router.post("/accounts/{name}/storefronts/{code}", response_class=HTMLResponse, dependencies=CSRF)
def update_storefront(
    request: Request, context: Context, user: Admin, form: Posted, name: str, code: str
) -> Response:
    """Change one storefront's settings (those of ``accounts set --storefront``): every field
    is checked, and one refused value changes nothing."""
    try:
        storefront = Storefront.parse(code)
    except ValueError:
        return _not_found(request, user, name)
    errors = FormErrors()
    wanted = _parse_warehouses(form.get("warehouses"), errors)
    try:
        with transaction(context.factory) as session:
            repository = AccountRepository(session)
            account = repository.get(name)
            settings = repository.storefront(account, storefront)
            for changes in _setting_changes(form):
                try:
                    repository.update_storefront(account, storefront, changes)
                except InvalidSettingError as exc:
                    errors.add_setting_error(exc)
            if not errors:
                for local in set(settings.warehouse_map()) - set(wanted):
                    repository.map_warehouse(account, storefront, local, None)
                for local, id_warehouse in wanted.items():
                    try:
                        repository.map_warehouse(account, storefront, local, id_warehouse)
                    except InvalidSettingError as exc:
                        errors.add("warehouses", f"{local}={id_warehouse} — {exc.reason}")
            if errors:
                raise _Refused
    except AccountNotFoundError:
        return _not_found(request, user, name)
    except _Refused:
        pass
    except AccountError as exc:  # the account does not sell there
        return _detail(request, context, user, name, status_code=422, add_error=str(exc))
    if errors:
        typed = {key: form.get(key) for key in (*_REQUIRED_SETTINGS, *_OPTIONAL_SETTINGS)}
        typed["use_minimum_price"] = "on" if form.has("use_minimum_price") else ""
        typed["warehouses"] = form.get("warehouses")
        return _detail(
            request,
            context,
            user,
            name,
            status_code=422,
            storefront_errors={storefront.value: errors},
            storefront_values={storefront.value: typed},
        )
    return RedirectResponse(
        f"/accounts/{name}?saved=storefront#storefront-{storefront.value}", status_code=303
    )


@router.post("/accounts/{name}/schedules", response_class=HTMLResponse, dependencies=CSRF)
def update_schedules(
    request: Request, context: Context, user: Admin, form: Posted, name: str
) -> Response:
    """Set how often each kind of job runs for the account (``schedules set``): 5, 15 or 60
    minutes, or off. All kinds are checked before any is saved."""
    errors: dict[str, str] = {}
    wanted: dict[JobKind, int] = {}
    for kind in JobKind:
        text = form.get(f"interval_{kind.value}")
        if not text:
            continue
        if not text.isdigit() or int(text) not in ALLOWED_INTERVALS:
            errors[kind.value] = (
                f"{JOB_LABELS[kind]}: {text} — choose every 5, 15 or 60 minutes, or off"
            )
            continue
        wanted[kind] = int(text)
    if not errors:
        try:
            with transaction(context.factory) as session:
                account = _load(session, name)
                for kind, minutes in wanted.items():
                    ledger.set_interval(session, account.id, kind, minutes, now=context.clock())
        except AccountNotFoundError:
            return _not_found(request, user, name)
        return RedirectResponse(f"/accounts/{name}?saved=schedules#schedules", status_code=303)
    return _detail(request, context, user, name, status_code=422, schedule_errors=errors)


@router.post("/accounts/{name}/jobs/{kind}", response_class=HTMLResponse, dependencies=CSRF)
def run_job_now(
    request: Request, context: Context, user: Operator, name: str, kind: str
) -> Response:
    """Queue one job of ``kind`` now (``jobs add``); the same job already queued is not queued
    twice."""
    try:
        job_kind = JobKind(kind)
    except ValueError:
        return _not_found(request, user, name)
    with context.factory() as session:
        try:
            account_id = _load(session, name).id
        except AccountNotFoundError:
            return _not_found(request, user, name)
    try:
        queued = context.queue.submit(
            account_id=account_id, kind=job_kind, trigger=JobTrigger.MANUAL
        )
        message = (
            f"Queued job {queued.job_id}: {job_kind.value}."
            if queued.created
            else f"Already queued as job {queued.job_id}."
        )
    except Exception:  # the queue is down: say so instead of a server error
        message = "The job queue cannot be reached right now; try again shortly."
    if is_htmx(request):
        return HTMLResponse(f'<span class="run-result" role="status">{escape(message)}</span>')
    return _detail(request, context, user, name, notice=message)


# ---------------------------------------------------------------------------------------------
# Test Connection


@dataclass
class ConnectionVerdict:
    """The connection test in words: one sentence to read first, then the details (problems,
    then warnings), and whether it is good news (``ok``), a warning, or an error."""

    level: str  # "ok" | "warning" | "error"
    headline: str
    details: list[str] = field(default_factory=list)
    base_url: str = ""

    @property
    def ok(self) -> bool:
        return self.level != "error"


class _ObservedClient(KauflandClient):
    """A client that remembers the last error a request raised, so the verdict can be chosen
    by the error's class, while ``check_connection`` keeps the reporting it does."""

    last_error: api_errors.KauflandError | None = None

    async def request(self, method: str, path: str, **options: Any) -> ApiResponse:
        try:
            return await super().request(method, path, **options)
        except api_errors.KauflandError as exc:
            self.last_error = exc
            raise


def _skew_sentence(skew: float) -> str:
    text = api_errors.describe_skew(skew)
    return text[:1].upper() + text[1:]


def _error_headline(error: api_errors.KauflandError, base_url: str) -> str:
    """One sentence per kind of failure, the way a seller would put it."""
    if isinstance(error, api_errors.ClockSkewError):
        return f"{_skew_sentence(error.skew_seconds)}: Kaufland refused the request"
    if isinstance(error, api_errors.SignatureError):
        return "The secret key is wrong: Kaufland refused the signature"
    if isinstance(error, api_errors.InvalidCredentialsError):
        return "The client key is wrong: Kaufland does not know it"
    if isinstance(error, api_errors.InactiveAccountError):
        return "The seller account is not active on Kaufland"
    if isinstance(error, api_errors.AuthenticationError):
        return "Kaufland refused the credentials"
    if isinstance(error, api_errors.TransportError):
        return f"Cannot reach {base_url}"
    if isinstance(error, api_errors.RateLimitedError):
        return "Kaufland is busy (too many requests): try again in a minute"
    if isinstance(error, api_errors.ServerError):
        return f"Kaufland could not answer (HTTP {error.status_code}): try again later"
    if isinstance(error, api_errors.ApiError):
        return f"Kaufland answered with an error (HTTP {error.status_code})"
    return "The connection test failed"


def _clock_words(skew: float | None) -> str:
    if skew is None:
        return "clock not compared (Kaufland sent no time)"
    if abs(skew) > _CLOCK_WARNING_SECONDS:
        return api_errors.describe_skew(skew)
    # The Date header has whole seconds, so "within 2 s" is the best it can say.
    return f"clock within {max(2, math.ceil(abs(skew)))} s"


def verdict_for(
    report: ConnectionReport, error: api_errors.KauflandError | None
) -> ConnectionVerdict:
    """Turn what ``check_connection`` found (and the error that stopped it, if one did) into
    a :class:`ConnectionVerdict`."""
    details = [*report.problems, *report.warnings]
    if error is not None and (not report.credentials_ok or not report.ok):
        return ConnectionVerdict(
            "error", _error_headline(error, report.base_url), details, report.base_url
        )
    skew = report.clock_skew_seconds
    if skew is not None and abs(skew) > _CLOCK_LIMIT_SECONDS:
        return ConnectionVerdict("error", _skew_sentence(skew), details, report.base_url)
    if report.missing:
        missing = ", ".join(report.missing)
        noun = "Storefront" if len(report.missing) == 1 else "Storefronts"
        verb = "is" if len(report.missing) == 1 else "are"
        headline = f"Connected, but {noun.lower()} {missing} {verb} not set up for this seller"
        return ConnectionVerdict("error", headline, details, report.base_url)
    if not report.ok:
        return ConnectionVerdict("error", "The connection test failed", details, report.base_url)
    available = ", ".join(report.configured) or "none"
    headline = f"Connected: storefronts {available} available; {_clock_words(skew)}"
    if report.unused:
        details.append(
            "Also set up on Kaufland but not sold on here: " + ", ".join(report.unused) + "."
        )
    level = "warning" if report.warnings else "ok"
    return ConnectionVerdict(level, headline, details, report.base_url)


def _client_for(context: WebContext, name: str) -> tuple[_ObservedClient, list[Storefront]]:
    """The account's client (its secret key decrypted only into it) and storefronts."""
    with context.factory() as session:
        account = _load(session, name)
        service = AccountService(AccountRepository(session), context.secret_box())
        client = _ObservedClient(
            account.client_key,
            service.secret_key(account),
            base_url=base_url_for(account),
            retry=_TEST_RETRY,
            timeout=_TEST_TIMEOUT,
        )
        return client, [s.storefront for s in account.storefronts]


@router.post("/accounts/{name}/test", response_class=HTMLResponse, dependencies=CSRF)
async def test_connection(
    request: Request, context: Context, user: Operator, name: str
) -> Response:
    """Run the connection check of ``accounts test`` and answer in plain words: an htmx
    fragment for the button, the whole page without JavaScript."""
    try:
        client, storefronts = await run_in_threadpool(_client_for, context, name)
    except AccountNotFoundError:
        return _not_found(request, user, name)
    except (MasterKeyError, SecretDecryptionError):
        verdict = ConnectionVerdict(
            "error",
            "The stored secret key cannot be decrypted with this installation's master key",
            ["Enter the secret key again (Edit), or start with the master key it was saved with."],
        )
    except InvalidSettingError as exc:
        verdict = ConnectionVerdict("error", f"The account has no usable base URL: {exc.reason}")
    else:
        async with client:
            report = await check_connection(client, storefronts)
        verdict = verdict_for(report, client.last_error)
    if is_htmx(request):
        return templates.TemplateResponse(
            request, "pages/accounts_test_result.html", {"verdict": verdict}
        )
    return await run_in_threadpool(_detail, request, context, user, name, verdict=verdict)

"""``/settings``: how catalogue data becomes Kaufland data, per account and storefront.

Five sections on one page, each the web face of a command line that already exists:

* **Prices** (``accounts set --currency-rate/--markup-percent/--rounding/--minimum-price-percent
  /--base-currency``) with a live preview: the price the offer sync would publish on every
  storefront of the account, for a sample price or a catalogue SKU, computed by the mapper the
  sync runs (:func:`kaufland_sync.sync.mappers.offers.offer_payload`) with the form's unsaved
  values applied to a detached copy of the settings;
* **Stock and shipping** (``--buffer-stock/--max-stock/--handling-time/--shipping-group/
  --warehouse``), with Kaufland's warehouses and shipping groups loaded on demand
  (``GET /settings/kaufland``) to choose the ids from;
* **Categories** (``categories refresh|suggest|map``), with Kaufland's guesses one click away;
* **Carriers** and **order mappings** (``mappings set|unset``), the carrier choice filled from
  Kaufland's ``GET /carriers`` (the REST API's cached carrier source).

Every change goes through the function the command calls (``AccountRepository``,
``CategoryService``, ``order_mapping.set_rule``), so a rule has one implementation. Everybody
signed in may read the page; only admins change settings, and every form carries the CSRF token.
A refused value answers 422 with the page, the field named and nothing saved; a saved one
redirects back (POST/redirect/GET) with a confirmation.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.backoffice.protocol import Currency, ProductRecord
from kaufland_sync.logging import get_logger
from kaufland_sync.pricing import ROUNDING_RULES, PricingError
from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models import (
    FulfillmentType,
    OrderUnitCancelReason,
    OrderUnitRefundReason,
    OrderUnitStatus,
)
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.accounts import (
    BASE_CURRENCIES,
    SETTING_FIELDS,
    AccountError,
    AccountRepository,
    InvalidSettingError,
)
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, AccountStorefront, WarehouseMapping
from kaufland_sync.store.models.catalog import Warehouse
from kaufland_sync.store.models.categories import CategorySource
from kaufland_sync.store.models.orders import MappingKind
from kaufland_sync.store.models.users import Role, User
from kaufland_sync.sync import fulfilment
from kaufland_sync.sync.categories import CategoryError, CategoryService
from kaufland_sync.sync.mappers.offers import MappingError, OfferSettings, offer_payload
from kaufland_sync.sync.order_mapping import (
    PAYMENT_SOURCE,
    EffectiveRule,
    MappingRuleError,
    check_scope,
    effective_rules,
    parse_kind,
    remap_orders,
    set_rule,
    unset_rule,
)
from kaufland_sync.sync.reservations import reserved_counts
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages._common import Admin, Context, Csrf, Viewer, missing
from kaufland_sync.web.templating import templates

__all__ = [
    "KAUFLAND_WAIT_SECONDS",
    "SECTIONS",
    "KauflandLists",
    "Preview",
    "PreviewRow",
    "kaufland_lists",
    "price_preview",
    "router",
]

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

_MAX = 1000  # longest form value we read: nothing legitimate is longer
_Text = Annotated[str, StringConstraints(max_length=_MAX)]


class _Posted(BaseModel):
    """The fields every settings form posts: the selection it was shown with. Each form adds
    its own; all are text as typed (the repository parses and validates them, naming the
    field), empty when not sent. Other fields (the CSRF token) are ignored."""

    account: _Text = ""
    storefront: _Text = ""

    def values(self) -> dict[str, str]:
        """The fields by name, as the page shows them again after a refusal."""
        return self.model_dump()


class _PricesForm(_Posted):
    currency_rate: _Text = ""
    markup_percent: _Text = ""
    rounding: _Text = ""
    minimum_price_percent: _Text = ""
    base_currency: _Text = ""


class _StockForm(_Posted):
    buffer_stock: _Text = ""
    max_stock: _Text = ""
    handling_time: _Text = ""
    id_shipping_group: _Text = ""


class _Removable(_Posted):
    """A form that adds a mapping, or with ``remove=1`` takes it away."""

    remove: _Text = ""


class _WarehouseForm(_Removable):
    local_warehouse: _Text = ""
    id_warehouse: _Text = ""


class _CategoryForm(_Removable):
    local_category: _Text = ""
    id_category: _Text = ""


class _MappingForm(_Removable):
    kind: _Text = ""
    source: _Text = ""
    target: _Text = ""
    scope: _Text = ""


#: The page's sections: (anchor, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("prices", "Prices"),
    ("stock", "Stock and shipping"),
    ("categories", "Categories"),
    ("carriers", "Carriers"),
    ("orders", "Order mappings"),
)
#: How long the page waits for Kaufland's carrier list before using the carriers accepted
#: before (a slow Kaufland must not hold the page for the client's full timeout).
KAUFLAND_WAIT_SECONDS = 5.0

#: Confirmations after a redirect (``?saved=<key>``).
_SAVED = {
    "prices": "Price settings saved.",
    "stock": "Stock and shipping settings saved.",
    "warehouse": "Warehouse mapping saved.",
    "warehouse-removed": "Warehouse mapping removed.",
    "category": "Category mapping saved (manual: suggestions never replace it).",
    "category-removed": "Category mapping removed.",
    "tree": "Kaufland's category tree refreshed.",
    "suggest": "Kaufland's suggestions stored for every category not mapped by hand.",
    "mapping": "Mapping saved.",
    "mapping-removed": "Mapping removed; the rule for every storefront or the default applies.",
    "carrier": "Mapping saved.",
    "carrier-removed": "Mapping removed; the rule for every storefront applies, if any.",
}
#: Which section each confirmation belongs to.
_SAVED_SECTION = {
    "prices": "prices",
    "stock": "stock",
    "warehouse": "stock",
    "warehouse-removed": "stock",
    "category": "categories",
    "category-removed": "categories",
    "tree": "categories",
    "suggest": "categories",
    "carrier": "carriers",
    "carrier-removed": "carriers",
    "mapping": "orders",
    "mapping-removed": "orders",
}

#: A storefront setting's (or form field's) label, used to name the field in errors.
_LABELS = {
    "currency_rate": "Currency rate",
    "markup_percent": "Markup (%)",
    "rounding": "Rounding",
    "minimum_price_percent": "Minimum price (%)",
    "use_minimum_price": "Minimum price (%)",
    "base_currency": "Catalogue currency",
    "buffer_stock": "Buffer stock",
    "max_stock": "Maximum stock",
    "handling_time": "Handling time",
    "id_shipping_group": "Shipping group",
    "local_warehouse": "Local warehouse",
    "warehouse": "Local warehouse",
    "id_warehouse": "Kaufland warehouse id",
    "local_category": "Local category",
    "id_category": "Kaufland category id",
    "price": "Sample price",
    "currency": "Sample currency",
    "sku": "SKU",
    "kind": "Kind",
    "source": "Source",
    "target": "Target",
    "storefront": "Storefront",
    "account": "Account",
}
#: The form field that shows a setting's error (``use_minimum_price`` has no input of its own).
_FORM_FIELD = {"use_minimum_price": "minimum_price_percent", "warehouse": "local_warehouse"}

#: Mapping kinds of the order section (carriers have a section of their own).
_ORDER_KINDS = (
    MappingKind.STATUS,
    MappingKind.PAYMENT,
    MappingKind.SHIPPING,
    MappingKind.CANCEL_REASON,
    MappingKind.REFUND_REASON,
)
_KIND_TITLES = {
    MappingKind.STATUS: "Order statuses (Kaufland → local)",
    MappingKind.PAYMENT: "Payment methods (Kaufland → local)",
    MappingKind.SHIPPING: "Shipping methods (Kaufland fulfilment → local)",
    MappingKind.CARRIER: "Carriers (local → Kaufland)",
    MappingKind.CANCEL_REASON: "Cancel reasons (local → Kaufland)",
    MappingKind.REFUND_REASON: "Refund reasons (local → Kaufland)",
}
#: Kinds whose change maps the stored orders again (as ``mappings set`` does).
_REMAPPED = (MappingKind.STATUS, MappingKind.PAYMENT, MappingKind.SHIPPING)


class _Refused(Exception):
    """A form refused: the section, the form field and a message naming field and record."""

    def __init__(self, section: str, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.section = section
        self.field = field
        self.message = message
        self.status = status


@dataclass(frozen=True)
class FormError:
    """What the template needs to show a refusal next to its form."""

    section: str
    field: str
    message: str


# ------------------------------------------------------------------------------ selection


@dataclass
class _Selection:
    """The accounts, the chosen account and the chosen storefront settings (or None)."""

    accounts: list[str]
    account: Account | None
    storefront: AccountStorefront | None


def _select(session: Session, account_name: str, storefront: str) -> _Selection:
    """The account named (else the first by name) and its storefront (else its first).
    An unknown account, or a storefront it does not sell on, is a 404 refusal."""
    accounts = list(session.scalars(select(Account).order_by(Account.name)))
    names = [a.name for a in accounts]
    if not accounts:
        return _Selection(names, None, None)
    chosen = accounts[0]
    if account_name:
        found = next((a for a in accounts if a.name == account_name), None)
        if found is None:
            raise _Refused("page", "account", f"Account: no account named {account_name!r}", 404)
        chosen = found
    settings: AccountStorefront | None = chosen.storefronts[0] if chosen.storefronts else None
    if storefront:
        try:
            settings = AccountRepository(session).storefront(chosen, storefront)
        except (AccountError, ValueError) as exc:
            raise _Refused("page", "storefront", f"Storefront: {exc}", 404) from None
    for item in chosen.storefronts:  # loaded now: the template reads them after the session
        _ = item.warehouses
    return _Selection(names, chosen, settings)


def _where(account: str, storefront: str | None) -> str:
    return f"account {account!r}" + (f", storefront {storefront}" if storefront else "")


def _setting_refusal(
    section: str, exc: AccountError, account: str, storefront: str | None
) -> _Refused:
    """An ``AccountError`` from the repository as a refusal naming the form field."""
    if isinstance(exc, InvalidSettingError):
        name = _FORM_FIELD.get(exc.field, exc.field)
        label = _LABELS.get(exc.field, exc.field)
        return _Refused(
            section, name, f"{label} ({_where(account, storefront)}): {exc.value}: {exc.reason}"
        )
    return _Refused(section, "storefront", str(exc))


# ------------------------------------------------------------------------------ prices


def _price_changes(
    currency_rate: str | None,
    markup_percent: str | None,
    rounding: str | None,
    minimum_price_percent: str | None,
) -> dict[str, Any]:
    """The storefront changes the price form asks for, as ``accounts set`` builds them: an
    empty minimum price switches ``minimum_price`` off, a value switches it on. ``None``
    leaves a setting as it is."""
    changes: dict[str, Any] = {}
    for name, value in (
        ("currency_rate", currency_rate),
        ("markup_percent", markup_percent),
        ("rounding", rounding),
    ):
        if value is not None:
            changes[name] = value
    if minimum_price_percent is not None:
        if minimum_price_percent.strip():
            changes["minimum_price_percent"] = minimum_price_percent
            changes["use_minimum_price"] = True
        else:
            changes["use_minimum_price"] = False
    return changes


def _base_currency(value: str) -> str | None:
    """The form's catalogue currency: empty is the default (EUR), as ``none`` in the CLI."""
    return value.strip() or None


def _detached_copy(account: Account) -> Account:
    """A transient copy of ``account`` and its storefront settings (with warehouses), never
    added to a session: the preview applies unsaved values to it through the repository's
    own validation, and nothing can reach the database."""
    twin = Account(name=account.name, base_currency=account.base_currency)
    for settings in account.storefronts:
        copy = AccountStorefront(
            storefront=settings.storefront,
            **{name: getattr(settings, name) for name in SETTING_FIELDS},
        )
        for mapping in settings.warehouses:
            copy.warehouses.append(
                WarehouseMapping(
                    local_warehouse=mapping.local_warehouse, id_warehouse=mapping.id_warehouse
                )
            )
        twin.storefronts.append(copy)
    return twin


@dataclass(frozen=True)
class PreviewRow:
    """One storefront's outcome: the prices in minor units, or why none would be sent."""

    storefront: str
    currency: str
    listing_price: int | None = None
    minimum_price: int | None = None
    amount: int | None = None
    error: str | None = None
    draft: bool = False
    sends_prices: bool = True

    @property
    def listing_text(self) -> str:
        return _money(self.listing_price)

    @property
    def minimum_text(self) -> str:
        return _money(self.minimum_price)


@dataclass(frozen=True)
class Preview:
    """The preview of one sample (a price or a catalogue SKU) on every storefront."""

    price: str = ""
    currency: str = ""
    sku: str = ""
    title: str | None = None
    rows: list[PreviewRow] = field(default_factory=list)
    error: FormError | None = None


def _money(minor: int | None) -> str:
    if minor is None:
        return ""
    return f"{Decimal(minor) / 100:.2f}"


def _sample_minor(text: str) -> int:
    """A sample price typed by a person (``12.50`` or ``12,50``) in minor units."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{text!r}: give a price above 0")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"{text!r}: at most 2 decimal places")
    if value > Decimal(10_000_000):
        raise ValueError(f"{text!r}: at most 10000000")
    return int(value * 100)


def price_preview(
    context: WebContext,
    account_name: str,
    *,
    price: str = "",
    currency: str = "",
    sku: str = "",
    storefront: str = "",
    draft: Mapping[str, str | None] | None = None,
) -> Preview:
    """What the offer sync would publish on each of the account's storefronts for a sample
    ``price`` in ``currency`` (default: the account's catalogue currency), or for catalogue
    product ``sku`` (with its stock, its reservations and the storefronts' warehouses). ``draft``
    holds unsaved price-form values for ``storefront`` (and the catalogue currency); they are
    validated as a save would validate them and applied to a copy only."""
    draft = draft or {}
    result = Preview(price=price, currency=currency, sku=sku)
    with context.factory() as session:
        selection = _select(session, account_name, "")
        account = selection.account
        if account is None:
            return result
        copy = _detached_copy(account)
        changes = _price_changes(
            draft.get("currency_rate"),
            draft.get("markup_percent"),
            draft.get("rounding"),
            draft.get("minimum_price_percent"),
        )
        try:
            # The transient copy is in no session: the repository's flush has nothing to
            # write, so this is its validation alone.
            repository = AccountRepository(session)
            if storefront and changes:
                repository.update_storefront(copy, storefront, changes)
            if draft.get("base_currency") is not None:
                repository.set_base_currency(copy, _base_currency(draft["base_currency"] or ""))
        except AccountError as exc:
            refusal = _setting_refusal("prices", exc, account.name, storefront or None)
            return dataclasses.replace(
                result, error=FormError("prices", refusal.field, refusal.message)
            )
        except ValueError as exc:
            return dataclasses.replace(
                result, error=FormError("prices", "storefront", f"Storefront: {exc}")
            )
        try:
            record, levels, reserved = _sample(
                context, session, account, copy, price, currency, sku
            )
        except _Refused as refusal:
            return dataclasses.replace(
                result, error=FormError("preview", refusal.field, refusal.message)
            )
    if record is None:
        return result
    rows = []
    for settings in copy.storefronts:
        code = settings.storefront
        row = PreviewRow(
            storefront=code.value,
            currency=code.currency.value,
            draft=bool(changes) and code.value == storefront,
        )
        try:
            offer = OfferSettings.from_storefront(settings, base_currency=copy.base_currency)
            payload = offer_payload(record, levels, reserved, offer)
        except MappingError as error:
            rows.append(dataclasses.replace(row, error=f"{error.field}: {error.reason}"))
            continue
        except PricingError as error:
            rows.append(dataclasses.replace(row, error=str(error)))
            continue
        rows.append(
            dataclasses.replace(
                row,
                listing_price=payload.listing_price,
                minimum_price=payload.minimum_price,
                amount=payload.amount if sku else None,
                sends_prices=offer.send_prices,
            )
        )
    return dataclasses.replace(
        result,
        currency=str(record.currency),
        title=record.title if sku else None,
        rows=rows,
    )


def _sample(
    context: WebContext,
    session: Session,
    account: Account,
    copy: Account,
    price: str,
    currency: str,
    sku: str,
) -> tuple[ProductRecord | None, list[Any], int]:
    """The product the preview prices: the catalogue's ``sku``, else a sample at ``price``.
    Nothing asked (both empty): None."""
    if sku.strip():
        wanted = sku.strip()
        catalog = BuiltinCatalog(context.factory)
        record = catalog.get_products([wanted]).get(wanted)
        if record is None:
            raise _Refused("preview", "sku", f"SKU: no product {wanted!r} in the catalogue")
        if record.handling_time is None:
            # The preview is about prices and stock; a missing handling time is reported by
            # the offer sync itself.
            record = dataclasses.replace(record, handling_time=1)
        levels = catalog.stock_levels([wanted]).get(wanted, [])
        reserved = reserved_counts(session, account.id, [wanted]).get(wanted, 0)
        return record, list(levels), reserved
    if not price.strip():
        return None, [], 0
    try:
        minor = _sample_minor(price)
    except ValueError as exc:
        raise _Refused("preview", "price", f"Sample price: {exc}") from None
    code = currency.strip().upper() or copy.base_currency or "EUR"
    try:
        chosen = Currency(code)
    except ValueError:
        choices = ", ".join(c.value for c in Currency)
        raise _Refused(
            "preview", "currency", f"Sample currency: {currency!r} is not one of {choices}"
        ) from None
    record = ProductRecord(
        sku="sample",
        ean="0000000000000",
        title="Sample",
        price_minor=minor,
        currency=chosen,
        handling_time=1,
    )
    return record, [], 0


# ------------------------------------------------------------------------------ page data


@dataclass(frozen=True)
class CategoryRow:
    """One local category on the chosen storefront: its mapping (if any) and the guesses."""

    local_category: str
    id_category: int | None
    name: str | None
    source: str | None
    alternatives: list[tuple[int, str | None]]
    sample_sku: str | None
    in_catalogue: bool


def _categories(context: WebContext, code: Storefront) -> dict[str, Any]:
    """Local categories with their mapping on ``code`` and the cached tree's leaves."""
    service = CategoryService(context.factory)
    tree = service.cached(code)
    names = {id_category: node.title or node.name for id_category, node in tree.items()}
    mapped = {row.local_category: row for row in service.mappings(code)}
    local = service.local_categories()
    rows = []
    for text in sorted(set(local) | set(mapped)):
        row = mapped.get(text)
        rows.append(
            CategoryRow(
                local_category=text,
                id_category=None if row is None else row.id_category,
                name=None if row is None else names.get(row.id_category),
                source=None if row is None else row.source.value,
                alternatives=(
                    [] if row is None else [(alt, names.get(alt)) for alt in row.alternatives]
                ),
                sample_sku=None if row is None else row.sample_sku,
                in_catalogue=text in local,
            )
        )
    leaves = sorted(
        ((id_category, names[id_category]) for id_category, node in tree.items() if node.is_leaf),
        key=lambda item: (item[1].casefold(), item[0]),
    )
    return {
        "rows": rows,
        "leaves": leaves,
        "tree_size": len(tree),
        "unmapped": sum(1 for r in rows if r.id_category is None),
        "manual": CategorySource.MANUAL.value,
        "suggested": CategorySource.SUGGESTED.value,
    }


def _mapping_choices() -> dict[str, dict[str, list[str]]]:
    """The allowed sources and targets per kind (empty: free text), as ``validate_rule``
    checks them."""
    return {
        MappingKind.STATUS.value: {"sources": [s.value for s in OrderUnitStatus], "targets": []},
        MappingKind.PAYMENT.value: {"sources": [PAYMENT_SOURCE], "targets": []},
        MappingKind.SHIPPING.value: {"sources": [f.value for f in FulfillmentType], "targets": []},
        MappingKind.CARRIER.value: {"sources": [], "targets": []},
        MappingKind.CANCEL_REASON.value: {
            "sources": [],
            "targets": [r.value for r in OrderUnitCancelReason],
        },
        MappingKind.REFUND_REASON.value: {
            "sources": [],
            "targets": [r.value for r in OrderUnitRefundReason],
        },
    }


def _page_data(context: WebContext, account_name: str, storefront: str) -> dict[str, Any]:
    """Everything the page shows but Kaufland's carrier list (plain data and detached rows)."""
    with context.factory() as session:
        selection = _select(session, account_name, storefront)
        local_warehouses = [(w.code, w.name) for w in session.scalars(select(Warehouse))]
        rules: list[EffectiveRule] = []
        if selection.account is not None:
            rules = effective_rules(session, selection.account.id)
    data: dict[str, Any] = {
        "accounts": selection.accounts,
        "account": selection.account,
        "settings": selection.storefront,
        "local_warehouses": sorted(local_warehouses),
        "rules": {
            kind.value: [r for r in rules if r.kind is kind]
            for kind in (MappingKind.CARRIER, *_ORDER_KINDS)
        },
        "order_kinds": [(k.value, _KIND_TITLES[k]) for k in _ORDER_KINDS],
        "choices": _mapping_choices(),
        "categories": None,
    }
    if selection.storefront is not None:
        data["categories"] = _categories(context, selection.storefront.storefront)
    return data


async def _carriers(request: Request, context: WebContext, account: Account | None) -> list[str]:
    """Kaufland's carrier names through the REST API's carrier source (``GET /carriers``,
    cached an hour; the carriers accepted before when Kaufland cannot be asked)."""
    if account is None:
        return []
    from kaufland_sync.web.api.orders import CARRIERS_STATE, KauflandCarriers

    source = getattr(request.app.state, CARRIERS_STATE, None)
    if source is None:
        source = KauflandCarriers()
        setattr(request.app.state, CARRIERS_STATE, source)
    try:
        names: list[str] = await asyncio.wait_for(
            source(context, account), timeout=KAUFLAND_WAIT_SECONDS
        )
    except TimeoutError:
        log.warning("carrier list timed out", account=account.name)
        names = await run_in_threadpool(_carriers_used, context, account.id)
    return sorted(set(names), key=str.casefold)


def _carriers_used(context: WebContext, account_id: int) -> list[str]:
    with context.factory() as session:
        return fulfilment.carriers_used(session, account_id)


async def _render(
    request: Request,
    context: WebContext,
    user: User,
    account: str,
    storefront: str,
    *,
    error: _Refused | None = None,
    values: Mapping[str, str] | None = None,
    preview: Preview | None = None,
) -> HTMLResponse:
    """The whole page; ``error`` and the submitted ``values`` when a form was refused."""
    # After a refused form the selection itself may be what was wrong (an account removed
    # meanwhile, a storefront typed by hand): fall back to a selection that exists, so the
    # refusal is still shown next to its form.
    tries = [(account, storefront)]
    if error is not None:
        tries += [(account, ""), ("", "")]
    data: dict[str, Any] | None = None
    first_refusal: _Refused | None = None
    for wanted_account, wanted_storefront in tries:
        try:
            data = await run_in_threadpool(_page_data, context, wanted_account, wanted_storefront)
            break
        except _Refused as refusal:
            first_refusal = first_refusal or refusal
    if data is None:
        assert first_refusal is not None
        return missing(
            request,
            user,
            first_refusal.message,
            title="Settings",
            back=("/settings", "Show the settings of the first account"),
            status_code=first_refusal.status,
        )
    chosen: Account | None = data["account"]
    if preview is None and chosen is not None:
        preview = await run_in_threadpool(
            lambda: price_preview(context, chosen.name, price="10.00", currency="")
        )
    data["carriers"] = await _carriers(request, context, chosen)
    saved = request.query_params.get("saved", "")
    query = request.query_params
    data.update(
        {
            "user": user,
            "can_edit": user.role.allows(Role.ADMIN),
            "sections": SECTIONS,
            "rounding_rules": ROUNDING_RULES,
            "base_currencies": BASE_CURRENCIES,
            "currencies": [c.value for c in Currency],
            "preview": preview,
            "error": (
                None if error is None else FormError(error.section, error.field, error.message)
            ),
            "values": dict(values or {}),
            "saved": _SAVED.get(saved),
            "saved_section": _SAVED_SECTION.get(saved, ""),
            "remapped": query.get("remapped"),
        }
    )
    return templates.TemplateResponse(
        request,
        "pages/settings_page.html",
        data,
        status_code=200 if error is None else error.status,
    )


def _back(account: str, storefront: str, saved: str, section: str, **extra: str) -> Response:
    """The redirect after a save: the same selection, the confirmation, the section."""
    query = {"account": account, "storefront": storefront, "saved": saved, **extra}
    return RedirectResponse(f"/settings?{urlencode(query)}#{section}", status_code=303)


# ------------------------------------------------------------------------------ routes


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request,
    context: Context,
    user: Viewer,
    account: str = "",
    storefront: str = "",
    price: str = "",
    currency: str = "",
    sku: str = "",
) -> HTMLResponse:
    """The page. ``price``/``currency``/``sku`` fill the preview (also without scripts)."""
    preview: Preview | None = None
    if price or sku:
        try:
            preview = await run_in_threadpool(
                lambda: price_preview(context, account, price=price, currency=currency, sku=sku)
            )
        except _Refused:
            preview = None  # an unknown account: the page answers 404 itself
    return await _render(request, context, user, account, storefront, preview=preview)


@router.get("/settings/preview", response_class=HTMLResponse)
async def preview_fragment(
    request: Request,
    context: Context,
    user: Viewer,
    account: str = "",
    storefront: str = "",
    price: str = "",
    currency: str = "",
    sku: str = "",
    currency_rate: str | None = None,
    markup_percent: str | None = None,
    rounding: str | None = None,
    minimum_price_percent: str | None = None,
    base_currency: str | None = None,
) -> HTMLResponse:
    """The preview table alone (htmx swaps it in as the sample or the price form changes).
    The price form's values, when sent, are previewed for ``storefront`` without saving."""
    draft = {
        "currency_rate": currency_rate,
        "markup_percent": markup_percent,
        "rounding": rounding,
        "minimum_price_percent": minimum_price_percent,
        "base_currency": base_currency,
    }
    try:
        preview = await run_in_threadpool(
            lambda: price_preview(
                context,
                account,
                price=price,
                currency=currency,
                sku=sku,
                storefront=storefront,
                draft=draft,
            )
        )
    except _Refused as refusal:
        preview = Preview(error=FormError("preview", refusal.field, refusal.message))
    return templates.TemplateResponse(
        request,
        "pages/settings_preview.html",
        {"user": user, "preview": preview},
        status_code=200,
    )


def _change_account(
    context: WebContext,
    form: Mapping[str, str],
    section: str,
    change: Callable[[AccountRepository, Account, str], None],
) -> None:
    """Run ``change(repository, account, storefront)`` for the form's account and storefront
    in one transaction (all of it is saved, or nothing, and the save is logged): the
    repository's refusals become refusals of ``section`` naming the field, an unknown
    storefront one of ``storefront``."""
    account, code = form["account"], form["storefront"]
    try:
        with transaction(context.factory) as session:
            repository = AccountRepository(session)
            change(repository, repository.get(account), code)
    except AccountError as exc:
        raise _setting_refusal(section, exc, account, code) from None
    except ValueError as exc:
        raise _Refused(section, "storefront", f"Storefront: {exc}") from None
    log.info("settings saved", section=section, account=account, storefront=code)


def _save_prices(context: WebContext, form: Mapping[str, str]) -> None:
    changes = _price_changes(
        form["currency_rate"],
        form["markup_percent"],
        form["rounding"],
        form["minimum_price_percent"],
    )

    def change(repository: AccountRepository, found: Account, code: str) -> None:
        repository.update_storefront(found, code, changes)
        repository.set_base_currency(found, _base_currency(form["base_currency"]))

    _change_account(context, form, "prices", change)


@router.post("/settings/prices", response_class=HTMLResponse, dependencies=[Csrf])
async def save_prices(
    request: Request, context: Context, user: Admin, form: Annotated[_PricesForm, Form()]
) -> Response:
    """Save one storefront's price rule and the account's catalogue currency (all or none)."""
    return await _act(request, context, user, form.values(), _save_prices, "prices", "prices")


def _save_stock(context: WebContext, form: Mapping[str, str]) -> None:
    changes: dict[str, Any] = {"buffer_stock": form["buffer_stock"]}
    for name in ("max_stock", "handling_time", "id_shipping_group"):
        # An empty optional field clears the setting (``none`` on the command line).
        changes[name] = form[name].strip() or None

    def change(repository: AccountRepository, found: Account, code: str) -> None:
        repository.update_storefront(found, code, changes)

    _change_account(context, form, "stock", change)


@router.post("/settings/stock", response_class=HTMLResponse, dependencies=[Csrf])
async def save_stock(
    request: Request, context: Context, user: Admin, form: Annotated[_StockForm, Form()]
) -> Response:
    """Save buffer stock, stock cap, handling time and shipping group of one storefront."""
    return await _act(request, context, user, form.values(), _save_stock, "stock", "stock")


def _warehouse_id(text: str, account: str, code: str) -> int:
    value = text.strip()
    if not value.isdigit() or int(value) < 1:
        raise _Refused(
            "stock",
            "id_warehouse",
            f"Kaufland warehouse id ({_where(account, code)}): {text!r}: must be a whole "
            "number, 1 or more",
        )
    return int(value)


def _map_warehouse(context: WebContext, form: Mapping[str, str]) -> None:
    account = form["account"]
    remove = form.get("remove") == "1"
    target = None if remove else _warehouse_id(form["id_warehouse"], account, form["storefront"])

    def change(repository: AccountRepository, found: Account, code: str) -> None:
        local = form["local_warehouse"].strip()
        if remove and local not in repository.storefront(found, code).warehouse_map():
            raise _Refused(
                "stock",
                "local_warehouse",
                f"Local warehouse ({_where(account, code)}): {local!r} is not mapped",
            )
        repository.map_warehouse(found, code, form["local_warehouse"], target)

    _change_account(context, form, "stock", change)


@router.post("/settings/warehouses", response_class=HTMLResponse, dependencies=[Csrf])
async def map_warehouse(
    request: Request, context: Context, user: Admin, form: Annotated[_WarehouseForm, Form()]
) -> Response:
    """Map a local warehouse to a Kaufland warehouse on one storefront, or (``remove=1``)
    forget the mapping."""
    saved = "warehouse-removed" if form.remove == "1" else "warehouse"
    return await _act(request, context, user, form.values(), _map_warehouse, saved, "stock")


def _storefront_code(section: str, text: str) -> Storefront:
    try:
        return Storefront.parse(text.strip())
    except ValueError as exc:
        raise _Refused(section, "storefront", f"Storefront: {exc}") from None


def _map_category(context: WebContext, form: Mapping[str, str]) -> None:
    code = _storefront_code("categories", form["storefront"])
    local = form["local_category"]
    service = CategoryService(context.factory)
    if form.get("remove") == "1":
        if not service.unmap(code, local):
            raise _Refused(
                "categories",
                "local_category",
                f"Local category {local.strip()!r} on {code.value}: not mapped",
            )
        return
    text = form["id_category"].strip()
    if not text.isdigit():
        raise _Refused(
            "categories",
            "id_category",
            f"Kaufland category id (local category {local.strip()!r} on {code.value}): "
            f"{text!r}: must be a whole number",
        )
    try:
        service.map(code, local, int(text))
    except CategoryError as exc:
        raise _Refused(
            "categories",
            "id_category" if local.strip() else "local_category",
            f"Local category {local.strip()!r} on {code.value}: {exc}",
        ) from None


@router.post("/settings/categories", response_class=HTMLResponse, dependencies=[Csrf])
async def map_category(
    request: Request, context: Context, user: Admin, form: Annotated[_CategoryForm, Form()]
) -> Response:
    """Map a local category to a Kaufland category by hand (also: apply a suggestion or one
    of its alternatives), or (``remove=1``) forget its mapping."""
    saved = "category-removed" if form.remove == "1" else "category"
    return await _act(request, context, user, form.values(), _map_category, saved, "categories")


@asynccontextmanager
async def _kaufland(
    context: WebContext, account: Account, code: Storefront
) -> AsyncIterator[KauflandClient]:
    """A client for ``account`` on ``code`` with a short retry: a person is waiting."""
    from kaufland_sync.clients import client_for_account
    from kaufland_sync.sellerapi import RetryPolicy

    secret = context.secret_box().decrypt(account.secret_key_encrypted, account=account.name)
    quick = RetryPolicy(max_attempts=2, base_delay=0.2, max_delay=1.0)
    async with client_for_account(
        context.settings, account, secret, storefront=code, retry=quick
    ) as client:
        yield client


def _account_for(
    context: WebContext, name: str, code: Storefront, section: str = "categories"
) -> tuple[Account, Decimal]:
    """The account (detached, with its storefronts) and its currency rate on ``code``."""
    with context.factory() as session:
        repository = AccountRepository(session)
        try:
            account = repository.get(name)
            settings = repository.storefront(account, code)
        except AccountError as exc:
            raise _Refused(section, "account", str(exc)) from None
        return account, settings.currency_rate


@dataclass(frozen=True)
class KauflandLists:
    """Kaufland's warehouses and the storefront's shipping groups, as (id, label) pairs."""

    warehouses: list[tuple[int, str]] = field(default_factory=list)
    shipping_groups: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None


async def kaufland_lists(context: WebContext, account_name: str, storefront: str) -> KauflandLists:
    """``GET /warehouses`` and ``GET /shipping-groups`` of the account on ``storefront``: the
    ids a warehouse mapping and the shipping group setting refer to. A failure (or no answer
    within :data:`KAUFLAND_WAIT_SECONDS`) is reported in ``error``."""
    from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError
    from kaufland_sync.sellerapi.errors import KauflandError

    async def fetch(account: Account, code: Storefront) -> KauflandLists:
        async with _kaufland(context, account, code) as client:
            warehouses = [
                (w.id_warehouse, (w.name or "") + (" (default)" if w.is_default else ""))
                async for w in client.warehouses.iter_all()
            ]
            groups = [
                (g.id_shipping_group, (g.name or "") + (" (default)" if g.is_default else ""))
                async for g in client.shipping_groups.iter_all(storefront=code)
            ]
        return KauflandLists(warehouses, groups)

    try:
        code = _storefront_code("stock", storefront)
        account, _ = await run_in_threadpool(_account_for, context, account_name, code, "stock")
        return await asyncio.wait_for(fetch(account, code), timeout=KAUFLAND_WAIT_SECONDS)
    except _Refused as refusal:
        return KauflandLists(error=refusal.message)
    except TimeoutError:
        return KauflandLists(error=f"Kaufland did not answer within {KAUFLAND_WAIT_SECONDS:g} s")
    except (KauflandError, MasterKeyError, SecretDecryptionError, AccountError) as exc:
        return KauflandLists(
            error=f"Kaufland's lists could not be read for {account_name!r}: {exc}"
        )


@router.get("/settings/kaufland", response_class=HTMLResponse)
async def kaufland_lists_fragment(
    request: Request, context: Context, user: Viewer, account: str = "", storefront: str = ""
) -> HTMLResponse:
    """Kaufland's warehouses and shipping groups (htmx swaps them into the stock section,
    with the datalists the id fields suggest from)."""
    lists = await kaufland_lists(context, account, storefront)
    return templates.TemplateResponse(
        request, "pages/settings_kaufland.html", {"user": user, "lists": lists}
    )


async def _ask_kaufland(
    request: Request,
    context: WebContext,
    user: User,
    form: Mapping[str, str],
    *,
    suggest: bool,
) -> Response:
    """``categories refresh`` or ``categories suggest`` for the chosen storefront."""
    from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError
    from kaufland_sync.sellerapi.errors import KauflandError

    name, code_text = form["account"], form["storefront"]
    try:
        code = _storefront_code("categories", code_text)
        account, rate = await run_in_threadpool(_account_for, context, name, code)
        service = CategoryService(context.factory, clock=context.clock)
        async with _kaufland(context, account, code) as client:
            if suggest:
                found = await service.suggest(client, code, currency_rate=rate)
                failed = [s for s in found if s.source == "none"]
                if failed:
                    notes = "; ".join(f"{s.local_category}: {s.note}" for s in failed[:3])
                    log.warning("category suggestions incomplete", account=name, notes=notes)
            else:
                await service.refresh_tree(client, code)
    except _Refused as refusal:
        return await _render(request, context, user, name, code_text, error=refusal, values=form)
    except (KauflandError, MasterKeyError, SecretDecryptionError, AccountError) as exc:
        what = "suggest categories" if suggest else "refresh the category tree"
        failure = _Refused(
            "categories", "account", f"Kaufland could not {what} for {name!r}: {exc}", 502
        )
        return await _render(request, context, user, name, code_text, error=failure, values=form)
    return _back(name, code.value, "suggest" if suggest else "tree", "categories")


@router.post("/settings/categories/refresh", response_class=HTMLResponse, dependencies=[Csrf])
async def refresh_categories(
    request: Request, context: Context, user: Admin, form: Annotated[_Posted, Form()]
) -> Response:
    """Fetch Kaufland's category tree for the storefront into the cache."""
    return await _ask_kaufland(request, context, user, form.values(), suggest=False)


@router.post("/settings/categories/suggest", response_class=HTMLResponse, dependencies=[Csrf])
async def suggest_categories(
    request: Request, context: Context, user: Admin, form: Annotated[_Posted, Form()]
) -> Response:
    """Ask Kaufland to guess the category of every local category not mapped by hand."""
    return await _ask_kaufland(request, context, user, form.values(), suggest=True)


def _set_mapping(context: WebContext, form: Mapping[str, str]) -> int | None:
    """``mappings set`` (or ``unset`` with ``remove=1``); returns how many orders were mapped
    again (None for kinds that map no stored order)."""
    name = form["account"]
    scope = form["scope"].strip()
    try:
        kind = parse_kind(form["kind"])
    except MappingRuleError as exc:
        raise _Refused("orders", "kind", f"Kind: {exc.message}") from None
    section = "carriers" if kind is MappingKind.CARRIER else "orders"
    where = scope or "every storefront"
    try:
        with transaction(context.factory) as session:
            repository = AccountRepository(session)
            try:
                account = repository.get(name)
            except AccountError as exc:
                raise _Refused(section, "account", str(exc)) from None
            if scope:
                _storefront_code(section, scope)
            try:
                check_scope(account, scope)
            except MappingRuleError as exc:
                raise _Refused(section, "scope", f"Storefront: {exc.message}") from None
            if form.get("remove") == "1":
                if not unset_rule(session, account.id, kind, form["source"], storefront=scope):
                    raise _Refused(
                        section,
                        "source",
                        f"Source: no {kind.value} rule for {form['source']!r} on {where} of "
                        f"account {name!r}",
                    )
            else:
                set_rule(
                    session, account.id, kind, form["source"], form["target"], storefront=scope
                )
            return remap_orders(session, account.id) if kind in _REMAPPED else None
    except MappingRuleError as exc:
        label = _LABELS.get(exc.field, exc.field)
        field_name = "scope" if exc.field == "storefront" else exc.field
        raise _Refused(
            section,
            field_name,
            f"{label} ({kind.value} rule of account {name!r} on {where}): {exc.message}",
        ) from None


@router.post("/settings/mappings", response_class=HTMLResponse, dependencies=[Csrf])
async def save_mapping(
    request: Request, context: Context, user: Admin, posted: Annotated[_MappingForm, Form()]
) -> Response:
    """Add or replace one mapping rule (``scope``: the storefront it applies on, empty for
    every storefront), or (``remove=1``) remove it. Status, payment and shipping changes map
    the account's stored orders again, as ``mappings set`` does."""
    form = posted.values()
    account, storefront, kind, remove = (
        posted.account,
        posted.storefront,
        posted.kind,
        posted.remove,
    )
    section = "carriers" if kind.strip().lower() == MappingKind.CARRIER.value else "orders"
    try:
        remapped = await run_in_threadpool(_set_mapping, context, form)
    except _Refused as refusal:
        return await _render(
            request, context, user, account, storefront, error=refusal, values=form
        )
    extra = {} if remapped is None else {"remapped": str(remapped)}
    saved = ("carrier" if section == "carriers" else "mapping") + (
        "-removed" if remove == "1" else ""
    )
    log.info("mapping saved", account=account, kind=kind, removed=remove == "1")
    return _back(account, storefront, saved, section, **extra)


async def _act(
    request: Request,
    context: WebContext,
    user: User,
    form: Mapping[str, str],
    action: Callable[[WebContext, Mapping[str, str]], object],
    saved: str,
    section: str,
) -> Response:
    """Run ``action(context, form)`` in the thread pool: a refusal renders the page with the
    error and the submitted values (422), success redirects back with ``saved``."""
    try:
        await run_in_threadpool(action, context, form)
    except _Refused as refusal:
        return await _render(
            request,
            context,
            user,
            form["account"],
            form["storefront"],
            error=refusal,
            values=form,
        )
    return _back(form["account"], form["storefront"], saved, section)

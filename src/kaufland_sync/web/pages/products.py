"""Products and offers: the catalogue as Kaufland sees it, per account and storefront.

* ``GET /products`` — a page of products (SKU order, keyset: ``after``/``before`` a SKU, so the
  hundredth page costs what the first does) with the offer state on each storefront of each account.
  Search (``q``: SKU, EAN or title) and filters (offer state, account, storefront, product-data
  review) narrow it. A page costs a fixed handful of queries whatever its size: the products,
  their bindings, their stock and their review statuses, each read once for the whole page.
* ``GET /products/{sku}`` — one product: its data, the EAN check, stock per warehouse and what
  open orders reserve, every binding with its last error in plain words, and Kaufland's review
  of its product data with the missing attributes.
* ``POST /products/{sku}/push`` — "push now" (operator): the product's bindings forget their
  hashes, so the next offers run sends the whole unit again, and that run is queued now. Jobs
  run per account (``JobKind.OFFERS``); nothing narrower exists, and a changes-only run sends
  little besides this product.
* ``POST /products/{sku}/pause`` and ``/resume`` (operator) — a paused offer is held on Kaufland
  and not sent until resumed (``OfferBinding.paused``, honoured by the exporter); the account's
  offers run is queued so the hold or the comeback happens now, not at the next schedule.

A SKU may hold any character, ``/`` included: the routes take it as a path
(``{sku:path}``), the actions' SKU being everything before the last part.

Actions answer htmx requests with the offers panel of the detail page, and plain form posts
with the whole page. Bad input is refused with 400 and a message naming the field and the
product, before anything is written.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import ColumnElement, String, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from kaufland_sync.backoffice._fields import FieldError, format_price, normalise_ean
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Product, StockLevel, Warehouse
from kaufland_sync.store.models.categories import ProductAttribute, ProductDataStatus
from kaufland_sync.store.models.jobs import JobKind, JobTrigger
from kaufland_sync.store.models.sync import BindingState, OfferBinding
from kaufland_sync.store.models.users import Role, User
from kaufland_sync.sync.reservations import reserved_counts
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages._common import (
    Context,
    Csrf,
    FilterError,
    Operator,
    Viewer,
    is_htmx,
    missing,
)
from kaufland_sync.web.templating import templates

__all__ = [
    "PAGE_SIZES",
    "ReviewStatus",
    "explain_error",
    "router",
]

router = APIRouter(include_in_schema=False)


#: Rows per page one may choose; the first is the default.
PAGE_SIZES: tuple[int, ...] = (50, 25, 100, 200)
_SKU_MAX = 255
_Q_MAX = 255


class ReviewStatus(enum.StrEnum):
    """Where Kaufland's review of the product data sent for an EAN stands (one account and
    locale). ``none``: nothing was sent, Kaufland knew the EAN or it was never checked."""

    READY = "ready"
    MISSING = "missing"
    REVIEW = "review"
    REJECTED = "rejected"
    NONE = "none"


_REVIEW_LABELS = {
    ReviewStatus.READY: "Live on Kaufland",
    ReviewStatus.MISSING: "Missing attributes",
    ReviewStatus.REVIEW: "In review",
    ReviewStatus.REJECTED: "Not built",
    ReviewStatus.NONE: "Nothing sent",
}
# Kaufland's update statuses that mean "not decided yet" (product_data.py says the same).
_PENDING_UPDATES = ("PENDING", "IN_PROGRESS")

#: The offer-state filter: every binding state plus these two.
_PAUSED = "paused"
_UNPUBLISHED = "unpublished"
_STATE_CHOICES: tuple[tuple[str, str], ...] = (
    (BindingState.FAILED.value, "Failed"),
    (BindingState.ACTIVE.value, "Active"),
    (BindingState.PENDING_CREATE.value, "Being created"),
    (BindingState.ONHOLD.value, "On hold"),
    (BindingState.DELETED.value, "Deleted"),
    (_PAUSED, "Paused"),
    (_UNPUBLISHED, "Not published"),
)
_STATE_LABELS = dict(_STATE_CHOICES)


# ------------------------------------------------------------------------------ plain words

# (what the stored error contains, lowercased) → what to do about it. The first match wins; the
# stored text is always shown too, so nothing Kaufland said is lost.
_EXPLANATIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("handling_time", "handling time"),
        "Kaufland needs a handling time: set one on the product or in the storefront's "
        "settings of the account.",
    ),
    (
        ("currency rate", "currency:"),
        "The price cannot be converted to the storefront's currency: set the storefront's "
        "currency rate in the account's settings.",
    ),
    (
        ("listing_price", "maximum", "price"),
        "The converted price is not one Kaufland accepts on this storefront (too high, or "
        "zero): check the product's price and the storefront's markup.",
    ),
    (
        ("id_offer",),
        "Kaufland accepts SKUs of 1 to 100 characters; this one cannot become an offer.",
    ),
    (
        ("earlier create did not complete",),
        "An earlier attempt to publish this offer was interrupted; the next offers run "
        "publishes it again.",
    ),
    (
        ("not listed yet",),
        "Kaufland created the offer but does not list it yet; the next offers run finds it.",
    ),
    (
        ("lookup failed", "outcome unknown"),
        "Kaufland did not answer whether the offer was created; the next offers run checks "
        "and never creates it twice.",
    ),
    (
        ("unit is gone",),
        "The offer was deleted on Kaufland's side; push the product to publish it again.",
    ),
    (
        ("unreadable in the back office",),
        "The catalogue could not read this product; fix its row and import it again.",
    ),
    (
        ("ean",),
        "Kaufland refused the EAN: check it, or send product data for it (new EANs need "
        "product data before the offer goes live).",
    ),
    (
        ("condition",),
        "Kaufland refused the product's condition for this storefront.",
    ),
    (
        ("vat",),
        "Kaufland refused the VAT indicator: set the product's or the storefront's.",
    ),
    (
        ("shipping_group", "shipping group"),
        "Kaufland refused the shipping group: check the storefront's settings.",
    ),
    (
        ("warehouse",),
        "Kaufland refused the warehouse: check the storefront's warehouse mapping.",
    ),
    (
        ("429", "too many requests", "rate limit"),
        "Kaufland asked us to slow down; the next run tries again.",
    ),
    (
        ("401", "403", "signature", "unauthor"),
        "Kaufland refused the account's keys: test the account's credentials.",
    ),
)


def explain_error(error: str | None) -> str | None:
    """The stored ``last_error`` of a binding as advice a seller can act on (``None`` when
    there is no error). Mapping errors name the field at fault and Kaufland's refusals quote
    its field messages, so matching on those words says what went wrong."""
    if not error:
        return None
    text = error.lower()
    for needles, advice in _EXPLANATIONS:
        if any(needle in text for needle in needles):
            return advice
    return "Kaufland refused the offer; its answer is quoted below. Fix it and push again."


def ean_check(ean: str) -> tuple[bool, str]:
    """(valid, what python-stdnum says) for a stored EAN, through the importer's own check."""
    try:
        normalised = normalise_ean(ean)
    except FieldError as error:
        return False, str(error)
    if normalised != ean:
        return True, f"valid, stored as {ean} (normalised: {normalised})"
    return True, f"valid EAN/GTIN ({len(ean)} digits, check digit correct)"


def review_status(row: ProductDataStatus | None) -> ReviewStatus:
    """The stored review of one EAN as one of :class:`ReviewStatus` (the same reading as
    ``kaufland_sync.sync.product_data``'s summaries)."""
    if row is None:
        return ReviewStatus.NONE
    if row.product_ready:
        return ReviewStatus.READY
    if row.missing_attributes:
        return ReviewStatus.MISSING
    if row.update_status is None or row.update_status in _PENDING_UPDATES:
        return ReviewStatus.REVIEW
    return ReviewStatus.REJECTED


def review_summary(row: ProductDataStatus) -> str:
    """One sentence about a review, for the detail page."""
    status = review_status(row)
    if status is ReviewStatus.READY:
        return f"Kaufland built the product (product {row.id_product}); offers can go live."
    if status is ReviewStatus.MISSING:
        names = ", ".join(row.missing_attributes)
        return (
            f"Kaufland needs more data: missing {names}. Set them with "
            "kaufland-sync product-data set SKU NAME VALUE, then push the product data again."
        )
    if status is ReviewStatus.REVIEW:
        return "Kaufland is reviewing the product data."
    reason = row.fail_reason or row.not_ready_reason or "no reason given"
    return f"Kaufland did not build the product ({row.update_status}: {reason})."


def _review_condition(status: ReviewStatus) -> ColumnElement[bool]:
    """SQL for :func:`review_status` of a ``product_data_statuses`` row (not for ``none``)."""
    missing = cast(ProductDataStatus.missing_attributes, String).not_in(("[]", "null"))
    pending = or_(
        ProductDataStatus.update_status.is_(None),
        ProductDataStatus.update_status.in_(_PENDING_UPDATES),
    )
    not_ready = ProductDataStatus.product_ready.is_(False)
    if status is ReviewStatus.READY:
        return ProductDataStatus.product_ready.is_(True)
    if status is ReviewStatus.MISSING:
        return not_ready & missing
    if status is ReviewStatus.REVIEW:
        return not_ready & ~missing & pending
    return not_ready & ~missing & ~pending


# ----------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class Column:
    """One account's storefront: a column of offer states."""

    account_id: int
    account: str
    storefront: Storefront

    @property
    def key(self) -> tuple[int, str]:
        return self.account_id, self.storefront.value


@dataclass
class Filters:
    q: str = ""
    state: str = ""
    account: int | None = None
    storefront: Storefront | None = None
    review: ReviewStatus | None = None
    size: int = PAGE_SIZES[0]
    after: str = ""
    before: str = ""

    def query(self, **changes: Any) -> str:
        """This page's query string with ``changes`` (empty values left out)."""
        values: dict[str, Any] = {
            "q": self.q,
            "state": self.state,
            "account": self.account or "",
            "storefront": self.storefront.value if self.storefront else "",
            "review": self.review.value if self.review else "",
            "size": self.size if self.size != PAGE_SIZES[0] else "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@dataclass
class Row:
    sku: str
    ean: str
    ean_valid: bool
    title: str
    price: str
    currency: str
    active: bool
    stock: int
    offers: dict[tuple[int, str], OfferBinding] = field(default_factory=dict)
    review: ReviewStatus = ReviewStatus.NONE


def parse_filters(params: Any, accounts: Sequence[Account]) -> tuple[Filters, list[FilterError]]:
    """The list's query parameters, checked; each bad one is an error naming it and is left
    out of the filters (the page still shows, with the message)."""
    filters = Filters()
    errors: list[FilterError] = []
    q = (params.get("q") or "").strip()
    if len(q) > _Q_MAX:
        errors.append(FilterError("q", f"Search: at most {_Q_MAX} characters."))
    else:
        filters.q = q
    state = params.get("state") or ""
    if state and state not in _STATE_LABELS:
        errors.append(
            FilterError(
                "state", f"Offer state: {state!r} is not one of {', '.join(_STATE_LABELS)}."
            )
        )
    else:
        filters.state = state
    account = params.get("account") or ""
    if account:
        known = {str(a.id): a.id for a in accounts}
        if account not in known:
            errors.append(FilterError("account", f"Account: there is no account {account!r}."))
        else:
            filters.account = known[account]
    storefront = params.get("storefront") or ""
    if storefront:
        try:
            filters.storefront = Storefront.parse(storefront)
        except ValueError as error:
            errors.append(FilterError("storefront", f"Storefront: {error}"))
    review = params.get("review") or ""
    if review:
        try:
            filters.review = ReviewStatus(review)
        except ValueError:
            choices = ", ".join(s.value for s in ReviewStatus)
            errors.append(
                FilterError("review", f"Review status: {review!r} is not one of {choices}.")
            )
    size = params.get("size") or ""
    if size:
        if not size.isdigit() or int(size) not in PAGE_SIZES:
            sizes = ", ".join(str(n) for n in sorted(PAGE_SIZES))
            errors.append(FilterError("size", f"Rows per page: {size!r} is not one of {sizes}."))
        else:
            filters.size = int(size)
    for name in ("after", "before"):
        value = params.get(name) or ""
        if len(value) > _SKU_MAX:
            errors.append(FilterError(name, f"Page cursor {name!r}: not a SKU."))
        else:
            setattr(filters, name, value)
    return filters, errors


def _columns(accounts: Sequence[Account], filters: Filters) -> list[Column]:
    return [
        Column(account.id, account.name, settings.storefront)
        for account in accounts
        if filters.account is None or account.id == filters.account
        for settings in sorted(account.storefronts, key=lambda s: s.storefront.value)
        if filters.storefront is None or settings.storefront is filters.storefront
    ]


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE of the list for ``filters`` (search, state, review), without the cursor."""
    where: list[ColumnElement[bool]] = []
    if filters.q:
        text = filters.q.lower()
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches: list[ColumnElement[bool]] = [
            func.lower(Product.sku).like(pattern, escape="\\"),
            Product.ean.like(pattern, escape="\\"),
            func.lower(Product.title).like(pattern, escape="\\"),
        ]
        if text.isdigit() and 8 <= len(text) < 13:
            # An EAN-8 or UPC-A is stored zero-padded to 13 digits.
            matches.append(Product.ean == text.zfill(13))
        where.append(or_(*matches))
    scope: list[ColumnElement[bool]] = []
    if filters.account is not None:
        scope.append(OfferBinding.account_id == filters.account)
    if filters.storefront is not None:
        scope.append(OfferBinding.storefront == filters.storefront)
    if filters.state == _UNPUBLISHED:
        # Correlated, so each product is one probe of ix_offer_bindings_sku.
        bound = select(OfferBinding.id).where(OfferBinding.sku == Product.sku, *scope)
        where.append(~bound.exists())
    elif filters.state == _PAUSED:
        where.append(
            Product.sku.in_(select(OfferBinding.sku).where(*scope, OfferBinding.paused.is_(True)))
        )
    elif filters.state:
        state = BindingState(filters.state)
        where.append(
            Product.sku.in_(select(OfferBinding.sku).where(*scope, OfferBinding.state == state))
        )
    if filters.review is not None:
        review_scope: list[ColumnElement[bool]] = []
        if filters.account is not None:
            review_scope.append(ProductDataStatus.account_id == filters.account)
        if filters.storefront is not None:
            review_scope.append(ProductDataStatus.locale == filters.storefront.locale)
        if filters.review is ReviewStatus.NONE:
            sent = select(ProductDataStatus.ean).where(*review_scope)
            where.append(Product.ean.not_in(sent))
        else:
            matching = select(ProductDataStatus.ean).where(
                *review_scope, _review_condition(filters.review)
            )
            where.append(Product.ean.in_(matching))
    return where


@dataclass
class ListPage:
    rows: list[Row]
    columns: list[Column]
    total: int
    first_sku: str | None
    last_sku: str | None
    has_previous: bool
    has_next: bool


def load_page(session: Session, filters: Filters, columns: list[Column]) -> ListPage:
    """One page of the list: products, then their bindings, stock and reviews, one query each."""
    where = _conditions(filters)
    total = session.scalar(select(func.count()).select_from(Product).where(*where)) or 0
    query = select(Product).where(*where)
    backwards = bool(filters.before) and not filters.after
    if filters.after:
        query = query.where(Product.sku > filters.after).order_by(Product.sku)
    elif backwards:
        query = query.where(Product.sku < filters.before).order_by(Product.sku.desc())
    else:
        query = query.order_by(Product.sku)
    products = list(session.scalars(query.limit(filters.size + 1)))
    more = len(products) > filters.size
    products = products[: filters.size]
    if backwards:
        products.reverse()
    has_next = more if not backwards else True
    has_previous = bool(filters.after) or (backwards and more)
    skus = [p.sku for p in products]
    rows = {
        p.sku: Row(
            sku=p.sku,
            ean=p.ean,
            ean_valid=ean_check(p.ean)[0],
            title=p.title,
            price=format_price(p.price_minor),
            currency=p.currency.value,
            active=p.active,
            stock=0,
        )
        for p in products
    }
    if skus:
        wanted = {c.key for c in columns}
        for binding in session.scalars(select(OfferBinding).where(OfferBinding.sku.in_(skus))):
            key = (binding.account_id, binding.storefront.value)
            if key in wanted:
                rows[binding.sku].offers[key] = binding
        stock = session.execute(
            select(Product.sku, func.sum(StockLevel.quantity))
            .join(StockLevel, StockLevel.product_id == Product.id)
            .where(Product.id.in_([p.id for p in products]))
            .group_by(Product.sku)
        )
        for sku, quantity in stock:
            rows[sku].stock = int(quantity or 0)
        _attach_reviews(session, rows.values(), filters)
    return ListPage(
        rows=list(rows.values()),
        columns=columns,
        total=total,
        first_sku=skus[0] if skus else None,
        last_sku=skus[-1] if skus else None,
        has_previous=has_previous,
        has_next=has_next and bool(skus),
    )


# The badge a row shows when several accounts or locales reviewed its EAN: the one needing
# attention first.
_REVIEW_ORDER = (
    ReviewStatus.MISSING,
    ReviewStatus.REJECTED,
    ReviewStatus.REVIEW,
    ReviewStatus.READY,
    ReviewStatus.NONE,
)


def _attach_reviews(session: Session, rows: Iterable[Row], filters: Filters) -> None:
    by_ean: dict[str, list[Row]] = {}
    for row in rows:
        by_ean.setdefault(row.ean, []).append(row)
    query = select(ProductDataStatus).where(ProductDataStatus.ean.in_(list(by_ean)))
    if filters.account is not None:
        query = query.where(ProductDataStatus.account_id == filters.account)
    if filters.storefront is not None:
        query = query.where(ProductDataStatus.locale == filters.storefront.locale)
    for status in session.scalars(query):
        found = review_status(status)
        for row in by_ean.get(status.ean, ()):
            if row.review is ReviewStatus.NONE or _REVIEW_ORDER.index(found) < _REVIEW_ORDER.index(
                row.review
            ):
                row.review = found


def _accounts(session: Session) -> list[Account]:
    query = select(Account).options(selectinload(Account.storefronts)).order_by(Account.name)
    return list(session.scalars(query))


def _can_act(user: User) -> bool:
    return user.role.allows(Role.OPERATOR)


@router.get("/products", response_class=HTMLResponse)
def products_page(request: Request, context: Context, user: Viewer) -> HTMLResponse:
    """The product list. A plain ``def``: FastAPI runs it in its thread pool, so the queries
    never block the event loop."""
    with context.factory() as session:
        accounts = _accounts(session)
        filters, errors = parse_filters(request.query_params, accounts)
        columns = _columns(accounts, filters)
        page = load_page(session, filters, columns)
        storefronts = sorted({s.storefront.value for a in accounts for s in a.storefronts})
        account_choices = [(a.id, a.name) for a in accounts]
    context_vars = {
        "user": user,
        "page": page,
        "filters": filters,
        "errors": errors,
        "states": _STATE_CHOICES,
        "state_labels": _STATE_LABELS,
        "reviews": [(s.value, _REVIEW_LABELS[s]) for s in ReviewStatus],
        "review_labels": {s.value: label for s, label in _REVIEW_LABELS.items()},
        "accounts": account_choices,
        "storefronts": storefronts,
        "sizes": sorted(PAGE_SIZES),
    }
    # htmx asks for the table alone when the filters change.
    name = (
        "pages/products_table.html"
        if is_htmx(request) and request.headers.get("hx-target") == "results"
        else "pages/products_list.html"
    )
    return templates.TemplateResponse(
        request, name, context_vars, status_code=400 if errors else 200
    )


# ---------------------------------------------------------------------------- the detail


@dataclass
class OfferView:
    binding: OfferBinding | None
    column: Column
    advice: str | None


@dataclass
class ReviewView:
    account: str
    locale: str
    status: ReviewStatus
    label: str
    summary: str
    row: ProductDataStatus


@dataclass
class Detail:
    product: Product
    price: str
    ean_valid: bool
    ean_message: str
    levels: list[tuple[str, str, int]]
    on_hand: int
    reserved: list[tuple[str, int]]
    offers: list[OfferView]
    reviews: list[ReviewView]
    attributes: list[tuple[str, list[str]]]
    accounts: list[tuple[int, str]]


def load_detail(session: Session, sku: str) -> Detail | None:
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        return None
    accounts = _accounts(session)
    levels = [
        (code, name, quantity)
        for code, name, quantity in session.execute(
            select(Warehouse.code, Warehouse.name, StockLevel.quantity)
            .join(StockLevel, StockLevel.warehouse_id == Warehouse.id)
            .where(StockLevel.product_id == product.id)
            .order_by(Warehouse.code)
        )
    ]
    bindings = {
        (b.account_id, b.storefront.value): b
        for b in session.scalars(select(OfferBinding).where(OfferBinding.sku == sku))
    }
    columns = _columns(accounts, Filters())
    offers = []
    for column in columns:
        binding = bindings.pop(column.key, None)
        offers.append(
            OfferView(binding, column, explain_error(binding.last_error if binding else None))
        )
    names = {a.id: a.name for a in accounts}
    # Bindings of storefronts an account no longer sells on: still shown, they still exist.
    for (account_id, code), binding in sorted(bindings.items()):
        column = Column(account_id, names.get(account_id, str(account_id)), Storefront(code))
        offers.append(OfferView(binding, column, explain_error(binding.last_error)))
    reviews = [
        ReviewView(
            names.get(row.account_id, str(row.account_id)),
            row.locale,
            review_status(row),
            _REVIEW_LABELS[review_status(row)],
            review_summary(row),
            row,
        )
        for row in session.scalars(
            select(ProductDataStatus)
            .where(ProductDataStatus.ean == product.ean)
            .order_by(ProductDataStatus.account_id, ProductDataStatus.locale)
        )
    ]
    attributes = [
        (row.name, list(row.values))
        for row in session.scalars(
            select(ProductAttribute)
            .where(ProductAttribute.product_id == product.id)
            .order_by(ProductAttribute.name)
        )
    ]
    reserved = [(a.name, reserved_counts(session, a.id, [sku]).get(sku, 0)) for a in accounts]
    valid, message = ean_check(product.ean)
    return Detail(
        product=product,
        price=format_price(product.price_minor),
        ean_valid=valid,
        ean_message=message,
        levels=levels,
        on_hand=sum(q for _, _, q in levels),
        reserved=reserved,
        offers=offers,
        reviews=reviews,
        attributes=attributes,
        accounts=[(a.id, a.name) for a in accounts if a.storefronts],
    )


def _render_detail(
    request: Request,
    context: WebContext,
    user: User,
    sku: str,
    *,
    notice: str | None = None,
    error: FilterError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with context.factory() as session:
        detail = load_detail(session, sku)
        if detail is None:
            return missing(
                request,
                user,
                f"The catalogue has no product with the SKU {sku!r}.",
                title=f"No product {sku}",
                back=("/products", "Back to the products"),
            )
        partial = is_htmx(request)
        return templates.TemplateResponse(
            request,
            "pages/products_offers.html" if partial else "pages/products_detail.html",
            {
                "user": user,
                "detail": detail,
                "can_act": _can_act(user),
                "notice": notice,
                "error": error,
                "state_labels": _STATE_LABELS,
            },
            status_code=status_code,
        )


@router.get("/products/{sku:path}", response_class=HTMLResponse)
def product_page(request: Request, context: Context, user: Viewer, sku: str) -> Response:
    """One product with its offers, stock and product-data review. ``/products/`` (no SKU,
    which the path converter would take as an empty one) goes to the list, as before."""
    if not sku:
        return RedirectResponse("/products", status_code=307)
    return _render_detail(request, context, user, sku)


# ----------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Target:
    """What an action works on: accounts and, per account, storefronts."""

    sku: str
    scope: dict[int, list[Storefront]]
    names: dict[int, str]

    def describe(self) -> str:
        parts = [
            f"{self.names[account_id]} ({', '.join(s.value for s in storefronts)})"
            for account_id, storefronts in self.scope.items()
        ]
        return "; ".join(parts)


def _target(
    session: Session,
    sku: str,
    account: str,
    storefront: str,
    *,
    account_required: bool,
) -> Target:
    """Check an action's fields; raises :class:`FilterError` naming the bad one."""
    if session.scalar(select(Product.id).where(Product.sku == sku)) is None:
        raise FilterError("sku", f"There is no product {sku!r}.")
    accounts = _accounts(session)
    names = {a.id: a.name for a in accounts}
    account = account.strip()
    storefront = storefront.strip()
    if len(account) > 20 or (account and not account.isdigit()):
        raise FilterError("account", f"Account: {account[:20]!r} is not an account id.")
    if not account:
        if account_required:
            raise FilterError("account", f"Account: choose the account to change {sku!r} on.")
        if storefront:
            raise FilterError("storefront", "Storefront: choose an account too.")
        chosen = [a for a in accounts if a.storefronts]
        if not chosen:
            raise FilterError("account", "Account: no account sells on any storefront yet.")
    else:
        found = [a for a in accounts if str(a.id) == account]
        if not found:
            raise FilterError("account", f"Account: there is no account {account!r}.")
        chosen = found
    scope: dict[int, list[Storefront]] = {}
    for a in chosen:
        sells = sorted((s.storefront for s in a.storefronts), key=lambda s: s.value)
        if storefront:
            try:
                code = Storefront.parse(storefront)
            except ValueError as error:
                raise FilterError("storefront", f"Storefront: {error}") from None
            if code not in sells:
                raise FilterError(
                    "storefront",
                    f"Storefront: account {a.name!r} does not sell on {code.value!r}.",
                )
            sells = [code]
        if not sells:
            raise FilterError("account", f"Account: {a.name!r} sells on no storefront.")
        scope[a.id] = sells
    return Target(sku, scope, names)


def _queue_offers(context: WebContext, account_ids: Iterable[int]) -> list[int]:
    """Queue the offers run of each account (an already pending one is reused by the ledger);
    the job ids."""
    return [
        context.queue.submit(
            account_id=account_id, kind=JobKind.OFFERS, trigger=JobTrigger.MANUAL
        ).job_id
        for account_id in account_ids
    ]


Field = Annotated[str, Form()]


def _act(
    request: Request,
    context: WebContext,
    user: User,
    sku: str,
    change: Callable[[Session, Target], None],
    *,
    account: str,
    storefront: str,
    account_required: bool,
    done: str,
) -> HTMLResponse:
    """Check the fields, write ``change(session, target)`` in one transaction, queue the offers
    runs, and answer with the page (or its offers panel for htmx)."""
    try:
        with transaction(context.factory) as session:
            target = _target(session, sku, account, storefront, account_required=account_required)
            change(session, target)
    except FilterError as error:
        if error.field == "sku":
            return _render_detail(request, context, user, sku, status_code=404)
        return _render_detail(request, context, user, sku, error=error, status_code=400)
    try:
        jobs = _queue_offers(context, target.scope)
    except Exception as error:  # the queue is another service: say what happened, keep the page
        message = FilterError(
            "queue",
            f"{done} for {sku} on {target.describe()}, but the offers run could not be "
            f"queued ({type(error).__name__}); it happens at the next scheduled run.",
        )
        return _render_detail(request, context, user, sku, error=message, status_code=503)
    ids = ", ".join(f"#{job}" for job in jobs)
    notice = f"{done} for {sku} on {target.describe()}; offers run queued ({ids})."
    return _render_detail(request, context, user, sku, notice=notice)


def _mark_for_resend(session: Session, target: Target) -> None:
    for account_id, storefronts in target.scope.items():
        session.execute(
            update(OfferBinding)
            .where(
                OfferBinding.sku == target.sku,
                OfferBinding.account_id == account_id,
                OfferBinding.storefront.in_(storefronts),
            )
            .values(payload_hash=None, stock_hash=None)
        )


def _pause(session: Session, target: Target) -> None:
    for account_id, storefronts in target.scope.items():
        existing = {
            b.storefront: b
            for b in session.scalars(
                select(OfferBinding).where(
                    OfferBinding.sku == target.sku,
                    OfferBinding.account_id == account_id,
                    OfferBinding.storefront.in_(storefronts),
                )
            )
        }
        for code in storefronts:
            binding = existing.get(code)
            if binding is not None:
                binding.paused = True
                continue
            # Never published: a placeholder remembers the pause (no unit, nothing to hold).
            session.add(
                OfferBinding(
                    account_id=account_id,
                    storefront=code,
                    sku=target.sku,
                    state=BindingState.ONHOLD,
                    paused=True,
                    attempts=0,
                )
            )


def _resume(session: Session, target: Target) -> None:
    for account_id, storefronts in target.scope.items():
        scope = (
            OfferBinding.sku == target.sku,
            OfferBinding.account_id == account_id,
            OfferBinding.storefront.in_(storefronts),
        )
        # Placeholders of a pause before the first publication go: the next run creates it.
        session.execute(
            delete(OfferBinding).where(
                *scope,
                OfferBinding.paused.is_(True),
                OfferBinding.id_unit.is_(None),
                OfferBinding.state == BindingState.ONHOLD,
                OfferBinding.payload_hash.is_(None),
            )
        )
        session.execute(update(OfferBinding).where(*scope).values(paused=False))


@dataclass(frozen=True)
class _Action:
    """An operator's action on a product: what it writes, whether it needs an account, and
    what the notice says it did."""

    change: Callable[[Session, Target], None]
    account_required: bool
    done: str


#: The actions, by the last part of their path. ``push`` sends the product's offers again
#: (every account, or the one chosen); ``pause`` holds the offer on one account (every
#: storefront of it, or the one given); ``resume`` lets the next offers run make it available
#: again.
ACTIONS: dict[str, _Action] = {
    "push": _Action(_mark_for_resend, False, "Marked for sending"),
    "pause": _Action(_pause, True, "Paused"),
    "resume": _Action(_resume, True, "Resumed"),
}


@router.post("/products/{sku:path}/{action}", response_class=HTMLResponse, dependencies=[Csrf])
def product_action(
    request: Request,
    context: Context,
    user: Operator,
    sku: str,
    action: str,
    account: Field = "",
    storefront: Field = "",
) -> HTMLResponse:
    """Push, pause or resume the product's offers (operator); see :data:`ACTIONS`. The SKU
    is everything between ``/products/`` and the action, so SKUs with ``/`` work too."""
    chosen = ACTIONS.get(action)
    if chosen is None:
        return missing(
            request,
            user,
            f"There is no product action {action!r}; one of {', '.join(ACTIONS)}.",
            title="Unknown action",
            back=("/products", "Back to the products"),
        )
    return _act(
        request,
        context,
        user,
        sku,
        chosen.change,
        account=account,
        storefront=storefront,
        account_required=chosen.account_required,
        done=chosen.done,
    )

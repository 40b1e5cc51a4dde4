"""The REST API's request and response bodies (pydantic), so the OpenAPI document describes
every field exactly.

Conventions: money is an integer count of minor units (``price_minor``: 12.99 EUR is 1299) with
its currency; times are ISO 8601 in UTC; lists are pages ``{items, total, limit, offset}``.
Nothing here ever carries a secret (secret keys, token hashes, session data).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from kaufland_sync.store.models.accounts import Environment, OnDeactivate, SyncDirection
from kaufland_sync.store.models.catalog import Condition, Currency, VatIndicator
from kaufland_sync.store.models.jobs import JobKind, JobState, JobTrigger
from kaufland_sync.store.models.orders import StockState
from kaufland_sync.store.models.outbox import OutboxAction, OutboxState
from kaufland_sync.store.models.sync import BindingState

__all__ = [
    "AccountOut",
    "CancelIn",
    "JobIn",
    "JobOut",
    "JobPage",
    "OfferOut",
    "OfferPage",
    "OrderDetail",
    "OrderLineOut",
    "OrderOut",
    "OrderPage",
    "Page",
    "PriceIn",
    "Problem",
    "ProblemField",
    "ProductOut",
    "ProductPage",
    "QueuedAction",
    "QueuedActions",
    "ReturnOut",
    "ReturnPage",
    "ReturnUnitOut",
    "ShipmentIn",
    "StockIn",
    "StockItemIn",
    "StockLevelOut",
    "StockResult",
    "StorefrontOut",
]

T = TypeVar("T")

#: Longest SKU and warehouse code the catalogue stores.
SKU_MAX = 255
WAREHOUSE_MAX = 64
#: Most stock levels one bulk request may carry (one transaction; keep it bounded).
BULK_STOCK_MAX = 5000


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from position ``offset`` (at most ``limit``) of ``total``."""

    items: list[T]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)


# --- problems -------------------------------------------------------------------------------


class ProblemField(BaseModel):
    """One input at fault: where (``body.quantity``, ``query.limit``, ``carrier``) and why."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem (``application/problem+json``). ``errors`` names each input at
    fault when the request was refused for its content."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemField] | None = None


# --- accounts -------------------------------------------------------------------------------


class StorefrontOut(_Out):
    """An account's settings for one storefront (see docs/accounts.md)."""

    storefront: str
    direction_offers: SyncDirection
    direction_stock: SyncDirection
    direction_prices: SyncDirection
    direction_orders: SyncDirection
    currency_rate: str = Field(description="Decimal, as text (exact).")
    rounding: str
    markup_percent: str = Field(description="Decimal, as text (exact).")
    use_minimum_price: bool
    minimum_price_percent: str | None
    handling_time: int | None
    id_shipping_group: int | None
    condition: str | None
    vat_indicator: str | None
    buffer_stock: int
    max_stock: int | None
    on_deactivate: OnDeactivate
    warehouses: dict[str, int] = Field(description="Local warehouse code -> Kaufland id_warehouse.")


class AccountOut(_Out):
    """A seller account. Neither the secret key nor the client key is ever shown."""

    name: str
    environment: Environment
    base_url: str | None
    base_currency: str | None
    restock_returns: bool
    push_callback_url: str | None
    storefronts: list[StorefrontOut]
    created_at: datetime
    updated_at: datetime


# --- products -------------------------------------------------------------------------------


class StockLevelOut(BaseModel):
    """Quantity on hand in one local warehouse."""

    warehouse: str
    quantity: int = Field(ge=0)
    updated_at: datetime | None = None


class ProductOut(BaseModel):
    """A product of the built-in catalogue with its stock on hand (``stock``: the total)."""

    sku: str
    ean: str
    title: str
    price: str = Field(description="Decimal, as text: 12.99.")
    price_minor: int = Field(description="The price in minor units: 1299.")
    currency: Currency
    description: str | None
    brand: str | None
    category: str | None
    image_urls: list[str]
    condition: Condition
    vat_indicator: VatIndicator | None
    weight_grams: int | None
    handling_time: int | None
    active: bool
    updated_at: datetime | None
    stock: int
    stock_levels: list[StockLevelOut] | None = Field(
        default=None, description="Per warehouse; only on GET /products/{sku}."
    )


class StockIn(BaseModel):
    """A new quantity on hand of one product in one local warehouse (created if unknown)."""

    model_config = ConfigDict(extra="forbid")

    warehouse: str = Field(min_length=1, max_length=WAREHOUSE_MAX)
    quantity: int = Field(ge=0, le=2_000_000_000)


class StockItemIn(StockIn):
    """One line of a bulk stock update."""

    sku: str = Field(min_length=1, max_length=SKU_MAX)


class StockResult(BaseModel):
    """What a stock update did: levels written (changed) and left alone (same quantity)."""

    written: int
    unchanged: int


class PriceIn(BaseModel):
    """A product's new catalogue price in ``currency`` (all three have two decimals)."""

    model_config = ConfigDict(extra="forbid")

    price: Decimal = Field(
        ge=0, le=Decimal("9999999999.99"), decimal_places=2, description="12.99 (two decimals)."
    )
    currency: Currency


# --- offers ---------------------------------------------------------------------------------


class OfferOut(BaseModel):
    """One product of an account on one storefront and its Kaufland unit."""

    account: str
    storefront: str
    sku: str
    id_unit: int | None
    state: BindingState
    synced_at: datetime | None
    attempts: int
    last_error: str | None
    updated_at: datetime


# --- orders ---------------------------------------------------------------------------------


class OrderLineOut(_Out):
    """One order unit. Prices are minor units of the order's currency; ``vat`` a percentage."""

    id_order_unit: int
    sku: str | None
    status: str
    local_status: str
    stock_state: StockState
    price: int | None
    revenue_gross: int | None
    revenue_net: int | None
    shipping_rate: int | None
    vat: str | None
    sent_at: datetime | None
    cancel_reason: str | None
    delivery_time_expires_iso: datetime | None


class OrderOut(BaseModel):
    """An imported order (its lines in :class:`OrderDetail`)."""

    account: str
    id_order: str
    storefront: str
    currency: str | None
    ordered_at: datetime | None
    status: str
    local_status: str
    payment_method: str | None
    shipping_method: str | None
    units: int = Field(description="Number of order units.")


class OrderDetail(OrderOut):
    """An order with its lines and shipping address."""

    shipping_address: dict[str, Any] | None
    lines: list[OrderLineOut]


class ShipmentIn(BaseModel):
    """Ship units with a carrier (a local name from the carrier mapping, or Kaufland's)."""

    model_config = ConfigDict(extra="forbid")

    carrier: str = Field(min_length=1, max_length=128)
    tracking_numbers: list[str] = Field(default_factory=list, max_length=50)
    units: list[int] | None = Field(
        default=None, max_length=1000, description="id_order_unit values; default: all that fit."
    )


class CancelIn(BaseModel):
    """Cancel units not shipped yet, with a reason (a local word or Kaufland's)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=128)
    units: list[int] | None = Field(
        default=None, max_length=1000, description="id_order_unit values; default: all that can."
    )


class QueuedAction(BaseModel):
    """One outbox message of the command; ``new`` is false when the same command queued it
    before (then ``state`` may be past ``pending``)."""

    message_id: int
    action: OutboxAction
    target: str
    state: OutboxState
    new: bool


class QueuedActions(BaseModel):
    """What a ship or cancel command queued; ``job_id`` is the outbox job that sends it (None
    when the queue could not be reached: the scheduled outbox run sends it then)."""

    messages: list[QueuedAction]
    job_id: int | None


# --- returns --------------------------------------------------------------------------------


class ReturnUnitOut(_Out):
    id_return_unit: int
    id_order_unit: int | None
    status: str
    reason: str | None
    note: str | None
    ts_created: datetime | None
    arrived_at: datetime | None
    decided_at: datetime | None
    restocked: bool


class ReturnOut(BaseModel):
    """A return imported from Kaufland, with its units."""

    account: str
    id_return: int
    storefront: str | None
    status: str | None
    tracking_provider: str | None
    tracking_code: str | None
    ts_created: datetime | None
    ts_updated: datetime | None
    units: list[ReturnUnitOut]


# --- jobs -----------------------------------------------------------------------------------


class JobOut(BaseModel):
    """A job of the job system (see docs/jobs.md)."""

    id: int
    account: str
    kind: JobKind
    trigger: JobTrigger
    state: JobState
    attempts: int
    max_attempts: int
    enqueued_at: datetime
    not_before: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    worker: str | None
    counts: dict[str, Any]
    last_error: str | None


class JobIn(BaseModel):
    """Queue a job now (the same job already pending is not queued twice)."""

    model_config = ConfigDict(extra="forbid")

    account: str = Field(min_length=1, max_length=64)
    kind: JobKind


class ProductPage(Page[ProductOut]):
    pass


class OfferPage(Page[OfferOut]):
    pass


class OrderPage(Page[OrderOut]):
    pass


class ReturnPage(Page[ReturnOut]):
    pass


class JobPage(Page[JobOut]):
    pass

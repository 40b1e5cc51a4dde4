"""The one protocol the sync engine reads a seller's back office through.

Implementations: the built-in catalogue (:mod:`kaufland_sync.backoffice.catalog`); later an Odoo
adapter (XML-RPC on ``product.product`` and ``stock.quant``) and product-feed adapters (CSV/XML
over HTTP). Everything here is in *our* vocabulary: product, warehouse, stock level; money as
integer minor units plus currency. Mappers in the sync engine turn it into Kaufland's units.

Contract shared by every implementation
---------------------------------------
* **Identity.** A product is identified by its SKU (Kaufland's ``id_offer``). An SKU has exactly
  one EAN for its whole life; an adapter that sees an SKU's EAN change reports that record as
  skipped rather than yielding it.
* **Ordering and streaming.** :meth:`BackOffice.iter_products` yields products ordered by SKU
  (plain code-point order), fetched in pages of bounded size, so memory stays flat for a million
  products. No transaction or connection is held between pages: a product changed while the
  iteration runs may be seen before or after the change, never twice (SKU order is the page key),
  and the next incremental run picks up whatever it missed.
* **``changed_since``.** ``None`` means every product, active and inactive. A datetime (aware,
  UTC) means the products whose own data *or* whose stock levels changed at or after that
  instant (inclusive: re-reading an unchanged product is harmless because the engine compares
  payload hashes, missing one is not). Inactive products are yielded too, with
  ``active=False``, so the engine can put their offers on hold. A feed without change times may
  ignore ``changed_since`` and yield everything: that is correct, only slower.
* **Stock.** :meth:`BackOffice.stock_levels` returns quantities *on hand* per local warehouse.
  Reservations by open orders, buffers and caps are the sync engine's business.
* **Errors.** A record that cannot be read (a bad EAN in a feed, a missing price in Odoo) must not
  end the iteration: the adapter wraps the problem in :class:`SkipRecordError` naming the record
  and hands it to ``on_skip`` (default: log a warning), then continues with the next record. A
  failure of the back office as a whole (connection refused, authentication) raises
  :class:`BackOfficeUnavailableError` out of the call; the engine retries the run later.
* **Change detection hook.** :meth:`BackOffice.change_token` is cheap (no full scan) and returns
  an opaque string that differs whenever any product or stock level may have changed; a
  scheduler polls it and starts a sync only when it moved. Adapters that cannot tell return a
  fresh value every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from kaufland_sync.store.models.catalog import Condition, Currency, VatIndicator

__all__ = [
    "BackOffice",
    "BackOfficeError",
    "BackOfficeUnavailableError",
    "Condition",
    "Currency",
    "ProductRecord",
    "SkipHandler",
    "SkipRecordError",
    "StockLevel",
    "VatIndicator",
    "WarehouseRecord",
]


class BackOfficeError(Exception):
    """Root of the back office's errors."""


class SkipRecordError(BackOfficeError):
    """One record of the back office cannot be used; the others can.

    ``record`` names it (an SKU, a feed row, an Odoo id) so that the report tells the seller which
    product to fix.
    """

    def __init__(self, record: str, reason: str) -> None:
        super().__init__(f"{record}: {reason}")
        self.record = record
        self.reason = reason


class BackOfficeUnavailableError(BackOfficeError):
    """The back office as a whole cannot be read now (network, credentials, lock); retry later."""


SkipHandler = Callable[[SkipRecordError], None]


@dataclass(frozen=True, slots=True)
class ProductRecord:
    """A product as the back office describes it.

    ``price_minor`` is in minor units of ``currency`` (12.99 EUR is 1299). ``vat_indicator`` and
    ``handling_time`` are ``None`` when the product does not override the storefront's setting.
    ``updated_at`` is the last change of the product's own data (not its stock).
    """

    sku: str
    ean: str
    title: str
    price_minor: int
    currency: Currency
    description: str | None = None
    brand: str | None = None
    category: str | None = None
    image_urls: tuple[str, ...] = ()
    condition: Condition = Condition.NEW
    vat_indicator: VatIndicator | None = None
    weight_grams: int | None = None
    handling_time: int | None = None
    active: bool = True
    updated_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class StockLevel:
    """Quantity on hand (never negative) of one product in one local warehouse."""

    sku: str
    warehouse: str
    quantity: int
    updated_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class WarehouseRecord:
    """A local warehouse: its code (what warehouse mappings refer to) and a display name."""

    code: str
    name: str


@runtime_checkable
class BackOffice(Protocol):
    """Read access to a seller's products and stock (see the module docstring for the contract)."""

    def iter_products(
        self,
        changed_since: datetime | None = None,
        *,
        on_skip: SkipHandler | None = None,
    ) -> Iterator[ProductRecord]:
        """Every product (``changed_since=None``) or those changed at or after ``changed_since``,
        ordered by SKU, streamed in pages. Unreadable records go to ``on_skip``."""
        ...

    def get_products(self, skus: Iterable[str]) -> dict[str, ProductRecord]:
        """The products with these SKUs, keyed by SKU; unknown SKUs are absent from the result."""
        ...

    def stock_levels(self, skus: Iterable[str]) -> dict[str, list[StockLevel]]:
        """On-hand stock per warehouse for each requested SKU. Every requested SKU is a key; an
        SKU without stock (or unknown) maps to an empty list. Lists are ordered by warehouse."""
        ...

    def warehouses(self) -> list[WarehouseRecord]:
        """The local warehouses, ordered by code."""
        ...

    def change_token(self) -> str:
        """An opaque value that changes whenever products or stock may have changed."""
        ...

"""Product + stock + storefront settings → the Kaufland unit that offers it (pure, no I/O).

This is where our words (product, SKU, stock level, local warehouse) become Kaufland's (unit,
``id_offer``, ``amount``, ``id_warehouse``). Rules, each documented in docs/sync.md:

* ``id_offer`` is the SKU; ``ean`` the product's EAN.
* ``listing_price`` = catalogue price converted by the storefront's ``PriceRule`` (rate, markup,
  rounding), refused above Kaufland's per-currency maximum. The rate converts *from* the
  catalogue currency: a product already priced in the storefront's currency is not converted
  (markup and rounding still apply); a product in the account's catalogue currency (EUR unless
  set) needs a rate other than 1; a product in any other currency is refused, naming the fix.
* ``minimum_price`` only when the seller opted in (it switches on Kaufland's repricer).
* ``amount`` = on hand in the mapped local warehouses (all warehouses when the storefront maps
  none) - buffer - reserved by open orders, capped (``pricing.offered_stock``).
* ``id_warehouse`` = the Kaufland warehouse of the mapped local warehouse holding the most stock
  of this product (ties: the first local code in alphabetical order; no stock anywhere: the
  first mapped warehouse); ``None`` when nothing is mapped.
* ``handling_time``: the product's own, else the storefront's; neither is a mapping error.
* ``condition``: the product's when it is not ``NEW``; a ``NEW`` product takes the storefront's
  default condition when one is set (a catalogue without a condition column says ``NEW``).
* ``vat_indicator`` and ``id_shipping_group``: product override, else storefront setting, else
  left to Kaufland's default.

Field groups: ``sync stock`` sends only the **stock** group (``amount``); ``sync offers`` sends
everything. Each group has its own hash, so a stock-only update does not make the next
``sync offers`` resend prices, and vice versa.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kaufland_sync.backoffice.protocol import ProductRecord, StockLevel
from kaufland_sync.pricing import (
    CurrencyMismatchError,
    PriceRule,
    PricingError,
    RoundingRule,
    StockRule,
    convert_price,
    minimum_price,
    offered_stock,
    rule_for_currency,
)
from kaufland_sync.sellerapi.models import UnitPatchRequest, UnitRequest
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import OnDeactivate, SyncDirection

if TYPE_CHECKING:
    from kaufland_sync.store.models.accounts import AccountStorefront

__all__ = [
    "CREATE_ONLY_FIELDS",
    "PRICE_FIELDS",
    "STOCK_FIELDS",
    "MappingError",
    "OfferPayload",
    "OfferSettings",
    "offer_payload",
]

#: Fields of the stock group (``sync stock`` sends only these).
STOCK_FIELDS = ("amount",)
#: Fields of the price group (left out of updates when prices do not flow to Kaufland).
PRICE_FIELDS = ("listing_price", "minimum_price")
#: Fields Kaufland takes only when a unit is created (no PATCH can change them).
CREATE_ONLY_FIELDS = ("ean", "condition")

_OUTWARD = (SyncDirection.TO_KAUFLAND, SyncDirection.BOTH)


class MappingError(ValueError):
    """A product that cannot become an offer; names the SKU and the field at fault."""

    def __init__(self, sku: str, field_name: str, reason: str) -> None:
        super().__init__(f"{sku}: {field_name}: {reason}")
        self.sku = sku
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class OfferSettings:
    """What the mapper needs of one account's storefront settings, detached from the ORM."""

    storefront: Storefront
    price_rule: PriceRule = field(default_factory=PriceRule)
    stock_rule: StockRule = field(default_factory=StockRule)
    handling_time: int | None = None
    id_shipping_group: int | None = None
    condition: str | None = None
    vat_indicator: str | None = None
    #: Local warehouse code → Kaufland ``id_warehouse``; empty: every local warehouse counts.
    warehouses: Mapping[str, int] = field(default_factory=dict)
    #: ISO code the catalogue prices are in, which the currency rates convert from
    #: (None: ``DEFAULT_BASE_CURRENCY``).
    base_currency: str | None = None
    send_prices: bool = True
    send_stock: bool = True
    on_deactivate: OnDeactivate = OnDeactivate.ONHOLD

    @classmethod
    def from_storefront(
        cls, settings: AccountStorefront, *, base_currency: str | None = None
    ) -> OfferSettings:
        """Read an ``AccountStorefront`` (its warehouse mappings must be loaded)."""
        percent: Decimal | None = None
        if settings.use_minimum_price:
            percent = settings.minimum_price_percent or Decimal(100)
        return cls(
            storefront=settings.storefront,
            price_rule=PriceRule(
                currency_rate=settings.currency_rate,
                markup_percent=settings.markup_percent,
                rounding=RoundingRule.parse(settings.rounding),
                minimum_price_percent=percent,
            ),
            stock_rule=StockRule(buffer=settings.buffer_stock, maximum=settings.max_stock),
            handling_time=settings.handling_time,
            id_shipping_group=settings.id_shipping_group,
            condition=settings.condition,
            vat_indicator=settings.vat_indicator,
            warehouses=dict(settings.warehouse_map()),
            base_currency=base_currency,
            send_prices=settings.direction_prices in _OUTWARD,
            send_stock=settings.direction_stock in _OUTWARD,
            on_deactivate=settings.on_deactivate,
        )


def _digest(values: Mapping[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class OfferPayload:
    """Every field of one unit as we want it on Kaufland (Kaufland's names and units)."""

    id_offer: str
    ean: str
    listing_price: int
    amount: int
    handling_time: int
    condition: str
    minimum_price: int | None = None
    vat_indicator: str | None = None
    id_shipping_group: int | None = None
    id_warehouse: int | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "id_offer": self.id_offer,
            "ean": self.ean,
            "listing_price": self.listing_price,
            "minimum_price": self.minimum_price,
            "amount": self.amount,
            "handling_time": self.handling_time,
            "condition": self.condition,
            "vat_indicator": self.vat_indicator,
            "id_shipping_group": self.id_shipping_group,
            "id_warehouse": self.id_warehouse,
        }

    def payload_hash(self, *, prices: bool = True) -> str:
        """SHA-256 over the canonical JSON of every field but the stock group (and but the
        price group when ``prices`` is False: then prices are not ours to send)."""
        left_out = set(STOCK_FIELDS) | (set() if prices else set(PRICE_FIELDS))
        return _digest({k: v for k, v in self.fields().items() if k not in left_out})

    def stock_hash(self) -> str:
        """SHA-256 over the canonical JSON of the stock group."""
        return _digest({k: v for k, v in self.fields().items() if k in STOCK_FIELDS})

    def create_request(self) -> UnitRequest:
        """The ``POST /units`` body (all fields: a new unit needs a price even when prices
        are otherwise managed on Kaufland)."""
        values = {k: v for k, v in self.fields().items() if v is not None}
        return UnitRequest.model_validate(values)

    def patch(
        self, *, offer: bool = True, prices: bool = True, stock: bool = True
    ) -> UnitPatchRequest:
        """The ``PATCH``/bulk body for the chosen groups. Create-only fields are never sent.
        ``None`` optional fields are left out (a PATCH without them keeps Kaufland's value)."""
        values: dict[str, Any] = {}
        for name, value in self.fields().items():
            if name == "id_offer" or name in CREATE_ONLY_FIELDS or value is None:
                continue
            if name in STOCK_FIELDS:
                wanted = stock
            elif name in PRICE_FIELDS:
                wanted = offer and prices
            else:
                wanted = offer
            if wanted:
                values[name] = value
        return UnitPatchRequest.model_validate(values)


def _on_hand(levels: Iterable[StockLevel], warehouses: Mapping[str, int]) -> tuple[int, int | None]:
    """(quantity counted, Kaufland warehouse holding most of it)."""
    if not warehouses:
        return sum(level.quantity for level in levels), None
    by_code: dict[str, int] = {}
    for level in levels:
        if level.warehouse in warehouses:
            by_code[level.warehouse] = by_code.get(level.warehouse, 0) + level.quantity
    total = sum(by_code.values())
    codes = sorted(warehouses)
    # max() keeps the first of equal quantities, and ``codes`` is sorted: ties go to the first
    # code alphabetically, so the choice is stable from run to run (no needless updates).
    best = max(codes, key=lambda code: by_code.get(code, 0))
    return total, warehouses[best]


def offer_payload(
    product: ProductRecord,
    stock_levels: Iterable[StockLevel],
    reserved: int,
    settings: OfferSettings,
    storefront: Storefront | None = None,
) -> OfferPayload:
    """The unit for ``product`` on ``storefront`` (default: the settings' storefront).

    Raises ``MappingError`` naming the SKU and the field when the product cannot be offered."""
    where = storefront or settings.storefront
    sku = product.sku
    if not sku or len(sku) > 100:
        raise MappingError(sku, "id_offer", "the SKU must be 1-100 characters for Kaufland")
    try:
        rule = rule_for_currency(
            settings.price_rule,
            price_currency=str(product.currency),
            storefront=where.value,
            storefront_currency=where.currency.value,
            base_currency=settings.base_currency,
        )
    except CurrencyMismatchError as error:
        # The account's catalogue currency is the one lever; name it.
        hint = ""
        if not error.no_rate:
            hint = " (the account's catalogue currency"
            hint += ")" if settings.base_currency else ", EUR unless set with --base-currency)"
        raise MappingError(sku, "currency", f"{error}{hint}") from None
    try:
        listing = convert_price(product.price_minor, rule, max_minor=where.max_listing_price)
    except PricingError as error:
        raise MappingError(sku, "listing_price", str(error)) from None
    handling = product.handling_time
    if handling is None:
        handling = settings.handling_time
    if handling is None:
        raise MappingError(
            sku, "handling_time", f"no handling time: set one for storefront {where.value}"
        )
    on_hand, id_warehouse = _on_hand(stock_levels, settings.warehouses)
    condition = str(product.condition)
    if condition == "NEW" and settings.condition:
        condition = settings.condition
    vat = str(product.vat_indicator) if product.vat_indicator is not None else None
    return OfferPayload(
        id_offer=sku,
        ean=product.ean,
        listing_price=listing,
        minimum_price=minimum_price(listing, rule),
        amount=offered_stock(on_hand, reserved, settings.stock_rule),
        handling_time=handling,
        condition=condition,
        vat_indicator=vat or settings.vat_indicator,
        id_shipping_group=settings.id_shipping_group,
        id_warehouse=id_warehouse,
    )

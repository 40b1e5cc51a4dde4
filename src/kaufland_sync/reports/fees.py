"""Fee estimates for offers before they sell: what Kaufland would keep of each SKU's price.

For every active catalogue product on each of the account's storefronts:

1. **Price** — the ``listing_price`` the offers exporter publishes for it
   (``sync/mappers/offers.py``): the catalogue price through the storefront's price rule
   (currency rate, markup, rounding; ``kaufland_sync.pricing``). The rate converts from the
   account's catalogue currency only: a product already priced in the storefront's currency is
   not converted, one in another currency (or needing a rate that is still 1) has no price.
2. **Category** — the product's local category (``Product.category``) mapped to a Kaufland
   category for that storefront (``category_mappings``, see ``sync/categories.py``), and that
   category's fees in the cached tree (``kaufland_categories``: ``variable_fee`` in percent,
   ``fixed_fee`` in major units of the storefront currency).
3. **Estimate** — ``fee = round(price * variable_fee / 100) + round(fixed_fee * 100)`` minor
   units (each part rounded half up to a whole minor unit; a missing part is 0) and
   ``revenue = price - fee``. How Kaufland applies the two fees is not documented; this is the
   rule our sandbox charges (``sandbox/marketplace.py``, ``_fees`` and ``place_order``). Kaufland
   also takes the variable fee on the shipping a buyer pays; the shipping rate depends on the
   shipping group and the buyer, so it is not part of the estimate.

A row that cannot be estimated says why in ``status``: ``no_category`` (the product has none),
``unmapped`` (its category is not mapped on that storefront), ``not_in_tree`` (mapped to a
category missing from the cached tree: refresh it), ``no_fees`` (the category has neither fee),
``no_price`` (the price rule refuses the product; ``note`` says why).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaufland_sync.pricing import (
    PriceRule,
    PricingError,
    RoundingRule,
    convert_price,
    rule_for_currency,
)
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import Account, AccountStorefront
from kaufland_sync.store.models.catalog import Product
from kaufland_sync.store.models.categories import CategoryMapping, KauflandCategory

__all__ = [
    "FeeReport",
    "FeeRow",
    "FeeStatus",
    "estimate_fee",
    "fee_report",
    "offer_price",
]


class FeeStatus(enum.StrEnum):
    OK = "ok"
    NO_CATEGORY = "no_category"
    UNMAPPED = "unmapped"
    NOT_IN_TREE = "not_in_tree"
    NO_FEES = "no_fees"
    NO_PRICE = "no_price"


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def estimate_fee(price: int, variable_fee: Decimal | None, fixed_fee: Decimal | None) -> int:
    """Kaufland's fee on a piece sold at ``price`` (minor units): ``round(price * variable /
    100) + round(fixed * 100)``, each part rounded half up; a missing fee counts as 0."""
    variable = _round(Decimal(price) * (variable_fee or Decimal(0)) / 100)
    fixed = _round((fixed_fee or Decimal(0)) * 100)
    return variable + fixed


def offer_price(
    product: Product, settings: AccountStorefront, base_currency: str | None = None
) -> int:
    """The ``listing_price`` (minor units) the offers exporter would publish for ``product`` on
    ``settings.storefront``; ``PricingError`` naming the cause when it would refuse it.

    The same rule as ``offer_payload`` (:func:`kaufland_sync.pricing.rule_for_currency`): the rate
    converts from the catalogue currency (``base_currency``, EUR when unset) to the storefront's.
    """
    storefront = settings.storefront
    rule = rule_for_currency(
        PriceRule(
            currency_rate=settings.currency_rate,
            markup_percent=settings.markup_percent,
            rounding=RoundingRule.parse(settings.rounding),
        ),
        price_currency=str(product.currency),
        storefront=storefront.value,
        storefront_currency=storefront.currency.value,
        base_currency=base_currency,
    )
    return convert_price(product.price_minor, rule, max_minor=storefront.max_listing_price)


@dataclass(frozen=True, slots=True)
class FeeRow:
    """The estimate for one SKU on one storefront (money in minor units of ``currency``)."""

    sku: str
    storefront: Storefront
    currency: str
    status: FeeStatus
    price: int | None = None
    local_category: str | None = None
    id_category: int | None = None
    category: str | None = None
    variable_fee: Decimal | None = None
    fixed_fee: Decimal | None = None
    fee: int | None = None
    revenue: int | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "storefront": self.storefront.value,
            "currency": self.currency,
            "status": self.status.value,
            "price": self.price,
            "local_category": self.local_category,
            "id_category": self.id_category,
            "category": self.category,
            "variable_fee": None
            if self.variable_fee is None
            else f"{self.variable_fee.normalize():f}",
            "fixed_fee": None if self.fixed_fee is None else f"{self.fixed_fee.normalize():f}",
            "fee": self.fee,
            "revenue": self.revenue,
            "note": self.note,
        }


@dataclass(slots=True)
class FeeReport:
    """Fee estimates of one account: one row per active SKU and storefront."""

    account: str
    rows: list[FeeRow]

    def counts(self) -> dict[str, int]:
        """Rows per status (every status listed, zeros included)."""
        found = dict.fromkeys((status.value for status in FeeStatus), 0)
        for row in self.rows:
            found[row.status.value] += 1
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "counts": self.counts(),
            "rows": [row.as_dict() for row in self.rows],
        }


def _estimate(
    product: Product,
    settings: AccountStorefront,
    base_currency: str | None,
    mappings: dict[str, int],
    tree: dict[int, KauflandCategory],
) -> FeeRow:
    code = settings.storefront
    local = (product.category or "").strip() or None
    row: dict[str, Any] = {
        "sku": product.sku,
        "storefront": code,
        "currency": code.currency.value,
        "local_category": local,
    }
    try:
        row["price"] = offer_price(product, settings, base_currency)
    except PricingError as exc:
        return FeeRow(status=FeeStatus.NO_PRICE, note=str(exc), **row)
    if local is None:
        return FeeRow(status=FeeStatus.NO_CATEGORY, note="the product has no category", **row)
    id_category = mappings.get(local)
    if id_category is None:
        return FeeRow(
            status=FeeStatus.UNMAPPED,
            note=f"category not mapped on {code.value} (categories suggest / map)",
            **row,
        )
    row["id_category"] = id_category
    category = tree.get(id_category)
    if category is None:
        return FeeRow(
            status=FeeStatus.NOT_IN_TREE,
            note=f"category {id_category} is not in the cached tree (categories refresh)",
            **row,
        )
    row |= {
        "category": category.title or category.name,
        "variable_fee": category.variable_fee,
        "fixed_fee": category.fixed_fee,
    }
    if category.variable_fee is None and category.fixed_fee is None:
        return FeeRow(status=FeeStatus.NO_FEES, note="the category has no fees", **row)
    fee = estimate_fee(row["price"], category.variable_fee, category.fixed_fee)
    return FeeRow(status=FeeStatus.OK, fee=fee, revenue=row["price"] - fee, **row)


def fee_report(
    session: Session,
    account: Account,
    *,
    storefront: Storefront | None = None,
    skus: Iterable[str] | None = None,
) -> FeeReport:
    """Estimated fees of every active catalogue product (or only ``skus``) on each of
    ``account``'s storefronts (or only ``storefront``), ordered by SKU then storefront. A
    storefront the account does not sell on has no price rule, so it gives no rows."""
    settings = [s for s in account.storefronts if storefront in (None, s.storefront)]
    query = select(Product).where(Product.active.is_(True)).order_by(Product.sku)
    wanted = None if skus is None else sorted(set(skus))
    if wanted is not None:
        query = query.where(Product.sku.in_(wanted))
    products = list(session.scalars(query))
    by_storefront: list[tuple[AccountStorefront, dict[str, int], dict[int, KauflandCategory]]] = []
    for item in sorted(settings, key=lambda s: s.storefront.value):
        mappings = {
            local.strip(): id_category
            for local, id_category in session.execute(
                select(CategoryMapping.local_category, CategoryMapping.id_category).where(
                    CategoryMapping.storefront == item.storefront
                )
            )
        }
        tree = {
            row.id_category: row
            for row in session.scalars(
                select(KauflandCategory).where(KauflandCategory.storefront == item.storefront)
            )
        }
        by_storefront.append((item, mappings, tree))
    rows = [
        _estimate(product, item, account.base_currency, mappings, tree)
        for product in products
        for item, mappings, tree in by_storefront
    ]
    return FeeReport(account=account.name, rows=rows)

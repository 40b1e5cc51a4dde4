"""``import offers``: the seller's units on Kaufland → the built-in catalogue and bindings.

For every unit of the storefront (``GET /units`` with ``embedded=products``, page by page):

1. **Bind** it to a local product: by SKU (``id_offer`` = SKU) first, else by EAN when exactly
   one local product has that EAN and it is not bound to another unit already. The binding is
   an ``OfferBinding`` (state ``active``, no payload hash), so the exporter updates this unit
   instead of creating a second one for the same product. An existing binding to another unit
   is left alone and reported.
2. A unit without a local product is **reported**; when the storefront's ``direction_offers``
   is ``from_kaufland`` or ``both`` a local product is **created** from it instead (SKU =
   ``id_offer``, EAN, title, brand and main picture from the embedded Kaufland product, price
   converted back, condition, active unless on hold).
3. For bound products, Kaufland's **price** is taken when ``direction_prices`` is
   ``from_kaufland``/``both``, and its **stock** when ``direction_stock`` is; the conversions are
   in :mod:`kaufland_sync.sync.mappers.units_in`. Stock goes to the local warehouse mapped to
   the unit's ``id_warehouse`` (``default`` when none is).

Currency of created products: the account's ``base_currency`` if set; otherwise, when the
storefront has a conversion coefficient other than 1, the catalogue's most common currency (the
coefficient converts from it); otherwise the storefront's own currency.

Units are processed in chunks, each in one transaction, so a run over a million units holds
little memory and a failure keeps the chunks before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models import UnitEmbedded
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import (
    Account,
    AccountStorefront,
    SyncDirection,
    WarehouseMapping,
)
from kaufland_sync.store.models.catalog import (
    CONTENT_FIELDS,
    DEFAULT_WAREHOUSE,
    Currency,
    Product,
    StockLevel,
    Warehouse,
    content_hash,
)
from kaufland_sync.store.models.sync import BindingState, OfferBinding
from kaufland_sync.sync.mappers.units_in import (
    local_condition,
    local_price_minor,
    local_stock,
    unit_ean,
    unit_is_active,
)

__all__ = ["ImportReport", "UnmatchedUnit", "import_offers"]

CHUNK = 500
_FROM = (SyncDirection.FROM_KAUFLAND, SyncDirection.BOTH)


@dataclass
class UnmatchedUnit:
    """A unit with no local product (and none created), with the reason."""

    id_unit: int
    id_offer: str | None
    ean: str | None
    title: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id_unit": self.id_unit,
            "id_offer": self.id_offer,
            "ean": self.ean,
            "title": self.title,
            "reason": self.reason,
        }


@dataclass
class ImportReport:
    """What ``import_offers`` did on one storefront."""

    storefront: str
    units: int = 0
    bound_by_sku: int = 0
    bound_by_ean: int = 0
    already_bound: int = 0
    created: list[str] = field(default_factory=list)
    prices_updated: int = 0
    stock_updated: int = 0
    unmatched: list[UnmatchedUnit] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "storefront": self.storefront,
            "units": self.units,
            "bound_by_sku": self.bound_by_sku,
            "bound_by_ean": self.bound_by_ean,
            "already_bound": self.already_bound,
            "created": self.created,
            "prices_updated": self.prices_updated,
            "stock_updated": self.stock_updated,
            "unmatched": [u.as_dict() for u in self.unmatched],
            "conflicts": self.conflicts,
        }


def _rehash(product: Product) -> None:
    product.content_hash = content_hash({name: getattr(product, name) for name in CONTENT_FIELDS})


class _Importer:
    def __init__(
        self,
        account: Account,
        settings: AccountStorefront,
        report: ImportReport,
        currency: Currency,
        warehouses: dict[int, str],
        clock: Callable[[], datetime],
    ) -> None:
        self.account = account
        self.settings = settings
        self.report = report
        self.currency = currency
        self.clock = clock
        self.create = settings.direction_offers in _FROM
        self.take_prices = settings.direction_prices in _FROM
        self.take_stock = settings.direction_stock in _FROM
        self.warehouse_codes = warehouses  # Kaufland id_warehouse → local warehouse code
        self.bound_skus: set[str] = set()  # local SKUs bound during this run

    def price(self, unit: UnitEmbedded) -> int | None:
        if unit.listing_price is None:
            return None
        return local_price_minor(
            unit.listing_price,
            currency_rate=self.settings.currency_rate,
            markup_percent=self.settings.markup_percent,
        )

    def chunk(self, session: Session, units: list[UnitEmbedded]) -> None:
        offers = {u.id_offer for u in units if u.id_offer}
        by_sku = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(offers)))}
        eans = {e for u in units if (e := unit_ean(u))}
        by_ean: dict[str, list[Product]] = {}
        for p in session.scalars(select(Product).where(Product.ean.in_(eans))):
            by_ean.setdefault(p.ean, []).append(p)
        bindings = {
            b.sku: b
            for b in session.scalars(
                select(OfferBinding)
                .where(
                    OfferBinding.account_id == self.account.id,
                    OfferBinding.storefront == self.settings.storefront,
                )
                # Bindings of the SKUs this chunk may touch: by id_offer or by EAN match.
                .where(OfferBinding.sku.in_(offers | {p.sku for ps in by_ean.values() for p in ps}))
            )
        }
        for unit in units:
            self.report.units += 1
            self.one(session, unit, by_sku, by_ean, bindings)

    def one(
        self,
        session: Session,
        unit: UnitEmbedded,
        by_sku: dict[str, Product],
        by_ean: dict[str, list[Product]],
        bindings: dict[str, OfferBinding],
    ) -> None:
        ean = unit_ean(unit)
        title = unit.product.title if unit.product else None
        product = by_sku.get(unit.id_offer or "")
        how = "sku"
        if product is None and ean:
            candidates = [p for p in by_ean.get(ean, []) if p.sku not in self.bound_skus]
            free = [
                p
                for p in candidates
                if p.sku not in bindings or bindings[p.sku].id_unit in (None, unit.id_unit)
            ]
            if len(free) == 1:
                product, how = free[0], "ean"
            elif len(free) > 1:
                self.report.unmatched.append(
                    UnmatchedUnit(
                        unit.id_unit,
                        unit.id_offer,
                        ean,
                        title,
                        f"EAN {ean} matches {len(free)} local products "
                        f"({', '.join(p.sku for p in free)}); give the unit one of their SKUs",
                    )
                )
                return
        if product is None:
            product = self.create_product(session, unit, ean, title)
            if product is None:
                return
            by_sku[product.sku] = product
            how = "created"
        self.bind(session, unit, product, bindings, how)

    def create_product(
        self, session: Session, unit: UnitEmbedded, ean: str | None, title: str | None
    ) -> Product | None:
        if not self.create:
            reason = "no local product with this SKU or EAN"
            hint = " (direction_offers is to_kaufland: not created locally)"
            self.report.unmatched.append(
                UnmatchedUnit(unit.id_unit, unit.id_offer, ean, title, reason + hint)
            )
            return None
        price = self.price(unit)
        if not unit.id_offer or not ean or price is None:
            missing = "SKU (id_offer)" if not unit.id_offer else "EAN" if not ean else "price"
            self.report.unmatched.append(
                UnmatchedUnit(
                    unit.id_unit,
                    unit.id_offer,
                    ean,
                    title,
                    f"cannot create a local product: the unit has no {missing}",
                )
            )
            return None
        kaufland = unit.product
        product = Product(
            sku=unit.id_offer,
            ean=ean,
            # Kaufland's title is empty while its product is still being built (INCOMPLETE).
            title=(title or "").strip() or f"EAN {ean}",
            brand=(kaufland.manufacturer or None) if kaufland else None,
            image_urls=[kaufland.main_picture] if kaufland and kaufland.main_picture else [],
            price_minor=price,
            currency=self.currency,
            condition=local_condition(unit.condition),
            active=unit_is_active(unit),
        )
        product.description = None
        product.category = None
        product.vat_indicator = None
        product.weight_grams = None
        product.handling_time = None
        _rehash(product)
        session.add(product)
        session.flush()
        self.report.created.append(product.sku)
        if self.take_stock:
            self.set_stock(session, product, unit)
        return product

    def bind(
        self,
        session: Session,
        unit: UnitEmbedded,
        product: Product,
        bindings: dict[str, OfferBinding],
        how: str,
    ) -> None:
        self.bound_skus.add(product.sku)
        binding = bindings.get(product.sku)
        if binding is not None and binding.id_unit not in (None, unit.id_unit):
            self.report.conflicts.append(
                f"unit {unit.id_unit} ({unit.id_offer}) matches SKU {product.sku}, which is "
                f"already bound to unit {binding.id_unit}; left as it is"
            )
            return
        if binding is not None and binding.id_unit == unit.id_unit:
            self.report.already_bound += 1
        else:
            if binding is None:
                binding = OfferBinding(
                    account_id=self.account.id,
                    storefront=self.settings.storefront,
                    sku=product.sku,
                )
                session.add(binding)
                bindings[product.sku] = binding
            binding.id_unit = unit.id_unit
            # Bound, but never sent by us: no payload hash, so the next export sends it once.
            binding.state = BindingState.ACTIVE
            binding.last_error = None
            if how == "ean":
                self.report.bound_by_ean += 1
            else:
                self.report.bound_by_sku += 1
        if how == "created":
            return
        if self.take_prices:
            price = self.price(unit)
            if price is not None and price != product.price_minor:
                product.price_minor = price
                _rehash(product)
                self.report.prices_updated += 1
        if self.take_stock:
            self.set_stock(session, product, unit)

    def set_stock(self, session: Session, product: Product, unit: UnitEmbedded) -> None:
        code = self.warehouse_codes.get(unit.id_warehouse or -1, DEFAULT_WAREHOUSE)
        warehouse = session.scalar(select(Warehouse).where(Warehouse.code == code))
        if warehouse is None:
            warehouse = Warehouse(code=code, name=code)
            session.add(warehouse)
            session.flush()
        quantity = local_stock(unit.amount, buffer_stock=self.settings.buffer_stock)
        level = session.scalar(
            select(StockLevel).where(
                StockLevel.product_id == product.id, StockLevel.warehouse_id == warehouse.id
            )
        )
        if level is None:
            session.add(
                StockLevel(product_id=product.id, warehouse_id=warehouse.id, quantity=quantity)
            )
        elif level.quantity != quantity:
            level.quantity = quantity
        else:
            return
        self.report.stock_updated += 1


def _currency(session: Session, account: Account, settings: AccountStorefront) -> Currency:
    if account.base_currency:
        return Currency(account.base_currency)
    if settings.currency_rate != 1:
        common = session.execute(
            select(Product.currency, func.count())
            .group_by(Product.currency)
            .order_by(func.count().desc())
            .limit(1)
        ).first()
        if common is not None:
            return Currency(common[0])
    return Currency(settings.storefront.currency.value)


async def import_offers(
    client: KauflandClient,
    factory: sessionmaker[Session],
    account: Account,
    settings: AccountStorefront,
    *,
    clock: Callable[[], datetime] = utc_now,
    chunk_size: int = CHUNK,
) -> ImportReport:
    """Import the units of ``settings.storefront`` (see the module docstring)."""
    report = ImportReport(storefront=settings.storefront.value)
    with factory() as session:
        currency = _currency(session, account, settings)
        # Read here, not through ``settings.warehouses``: the settings may be detached.
        warehouses = {
            id_warehouse: local
            for local, id_warehouse in session.execute(
                select(WarehouseMapping.local_warehouse, WarehouseMapping.id_warehouse).where(
                    WarehouseMapping.account_storefront_id == settings.id
                )
            )
        }
    importer = _Importer(account, settings, report, currency, warehouses, clock)
    chunk: list[UnitEmbedded] = []
    async for unit in client.units.iter_all(storefront=settings.storefront, embedded=["products"]):
        chunk.append(unit)
        if len(chunk) >= chunk_size:
            with transaction(factory) as session:
                importer.chunk(session, chunk)
            chunk = []
    if chunk:
        with transaction(factory) as session:
            importer.chunk(session, chunk)
    return report

"""Writes to the built-in catalogue pushed by an ERP through the REST API: stock levels and
prices of existing products.

They keep the catalogue's writer contract (``kaufland_sync.store.models.catalog``): a product's
``content_hash`` is recomputed from ``CONTENT_FIELDS`` with ``content_hash``, and
``Product.updated_at`` / ``StockLevel.updated_at`` move only when the content or quantity really
changes. That is what the scheduler watches (its debounced back-office change push queues an
``offers`` job per account) and what incremental syncs read, exactly as after ``catalog
import``. Unknown warehouse codes are created, as the CSV import does.

Why not a CSV through ``import_csv``: an import row carries the whole product, so a stock push
would have to send back the price read a moment earlier and could undo a price change made in
between (and a price change the quantities). These functions change only what they are given,
each in one transaction with the products' rows locked (``FOR UPDATE`` on PostgreSQL; SQLite
serialises writers anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.iterables import chunked
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.catalog import (
    CONTENT_FIELDS,
    Currency,
    Product,
    StockLevel,
    Warehouse,
    content_hash,
)

__all__ = ["StockChange", "StockWrite", "UnknownProductsError", "set_price", "set_stock"]

# SQLite refuses too many bound parameters in one statement; stay well below.
_IN_CHUNK = 500


class UnknownProductsError(LookupError):
    """Some SKUs are not in the catalogue; nothing was written."""

    def __init__(self, skus: Sequence[str]) -> None:
        self.skus = list(skus)
        shown = ", ".join(self.skus[:10]) + (" …" if len(self.skus) > 10 else "")
        super().__init__(f"{len(self.skus)} unknown SKU(s): {shown}")


@dataclass(frozen=True, slots=True)
class StockWrite:
    """One new quantity on hand."""

    sku: str
    warehouse: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StockChange:
    """Counts of a stock update: levels written and levels that already had that quantity."""

    written: int
    unchanged: int


def _locked_products(session: Session, skus: Sequence[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for chunk in chunked(sorted(set(skus)), _IN_CHUNK):
        query = select(Product).where(Product.sku.in_(chunk)).with_for_update()
        found.update((p.sku, p) for p in session.scalars(query))
    return found


def _warehouse_ids(session: Session, codes: set[str], now: datetime) -> dict[str, int]:
    ids = {
        code: id_
        for code, id_ in session.execute(
            select(Warehouse.code, Warehouse.id).where(Warehouse.code.in_(codes))
        )
    }
    for code in sorted(codes - ids.keys()):
        warehouse = Warehouse(code=code, name=code, created_at=now, updated_at=now)
        session.add(warehouse)
        session.flush()
        ids[code] = warehouse.id
    return ids


def set_stock(
    factory: sessionmaker[Session], writes: Sequence[StockWrite], *, now: datetime
) -> StockChange:
    """Set quantities on hand, all or nothing. A (SKU, warehouse) given twice takes the last
    quantity. Raises :class:`UnknownProductsError` (nothing written) when an SKU is unknown."""
    wanted: dict[tuple[str, str], int] = {}
    for write in writes:
        if write.quantity < 0:
            raise ValueError(f"quantity of {write.sku} must not be negative")
        wanted[(write.sku, write.warehouse)] = write.quantity
    if not wanted:
        return StockChange(0, 0)
    with transaction(factory) as session:
        products = _locked_products(session, [sku for sku, _ in wanted])
        missing = sorted({sku for sku, _ in wanted} - products.keys())
        if missing:
            raise UnknownProductsError(missing)
        warehouses = _warehouse_ids(session, {code for _, code in wanted}, now)
        current: dict[tuple[int, int], StockLevel] = {}
        for chunk in chunked([p.id for p in products.values()], _IN_CHUNK):
            for row in session.scalars(select(StockLevel).where(StockLevel.product_id.in_(chunk))):
                current[(row.product_id, row.warehouse_id)] = row
        written = unchanged = 0
        for (sku, code), quantity in wanted.items():
            key = (products[sku].id, warehouses[code])
            level = current.get(key)
            if level is not None and level.quantity == quantity:
                unchanged += 1
                continue
            written += 1
            if level is None:
                session.add(
                    StockLevel(
                        product_id=key[0], warehouse_id=key[1], quantity=quantity, updated_at=now
                    )
                )
            else:
                level.quantity = quantity
                level.updated_at = now
        return StockChange(written, unchanged)


def set_price(
    factory: sessionmaker[Session],
    sku: str,
    *,
    price_minor: int,
    currency: Currency,
    now: datetime,
) -> bool:
    """Set a product's catalogue price; True when it changed (``updated_at`` moved). Raises
    :class:`UnknownProductsError` when the SKU is unknown."""
    if price_minor < 0:
        raise ValueError("price must not be negative")
    with transaction(factory) as session:
        product = _locked_products(session, [sku]).get(sku)
        if product is None:
            raise UnknownProductsError([sku])
        values = {name: getattr(product, name) for name in CONTENT_FIELDS}
        values["price_minor"] = price_minor
        values["currency"] = currency
        digest = content_hash(values)
        if digest == product.content_hash:
            return False
        product.price_minor = price_minor
        product.currency = currency
        product.content_hash = digest
        product.updated_at = now
        return True

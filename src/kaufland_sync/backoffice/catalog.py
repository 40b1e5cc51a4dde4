"""The built-in catalogue: the :class:`~kaufland_sync.backoffice.protocol.BackOffice` protocol
over the store's ``products``, ``warehouses`` and ``stock_levels`` tables.

Products are read in keyset pages ordered by SKU (``WHERE sku > :last ORDER BY sku LIMIT n``),
each page in its own short session, so a scan of a million products holds neither memory nor a
transaction. Records are built straight from rows; no ORM objects are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.protocol import (
    ProductRecord,
    SkipHandler,
    SkipRecordError,
    StockLevel,
    WarehouseRecord,
)
from kaufland_sync.iterables import chunked
from kaufland_sync.store.models.catalog import Product, Warehouse
from kaufland_sync.store.models.catalog import StockLevel as StockRow

__all__ = ["BuiltinCatalog"]

_log = structlog.get_logger(__name__)

# SQLite refuses more than 32,766 bound parameters in one statement; stay well below.
_IN_CHUNK = 1000


def _log_skip(error: SkipRecordError) -> None:
    _log.warning("backoffice.record_skipped", record=error.record, reason=error.reason)


class BuiltinCatalog:
    """The seller's catalogue kept in our own database (filled by ``catalog import``)."""

    def __init__(self, session_factory: sessionmaker[Session], *, page_size: int = 1000) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._factory = session_factory
        self._page_size = page_size

    @staticmethod
    def _record(product: Product) -> ProductRecord:
        return ProductRecord(
            sku=product.sku,
            ean=product.ean,
            title=product.title,
            price_minor=product.price_minor,
            currency=product.currency,
            description=product.description,
            brand=product.brand,
            category=product.category,
            image_urls=tuple(product.image_urls or ()),
            condition=product.condition,
            vat_indicator=product.vat_indicator,
            weight_grams=product.weight_grams,
            handling_time=product.handling_time,
            active=product.active,
            updated_at=product.updated_at,
        )

    def _to_record(self, product: Product, on_skip: SkipHandler) -> ProductRecord | None:
        # Rows written by our importer are valid by construction; rows written by hand (SQL, a
        # future writer with a bug) may not be, and must not stop a sync of everything else.
        try:
            return self._record(product)
        except (ValueError, TypeError) as error:
            on_skip(SkipRecordError(product.sku, f"unreadable product: {error}"))
            return None

    def iter_products(
        self,
        changed_since: datetime | None = None,
        *,
        on_skip: SkipHandler | None = None,
    ) -> Iterator[ProductRecord]:
        """See :meth:`BackOffice.iter_products`: SKU order, pages of ``page_size``; a stock change
        at or after ``changed_since`` counts as a change of its product."""
        handler = on_skip or _log_skip
        stock = cast(Table, StockRow.__table__)
        last: str | None = None
        while True:
            query = select(Product).order_by(Product.sku).limit(self._page_size)
            if last is not None:
                query = query.where(Product.sku > last)
            if changed_since is not None:
                stock_changed = (
                    select(stock.c.product_id)
                    .where(stock.c.updated_at >= changed_since)
                    .scalar_subquery()
                )
                query = query.where(
                    or_(Product.updated_at >= changed_since, Product.id.in_(stock_changed))
                )
            with self._factory() as session:
                page = list(session.scalars(query))
            for product in page:
                record = self._to_record(product, handler)
                if record is not None:
                    yield record
            if len(page) < self._page_size:
                return
            last = page[-1].sku

    def get_products(self, skus: Iterable[str]) -> dict[str, ProductRecord]:
        found: dict[str, ProductRecord] = {}
        with self._factory() as session:
            for chunk in chunked(dict.fromkeys(skus), _IN_CHUNK):
                for product in session.scalars(select(Product).where(Product.sku.in_(chunk))):
                    record = self._to_record(product, _log_skip)
                    if record is not None:
                        found[record.sku] = record
        return found

    def stock_levels(self, skus: Iterable[str]) -> dict[str, list[StockLevel]]:
        wanted = list(dict.fromkeys(skus))
        levels: dict[str, list[StockLevel]] = {sku: [] for sku in wanted}
        stock = cast(Table, StockRow.__table__)
        with self._factory() as session:
            for chunk in chunked(wanted, _IN_CHUNK):
                query = (
                    select(Product.sku, Warehouse.code, stock.c.quantity, stock.c.updated_at)
                    .join(stock, stock.c.product_id == Product.id)
                    .join(Warehouse, Warehouse.id == stock.c.warehouse_id)
                    .where(Product.sku.in_(chunk))
                    .order_by(Product.sku, Warehouse.code)
                )
                for sku, code, quantity, updated_at in session.execute(query):
                    levels[sku].append(StockLevel(sku, code, quantity, updated_at))
        return levels

    def warehouses(self) -> list[WarehouseRecord]:
        with self._factory() as session:
            rows = session.execute(select(Warehouse.code, Warehouse.name).order_by(Warehouse.code))
            return [WarehouseRecord(code, name) for code, name in rows]

    def change_token(self) -> str:
        """Counts and latest change times of products and stock levels: four index lookups.
        Counts catch deletions, which move no ``updated_at``."""
        stock = cast(Table, StockRow.__table__)
        with self._factory() as session:
            products: Any = session.execute(
                select(func.count(Product.id), func.max(Product.updated_at))
            ).one()
            levels: Any = session.execute(
                select(func.count(stock.c.id), func.max(stock.c.updated_at))
            ).one()
        return f"{products[0]}:{products[1]}:{levels[0]}:{levels[1]}"

    def search(
        self, text: str | None = None, *, limit: int | None = None
    ) -> list[tuple[ProductRecord, int]]:
        """Products whose SKU, EAN or title contains ``text`` (case-insensitive), by SKU, each
        with its total stock on hand. For people (``catalog list``), not for the sync engine."""
        stock = cast(Table, StockRow.__table__)
        totals = (
            select(stock.c.product_id, func.sum(stock.c.quantity).label("total"))
            .group_by(stock.c.product_id)
            .subquery()
        )
        query = (
            select(Product, func.coalesce(totals.c.total, 0))
            .outerjoin(totals, totals.c.product_id == Product.id)
            .order_by(Product.sku)
        )
        if text:
            pattern = f"%{text.lower()}%"
            query = query.where(
                or_(
                    func.lower(Product.sku).like(pattern),
                    Product.ean.like(pattern),
                    func.lower(Product.title).like(pattern),
                )
            )
        if limit is not None:
            query = query.limit(limit)
        with self._factory() as session:
            return [
                (self._record(product), int(total)) for product, total in session.execute(query)
            ]

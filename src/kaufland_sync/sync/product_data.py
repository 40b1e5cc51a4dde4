"""Product data for EANs Kaufland does not know: send it, follow its review.

A unit for an EAN without a Kaufland product stays ``INCOMPLETE`` until Kaufland has built the
product from product data. For each product of the catalogue (active ones, or the SKUs asked
for):

1. ``GET /products/ean/{ean}`` on the storefront: an answer means Kaufland knows the EAN and
   nothing is sent; a 404 means product data is needed.
2. The attributes are built from the product — ``title``, ``description``, ``picture`` (every
   image URL), ``manufacturer`` (the brand), ``category`` (the mapped Kaufland category, see
   :mod:`kaufland_sync.sync.categories`) — plus the product's extra attributes
   (``ProductAttribute``: ``colour``, ``material``… whatever the category requires).
3. ``PUT /product-data`` in the storefront's default locale, **only when the attributes differ**
   from the last ones Kaufland accepted for this account, EAN and locale (SHA-256 of their
   canonical JSON in ``ProductDataStatus.payload_hash``).

``refresh_status`` reads ``GET /product-data/status/{ean}`` for every EAN sent and stores the
review's outcome (ready, missing attributes, reasons). Each outcome carries a plain-language
``summary`` for the seller.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.errors import KauflandError, NotFoundError
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Product
from kaufland_sync.store.models.categories import (
    KauflandCategory,
    ProductAttribute,
    ProductDataStatus,
)
from kaufland_sync.sync.categories import CategoryLookup

__all__ = [
    "ProductDataOutcome",
    "ProductDataService",
    "build_attributes",
    "payload_hash",
    "set_attribute",
]

_CONCURRENCY = 8
# Attributes filled from the product's own columns; extra attributes may not override them.
_OWN = ("title", "description", "picture", "manufacturer", "category")


def build_attributes(
    product: Product,
    *,
    category: str | None,
    extra: dict[str, list[str]] | None = None,
) -> dict[str, list[str]]:
    """The product-data attributes of ``product``: name → list of values (Kaufland's form).

    ``category`` is what the ``category`` attribute carries (Kaufland's category name), or None
    to let Kaufland guess from the texts. Empty values are left out, so a product without a
    description does not send an empty one.
    """
    attributes: dict[str, list[str]] = {"title": [product.title]}
    if product.description:
        attributes["description"] = [product.description]
    if product.image_urls:
        attributes["picture"] = list(product.image_urls)
    if product.brand:
        attributes["manufacturer"] = [product.brand]
    if category:
        attributes["category"] = [category]
    for name, values in sorted((extra or {}).items()):
        if name not in _OWN and values:
            attributes[name] = list(values)
    return attributes


def payload_hash(attributes: dict[str, list[str]]) -> str:
    """SHA-256 (hex) of the attributes in canonical JSON (sorted keys, values in order)."""
    canonical = json.dumps(attributes, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def set_attribute(session: Session, sku: str, name: str, values: Sequence[str]) -> None:
    """Set (or, with no values, remove) an extra attribute of the product ``sku``.

    Raises ``LookupError`` for an unknown SKU and ``ValueError`` for a name the product's own
    columns provide (title, description, picture, manufacturer, category).
    """
    key = name.strip()
    if not key or key in _OWN:
        raise ValueError(f"{name!r} comes from the product itself; set it in the catalogue")
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise LookupError(f"no product with SKU {sku!r} in the catalogue")
    row = session.scalar(
        select(ProductAttribute).where(
            ProductAttribute.product_id == product.id, ProductAttribute.name == key
        )
    )
    cleaned = [v.strip() for v in values if v.strip()]
    if not cleaned:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(ProductAttribute(product_id=product.id, name=key, values=cleaned))
    else:
        row.values = cleaned
    session.flush()


@dataclass
class ProductDataOutcome:
    """What happened to one product: ``action`` is ``known`` (Kaufland has the EAN), ``sent``,
    ``unchanged`` (same data already sent), ``failed`` (a call failed) or ``status`` (review
    status read); ``summary`` says it in plain words."""

    sku: str | None
    ean: str
    action: str
    summary: str
    update_status: str | None = None
    product_ready: bool | None = None
    missing_attributes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "ean": self.ean,
            "action": self.action,
            "summary": self.summary,
            "update_status": self.update_status,
            "product_ready": self.product_ready,
            "missing_attributes": self.missing_attributes,
        }


def _status_summary(row: ProductDataStatus) -> str:
    if row.product_ready:
        return f"live on Kaufland as product {row.id_product}"
    if row.missing_attributes:
        names = ", ".join(row.missing_attributes)
        return (
            f"Kaufland needs more data: missing {names} "
            "(set them with: kaufland-sync product-data set SKU NAME VALUE, then push again)"
        )
    if row.update_status in (None, "PENDING", "IN_PROGRESS"):
        return "waiting for Kaufland's review"
    reason = row.fail_reason or row.not_ready_reason or "no reason given"
    return f"Kaufland did not build the product ({row.update_status}: {reason})"


class ProductDataService:
    """Product data of the built-in catalogue for one account and storefront."""

    def __init__(
        self, factory: sessionmaker[Session], *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._factory = factory
        self._clock = clock

    def _products(self, session: Session, skus: Iterable[str] | None) -> list[Product]:
        query = select(Product).order_by(Product.sku)
        wanted = list(skus) if skus is not None else None
        if wanted is not None:
            query = query.where(Product.sku.in_(wanted))
        else:
            query = query.where(Product.active.is_(True))
        return list(session.scalars(query))

    def _extra(self, session: Session, product_ids: list[int]) -> dict[int, dict[str, list[str]]]:
        out: dict[int, dict[str, list[str]]] = {}
        if not product_ids:
            return out
        rows = session.scalars(
            select(ProductAttribute).where(ProductAttribute.product_id.in_(product_ids))
        )
        for row in rows:
            out.setdefault(row.product_id, {})[row.name] = list(row.values)
        return out

    def _status_row(self, session: Session, account: Account, ean: str, locale: str) -> Any:
        return session.scalar(
            select(ProductDataStatus).where(
                ProductDataStatus.account_id == account.id,
                ProductDataStatus.ean == ean,
                ProductDataStatus.locale == locale,
            )
        )

    async def push(
        self,
        client: KauflandClient,
        account: Account,
        storefront: Storefront | str,
        *,
        skus: Iterable[str] | None = None,
    ) -> list[ProductDataOutcome]:
        """Send product data for the products whose EAN Kaufland does not know (see module)."""
        code = Storefront.parse(storefront)
        locale = code.locale
        with self._factory() as session:
            products = self._products(session, skus)
            extra = self._extra(session, [p.id for p in products])
            lookup = CategoryLookup(session, code)
            names = {
                c.id_category: c.name
                for c in session.scalars(
                    select(KauflandCategory).where(KauflandCategory.storefront == code)
                )
            }
            sent_hashes = {
                row.ean: row.payload_hash
                for row in session.scalars(
                    select(ProductDataStatus).where(
                        ProductDataStatus.account_id == account.id,
                        ProductDataStatus.locale == locale,
                    )
                )
            }
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def one(product: Product) -> ProductDataOutcome:
            id_category = lookup(product)
            # Kaufland's product data names the category; fall back to its id when the tree
            # is not cached (Kaufland accepts either).
            category = None if id_category is None else names.get(id_category, str(id_category))
            attributes = build_attributes(product, category=category, extra=extra.get(product.id))
            digest = payload_hash(attributes)
            async with gate:
                try:
                    await client.products.by_ean(product.ean, storefront=code)
                except NotFoundError:
                    pass
                except KauflandError as error:
                    return ProductDataOutcome(
                        product.sku, product.ean, "failed", f"could not check the EAN: {error}"
                    )
                else:
                    return ProductDataOutcome(
                        product.sku,
                        product.ean,
                        "known",
                        "Kaufland already has a product for this EAN; no product data needed",
                    )
                if sent_hashes.get(product.ean) == digest:
                    return ProductDataOutcome(
                        product.sku,
                        product.ean,
                        "unchanged",
                        "product data unchanged since it was last sent; not sent again",
                    )
                try:
                    await client.product_data.put(product.ean, attributes, locale=locale)
                except KauflandError as error:
                    return ProductDataOutcome(
                        product.sku, product.ean, "failed", f"Kaufland refused the data: {error}"
                    )
            self._record_sent(account, product, locale, digest)
            parts = [
                f"{len(attributes.get('picture', []))} picture(s)",
                "a description" if "description" in attributes else "no description",
                f"category {category}" if category else "no category (Kaufland will guess)",
            ]
            extras = [n for n in attributes if n not in _OWN]
            if extras:
                parts.append("also " + ", ".join(extras))
            return ProductDataOutcome(
                product.sku,
                product.ean,
                "sent",
                "sent title, " + ", ".join(parts) + "; Kaufland reviews it now",
                update_status="PENDING",
                product_ready=False,
            )

        return list(await asyncio.gather(*(one(p) for p in products)))

    def _record_sent(self, account: Account, product: Product, locale: str, digest: str) -> None:
        with transaction(self._factory) as session:
            row = self._status_row(session, account, product.ean, locale)
            if row is None:
                row = ProductDataStatus(account_id=account.id, ean=product.ean, locale=locale)
                session.add(row)
            row.sku = product.sku
            row.payload_hash = digest
            row.submitted_at = self._clock()
            row.update_status = "PENDING"
            row.product_ready = False
            row.not_ready_reason = None
            row.fail_reason = None
            row.missing_attributes = []

    async def refresh_status(
        self,
        client: KauflandClient,
        account: Account,
        storefront: Storefront | str,
        *,
        skus: Iterable[str] | None = None,
    ) -> list[ProductDataOutcome]:
        """Read Kaufland's review status of every EAN sent for this account and storefront
        locale (or only those of ``skus``) and store it."""
        locale = Storefront.parse(storefront).locale
        wanted = set(skus) if skus is not None else None
        with self._factory() as session:
            rows = [
                (row.sku, row.ean)
                for row in session.scalars(
                    select(ProductDataStatus)
                    .where(
                        ProductDataStatus.account_id == account.id,
                        ProductDataStatus.locale == locale,
                    )
                    .order_by(ProductDataStatus.sku, ProductDataStatus.ean)
                )
                if wanted is None or row.sku in wanted
            ]
        outcomes: list[ProductDataOutcome] = []
        for sku, ean in rows:
            try:
                status = await client.product_data.status(ean, locale=locale)
            except KauflandError as error:
                outcomes.append(
                    ProductDataOutcome(sku, ean, "failed", f"could not read the status: {error}")
                )
                continue
            with transaction(self._factory) as session:
                row = self._status_row(session, account, ean, locale)
                row.update_status = (
                    None if status.update_status is None else str(status.update_status)
                )
                row.product_ready = status.product_ready
                row.id_product = status.id_product
                row.not_ready_reason = (
                    None
                    if status.product_not_ready_reason is None
                    else str(status.product_not_ready_reason)
                )
                row.fail_reason = (
                    None if status.update_fail_reason is None else str(status.update_fail_reason)
                )
                row.missing_attributes = list(status.missing_attributes) + list(
                    status.min_one_missing_attributes
                )
                row.checked_at = self._clock()
                outcomes.append(
                    ProductDataOutcome(
                        sku,
                        ean,
                        "status",
                        _status_summary(row),
                        update_status=row.update_status,
                        product_ready=row.product_ready,
                        missing_attributes=list(row.missing_attributes),
                    )
                )
        return outcomes

    def statuses(self, account: Account, storefront: Storefront | str) -> list[ProductDataOutcome]:
        """The stored status of every EAN sent (no call to Kaufland)."""
        locale = Storefront.parse(storefront).locale
        with self._factory() as session:
            rows = session.scalars(
                select(ProductDataStatus)
                .where(
                    ProductDataStatus.account_id == account.id,
                    ProductDataStatus.locale == locale,
                )
                .order_by(ProductDataStatus.sku)
            )
            return [
                ProductDataOutcome(
                    r.sku,
                    r.ean,
                    "status",
                    _status_summary(r),
                    update_status=r.update_status,
                    product_ready=r.product_ready,
                    missing_attributes=list(r.missing_attributes),
                )
                for r in rows
            ]

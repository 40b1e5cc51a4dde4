"""Local categories → Kaufland categories, per storefront.

Three jobs:

* **Refresh** the cached tree of a storefront from ``GET /categories/tree`` (replaced as a whole,
  so categories Kaufland removed disappear from the cache).
* **Suggest** a mapping for every distinct local category (``Product.category``) that a person
  has not mapped: ``POST /categories/decide`` with the title, description and brand of one
  sample product of that category; Kaufland's best guess is kept, the other guesses are stored
  as ``alternatives``. Suggestions are refreshed on every run; manual mappings never are.
* **Look up** the Kaufland category of a product: :class:`CategoryLookup` loads a storefront's
  mappings once (the exporter calls it for every product), :func:`kaufland_category_for` is the
  one-off form.

Mappings are per storefront and shared by all accounts (Kaufland's tree is the same for every
seller); an account only provides the API client that asks Kaufland.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.errors import KauflandError
from kaufland_sync.sellerapi.models import CategoryTree
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.catalog import Product
from kaufland_sync.store.models.categories import (
    CategoryMapping,
    CategorySource,
    KauflandCategory,
)

__all__ = [
    "CategoryError",
    "CategoryLookup",
    "CategoryService",
    "Suggestion",
    "kaufland_category_for",
    "tree_rows",
]

# Parallel /categories/decide calls: the client paces them anyway; this bounds open requests.
_CONCURRENCY = 8
_FEE_PLACES = Decimal("0.0001")


class CategoryError(ValueError):
    """A mapping refused (unknown or non-leaf category); the message says which and why."""


class HasCategory(Protocol):
    """Anything with the catalogue's category text: a store ``Product`` or a ``ProductRecord``."""

    @property
    def category(self) -> str | None: ...


@dataclass
class Suggestion:
    """The outcome for one local category of :meth:`CategoryService.suggest`.

    ``source`` is ``suggested`` (Kaufland's guess now stored), ``manual`` (kept: a person chose
    it) or ``none`` (no guess; ``note`` says why).
    """

    local_category: str
    source: str
    id_category: int | None = None
    name: str | None = None
    alternatives: list[int] = field(default_factory=list)
    sample_sku: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "local_category": self.local_category,
            "source": self.source,
            "id_category": self.id_category,
            "name": self.name,
            "alternatives": self.alternatives,
            "sample_sku": self.sample_sku,
            "note": self.note,
        }


def _fee(value: float | None) -> Decimal | None:
    # Kaufland sends fees as JSON numbers; str() keeps the decimal digits they were written with.
    return None if value is None else Decimal(str(value)).quantize(_FEE_PLACES)


def tree_rows(
    tree: CategoryTree, storefront: Storefront, fetched_at: datetime
) -> Iterator[KauflandCategory]:
    """Flatten a ``GET /categories/tree`` answer into cache rows (parents before children).

    The tree omits ``is_leaf``; a node without children is a leaf.
    """
    stack = [tree]
    while stack:
        node = stack.pop()
        yield KauflandCategory(
            storefront=storefront,
            id_category=node.id_category,
            name=node.name or str(node.id_category),
            title=node.title_plural or node.title_singular,
            id_parent_category=(
                None if node.id_parent_category == node.id_category else node.id_parent_category
            ),
            level=None if node.level is None else int(node.level),
            is_leaf=node.is_leaf if node.is_leaf is not None else not node.children,
            variable_fee=_fee(node.variable_fee),
            fixed_fee=_fee(node.fixed_fee),
            fetched_at=fetched_at,
        )
        stack.extend(reversed(node.children))


class CategoryLookup:
    """A storefront's mappings loaded once: local category text → Kaufland ``id_category``.

    Meant for a run over many products (one query, then dictionary lookups). Category texts are
    matched after trimming surrounding spaces, as they are stored.
    """

    def __init__(self, session: Session, storefront: Storefront | str) -> None:
        code = Storefront.parse(storefront)
        rows = session.execute(
            select(CategoryMapping.local_category, CategoryMapping.id_category).where(
                CategoryMapping.storefront == code
            )
        )
        self.storefront = code
        self._map: dict[str, int] = {local: id_category for local, id_category in rows}

    def __call__(self, product: HasCategory) -> int | None:
        """The Kaufland category of ``product`` here, or None (no category, or not mapped)."""
        text = (product.category or "").strip()
        return self._map.get(text) if text else None

    def __len__(self) -> int:
        return len(self._map)


def kaufland_category_for(
    session: Session, product: HasCategory, storefront: Storefront | str
) -> int | None:
    """The Kaufland ``id_category`` mapped to ``product``'s local category on ``storefront``,
    or None when the product has no category or it is not mapped (yet)."""
    text = (product.category or "").strip()
    if not text:
        return None
    return session.scalar(
        select(CategoryMapping.id_category).where(
            CategoryMapping.storefront == Storefront.parse(storefront),
            CategoryMapping.local_category == text,
        )
    )


class CategoryService:
    """Tree cache and mappings in the store; Kaufland calls through a given client."""

    def __init__(
        self, factory: sessionmaker[Session], *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._factory = factory
        self._clock = clock

    # -- tree -------------------------------------------------------------------------------

    async def refresh_tree(self, client: KauflandClient, storefront: Storefront | str) -> int:
        """Replace the cached tree of ``storefront`` with Kaufland's; returns the node count."""
        code = Storefront.parse(storefront)
        tree = await client.categories.tree(storefront=code)
        rows = list(tree_rows(tree, code, self._clock()))
        with transaction(self._factory) as session:
            session.execute(delete(KauflandCategory).where(KauflandCategory.storefront == code))
            session.add_all(rows)
        return len(rows)

    def cached(self, storefront: Storefront | str) -> dict[int, KauflandCategory]:
        """The cached tree of ``storefront`` by ``id_category`` (empty before a refresh)."""
        code = Storefront.parse(storefront)
        with self._factory() as session:
            rows = session.scalars(
                select(KauflandCategory).where(KauflandCategory.storefront == code)
            )
            return {row.id_category: row for row in rows}

    # -- mappings ---------------------------------------------------------------------------

    def local_categories(self) -> list[str]:
        """Every distinct local category of the catalogue's products, sorted."""
        with self._factory() as session:
            found = session.scalars(
                select(func.trim(Product.category)).where(Product.category.is_not(None)).distinct()
            )
            return sorted({c for c in found if c})

    def mappings(self, storefront: Storefront | str | None = None) -> list[CategoryMapping]:
        """Mappings of one storefront (or all), by storefront then local category."""
        query = select(CategoryMapping).order_by(
            CategoryMapping.storefront, CategoryMapping.local_category
        )
        if storefront is not None:
            query = query.where(CategoryMapping.storefront == Storefront.parse(storefront))
        with self._factory() as session:
            return list(session.scalars(query))

    def map(
        self, storefront: Storefront | str, local_category: str, id_category: int
    ) -> CategoryMapping:
        """Map ``local_category`` to ``id_category`` by hand; suggestions never replace it.

        When the tree of the storefront is cached, the category must be in it and be a leaf
        (only leaves take products); ``CategoryError`` otherwise. Without a cache the id is
        taken as given.
        """
        code = Storefront.parse(storefront)
        text = local_category.strip()
        if not text:
            raise CategoryError("the local category must not be empty")
        tree = self.cached(code)
        if tree:
            node = tree.get(id_category)
            if node is None:
                raise CategoryError(
                    f"category {id_category} is not in Kaufland's tree for {code.value} "
                    f"(kaufland-sync categories refresh updates it)"
                )
            if not node.is_leaf:
                raise CategoryError(
                    f"category {id_category} ({node.title or node.name}) has subcategories; "
                    "map to a leaf category, only those take products"
                )
        with transaction(self._factory) as session:
            return self._store(session, code, text, id_category, CategorySource.MANUAL, [], None)

    def unmap(self, storefront: Storefront | str, local_category: str) -> bool:
        """Forget the mapping of ``local_category``; True when there was one."""
        with transaction(self._factory) as session:
            result = session.execute(
                delete(CategoryMapping).where(
                    CategoryMapping.storefront == Storefront.parse(storefront),
                    CategoryMapping.local_category == local_category.strip(),
                )
            )
            return bool(getattr(result, "rowcount", 0))

    @staticmethod
    def _store(
        session: Session,
        storefront: Storefront,
        local_category: str,
        id_category: int,
        source: CategorySource,
        alternatives: list[int],
        sample_sku: str | None,
    ) -> CategoryMapping:
        row = session.scalar(
            select(CategoryMapping).where(
                CategoryMapping.storefront == storefront,
                CategoryMapping.local_category == local_category,
            )
        )
        if row is None:
            row = CategoryMapping(storefront=storefront, local_category=local_category)
            session.add(row)
        elif row.source is CategorySource.MANUAL and source is CategorySource.SUGGESTED:
            return row  # a person mapped it while Kaufland was asked: the person wins
        row.id_category = id_category
        row.source = source
        row.alternatives = alternatives
        row.sample_sku = sample_sku
        session.flush()
        return row

    def _sample(self, session: Session, local_category: str) -> Product | None:
        # An active product first: it is the one that will be offered.
        return session.scalar(
            select(Product)
            .where(func.trim(Product.category) == local_category)
            .order_by(Product.active.desc(), Product.sku)
            .limit(1)
        )

    async def suggest(
        self,
        client: KauflandClient,
        storefront: Storefront | str,
        *,
        currency_rate: Decimal = Decimal(1),
    ) -> list[Suggestion]:
        """Ask Kaufland for the category of every local category without a manual mapping.

        ``currency_rate`` converts the sample's catalogue price into the storefront currency
        (``decide`` takes a price as a hint). A failed call for one category is reported in its
        ``note`` and does not stop the others.
        """
        code = Storefront.parse(storefront)
        manual = {
            m.local_category: m for m in self.mappings(code) if m.source is CategorySource.MANUAL
        }
        names = {c: n.title or n.name for c, n in self.cached(code).items()}
        results: list[Suggestion] = []
        pending: list[tuple[Suggestion, dict[str, Any]]] = []
        with self._factory() as session:
            for local in self.local_categories():
                if local in manual:
                    kept = manual[local]
                    results.append(
                        Suggestion(
                            local,
                            CategorySource.MANUAL.value,
                            kept.id_category,
                            names.get(kept.id_category),
                        )
                    )
                    continue
                sample = self._sample(session, local)
                if sample is None:
                    continue
                suggestion = Suggestion(local, "none", sample_sku=sample.sku)
                results.append(suggestion)
                price = Decimal(sample.price_minor) / 100 * currency_rate
                pending.append(
                    (
                        suggestion,
                        {
                            "title": sample.title,
                            # Kaufland needs all three texts; the category path is a fair
                            # stand-in for a missing description, and it helps the guess.
                            "description": sample.description or local,
                            "manufacturer": sample.brand or "",
                            "price": float(price),
                        },
                    )
                )
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def ask(suggestion: Suggestion, item: dict[str, Any]) -> None:
            async with gate:
                try:
                    guesses = await client.categories.decide(storefront=code, **item)
                except KauflandError as error:
                    suggestion.note = f"Kaufland could not guess: {error}"
                    return
            if not guesses:
                suggestion.note = "Kaufland had no guess for this product; map it by hand"
                return
            best = guesses[0]
            suggestion.source = CategorySource.SUGGESTED.value
            suggestion.id_category = best.id_category
            suggestion.name = best.title_plural or best.title_singular or best.name
            suggestion.alternatives = [g.id_category for g in guesses[1:]]

        await asyncio.gather(*(ask(s, item) for s, item in pending))
        with transaction(self._factory) as session:
            for suggestion, _ in pending:
                if suggestion.id_category is None:
                    continue
                self._store(
                    session,
                    code,
                    suggestion.local_category,
                    suggestion.id_category,
                    CategorySource.SUGGESTED,
                    suggestion.alternatives,
                    suggestion.sample_sku,
                )
        return results

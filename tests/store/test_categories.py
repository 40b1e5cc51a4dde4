"""Category cache, mappings, product attributes and product-data status on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.models import CategoryTree
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.catalog import CONTENT_FIELDS, Currency, Product, content_hash
from kaufland_sync.store.models.categories import (
    CategoryMapping,
    CategorySource,
    KauflandCategory,
    ProductAttribute,
)
from kaufland_sync.sync.categories import (
    CategoryError,
    CategoryLookup,
    CategoryService,
    tree_rows,
)
from kaufland_sync.sync.product_data import build_attributes, payload_hash, set_attribute

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TREE = CategoryTree.model_validate(
    {
        "id_category": 1,
        "id_parent_category": 1,
        "name": "root",
        "level": 0,
        "variable_fee": 0,
        "children": [
            {
                "id_category": 100,
                "id_parent_category": 1,
                "name": "garten",
                "title_plural": "Garten",
                "level": 1,
                "variable_fee": 11.5,
                "fixed_fee": 0.3,
                "children": [
                    {
                        "id_category": 101,
                        "id_parent_category": 100,
                        "name": "spaten",
                        "title_singular": "Spaten",
                        "level": 2,
                        "variable_fee": 11.5,
                    }
                ],
            }
        ],
    }
)


def _product(session: Session, sku: str, category: str | None) -> Product:
    product = Product(
        sku=sku,
        ean="4006381333931",
        title=f"Product {sku}",
        description=None,
        brand="Acme",
        category=category,
        image_urls=["https://example.com/a.jpg"],
        price_minor=1299,
        currency=Currency.EUR,
        vat_indicator=None,
        weight_grams=None,
        handling_time=None,
        active=True,
    )
    from kaufland_sync.store.models.catalog import Condition

    product.condition = Condition.NEW
    product.content_hash = content_hash({n: getattr(product, n) for n in CONTENT_FIELDS})
    session.add(product)
    session.flush()
    return product


def test_tree_rows_keep_exact_fees_and_derive_leaves(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add_all(tree_rows(TREE, Storefront.DE, NOW))
    service = CategoryService(factory)
    cached = service.cached("de")
    assert set(cached) == {1, 100, 101}
    assert cached[1].id_parent_category is None  # the root is its own parent on Kaufland
    assert cached[100].variable_fee == Decimal("11.5") and cached[100].fixed_fee == Decimal("0.3")
    assert not cached[100].is_leaf and cached[101].is_leaf
    assert cached[100].title == "Garten" and cached[101].title == "Spaten"
    assert cached[101].fetched_at == NOW
    assert service.cached("cz") == {}
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(
            KauflandCategory(storefront=Storefront.DE, id_category=101, name="x", is_leaf=True)
        )


def test_manual_mapping_is_checked_against_the_cached_tree(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add_all(tree_rows(TREE, Storefront.DE, NOW))
        _product(session, "A", " Garden > Spades ")
        _product(session, "B", None)
    service = CategoryService(factory)
    assert service.local_categories() == ["Garden > Spades"]
    with pytest.raises(CategoryError, match="not in Kaufland's tree"):
        service.map("de", "Garden > Spades", 999)
    with pytest.raises(CategoryError, match="leaf"):
        service.map("de", "Garden > Spades", 100)
    service.map("de", "Garden > Spades", 101)
    service.map("de", "Garden > Spades", 101)  # idempotent: still one row
    service.map("cz", "Garden > Spades", 555)  # no cache for cz: taken as given
    [row] = service.mappings("de")
    assert (row.id_category, row.source) == (101, CategorySource.MANUAL)
    with factory() as session:
        products = {p.sku: p for p in session.scalars(select(Product))}
        lookup = CategoryLookup(session, "de")
        assert lookup(products["A"]) == 101 and lookup(products["B"]) is None
        assert CategoryLookup(session, "cz")(products["A"]) == 555
    assert service.unmap("de", "Garden > Spades") and not service.unmap("de", "Garden > Spades")
    with pytest.raises(IntegrityError), transaction(factory) as session:
        for _ in range(2):
            session.add(
                CategoryMapping(
                    storefront=Storefront.AT,
                    local_category="x",
                    id_category=1,
                    source=CategorySource.SUGGESTED,
                )
            )
            session.flush()


def test_attributes_are_stored_and_change_the_payload_hash(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        product = _product(session, "A", "Garden")
        before = build_attributes(product, category="spaten")
        set_attribute(session, "A", "colour", ["green", " "])
        with pytest.raises(ValueError, match="comes from the product"):
            set_attribute(session, "A", "title", ["x"])
        with pytest.raises(LookupError):
            set_attribute(session, "nope", "colour", ["red"])
    with factory() as session:
        [row] = session.scalars(select(ProductAttribute))
        assert (row.name, row.values) == ("colour", ["green"])
        product = session.scalars(select(Product)).one()
        after = build_attributes(product, category="spaten", extra={"colour": row.values})
    assert before == {
        "title": ["Product A"],
        "picture": ["https://example.com/a.jpg"],
        "manufacturer": ["Acme"],
        "category": ["spaten"],
    }
    assert after["colour"] == ["green"]
    assert payload_hash(before) != payload_hash(after)
    assert payload_hash(after) == payload_hash(dict(reversed(list(after.items()))))
    with transaction(factory) as session:
        set_attribute(session, "A", "colour", [])
    with factory() as session:
        assert session.scalars(select(ProductAttribute)).all() == []

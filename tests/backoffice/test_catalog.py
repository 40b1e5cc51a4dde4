"""The built-in catalogue as a BackOffice: ordering, paging, change detection, skipped records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.backoffice.csv_import import import_csv
from kaufland_sync.backoffice.protocol import (
    BackOffice,
    Currency,
    ProductRecord,
    SkipRecordError,
    StockLevel,
    WarehouseRecord,
)
from kaufland_sync.store.models.catalog import Product
from kaufland_sync.store.models.catalog import StockLevel as StockRow

CSV = (
    "sku,ean,title,price,currency,stock,warehouse\n"
    "C,4006381333931,Gamma,3,EUR,3,default\n"
    "A,5901234123457,Alpha,1,EUR,1,prague\n"
    "A,5901234123457,Alpha,1,EUR,2,brno\n"
    "B,0036000291452,Beta,2,PLN,0,default\n"
    "D,4006381333931,Delta,4,EUR,4,default\n"
)
T1 = datetime(2030, 1, 1, tzinfo=UTC)
T2 = datetime(2030, 1, 2, tzinfo=UTC)


def filled(tmp_path: Path, factory: sessionmaker[Session]) -> BuiltinCatalog:
    path = tmp_path / "c.csv"
    path.write_text(CSV, encoding="utf-8")
    assert import_csv(path, factory).ok
    return BuiltinCatalog(factory, page_size=2)


def test_is_a_backoffice(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    assert isinstance(BuiltinCatalog(factory), BackOffice)


def test_iter_products_in_sku_order_across_pages(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    catalog = filled(tmp_path, factory)
    records = list(catalog.iter_products())
    assert [r.sku for r in records] == ["A", "B", "C", "D"]
    assert records[1] == ProductRecord(
        sku="B", ean="0036000291452", title="Beta", price_minor=200, currency=Currency.PLN
    )
    assert records[0].updated_at is not None and records[0].updated_at.tzinfo is not None


def test_changed_since_covers_product_data_and_stock(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    catalog = filled(tmp_path, factory)
    with factory() as session, session.begin():
        session.execute(update(Product).values(updated_at=T1))
        session.execute(update(StockRow).values(updated_at=T1))
        session.execute(update(Product).where(Product.sku == "C").values(updated_at=T2))
        b_id = session.query(Product.id).filter(Product.sku == "B").scalar()
        session.execute(update(StockRow).where(StockRow.product_id == b_id).values(updated_at=T2))
    assert [r.sku for r in catalog.iter_products(T2)] == ["B", "C"]
    assert [r.sku for r in catalog.iter_products(T1)] == ["A", "B", "C", "D"]  # inclusive
    assert list(catalog.iter_products(datetime(2031, 1, 1, tzinfo=UTC))) == []


def test_lookups(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    catalog = filled(tmp_path, factory)
    assert sorted(catalog.get_products(["D", "A", "nope"])) == ["A", "D"]
    levels = catalog.stock_levels(["A", "B", "nope"])
    assert levels == {
        "A": [StockLevel("A", "brno", 2), StockLevel("A", "prague", 1)],
        "B": [StockLevel("B", "default", 0)],
        "nope": [],
    }
    assert catalog.warehouses() == [
        WarehouseRecord("brno", "brno"),
        WarehouseRecord("default", "default"),
        WarehouseRecord("prague", "prague"),
    ]
    assert [(r.sku, stock) for r, stock in catalog.search("alp")] == [("A", 3)]
    assert [r.sku for r, _ in catalog.search(None, limit=2)] == ["A", "B"]


def test_change_token_moves_only_on_change(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    catalog = filled(tmp_path, factory)
    token = catalog.change_token()
    path = tmp_path / "c.csv"
    assert import_csv(path, factory).products_unchanged == 4
    assert catalog.change_token() == token
    path.write_text(CSV.replace("Beta,2,PLN,0", "Beta,2,PLN,5"), encoding="utf-8")
    import_csv(path, factory)
    assert catalog.change_token() != token


def test_an_unreadable_record_is_skipped_and_iteration_goes_on(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    catalog = filled(tmp_path, factory)
    with factory() as session, session.begin():
        session.execute(update(Product).where(Product.sku == "B").values(image_urls=5))
    skipped: list[SkipRecordError] = []
    assert [r.sku for r in catalog.iter_products(on_skip=skipped.append)] == ["A", "C", "D"]
    assert [e.record for e in skipped] == ["B"]
    assert "unreadable product" in str(skipped[0])

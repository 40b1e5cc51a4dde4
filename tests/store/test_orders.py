"""Order tables on SQLite and PostgreSQL: Kaufland's ids are unique keys."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.orders import Customer, Order, OrderLine, SyncCursor
from tests.builders import add_account


def _account(factory: sessionmaker[Session], name: str = "shop") -> int:
    return add_account(factory, name).id


def _order(account_id: int, id_order: str = "MXZ1") -> Order:
    return Order(account_id=account_id, id_order=id_order, storefront=Storefront.DE, raw={})


def test_an_order_is_unique_per_account_and_keeps_its_lines(
    factory: sessionmaker[Session],
) -> None:
    shop = _account(factory)
    other = _account(factory, "other")
    with transaction(factory) as session:
        order = _order(shop)
        session.add_all([order, _order(other)])  # the same id_order on another account is fine
        session.flush()
        session.add(
            OrderLine(
                order_id=order.id,
                id_order_unit=314_567_896_580_001,
                status="open",
                price=1999,
                vat=Decimal("19"),
                delivery_time_expires_iso=datetime(2026, 1, 2, tzinfo=UTC),
                addresses_hidden=True,
                raw={"id_order_unit": 314_567_896_580_001},
            )
        )
    with factory() as session:
        stored = session.query(Order).filter_by(account_id=shop).one()
        assert [(line.id_order_unit, line.vat, line.raw) for line in stored.lines] == [
            (314_567_896_580_001, Decimal("19.00"), {"id_order_unit": 314_567_896_580_001})
        ]
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(_order(shop))


def test_a_line_is_unique_per_order_unit_of_its_order(factory: sessionmaker[Session]) -> None:
    """Order units are keyed within their order (so per account): another account (say the same
    seller's playground) may hold the same Kaufland id, one order never holds it twice."""
    shop, playground = _account(factory), _account(factory, "playground")
    with transaction(factory) as session:
        first, twin = _order(shop, "A"), _order(playground, "A")
        session.add_all([first, twin])
        session.flush()
        session.add(OrderLine(order_id=first.id, id_order_unit=7, status="open", raw={}))
        session.add(OrderLine(order_id=twin.id, id_order_unit=7, status="open", raw={}))
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(OrderLine(order_id=first.id, id_order_unit=7, status="sent", raw={}))


def test_customers_and_cursors_are_unique(factory: sessionmaker[Session]) -> None:
    shop = _account(factory)
    with transaction(factory) as session:
        session.add(Customer(account_id=shop, id_buyer=42))
        session.add(
            SyncCursor(
                account_id=shop,
                storefront=Storefront.DE,
                kind="order_units",
                position=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(Customer(account_id=shop, id_buyer=42))
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(
            SyncCursor(
                account_id=shop,
                storefront=Storefront.DE,
                kind="order_units",
                position=datetime(2026, 2, 1, tzinfo=UTC),
            )
        )

"""``kaufland_sync.sync.returns``: deadlines (working days), decisions checked and queued in the
outbox, and restocking accepted returns once — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import (
    Currency,
    Product,
    StockLevel,
    Warehouse,
)
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Return, ReturnUnit
from kaufland_sync.sync.returns import (
    MESSAGE_MAX,
    DecisionNotAllowedError,
    ReturnDecisionError,
    UnknownReturnUnitError,
    add_working_days,
    decide,
    decide_by,
    is_overdue,
    queue_decision,
    restock,
    time_left,
)
from tests.builders import new_account

MONDAY = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
SKU = "SKU-RET-1"


@dataclass
class FakeUnit:
    status: str
    arrived_at: datetime | None


def test_working_days_skip_weekends_and_keep_the_time_of_day() -> None:
    assert add_working_days(MONDAY, 3) == MONDAY + timedelta(days=3)  # Thursday
    friday = MONDAY + timedelta(days=4)
    assert add_working_days(friday, 3) == friday + timedelta(days=5)  # next Wednesday
    saturday = MONDAY + timedelta(days=5)
    assert add_working_days(saturday, 3) == saturday + timedelta(days=4)  # Wednesday
    assert add_working_days(friday, 1) == friday + timedelta(days=3)  # Monday
    assert add_working_days(MONDAY, 0) == MONDAY
    with pytest.raises(ValueError, match="negative"):
        add_working_days(MONDAY, -1)


def test_the_deadline_runs_only_while_the_unit_waits_after_arrival() -> None:
    arrived = FakeUnit("return_arrived", MONDAY)
    assert decide_by(arrived) == MONDAY + timedelta(days=3)
    assert time_left(arrived, MONDAY + timedelta(days=1)) == timedelta(days=2)
    assert not is_overdue(arrived, MONDAY + timedelta(days=2, hours=23))
    assert is_overdue(arrived, MONDAY + timedelta(days=3))
    assert time_left(arrived, MONDAY + timedelta(days=4)) == -timedelta(days=1)
    for status in ("need_to_be_returned", "return_accepted", "return_in_clarification"):
        unit = FakeUnit(status, MONDAY)
        assert decide_by(unit) is None and time_left(unit, MONDAY) is None
        assert not is_overdue(unit, MONDAY + timedelta(days=30))
    assert decide_by(FakeUnit("return_arrived", None)) is None


def add_unit(
    factory: sessionmaker[Session],
    account: Account,
    id_return_unit: int,
    status: str,
    *,
    sku: str | None = SKU,
) -> int:
    """A return with one unit, linked to an order line of ``sku``; returns the unit's row id."""
    with transaction(factory) as session:
        order = Order(account_id=account.id, id_order=f"O{id_return_unit}", storefront="de", raw={})
        session.add(order)
        session.flush()
        line = OrderLine(
            order_id=order.id, id_order_unit=id_return_unit * 10, sku=sku, status="sent", raw={}
        )
        ret = Return(account_id=account.id, id_return=id_return_unit + 5000, storefront="de")
        session.add_all([line, ret])
        session.flush()
        unit = ReturnUnit(
            return_id=ret.id,
            id_return_unit=id_return_unit,
            id_order_unit=line.id_order_unit,
            order_line_id=line.id,
            status=status,
            arrived_at=MONDAY,
        )
        session.add(unit)
        session.flush()
        return unit.id


def add_product(factory: sessionmaker[Session], stock: dict[str, int], sku: str = SKU) -> None:
    with transaction(factory) as session:
        product = Product(
            sku=sku,
            ean="4000000000017",
            title="Returned thing",
            price_minor=1999,
            currency=Currency.EUR,
            content_hash="0" * 64,
        )
        session.add(product)
        session.flush()
        for code, quantity in stock.items():
            warehouse = Warehouse(code=code, name=code)
            session.add(warehouse)
            session.flush()
            session.add(
                StockLevel(product_id=product.id, warehouse_id=warehouse.id, quantity=quantity)
            )


def stock(factory: sessionmaker[Session], sku: str = SKU) -> dict[str, int]:
    with factory() as session:
        rows = session.execute(
            select(Warehouse.code, StockLevel.quantity)
            .join(StockLevel, StockLevel.warehouse_id == Warehouse.id)
            .join(Product, Product.id == StockLevel.product_id)
            .where(Product.sku == sku)
        )
        return {code: quantity for code, quantity in rows}


def test_decisions_are_checked_then_queued_once(
    factory: sessionmaker[Session], account: Account
) -> None:
    add_unit(factory, account, 1, "return_arrived")
    add_unit(factory, account, 2, "need_to_be_returned")

    with pytest.raises(UnknownReturnUnitError, match="import returns"):
        decide(factory, account_id=account.id, id_return_unit=99, decision="accept", clock=_t)
    with pytest.raises(DecisionNotAllowedError, match="need_to_be_returned; repair"):
        decide(factory, account_id=account.id, id_return_unit=2, decision="repair", clock=_t)
    for message in (None, "   "):
        with pytest.raises(ReturnDecisionError, match="needs a message"):
            decide(
                factory,
                account_id=account.id,
                id_return_unit=1,
                decision="reject",
                message=message,
                clock=_t,
            )
    with pytest.raises(ReturnDecisionError, match=f"at most {MESSAGE_MAX}"):
        decide(
            factory,
            account_id=account.id,
            id_return_unit=1,
            decision="clarify",
            message="x" * (MESSAGE_MAX + 1),
            clock=_t,
        )
    with pytest.raises(ReturnDecisionError, match="takes no message"):
        decide(
            factory,
            account_id=account.id,
            id_return_unit=1,
            decision="accept",
            message="thanks",
            clock=_t,
        )
    with factory() as session:
        assert session.scalars(select(OutboxMessage)).all() == []

    first = decide(
        factory,
        account_id=account.id,
        id_return_unit=1,
        decision="reject",
        message="  Used and scratched.  ",
        clock=_t,
    )
    again = decide(
        factory,
        account_id=account.id,
        id_return_unit=1,
        decision="reject",
        message="Used and scratched.",
        clock=_t,
    )
    assert first.created and not again.created and again.outbox_id == first.outbox_id
    with factory() as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert message.action == OutboxAction.RETURN_REJECT
        assert message.target == "1" and message.payload == {"message": "Used and scratched."}
        assert message.state == OutboxState.PENDING and message.order_id is not None
        assert message.next_attempt_at == _t()
    # Another decision while the first is on its way would be refused by Kaufland later.
    with pytest.raises(DecisionNotAllowedError, match="still pending"):
        decide(factory, account_id=account.id, id_return_unit=1, decision="accept", clock=_t)

    # Once it went through and the import shows the new status, the unit moves on.
    with transaction(factory) as session:
        session.scalars(select(OutboxMessage)).one().state = OutboxState.DONE
        unit = session.scalars(select(ReturnUnit).where(ReturnUnit.id_return_unit == 1)).one()
        unit.status = "return_rejected"
    with pytest.raises(DecisionNotAllowedError, match="return_rejected; accept"):
        decide(factory, account_id=account.id, id_return_unit=1, decision="accept", clock=_t)

    clarify = decide(
        factory,
        account_id=account.id,
        id_return_unit=2,
        decision="clarify",
        message="Which part is missing?",
        clock=_t,
    )
    with transaction(factory) as session:
        session.get(OutboxMessage, clarify.outbox_id).state = OutboxState.DONE  # type: ignore[union-attr]
        unit = session.scalars(select(ReturnUnit).where(ReturnUnit.id_return_unit == 2)).one()
        unit.status = "return_in_clarification"
        repair = queue_decision(
            session, account_id=account.id, id_return_unit=2, decision="repair", now=_t()
        )
        assert repair.created and repair.state == OutboxState.PENDING


def test_another_accounts_unit_is_unknown(factory: sessionmaker[Session], account: Account) -> None:
    add_unit(factory, account, 1, "return_arrived")
    with transaction(factory) as session:
        other = new_account(session, "other", storefronts=())
    with pytest.raises(UnknownReturnUnitError):
        decide(factory, account_id=other.id, id_return_unit=1, decision="accept", clock=_t)


def _t() -> datetime:
    return MONDAY + timedelta(hours=1)


def _restock(factory: sessionmaker[Session], account: Account, row_id: int) -> str | None:
    with transaction(factory) as session:
        unit = session.get(ReturnUnit, row_id)
        assert unit is not None
        fresh = session.get(Account, account.id)
        assert fresh is not None
        return restock(session, fresh, unit)


def test_restock_adds_one_piece_once_where_most_of_it_is(
    factory: sessionmaker[Session], account: Account
) -> None:
    add_product(factory, {"a": 0, "b": 2})
    with factory() as session:
        before = max(session.scalars(select(StockLevel.updated_at)))
    row = add_unit(factory, account, 1, "return_accepted")
    assert _restock(factory, account, row) == SKU
    assert _restock(factory, account, row) is None
    assert stock(factory) == {"a": 0, "b": 3}
    with factory() as session:
        # The change is visible to "stock changed since" queries (sync stock).
        assert max(session.scalars(select(StockLevel.updated_at))) > before
    with factory() as session:
        assert session.get(ReturnUnit, row).restocked is True  # type: ignore[union-attr]


def test_restock_prefers_the_storefronts_mapped_warehouse(
    factory: sessionmaker[Session], account: Account
) -> None:
    add_product(factory, {"a": 0, "b": 2})
    with transaction(factory) as session:
        repository = AccountRepository(session)
        repository.map_warehouse(repository.get("shop"), "de", "a", 11)
    row = add_unit(factory, account, 1, "return_accepted")
    assert _restock(factory, account, row) == SKU
    assert stock(factory) == {"a": 1, "b": 2}


def test_restock_without_any_stock_row_goes_to_the_default_warehouse(
    factory: sessionmaker[Session], account: Account
) -> None:
    add_product(factory, {})
    row = add_unit(factory, account, 1, "return_accepted")
    assert _restock(factory, account, row) == SKU
    assert stock(factory) == {"default": 1}


def test_restock_needs_a_catalogue_product_and_a_sku(
    factory: sessionmaker[Session], account: Account
) -> None:
    unknown = add_unit(factory, account, 1, "return_accepted")
    no_sku = add_unit(factory, account, 2, "return_accepted", sku=None)
    assert _restock(factory, account, unknown) is None
    assert _restock(factory, account, no_sku) is None
    with factory() as session:
        assert session.get(ReturnUnit, unknown).restocked is False  # type: ignore[union-attr]

"""``import_orders`` against a fake client on SQLite and PostgreSQL: two runs at once, grouping,
status summary and a forward-only cursor."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.models import OrderDetails, OrderUnit
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import Customer, Order, OrderLine, SyncCursor
from kaufland_sync.sync.importers.orders import import_orders

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
ADDRESS = {"first_name": "Ada", "city": "Köln", "country": "DE"}


def unit(id_ou: int, id_order: str, status: str = "need_to_be_sent", **extra: Any) -> OrderUnit:
    payload: dict[str, Any] = {
        "id_order_unit": id_ou,
        "id_order": id_order,
        "status": status,
        "storefront": "de",
        "currency": "EUR",
        "price": 1999,
        "shipping_rate": 499,
        "vat": 19,
        "ts_created_iso": "2026-03-01T10:00:00Z",
        "ts_updated_iso": "2026-03-01T10:00:00Z",
        "buyer": {"id_buyer": 7, "email": "b@example.com"},
        "billing_address": ADDRESS,
        "shipping_address": ADDRESS,
    }
    payload.update(extra)
    return OrderUnit.model_validate(payload)


class FakeResource:
    def __init__(self, units: list[OrderUnit], barrier: threading.Barrier | None) -> None:
        self.units = units
        self.barrier = barrier
        self.calls: list[Any] = []

    async def _iterate(self) -> AsyncIterator[OrderUnit]:
        if self.barrier is not None:
            self.barrier.wait(timeout=10)  # both runs have read before either writes
        for u in self.units:
            yield u

    def iter_all(self, **params: Any) -> AsyncIterator[OrderUnit]:
        self.calls.append(params)
        return self._iterate()

    async def get(self, id_order: str) -> OrderDetails:
        raise AssertionError(f"no hidden addresses expected, asked for {id_order}")


class FakeClient:
    def __init__(self, units: list[OrderUnit], barrier: threading.Barrier | None = None) -> None:
        self.order_units = FakeResource(units, barrier)
        self.orders = self.order_units


def as_client(fake: FakeClient) -> KauflandClient:
    return cast(KauflandClient, fake)


def counts(factory: sessionmaker[Session]) -> tuple[int | None, ...]:
    with factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Customer, Order, OrderLine)
        )


def test_two_runs_at_once_import_each_order_once(
    factory: sessionmaker[Session], account: Account
) -> None:
    units = [unit(i, f"O{i // 3}") for i in range(1, 31)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(
                import_orders(
                    as_client(FakeClient(units, barrier)),
                    factory,
                    account,
                    ["de"],
                    clock=lambda: T0,
                )
            )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert counts(factory) == (1, 11, 30)


def test_lines_are_grouped_and_the_cursor_only_moves_forward(
    factory: sessionmaker[Session], account: Account
) -> None:
    first = FakeClient([unit(1, "A"), unit(2, "A", status="sent"), unit(3, "B")])
    summary = asyncio.run(
        import_orders(as_client(first), factory, account, ["de"], clock=lambda: T0)
    )
    assert (summary.orders_new, summary.lines_new) == (2, 3)
    assert first.order_units.calls[0]["ts_updated_from_iso"] is None
    with factory() as session:
        order = session.scalars(select(Order).where(Order.id_order == "A")).one()
        assert order.status == "need_to_be_sent,sent"
        assert order.shipping_address == ADDRESS
        assert [line.id_order_unit for line in order.lines] == [1, 2]
        assert session.scalars(select(SyncCursor.position)).one() == T0

    # An earlier clock (or --until in the past) never moves the cursor back; the next read
    # starts a little before the cursor to absorb clock skew.
    second = FakeClient([unit(2, "A", status="received")])
    summary = asyncio.run(
        import_orders(
            as_client(second), factory, account, ["de"], clock=lambda: T0 - timedelta(hours=1)
        )
    )
    assert (summary.orders_updated, summary.lines_updated, summary.orders_new) == (1, 1, 0)
    assert second.order_units.calls[0]["ts_updated_from_iso"] < T0
    with factory() as session:
        assert session.scalars(select(SyncCursor.position)).one() == T0
        assert session.scalars(select(Order.status).where(Order.id_order == "A")).one() == (
            "need_to_be_sent,received"
        )
    assert counts(factory) == (1, 2, 3)


def test_statuses_payment_and_shipping_are_mapped_with_the_accounts_rules(
    factory: sessionmaker[Session], account: Account
) -> None:
    from kaufland_sync.sync.order_mapping import set_rule

    with transaction(factory) as session:
        set_rule(session, account.id, "status", "need_to_be_sent", "To pack", storefront="de")
        set_rule(session, account.id, "payment", "marketplace", "Kaufland.de")
    units = [
        unit(1, "A"),
        unit(2, "A", status="cancelled", cancel_reason="NoInventory"),
        unit(3, "B", status="sent", fulfillment_type="fulfilled_by_kaufland"),
    ]
    asyncio.run(
        import_orders(as_client(FakeClient(units)), factory, account, ["de"], clock=lambda: T0)
    )
    with factory() as session:
        orders = {o.id_order: o for o in session.scalars(select(Order))}
        a, b = orders["A"], orders["B"]
        assert [(line.local_status, line.cancel_reason) for line in a.lines] == [
            ("To pack", None),
            ("Cancelled", "NoInventory"),
        ]
        assert (a.local_status, a.payment_method, a.shipping_method) == (
            "To pack,Cancelled",
            "Kaufland.de",
            "Merchant shipping",
        )
        assert (b.local_status, b.shipping_method) == ("Dispatched", "Fulfilled by Kaufland")


def test_each_storefront_run_is_logged_ok_or_failed(
    factory: sessionmaker[Session], account: Account
) -> None:
    from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun

    asyncio.run(
        import_orders(
            as_client(FakeClient([unit(1, "A"), unit(2, "B")])),
            factory,
            account,
            ["de"],
            clock=lambda: T0,
        )
    )

    class Broken(FakeClient):
        """Sends a unit with hidden addresses, then fails to read its order."""

        def __init__(self) -> None:
            hidden = unit(1, "A", status="sent", billing_address=None, shipping_address=None)
            super().__init__([hidden])
            self.order_units.get = self._refuse  # type: ignore[method-assign]

        async def _refuse(self, id_order: str) -> Any:
            raise RuntimeError("Kaufland is down")

    with pytest.raises(RuntimeError):
        asyncio.run(import_orders(as_client(Broken()), factory, account, ["de"], clock=lambda: T0))
    with factory() as session:
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
    assert [(r.kind, r.storefront.value, r.outcome) for r in runs] == [
        (SyncKind.ORDERS, "de", RunOutcome.OK),
        (SyncKind.ORDERS, "de", RunOutcome.FAILED),
    ]
    assert (runs[0].created, runs[0].updated, runs[0].finished_at) == (2, 0, T0)
    assert runs[1].updated == 1 and "Kaufland is down" in (runs[1].error_summary or "")


def test_a_storefront_whose_orders_direction_is_off_is_not_read(
    factory: sessionmaker[Session], account: Account
) -> None:
    from kaufland_sync.store.models.accounts import AccountStorefront, SyncDirection
    from kaufland_sync.store.models.sync import RunOutcome, SyncRun

    def direction(value: SyncDirection) -> None:
        with transaction(factory) as session:
            settings = session.scalars(
                select(AccountStorefront).where(AccountStorefront.account_id == account.id)
            ).one()
            settings.direction_orders = value

    direction(SyncDirection.OFF)
    fake = FakeClient([unit(1, "A")])
    summary = asyncio.run(
        import_orders(as_client(fake), factory, account, ["de"], clock=lambda: T0)
    )
    assert fake.order_units.calls == []  # nothing asked of Kaufland
    assert summary.orders_new == 0 and counts(factory) == (0, 0, 0)
    with factory() as session:
        run = session.scalars(select(SyncRun)).one()
        cursors = session.scalar(select(func.count()).select_from(SyncCursor))
    assert run.outcome is RunOutcome.SKIPPED
    assert "orders direction is off" in (run.error_summary or "")
    assert cursors == 0  # the cursor stays where it was

    direction(SyncDirection.FROM_KAUFLAND)  # switched back: what came meanwhile is imported
    asyncio.run(import_orders(as_client(fake), factory, account, ["de"], clock=lambda: T0))
    assert counts(factory) == (1, 1, 1)


def test_a_unit_listed_twice_in_one_batch_is_written_once_as_last_read(
    factory: sessionmaker[Session], account: Account
) -> None:
    """Offset paging over a list Kaufland keeps changing can show a unit twice in one page run;
    the later read wins and no unique key is hit."""
    fake = FakeClient([unit(1, "A"), unit(2, "A"), unit(1, "A", status="sent")])
    summary = asyncio.run(
        import_orders(as_client(fake), factory, account, ["de"], clock=lambda: T0)
    )
    assert (summary.lines_new, summary.unchanged) == (2, 1)
    with factory() as session:
        statuses = dict(session.execute(select(OrderLine.id_order_unit, OrderLine.status)).all())
    assert statuses == {1: "sent", 2: "need_to_be_sent"}


def test_addresses_shown_by_a_changed_unit_count_as_released(
    factory: sessionmaker[Session], account: Account
) -> None:
    """An order imported while Kaufland hid its addresses; the next listing shows the unit with
    them (it moved on from ``open``): the order gets them, and the summary says so."""
    hidden = unit(1, "A", status="open", billing_address=None, shipping_address=None, buyer=None)

    class HiddenThenGone(FakeResource):
        async def get(self, id_order: str) -> OrderDetails:
            # Still hidden when re-read right after the first import.
            return OrderDetails.model_validate({"id_order": id_order, "order_units": []})

    first = FakeClient([hidden])
    first.order_units = first.orders = HiddenThenGone([hidden], None)
    asyncio.run(import_orders(as_client(first), factory, account, ["de"], clock=lambda: T0))
    with factory() as session:
        order = session.scalars(select(Order)).one()
        assert order.shipping_address is None
        assert session.scalars(select(OrderLine.addresses_hidden)).one() is True

    shown = FakeClient([unit(1, "A", ts_updated_iso="2026-03-01T10:20:00Z")])
    later = T0 + timedelta(minutes=20)
    summary = asyncio.run(
        import_orders(as_client(shown), factory, account, ["de"], clock=lambda: later)
    )
    assert summary.addresses_released == 1
    with factory() as session:
        assert session.scalars(select(Order.shipping_address)).one() == ADDRESS
        assert session.scalars(select(OrderLine.addresses_hidden)).one() is False


def test_progress_is_told_of_every_unit_written_per_storefront(
    factory: sessionmaker[Session], account: Account
) -> None:
    from kaufland_sync.sync.importers.orders import BATCH

    fake = FakeClient([unit(i, f"O{i}") for i in range(1, BATCH + 6)])
    told: list[tuple[str, int]] = []
    asyncio.run(
        import_orders(
            as_client(fake),
            factory,
            account,
            ["de"],
            clock=lambda: T0,
            on_progress=lambda storefront, n: told.append((storefront.value, n)),
        )
    )
    assert told == [("de", BATCH), ("de", 5)]

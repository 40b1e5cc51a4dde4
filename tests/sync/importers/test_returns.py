"""``import_returns`` against a fake Kaufland on SQLite and PostgreSQL: the three read passes,
arrival/decision times, restocking once, linking late orders, the cursor, the sync log and two
runs at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.client import KauflandClient
from kaufland_sync.sellerapi.errors import NotFoundError
from kaufland_sync.sellerapi.models import Return as ApiReturn
from kaufland_sync.sellerapi.models import ReturnDetails, ReturnUnitDetails
from kaufland_sync.sellerapi.models import ReturnUnit as ApiReturnUnit
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Currency, Product, StockLevel
from kaufland_sync.store.models.orders import Order, OrderLine, SyncCursor
from kaufland_sync.store.models.returns import Return, ReturnUnit
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.sync.importers.returns import OVERLAP, import_returns
from tests.builders import new_account

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
SKU = "SKU-R"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Market:
    """Returns and return units as Kaufland would list them, with the calls made."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.returns: dict[int, dict[str, Any]] = {}
        self.units: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[str, Any]] = []
        self.barrier = barrier

    def add(self, id_return: int, id_ru: int, id_order_unit: int, at: datetime) -> None:
        self.returns[id_return] = {
            "id_return": id_return,
            "ts_created_iso": iso(at),
            "ts_updated_iso": iso(at),
            "storefront": "de",
            "tracking_provider": None,
            "tracking_code": None,
            "status": "return_requested",
            "fulfillment_type": "fulfilled_by_merchant",
        }
        self.units[id_ru] = {
            "id_return_unit": id_ru,
            "id_return": id_return,
            "id_order_unit": id_order_unit,
            "ts_created_iso": iso(at),
            "status": "need_to_be_returned",
            "note": None,
            "reason": "defect",
            "storefront": "de",
            "fulfillment_type": "fulfilled_by_merchant",
        }

    def set_status(self, id_ru: int, status: str, touch_return: datetime | None = None) -> None:
        self.units[id_ru]["status"] = status
        if touch_return is not None:
            self.returns[self.units[id_ru]["id_return"]]["ts_updated_iso"] = iso(touch_return)

    # -- the client's surface ---------------------------------------------------------------

    @property
    def return_units(self) -> Market:
        return self

    async def _returns(self, params: dict[str, Any]) -> AsyncIterator[ApiReturn]:
        if self.barrier is not None:
            self.barrier.wait(timeout=10)  # both runs have read before either writes
        start = params.get("ts_updated_from_iso")
        rows = [
            r
            for r in self.returns.values()
            if start is None or datetime.fromisoformat(r["ts_updated_iso"]) >= start
        ]
        for r in sorted(rows, key=lambda r: r["ts_updated_iso"], reverse=True):
            yield ApiReturn.model_validate(r)

    async def _units(self, params: dict[str, Any]) -> AsyncIterator[ApiReturnUnit]:
        wanted = set(params.get("status") or [])
        for u in self.units.values():
            if not wanted or u["status"] in wanted:
                yield ApiReturnUnit.model_validate(u)

    def iter_all(self, **params: Any) -> AsyncIterator[Any]:
        raise AssertionError("use returns.iter_all or return_units.iter_all")

    async def get(self, ident: int, *, embedded: Iterable[str] = ()) -> Any:
        if "return_units" in embedded:
            self.calls.append(("get_return", ident))
            units = [u for u in self.units.values() if u["id_return"] == ident]
            return ReturnDetails.model_validate({**self.returns[ident], "return_units": units})
        self.calls.append(("get_return_unit", ident))
        if ident not in self.units:
            raise NotFoundError(
                404, "/problems/not-found", "gone", method="GET", url=f"/return-units/{ident}"
            )
        unit = self.units[ident]
        return ReturnUnitDetails.model_validate({**unit, "return": self.returns[unit["id_return"]]})


class Returns:
    def __init__(self, market: Market) -> None:
        self.market = market

    def iter_all(self, **params: Any) -> AsyncIterator[ApiReturn]:
        self.market.calls.append(("list_returns", params))
        return self.market._returns(params)

    async def get(self, ident: int, *, embedded: Iterable[str] = ()) -> Any:
        return await self.market.get(ident, embedded=embedded)


class Units:
    def __init__(self, market: Market) -> None:
        self.market = market

    def iter_all(self, **params: Any) -> AsyncIterator[ApiReturnUnit]:
        self.market.calls.append(("list_units", params))
        return self.market._units(params)

    async def get(self, ident: int, *, embedded: Iterable[str] = ()) -> Any:
        return await self.market.get(ident, embedded=embedded)


class FakeClient:
    def __init__(self, market: Market) -> None:
        self.returns = Returns(market)
        self.return_units = Units(market)


def client(market: Market) -> KauflandClient:
    return cast(KauflandClient, FakeClient(market))


@pytest.fixture
def account(factory: sessionmaker[Session]) -> Account:
    with transaction(factory) as session:
        account = new_account(session)
        account.restock_returns = True
        return account


def add_line(factory: sessionmaker[Session], account: Account, id_order_unit: int) -> None:
    with transaction(factory) as session:
        order = Order(account_id=account.id, id_order=f"O{id_order_unit}", storefront="de", raw={})
        session.add(order)
        session.flush()
        session.add(
            OrderLine(
                order_id=order.id, id_order_unit=id_order_unit, sku=SKU, status="sent", raw={}
            )
        )


def add_product(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add(
            Product(
                sku=SKU,
                ean="4000000000017",
                title="Thing",
                price_minor=100,
                currency=Currency.EUR,
                content_hash="0" * 64,
            )
        )


def on_hand(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.coalesce(func.sum(StockLevel.quantity), 0))) or 0


def run(market: Market, factory: sessionmaker[Session], account: Account, at: datetime) -> Any:
    return asyncio.run(import_returns(client(market), factory, account, ["de"], clock=lambda: at))


def unit_row(factory: sessionmaker[Session], id_ru: int) -> ReturnUnit:
    with factory() as session:
        return session.scalars(select(ReturnUnit).where(ReturnUnit.id_return_unit == id_ru)).one()


def test_a_new_return_is_imported_linked_and_logged_and_a_rerun_changes_nothing(
    factory: sessionmaker[Session], account: Account
) -> None:
    add_line(factory, account, 700)
    market = Market()
    market.add(1, 11, 700, T0 - timedelta(minutes=1))
    first = run(market, factory, account, T0)
    assert (first.returns_new, first.units_new, first.linked) == (1, 1, 1)
    unit = unit_row(factory, 11)
    assert unit.status == "need_to_be_returned" and unit.reason == "defect"
    assert unit.order_line_id is not None and unit.raw["id_order_unit"] == 700
    assert unit.arrived_at is None and unit.decided_at is None
    with factory() as session:
        ret = session.scalars(select(Return)).one()
        assert ret.status == "return_requested" and ret.storefront == "de"
        assert ret.raw["id_return"] == 1 and "return_units" not in ret.raw
        assert session.scalars(select(SyncCursor.position)).one() == T0
        log = session.scalars(select(SyncRun)).one()
        assert (log.kind, log.outcome, log.created) == (SyncKind.RETURNS, RunOutcome.OK, 1)
        assert log.finished_at == T0

    market.calls.clear()
    second = run(market, factory, account, T0 + timedelta(minutes=1))
    assert (second.returns_new, second.units_new, second.unchanged) == (0, 0, 1)
    # The overlap lists the return again; read again, it changes nothing.
    listed = [c for c in market.calls if c[0] == "list_returns"]
    assert listed[0][1]["ts_updated_from_iso"] == T0 - OVERLAP
    assert [c for c in market.calls if c[0].startswith("get")] == [("get_return", 1)]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 2
    # Out of the window: listed no more, and open units come from the open-units list alone.
    run(market, factory, account, T0 + timedelta(hours=1))
    market.calls.clear()
    fourth = run(market, factory, account, T0 + timedelta(hours=2))
    assert fourth.unchanged == 1
    assert [c for c in market.calls if c[0].startswith("get")] == []


def test_a_unit_change_is_seen_even_when_its_return_does_not_move(
    factory: sessionmaker[Session], account: Account
) -> None:
    add_line(factory, account, 700)
    add_product(factory)
    market = Market()
    market.add(1, 11, 700, T0 - timedelta(days=1))
    run(market, factory, account, T0)

    market.set_status(11, "return_arrived")  # the return's ts_updated stays a day old
    t1 = T0 + timedelta(hours=1)
    summary = run(market, factory, account, t1)
    assert (summary.units_updated, summary.arrived) == (1, 1)
    unit = unit_row(factory, 11)
    # No better bound than the run that saw it (the return did not move since the unit began).
    assert unit.status == "return_arrived" and unit.arrived_at == t1

    # Accepted: the unit leaves the open list, so it is read by itself.
    market.set_status(11, "return_accepted")
    market.calls.clear()
    t2 = T0 + timedelta(hours=2)
    summary = run(market, factory, account, t2)
    assert ("get_return_unit", 11) in market.calls
    assert (summary.decided, summary.restocked_skus) == (1, [SKU])
    unit = unit_row(factory, 11)
    assert unit.status == "return_accepted" and unit.decided_at == t2 and unit.restocked
    assert on_hand(factory) == 1

    # Reruns (the unit is closed later too) never add the piece again.
    market.set_status(11, "return_closed", touch_return=t2 + timedelta(minutes=5))
    again = run(market, factory, account, T0 + timedelta(hours=3))
    assert again.restocked_skus == [] and on_hand(factory) == 1
    assert unit_row(factory, 11).decided_at == t2
    assert run(market, factory, account, T0 + timedelta(hours=4)).restocked_skus == []


def test_arrival_takes_the_returns_update_time_when_it_moved(
    factory: sessionmaker[Session], account: Account
) -> None:
    market = Market()
    market.add(1, 11, 700, T0 - timedelta(days=1))
    run(market, factory, account, T0)
    arrived = T0 + timedelta(minutes=20)
    market.set_status(11, "return_arrived", touch_return=arrived)
    run(market, factory, account, T0 + timedelta(hours=1))
    assert unit_row(factory, 11).arrived_at == arrived

    # A unit first seen already decided gets one estimate for both times.
    market.add(2, 22, 701, T0 + timedelta(minutes=70))
    market.set_status(22, "return_rejected", touch_return=T0 + timedelta(minutes=90))
    run(market, factory, account, T0 + timedelta(hours=2))
    unit = unit_row(factory, 22)
    assert unit.arrived_at == unit.decided_at == T0 + timedelta(minutes=90)


def test_restock_is_off_unless_the_account_asks_for_it(
    factory: sessionmaker[Session], account: Account
) -> None:
    with transaction(factory) as session:
        stored = session.get(Account, account.id)
        assert stored is not None
        stored.restock_returns = False
    add_line(factory, account, 700)
    add_product(factory)
    market = Market()
    market.add(1, 11, 700, T0)
    market.set_status(11, "return_accepted")
    assert run(market, factory, account, T0).restocked_skus == []
    assert on_hand(factory) == 0 and not unit_row(factory, 11).restocked


def test_a_unit_accepted_before_its_order_was_imported_is_linked_and_restocked_later(
    factory: sessionmaker[Session], account: Account
) -> None:
    add_product(factory)
    market = Market()
    market.add(1, 11, 700, T0)
    market.set_status(11, "return_accepted")
    assert run(market, factory, account, T0).restocked_skus == []
    assert unit_row(factory, 11).order_line_id is None

    add_line(factory, account, 700)
    summary = run(market, factory, account, T0 + timedelta(minutes=1))
    assert (summary.linked, summary.restocked_skus) == (1, [SKU])
    assert on_hand(factory) == 1
    assert run(market, factory, account, T0 + timedelta(minutes=2)).restocked_skus == []


def test_a_unit_kaufland_no_longer_shows_keeps_its_last_state(
    factory: sessionmaker[Session], account: Account
) -> None:
    market = Market()
    market.add(1, 11, 700, T0)
    run(market, factory, account, T0)
    del market.units[11]
    summary = run(market, factory, account, T0 + timedelta(minutes=1))
    assert summary.units_updated == 0
    assert unit_row(factory, 11).status == "need_to_be_returned"


def test_a_failing_read_marks_the_run_failed_and_keeps_the_cursor(
    factory: sessionmaker[Session], account: Account
) -> None:
    class Broken(Market):
        async def _units(self, params: dict[str, Any]) -> AsyncIterator[ApiReturnUnit]:
            raise RuntimeError("Kaufland is down")
            yield  # pragma: no cover - makes this an async generator

    market = Broken()
    market.add(1, 11, 700, T0)
    with pytest.raises(RuntimeError, match="down"):
        run(market, factory, account, T0)
    with factory() as session:
        log = session.scalars(select(SyncRun)).one()
        assert log.outcome == RunOutcome.FAILED and "Kaufland is down" in (log.error_summary or "")
        assert session.scalars(select(SyncCursor)).all() == []
        # The first pass's batch was written before the failure and stays.
        assert session.scalar(select(func.count()).select_from(ReturnUnit)) == 1


def test_two_runs_at_once_import_and_restock_once(
    factory: sessionmaker[Session], account: Account
) -> None:
    add_product(factory)
    for i in range(1, 11):
        add_line(factory, account, 700 + i)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def one_run() -> None:
        market = Market(barrier)
        for i in range(1, 11):
            market.add(i, 10 * i, 700 + i, T0)
            market.set_status(10 * i, "return_accepted")
        try:
            run(market, factory, account, T0 + timedelta(minutes=1))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Return)) == 10
        assert session.scalar(select(func.count()).select_from(ReturnUnit)) == 10
    assert on_hand(factory) == 10

"""``import_tickets`` against a fake Kaufland on SQLite and PostgreSQL: exactly once, updates in
place, per-storefront reads from a forward-only cursor, the sync log, two runs at once."""

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
from kaufland_sync.sellerapi.models import Ticket as ApiTicket
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.orders import SyncCursor
from kaufland_sync.store.models.returns import Ticket
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.sync.importers.tickets import OVERLAP, import_tickets
from tests.builders import add_account

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def ticket(id_ticket: str, status: str = "opened", **extra: Any) -> dict[str, Any]:
    return {
        "id_ticket": id_ticket,
        "ids_order_units": [314],
        "id_buyer": 7,
        "ts_created_iso": "2026-03-01T10:00:00Z",
        "ts_updated_iso": "2026-03-01T10:00:00Z",
        "status": status,
        "open_reason": "product_defect",
        "topic": "order_product_defect",
        "is_seller_responsible": True,
        "fulfillment_type": "fulfilled_by_merchant",
        **extra,
    }


class FakeTickets:
    def __init__(
        self, by_storefront: dict[str, list[dict[str, Any]]], barrier: threading.Barrier | None
    ) -> None:
        self.by_storefront = by_storefront
        self.barrier = barrier
        self.calls: list[dict[str, Any]] = []

    async def _iterate(self, storefronts: list[str]) -> AsyncIterator[ApiTicket]:
        if self.barrier is not None:
            self.barrier.wait(timeout=10)
        for sf in storefronts:
            for t in self.by_storefront.get(sf, []):
                yield ApiTicket.model_validate(t)

    def iter_all(self, **params: Any) -> AsyncIterator[ApiTicket]:
        self.calls.append(params)
        return self._iterate([str(s) for s in params["storefront"]])


class FakeClient:
    def __init__(
        self,
        by_storefront: dict[str, list[dict[str, Any]]],
        barrier: threading.Barrier | None = None,
    ) -> None:
        self.tickets = FakeTickets(by_storefront, barrier)


@pytest.fixture
def account(factory: sessionmaker[Session]) -> Account:
    return add_account(factory, storefronts=("de", "cz"))


def run(fake: FakeClient, factory: sessionmaker[Session], account: Account, at: datetime) -> Any:
    return asyncio.run(
        import_tickets(cast(KauflandClient, fake), factory, account, ["de", "cz"], clock=lambda: at)
    )


def test_tickets_are_imported_once_per_storefront_and_updated_in_place(
    factory: sessionmaker[Session], account: Account
) -> None:
    fake = FakeClient({"de": [ticket("0011"), ticket("0012")], "cz": [ticket("0013")]})
    first = run(fake, factory, account, T0)
    assert first.as_dict() == {"new": 3, "updated": 0, "unchanged": 0}
    assert [c["storefront"] for c in fake.tickets.calls] == [["de"], ["cz"]]
    assert all(c["ts_updated_from_iso"] is None for c in fake.tickets.calls)
    with factory() as session:
        rows = {t.id_ticket: t for t in session.scalars(select(Ticket))}
        assert rows["0013"].storefront == "cz" and rows["0011"].storefront == "de"
        assert rows["0011"].is_seller_responsible is True
        assert rows["0011"].ids_order_units == [314]
        assert rows["0011"].topic == "order_product_defect"
        assert rows["0011"].ts_created == datetime(2026, 3, 1, 10, tzinfo=UTC)
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        assert [(r.kind, r.storefront, r.outcome) for r in runs] == [
            (SyncKind.TICKETS, "de", RunOutcome.OK),
            (SyncKind.TICKETS, "cz", RunOutcome.OK),
        ]
        assert {c.position for c in session.scalars(select(SyncCursor))} == {T0}

    fake = FakeClient(
        {
            "de": [
                ticket("0011", "seller_closed", is_seller_responsible=False),
                ticket("0012"),
            ]
        }
    )
    second = run(fake, factory, account, T0 + timedelta(hours=1))
    assert second.as_dict() == {"new": 0, "updated": 1, "unchanged": 1}
    assert fake.tickets.calls[0]["ts_updated_from_iso"] == T0 - OVERLAP
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 3
        closed = session.scalars(select(Ticket).where(Ticket.id_ticket == "0011")).one()
        assert closed.status == "seller_closed" and closed.is_seller_responsible is False


def test_two_runs_at_once_store_each_ticket_once(
    factory: sessionmaker[Session], account: Account
) -> None:
    tickets = {"de": [ticket(f"001{i}") for i in range(40)]}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def one_run() -> None:
        try:
            run(FakeClient(tickets, barrier), factory, account, T0)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 40

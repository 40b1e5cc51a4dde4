"""The outbox worker against the sandbox in-process (real client, real HTTP semantics, faults
injected per request): states, backoff, claims and leases, order per target, actions that had
already taken effect, and refunds whose outcome is unknown.

The claim is also tested on PostgreSQL, with two workers at once; that test counts sends with
a small stand-in for the client, because what it checks is the store's compare-and-set, not
Kaufland.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sandbox import marketplace
from kaufland_sync.sandbox.app import create_app
from kaufland_sync.sandbox.faults import Fault
from kaufland_sync.sandbox.seed import seed_world
from kaufland_sync.sandbox.world import SandboxConfig, SellerCredentials, World
from kaufland_sync.sellerapi import KauflandClient, RetryPolicy
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.sync.outbox import (
    HANDLERS,
    Backoff,
    OutboxError,
    enqueue,
    list_messages,
    resolve_message,
    retry_message,
    run_outbox,
)
from tests.builders import add_account

KEY = "outbox_test_client_key_000000001"
SECRET = "outbox_test_secret_" + "c" * 45
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Clock:
    """The worker's clock, moved by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Market:
    """A demo-seeded sandbox app in this process, with per-request faults on demand."""

    def __init__(self) -> None:
        config = SandboxConfig(
            sellers=[SellerCredentials(KEY, SECRET)], rate_limit=0.0, random_seed=11
        )
        self.world = World(config)
        seed_world(self.world, "demo")
        self.app = create_app(config, world=self.world)
        self.state = self.app.state.sandbox
        self.faults: list[Fault | None] = []
        # Each request takes the next planned fault (None: behave); an empty plan behaves.
        self.state.faults.draw = lambda method, rng: self.faults.pop(0) if self.faults else None

    def fail(self, *phases: str, status: int = 503) -> None:
        """Plan the next requests: ``"before"``/``"after"`` fail with ``status`` before or
        after the sandbox processed them, ``"ok"`` behaves."""
        self.faults = [None if p == "ok" else Fault("error", p, status) for p in phases]  # type: ignore[arg-type]

    def down(self) -> None:
        """Every request fails with 503 before being processed, until ``up``."""
        self.state.faults.draw = lambda method, rng: Fault("error", "before", 503)

    def up(self) -> None:
        self.state.faults.draw = lambda method, rng: self.faults.pop(0) if self.faults else None

    def order(self, pieces: int = 3) -> tuple[str, list[int]]:
        """A buyer's order of ``pieces`` pieces on ``de``, released (``need_to_be_sent``)."""
        seller = self.world.seller(KEY)
        unit = next(
            u
            for u in seller.table("units").values()
            if u["storefront"] == "de"
            and u.get("status", "AVAILABLE") == "AVAILABLE"
            and int(u.get("amount") or 0) >= pieces
        )
        order = marketplace.place_order(self.world, KEY, "de", [(int(unit["id_unit"]), pieces)])
        ids = [int(i) for i in order["_order_unit_ids"]]
        for id_ou in ids:
            marketplace.fulfil_order_unit(self.world, KEY, id_ou)
        return str(order["id_order"]), ids

    def unit(self, id_order_unit: int) -> dict[str, Any]:
        return self.world.seller(KEY).table("order_units")[str(id_order_unit)]

    def shipments(self, id_order_unit: int) -> list[tuple[str, str]]:
        table = self.world.seller(KEY).table("shipments")
        return [
            (s["carrier_code"], s["tracking_number"])
            for s in table.values()
            if s["id_order_unit"] == id_order_unit
        ]

    def invoices(self, id_order: str) -> list[dict[str, Any]]:
        table = self.world.seller(KEY).table("order_invoices")
        return [i for i in table.values() if i["id_order"] == id_order]


@asynccontextmanager
async def open_client(market: Market, attempts: int = 1) -> AsyncIterator[KauflandClient]:
    """The real client over an in-process transport; ``attempts`` per request (no waiting)."""
    transport = httpx.ASGITransport(app=market.app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http,
        KauflandClient(
            KEY,
            SECRET,
            base_url="http://sandbox.test/v2",
            http_client=http,
            rate_limit=None,
            retry=RetryPolicy(max_attempts=attempts, base_delay=0.0, max_delay=0.0),
            storefront="de",
        ) as client,
    ):
        yield client


def add_shop(factory: sessionmaker[Session]) -> int:
    """The account ``shop`` of the sandbox seller ``KEY``; returns its id."""
    return add_account(factory, client_key=KEY, base_url="http://sandbox.test/v2").id


@pytest.fixture
def market() -> Market:
    return Market()


def queue(
    factory: sessionmaker[Session],
    account_id: int,
    action: OutboxAction,
    target: str | int,
    payload: dict[str, Any] | None = None,
    **extra: Any,
) -> int:
    with transaction(factory) as session:
        message = enqueue(
            session,
            account_id=account_id,
            action=action,
            target=target,
            payload=payload,
            now=T0,
            **extra,
        )
        return message.id


def message(factory: sessionmaker[Session], ident: int) -> OutboxMessage:
    with factory() as session:
        found = session.get(OutboxMessage, ident)
        assert found is not None
        return found


async def run(
    market: Market,
    factory: sessionmaker[Session],
    account_id: int,
    clock: Clock,
    attempts: int = 1,
    draw: float = 0.5,
) -> Any:
    async with open_client(market, attempts) as client:
        return await run_outbox(client, factory, account_id, clock=clock, random=lambda: draw)


DHL = {"carrier_code": "DHL", "tracking_numbers": "00340001,00340002"}


def test_every_action_has_a_handler() -> None:
    assert set(HANDLERS) == set(OutboxAction)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    backoff = Backoff(base=timedelta(seconds=10), cap=timedelta(seconds=60))
    assert backoff.delay(1, 0.0) == timedelta(seconds=5)
    assert backoff.delay(1, 0.999999) < timedelta(seconds=10)
    assert backoff.delay(3, 0.0) == timedelta(seconds=20)
    assert backoff.delay(10, 1.0) == timedelta(seconds=60)


async def test_each_action_is_sent_and_reflected_on_the_sandbox(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    id_order, (u1, u2, u3) = market.order(3)
    send = queue(factory, account, OutboxAction.SEND, u1, DHL)
    parcel = queue(
        factory,
        account,
        OutboxAction.ADD_SHIPMENT,
        u1,
        {"carrier_code": "DPD", "tracking_number": "DPD-9"},
    )
    refund = queue(
        factory, account, OutboxAction.REFUND, u1, {"amount": 100, "reason": "delivery_delay"}
    )
    cancel = queue(factory, account, OutboxAction.CANCEL, u2, {"reason": "NoInventory"})
    pdf = b"%PDF-1.4 invoice"
    invoice = queue(
        factory,
        account,
        OutboxAction.INVOICE,
        id_order,
        {"original_name": "R-1.pdf", "mime_type": "application/pdf"},
        attachment=pdf,
    )

    summary = await run(market, factory, account, Clock())

    # The heads of each target first; the parcel and the refund wait for the send of their unit.
    assert summary.sent == 5 and summary.processed == [send, cancel, invoice, parcel, refund]
    assert all(message(factory, i).state == OutboxState.DONE for i in summary.processed)
    assert market.unit(u1)["status"] == "sent"
    assert market.shipments(u1) == [("DHL", "00340001"), ("DHL", "00340002"), ("DPD", "DPD-9")]
    assert [r["amount"] for r in market.unit(u1)["_refunds"]] == [100]
    assert market.unit(u2)["status"] == "cancelled"
    assert market.unit(u3)["status"] == "need_to_be_sent"
    (uploaded,) = market.invoices(id_order)
    done = message(factory, invoice)
    assert done.result == {"id_invoice": uploaded["id_invoice"], "original_name": "R-1.pdf"}
    assert done.attempts == 1 and done.done_at == T0 and done.claimed_at is None


async def test_return_decisions_are_sent_and_a_decision_already_made_is_done(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, units = market.order(2)
    returns = []
    for id_ou in units:
        marketplace.send_order_unit(market.world, KEY, id_ou, "1", "DHL")
        ret = marketplace.initiate_return(
            market.world, KEY, [{"id_order_unit": id_ou, "reason": "defect", "note": "broken"}]
        )
        returns.append(int(ret["_return_unit_ids"][0]))
    first, second = returns
    reject = queue(factory, account, OutboxAction.RETURN_REJECT, first, {"message": "Used."})
    marketplace.accept_return_unit(market.world, KEY, second)  # decided on Kaufland meanwhile
    accept = queue(factory, account, OutboxAction.RETURN_ACCEPT, second)

    summary = await run(market, factory, account, Clock())

    assert (summary.sent, summary.already) == (2, 1)
    table = market.world.seller(KEY).table("return_units")
    assert table[str(first)]["status"] == "return_rejected"
    assert message(factory, reject).result is None
    assert message(factory, accept).result == {"already": "return_accepted"}


async def test_a_temporary_failure_backs_off_and_the_message_goes_once_kaufland_is_back(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, (u1, *_) = market.order(1)
    ident = queue(factory, account, OutboxAction.SEND, u1, DHL)
    clock = Clock()
    market.down()

    first = await run(market, factory, account, clock, draw=0.5)
    failed = message(factory, ident)
    assert first.retrying == 1 and failed.state == OutboxState.PENDING
    assert failed.attempts == 1 and failed.last_error is not None and "503" in failed.last_error
    # 30 s base: half of it plus half of the jitter draw.
    assert failed.next_attempt_at == T0 + timedelta(seconds=22.5)

    nothing = await run(market, factory, account, clock)
    assert nothing.processed == []  # not due yet

    clock.advance(seconds=30)
    await run(market, factory, account, clock, draw=0.0)
    again = message(factory, ident)
    assert again.attempts == 2 and again.next_attempt_at == clock.now + timedelta(seconds=30)

    market.up()
    clock.advance(minutes=5)
    last = await run(market, factory, account, clock)
    assert last.sent == 1 and message(factory, ident).state == OutboxState.DONE
    assert market.unit(u1)["status"] == "sent" and len(market.shipments(u1)) == 2


async def test_a_refusal_fails_with_kaufland_reason(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, (u1, u2) = market.order(2)
    marketplace.send_order_unit(market.world, KEY, u2, "1", "DHL")
    bad_carrier = queue(
        factory, account, OutboxAction.SEND, u1, {"carrier_code": "Nope", "tracking_numbers": "1"}
    )
    too_late = queue(factory, account, OutboxAction.CANCEL, u2, {"reason": "NoInventory"})
    malformed = queue(factory, account, OutboxAction.REFUND, u2, {"amount": 100})

    summary = await run(market, factory, account, Clock())

    assert summary.failed == 3
    refused = message(factory, bad_carrier)
    assert refused.state == OutboxState.FAILED and refused.last_error is not None
    assert "carrier_code" in refused.last_error and "Nope" in refused.last_error
    cancelled = message(factory, too_late).last_error
    assert cancelled is not None and "cancel-not-possible" in cancelled
    broken = message(factory, malformed).last_error
    assert broken is not None and broken.startswith("invalid message") and "reason" in broken


async def test_actions_that_had_already_taken_effect_are_done(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, (u1, u2, u3) = market.order(3)
    marketplace.send_order_unit(market.world, KEY, u1, "X", "DHL")  # shipped via the portal
    marketplace.cancel_order_unit(market.world, KEY, u2, "BuyerCancelled")
    send = queue(factory, account, OutboxAction.SEND, u1, DHL)
    cancel = queue(factory, account, OutboxAction.CANCEL, u2, {"reason": "NoInventory"})
    # Kaufland applies the send, then answers 503; the client's resend is refused as a duplicate.
    late = queue(factory, account, OutboxAction.SEND, u3, DHL)

    market.fail("ok", "ok", "ok", "ok", "after", "ok", "ok")
    summary = await run(market, factory, account, Clock(), attempts=2)

    assert (summary.sent, summary.already) == (3, 3)
    assert message(factory, send).result == {"already": "sent"}
    assert message(factory, cancel).result == {"already": "cancelled"}
    assert message(factory, late).result == {"already": "sent"}
    assert market.shipments(u1) == [("DHL", "X")]  # our tracking did not overwrite Kaufland's
    assert len(market.shipments(u3)) == 2  # once, not twice


async def test_a_refund_with_unknown_outcome_is_never_sent_again_by_itself(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, (u1,) = market.order(1)
    marketplace.send_order_unit(market.world, KEY, u1, "1", "DHL")
    ident = queue(
        factory, account, OutboxAction.REFUND, u1, {"amount": 250, "reason": "delivery_damage"}
    )
    clock = Clock()
    market.fail("after")  # applied, then a 503

    summary = await run(market, factory, account, clock, attempts=3)
    stuck = message(factory, ident)
    assert summary.unknown == 1 and stuck.state == OutboxState.UNKNOWN
    assert stuck.last_error is not None and "outcome unknown" in stuck.last_error

    clock.advance(hours=2)
    assert (await run(market, factory, account, clock)).processed == []
    assert [r["amount"] for r in market.unit(u1)["_refunds"]] == [250]  # exactly once

    with transaction(factory) as session:
        resolve_message(session, ident, note="checked in the seller portal", now=clock.now)
    resolved = message(factory, ident)
    assert resolved.state == OutboxState.DONE
    assert resolved.result == {"resolved_by_hand": "checked in the seller portal"}


async def test_an_invoice_whose_upload_may_have_arrived_is_checked_not_sent_twice(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    id_order, _ = market.order(1)
    ident = queue(
        factory,
        account,
        OutboxAction.INVOICE,
        id_order,
        {"original_name": "R-7.pdf", "mime_type": "application/pdf"},
        attachment=b"%PDF-1.7 x",
    )
    clock = Clock()
    market.fail("after")

    first = await run(market, factory, account, clock)
    assert first.retrying == 1 and message(factory, ident).state == OutboxState.PENDING

    clock.advance(minutes=5)
    second = await run(market, factory, account, clock)
    (uploaded,) = market.invoices(id_order)
    assert second.already == 1
    assert message(factory, ident).result == {
        "id_invoice": uploaded["id_invoice"],
        "original_name": "R-7.pdf",
        "already": True,
    }


async def test_a_dead_workers_claim_is_taken_over_after_the_lease(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, (u1, u2) = market.order(2)
    marketplace.send_order_unit(market.world, KEY, u2, "1", "DHL")
    send = queue(factory, account, OutboxAction.SEND, u1, DHL)
    refund = queue(
        factory, account, OutboxAction.REFUND, u2, {"amount": 5, "reason": "other_refund"}
    )
    fresh = queue(factory, account, OutboxAction.CANCEL, u2, {"reason": "NoInventory"})
    clock = Clock()
    with transaction(factory) as session:
        for ident, claimed in ((send, 20), (refund, 20), (fresh, 1)):
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == ident)
                .values(
                    state=OutboxState.SENDING,
                    attempts=1,
                    claimed_at=clock.now - timedelta(minutes=claimed),
                )
            )

    summary = await run(market, factory, account, clock)

    assert summary.processed == [send, refund]
    assert message(factory, send).state == OutboxState.DONE and message(factory, send).attempts == 2
    assert market.unit(u1)["status"] == "sent"
    assert message(factory, refund).state == OutboxState.UNKNOWN
    assert market.unit(u2)["_refunds"] == []  # not sent blindly
    assert message(factory, fresh).state == OutboxState.SENDING  # its worker may still be busy


async def test_messages_about_one_target_go_in_order(
    market: Market, store: tuple[sessionmaker[Session], int]
) -> None:
    factory, account = store
    _, (u1, u2) = market.order(2)
    send = queue(factory, account, OutboxAction.SEND, u1, DHL)
    parcel = queue(
        factory,
        account,
        OutboxAction.ADD_SHIPMENT,
        u1,
        {"carrier_code": "DHL", "tracking_number": "3"},
    )
    other = queue(factory, account, OutboxAction.CANCEL, u2, {"reason": "NoInventory"})
    clock = Clock()
    market.fail("before")  # only the first request (the send) fails

    summary = await run(market, factory, account, clock)

    assert summary.processed == [send, other]
    waiting = message(factory, parcel)
    assert waiting.state == OutboxState.PENDING and waiting.attempts == 0

    clock.advance(minutes=1)
    later = await run(market, factory, account, clock)
    assert later.processed == [send, parcel]
    assert market.shipments(u1)[-1] == ("DHL", "3")


def test_retry_and_resolve_check_states(store: tuple[sessionmaker[Session], int]) -> None:
    factory, account = store
    ident = queue(factory, account, OutboxAction.CANCEL, 1, {"reason": "NoInventory"})
    later = T0 + timedelta(hours=1)
    with transaction(factory) as session:
        with pytest.raises(OutboxError, match="only failed or unknown"):
            resolve_message(session, ident, note="x", now=later)
        session.get_one(OutboxMessage, ident).state = OutboxState.FAILED
        with pytest.raises(OutboxError, match="note"):
            resolve_message(session, ident, note="  ", now=later)
        retried = retry_message(session, ident, now=later)
        assert retried.state == OutboxState.PENDING and retried.next_attempt_at == later
        session.get_one(OutboxMessage, ident).state = OutboxState.DONE
        with pytest.raises(OutboxError, match="is done"):
            retry_message(session, ident, now=later)
        with pytest.raises(OutboxError, match="no outbox message #999"):
            retry_message(session, 999, now=later)
        assert [m.id for m in list_messages(session, states=[OutboxState.DONE])] == [ident]
        assert list_messages(session, account_id=account + 1) == []


class CountingUnits:
    """Stands in for ``client.order_units``: counts cancels, yielding so workers interleave."""

    def __init__(self, sent: list[str], lock: threading.Lock) -> None:
        self.sent = sent
        self.lock = lock

    async def cancel(self, id_order_unit: int, reason: str) -> None:
        await asyncio.sleep(0)
        with self.lock:
            self.sent.append(str(id_order_unit))


class CountingClient:
    def __init__(self, sent: list[str], lock: threading.Lock) -> None:
        self.order_units = CountingUnits(sent, lock)


def test_two_workers_at_once_send_each_message_exactly_once(
    factory: sessionmaker[Session],
) -> None:
    account = add_shop(factory)
    ids = [
        queue(factory, account, OutboxAction.CANCEL, 5000 + i, {"reason": "NoInventory"})
        for i in range(24)
    ]
    sent: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            client = cast(KauflandClient, CountingClient(sent, lock))
            asyncio.run(run_outbox(client, factory, account, clock=Clock()))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(sent) == sorted(str(5000 + i) for i in range(24))
    with factory() as session:
        states = session.scalars(select(OutboxMessage.state).where(OutboxMessage.id.in_(ids))).all()
    assert set(states) == {OutboxState.DONE}

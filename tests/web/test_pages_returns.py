"""The Returns pages (``web/pages/returns.py``) through the whole app (``create_app(...,
ui=True)``) on a seeded SQLite store: the list with its deadlines in words, urgent first, and
its filters; the detail; decisions and refunds checked by the same engine functions as the
commands (roles, CSRF, a refused form queues nothing); and a decision and a refund given on the
page reaching the sandbox once the outbox runs, as the outbox job does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.sandbox import marketplace
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import JobKind
from kaufland_sync.store.models.orders import Order
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.store.models.returns import Refund, Return, ReturnUnit
from kaufland_sync.sync.importers.orders import import_orders
from kaufland_sync.sync.importers.returns import import_returns
from kaufland_sync.sync.outbox import run_outbox
from kaufland_sync.web.auth import create_user
from kaufland_sync.web.pages.returns import parse_amount, plain_time_left
from tests.builders import at, new_account, new_order
from tests.sync.test_outbox import KEY, Market, add_shop, open_client
from tests.web.support import PASSWORD, RecordingQueue, client_of, page_app
from tests.web.support import sign_in as sign_in_by_form

# A Tuesday afternoon.
NOW = at("2026-03-10", "15:30")


pytestmark = pytest.mark.usefixtures("cheap_hashing")


@dataclass
class Web:
    """A signed-in browser stand-in: the client and the session's CSRF token."""

    client: httpx.AsyncClient
    csrf: str

    async def post(self, url: str, data: dict[str, str], *, csrf: bool = True) -> httpx.Response:
        form = dict(data)
        if csrf:
            form["csrf_token"] = self.csrf
        return await self.client.post(url, data=form)


async def sign_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> Web:
    """Sign in through the login form; a :class:`Web` with the session's new CSRF token."""
    return Web(client, await sign_in_by_form(client, name, password))


# (id_return_unit, status, reason, arrived_at)
UnitPlan = tuple[int, str, str, datetime | None]


def build_app(
    settings: Settings,
    store: sessionmaker[Session],
    clock: Callable[[], datetime] | None = None,
) -> tuple[FastAPI, RecordingQueue]:
    """The app as ``kaufland-sync run`` serves it (``ui=True``), with a recording queue."""
    now = clock or (lambda: NOW)
    queue = RecordingQueue(store, now)
    return page_app(settings, store, now, queue), queue


@dataclass
class Seeded:
    app: FastAPI
    queue: RecordingQueue
    anonymous: httpx.AsyncClient


def seed(session: Session) -> tuple[Account, Account]:
    """Two accounts (``shop`` on de and cz, ``other``) with returns in every state the pages
    tell apart, and two users (``vera`` viewer, ``otto`` operator); returns the accounts."""
    for name, role in (("vera", "viewer"), ("otto", "operator")):
        create_user(session, name, role, PASSWORD)
    shop = new_account(session, "shop", rates={"de": "1", "cz": "25"})
    other = new_account(session, "other", storefronts=("de",))
    sent = {"status": "sent", "local_status": "shipped", "price": 1999, "shipping_rate": 300}
    o1 = new_order(session, shop, "ORD-A", "de", at("2026-03-01"), [sent | {"sku": "LAMP-1"}])
    o2 = new_order(session, shop, "ORD-B", "de", at("2026-02-27"), [sent | {"sku": "SPADE-2"}])
    o3 = new_order(session, shop, "ORD-C", "cz", at("2026-03-05"), [sent | {"sku": "MUG-3"}, sent])
    o4 = new_order(session, other, "ORD-D", "de", at("2026-03-02"), [sent | {"sku": "CUP-4"}])
    came = "return_arrived"
    plan: list[tuple[Order, Account, int, str, datetime, list[UnitPlan]]] = [
        # (order, account, id_return, storefront, created, [(id_ru, status, reason, arrived)])
        # arrived Monday 11:30 -> decides Thursday 11:30: 1 day 20 h left at NOW.
        (o1, shop, 7001, "de", at("2026-03-08"),
         [(71, came, "defect", at("2026-03-09", "11:30"))]),
        # arrived Wednesday 10:00 -> decided Monday 10:00: overdue by 1 day 5 h.
        (o2, shop, 7002, "de", at("2026-03-03"),
         [(72, came, "wrong_size", at("2026-03-04", "10:00"))]),
        (o3, shop, 7003, "cz", at("2026-03-09"),
         [(73, "need_to_be_returned", "defect", None),
          (74, "return_accepted", "bad_quality", at("2026-03-09"))]),
        (o4, other, 7004, "de", at("2026-03-10"),
         [(75, "return_rejected", "defect", at("2026-03-05"))]),
    ]  # fmt: skip
    for order, account, id_return, storefront, created, units in plan:
        ret = Return(
            account_id=account.id,
            id_return=id_return,
            storefront=storefront,
            status="package_received",
            tracking_code=f"TRACK-{id_return}",
            ts_created=created,
        )
        session.add(ret)
        session.flush()
        for line, (id_ru, status, reason, arrived) in zip(order.lines, units, strict=False):
            session.add(
                ReturnUnit(
                    return_id=ret.id,
                    id_return_unit=id_ru,
                    id_order_unit=line.id_order_unit,
                    order_line_id=line.id,
                    status=status,
                    reason=reason,
                    arrived_at=arrived,
                    ts_created=created,
                )
            )
    return shop, other


@pytest.fixture
async def seeded(settings: Settings, store: sessionmaker[Session]) -> AsyncIterator[Seeded]:
    with transaction(store) as session:
        seed(session)
    app, queue = build_app(settings, store)
    async with client_of(app) as client:
        yield Seeded(app, queue, client)


@pytest.fixture
async def operator(seeded: Seeded) -> Web:
    return await sign_in(seeded.anonymous, "otto")


@pytest.fixture
async def viewer(seeded: Seeded) -> Web:
    return await sign_in(seeded.anonymous, "vera")


def outbox(store: sessionmaker[Session]) -> list[OutboxMessage]:
    with store() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def return_ids(html: str) -> list[int]:
    """The returns of a list page, in the order shown."""
    return [int(m) for m in re.findall(r'href="/returns/(\d+)\?account=', html)]


def test_time_left_reads_plainly() -> None:
    assert plain_time_left(timedelta(days=2, hours=4, minutes=59)) == "2 days 4 h left"
    assert plain_time_left(timedelta(days=1, minutes=5)) == "1 day 0 h left"
    assert plain_time_left(timedelta(hours=5, minutes=10)) == "5 h 10 min left"
    assert plain_time_left(timedelta(minutes=12, seconds=30)) == "12 min left"
    assert plain_time_left(timedelta(seconds=20)) == "less than a minute left"
    assert plain_time_left(timedelta(0)) == "overdue"
    assert plain_time_left(-timedelta(days=1, hours=2, minutes=3)) == "overdue by 1 day 2 h"


def test_refund_amounts_are_read_exactly() -> None:
    assert parse_amount("4.99") == 499
    assert parse_amount(" 4,5 ") == 450
    assert parse_amount("12") == 1200
    for bad, reason in (
        ("", "enter the amount"),
        ("abc", "not an amount"),
        ("-1", "more than 0"),
        ("0", "more than 0"),
        ("1.999", "more than 2 decimals"),
        ("NaN", "more than 0"),
    ):
        with pytest.raises(ValueError, match=reason):
            parse_amount(bad)


async def test_a_visitor_is_sent_to_sign_in(seeded: Seeded) -> None:
    answer = await seeded.anonymous.get("/returns")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Freturns"


async def test_the_list_puts_the_most_urgent_first_and_says_how_long_is_left(
    viewer: Web,
) -> None:
    page = await viewer.client.get("/returns")
    assert page.status_code == 200, page.text
    assert return_ids(page.text) == [7002, 7001, 7003, 7004]
    assert "overdue by 1 day 5 h" in page.text
    assert "1 day 20 h left" in page.text
    assert "4</strong> returns" in page.text and "1 overdue" in page.text
    assert "3</strong> waiting for you" in page.text
    assert 'href="/orders/ORD-A?account=shop"' in page.text
    assert 'aria-current="page">Returns<' in page.text  # the nav links the page

    newest = await viewer.client.get("/returns", params={"sort": "newest"})
    assert return_ids(newest.text) == [7004, 7003, 7001, 7002]


async def test_the_filters_narrow_the_list_and_a_bad_value_is_named(viewer: Web) -> None:
    async def ids(**params: str) -> list[int]:
        answer = await viewer.client.get("/returns", params=params)
        assert answer.status_code == 200, answer.text
        return return_ids(answer.text)

    assert await ids(account="other") == [7004]
    assert await ids(storefront="cz") == [7003]
    assert await ids(status="open") == [7002, 7001, 7003]
    assert await ids(status="return_accepted") == [7003]
    assert await ids(q="spade") == [7002]  # SKU, any case
    assert await ids(q="ORD-C") == [7003]
    assert await ids(q="75") == [7004]  # a return unit id
    assert await ids(q="TRACK-7001") == [7001]
    assert await ids(q="100%") == []  # LIKE wildcards are text

    bad = await viewer.client.get("/returns", params={"status": "lost", "account": "ghost"})
    assert bad.status_code == 200
    assert "Status: &#39;lost&#39; is not a return-unit status." in bad.text
    assert "Account: there is no account named &#39;ghost&#39;." in bad.text
    assert return_ids(bad.text) == [7002, 7001, 7003, 7004]


async def test_an_htmx_request_gets_only_the_results(viewer: Web) -> None:
    answer = await viewer.client.get(
        "/returns", params={"account": "shop"}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="returns-results"')
    assert "HX-Request" in answer.headers["vary"]
    assert "<html" not in answer.text and return_ids(answer.text) == [7002, 7001, 7003]


async def test_the_detail_shows_units_and_a_viewer_gets_no_forms(viewer: Web) -> None:
    page = await viewer.client.get("/returns/7003", params={"account": "shop"})
    assert page.status_code == 200, page.text
    assert "Return unit 73" in page.text and "Return unit 74" in page.text
    assert "clock starts when the parcel arrives" in page.text
    assert "MUG-3" in page.text and "22.99 CZK" in page.text
    assert '<form method="post" class="decision-form"' not in page.text
    assert "Decisions and refunds need the operator role." in page.text

    missing = await viewer.client.get("/returns/9999")
    assert missing.status_code == 404 and "not in the local store" in missing.text
    wrong_owner = await viewer.client.get("/returns/7001", params={"account": "other"})
    assert wrong_owner.status_code == 404
    too_big = await viewer.client.get(f"/returns/{2**63}")
    assert too_big.status_code == 422  # refused before it reaches the store


async def test_a_return_held_by_two_accounts_asks_which(
    viewer: Web, store: sessionmaker[Session]
) -> None:
    with transaction(store) as session:
        other = session.scalars(select(Account).where(Account.name == "other")).one()
        session.add(Return(account_id=other.id, id_return=7001, storefront="de"))
    answer = await viewer.client.get("/returns/7001")
    assert answer.status_code == 409
    assert 'href="/returns/7001?account=other"' in answer.text
    assert 'href="/returns/7001?account=shop"' in answer.text


async def test_a_viewer_cannot_decide(
    viewer: Web, seeded: Seeded, store: sessionmaker[Session]
) -> None:
    answer = await viewer.post("/returns/7001/units/71/accept", {"account": "shop"})
    assert answer.status_code == 403
    assert outbox(store) == [] and seeded.queue.submits == []


async def test_a_form_without_the_csrf_token_is_refused(
    operator: Web, seeded: Seeded, store: sessionmaker[Session]
) -> None:
    answer = await operator.post("/returns/7001/units/71/accept", {"account": "shop"}, csrf=False)
    assert answer.status_code == 403 and "did not come from this site" in answer.text
    forged = await operator.client.post(
        "/returns/7001/units/71/accept", data={"account": "shop", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert outbox(store) == [] and seeded.queue.submits == []


async def test_bad_decisions_name_the_field_and_queue_nothing(
    operator: Web, seeded: Seeded, store: sessionmaker[Session]
) -> None:
    blank = await operator.post(
        "/returns/7001/units/71/reject", {"account": "shop", "message": "   "}
    )
    assert blank.status_code == 422
    assert "Nothing was queued." in blank.text
    assert "<strong>Message</strong>: reject needs a message for the buyer" in blank.text
    assert 'aria-invalid="true"' in blank.text

    too_long = await operator.post(
        "/returns/7001/units/71/clarify", {"account": "shop", "message": "x" * 65536}
    )
    assert too_long.status_code == 422 and "Kaufland takes at most 65535" in too_long.text

    not_in_hand = await operator.post("/returns/7003/units/73/repair", {"account": "shop"})
    assert not_in_hand.status_code == 409
    assert "<strong>Status</strong>: return unit 73 is need_to_be_returned" in not_in_hand.text

    decided = await operator.post("/returns/7003/units/74/accept", {"account": "shop"})
    assert decided.status_code == 409 and "return unit 74 is return_accepted" in decided.text

    elsewhere = await operator.post("/returns/7001/units/72/accept", {"account": "shop"})
    assert elsewhere.status_code == 422 and "is not part of return 7001" in elsewhere.text

    unknown = await operator.post("/returns/7001/units/71/destroy", {"account": "shop"})
    assert unknown.status_code == 422 and "<strong>Decision</strong>" in unknown.text

    assert outbox(store) == [] and seeded.queue.submits == []


async def test_a_decision_is_queued_once_and_the_outbox_job_asked_for(
    operator: Web, seeded: Seeded, store: sessionmaker[Session]
) -> None:
    answer = await operator.post(
        "/returns/7001/units/71/reject", {"account": "shop", "message": " The seal is broken. "}
    )
    assert answer.status_code == 303, answer.text
    (message,) = outbox(store)
    assert (message.action, message.target, message.state) == (
        OutboxAction.RETURN_REJECT,
        "71",
        OutboxState.PENDING,
    )
    assert message.payload == {"message": "The seal is broken."}
    assert answer.headers["location"] == f"/returns/7001?account=shop&queued={message.id}#unit-71"
    assert [s.kind for s in seeded.queue.submits] == [JobKind.OUTBOX]

    shown = await operator.client.get(answer.headers["location"])
    assert f"Queued: reject of return unit 71 (outbox #{message.id}, pending)" in shown.text
    assert "The seal is broken." in shown.text  # in the decisions table

    # The same form sent again (a double click) finds the first message.
    again = await operator.post(
        "/returns/7001/units/71/reject", {"account": "shop", "message": "The seal is broken."}
    )
    assert again.status_code == 303 and len(outbox(store)) == 1
    # Another decision while the first is on its way is refused.
    other = await operator.post("/returns/7001/units/71/accept", {"account": "shop"})
    assert other.status_code == 409 and "is still pending" in other.text
    assert len(outbox(store)) == 1

    # A notice is shown only for this return's messages.
    foreign = await operator.client.get(
        "/returns/7002", params={"account": "shop", "queued": str(message.id)}
    )
    assert "Queued:" not in foreign.text


async def test_bad_refunds_name_the_field_and_queue_nothing(
    operator: Web, seeded: Seeded, store: sessionmaker[Session]
) -> None:
    page = await operator.client.get("/returns/7001", params={"account": "shop"})
    unit = re.search(r'<option value="(\d+)"', page.text)
    assert unit is not None and "up to 22.99 EUR" in page.text
    good = {"account": "shop", "id_order_unit": unit.group(1), "amount": "5", "reason": "late"}

    cases = [
        ({"amount": "five"}, "Amount", "not an amount"),
        ({"amount": "23.00"}, "Amount", "is more than what is left to refund"),
        ({"reason": "because"}, "Reason", "unknown reason"),
        ({"reason": ""}, "Reason", "a reason is required"),
        ({"id_order_unit": "123"}, "Order unit", "choose an order unit of return 7001"),
    ]
    for change, field, text in cases:
        answer = await operator.post("/returns/7001/refund", good | change)
        assert answer.status_code == 422, (change, answer.text)
        assert f"<strong>{field}</strong>: " in answer.text and text in answer.text, change
    with store() as session:
        assert session.scalar(select(func.count(Refund.id))) == 0
    assert outbox(store) == [] and seeded.queue.submits == []

    assert (await operator.post("/logout", {})).status_code == 303
    denied = await sign_in(seeded.anonymous, "vera")
    assert (await denied.post("/returns/7001/refund", good)).status_code == 403
    assert (await denied.post("/logout", {})).status_code == 303

    operator = await sign_in(seeded.anonymous, "otto")
    done = await operator.post("/returns/7001/refund", good)
    assert done.status_code == 303, done.text
    with store() as session:
        refund = session.scalars(select(Refund)).one()
        assert (refund.amount, refund.reason, refund.currency) == (500, "delivery_delay", "EUR")
    shown = await operator.client.get(done.headers["location"])
    assert "Queued: refund of 5.00 EUR on order unit" in shown.text
    assert "up to 17.99 EUR" in shown.text


# ---------------------------------------------------------------------------------------------
# Against the sandbox


def _now() -> datetime:
    return datetime.now(UTC)


async def test_a_decision_and_a_refund_from_the_page_reach_the_sandbox(
    settings: Settings, store: sessionmaker[Session]
) -> None:
    """The real path: a sandbox order shipped and returned, imported by the real importers;
    the page queues; the outbox (what the job runs) sends; the sandbox shows the result."""
    market = Market()
    _, (id_ou,) = market.order(1)
    marketplace.send_order_unit(market.world, KEY, id_ou, "0034001", "DHL")
    ret = marketplace.initiate_return(
        market.world, KEY, [{"id_order_unit": id_ou, "reason": "defect", "note": "cracked"}]
    )
    (id_ru,) = (int(i) for i in ret["_return_unit_ids"])
    marketplace.mark_return_arrived(market.world, KEY, id_ru)
    account_id = add_shop(store)
    with transaction(store) as session:
        create_user(session, "otto", "operator", PASSWORD)
    with store() as session:
        account = session.scalars(
            select(Account)
            .options(selectinload(Account.storefronts))
            .where(Account.id == account_id)
        ).one()
    async with open_client(market) as kaufland:
        await import_orders(kaufland, store, account, ["de"], clock=_now)
        await import_returns(kaufland, store, account, ["de"], clock=_now)
    with store() as session:
        id_return = session.scalars(select(Return.id_return)).one()

    app, queue = build_app(settings, store, _now)
    async with client_of(app) as client:
        web = await sign_in(client, "otto")
        page = await client.get(f"/returns/{id_return}", params={"account": "shop"})
        assert "cracked" in page.text and "left" in page.text
        accepted = await web.post(f"/returns/{id_return}/units/{id_ru}/accept", {"account": "shop"})
        assert accepted.status_code == 303, accepted.text
        refunded = await web.post(
            f"/returns/{id_return}/refund",
            {"account": "shop", "id_order_unit": str(id_ou), "amount": "1.50", "reason": "defect"},
        )
        assert refunded.status_code == 303, refunded.text
        assert [s.kind for s in queue.submits] == [JobKind.OUTBOX, JobKind.OUTBOX]

        async with open_client(market) as kaufland:
            summary = await run_outbox(kaufland, store, account_id, clock=_now)
            assert summary.sent == 2
            await import_returns(kaufland, store, account, ["de"], clock=_now)

        table = market.world.seller(KEY).table("return_units")
        assert table[str(id_ru)]["status"] == "return_accepted"
        assert [r["amount"] for r in market.unit(id_ou)["_refunds"]] == [150]
        after = await client.get(f"/returns/{id_return}", params={"account": "shop"})
        assert "return accepted" in after.text and "No decision is possible" in after.text
        assert "state-done" in after.text

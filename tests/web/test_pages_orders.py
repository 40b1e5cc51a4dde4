"""The Orders pages (``web/pages/orders.py``): the list with its filters and pages, one order's
detail, and the ship, cancel and invoice forms — roles, CSRF, errors that name the field and
queue nothing, and accepted forms that write the outbox and submit the ``outbox`` job."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import JobKind
from kaufland_sync.store.models.orders import Customer, Order
from kaufland_sync.store.models.outbox import OutboxAction, OutboxMessage, OutboxState
from kaufland_sync.web.api.orders import CARRIERS_STATE
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages.orders import PAGE_SIZE
from tests.builders import at, new_account, new_order
from tests.web.support import (
    RecordingQueue,
    add_users,
    client_of,
    csrf_in,
    direct_sign_in,
    page_app,
)

NOW = at("2026-03-10", "15:30")
CARRIERS = ["DHL", "DPD", "GLS", "Hermes", "Other"]
TRACKING = "00340434161094042557"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def _address(first: str, last: str, city: str) -> dict[str, Any]:
    return {
        "first_name": first,
        "last_name": last,
        "street": "Hauptstraße",
        "house_number": "5",
        "postcode": "10115",
        "city": city,
        "country": "DE",
    }


def _product(title: str, ean: str) -> dict[str, Any]:
    return {"product": {"id_product": 1, "title": title, "eans": [ean]}}


@dataclass
class Web:
    client: httpx.AsyncClient
    app: FastAPI
    factory: sessionmaker[Session]
    queue: RecordingQueue
    carrier_calls: list[str]
    units: dict[str, list[int]]

    async def sign_in(self, name: str) -> None:
        assert (await self.client.get(f"/test/sign-in/{name}")).status_code == 200

    async def csrf(self) -> str:
        page = await self.client.get("/orders")
        return csrf_in(page.text)

    async def post(
        self, path: str, data: dict[str, Any], *, token: bool = True, **kwargs: Any
    ) -> httpx.Response:
        body = dict(data)
        if token:
            body["csrf_token"] = await self.csrf()
        return await self.client.post(path, data=body, **kwargs)

    def outbox(self) -> list[OutboxMessage]:
        with self.factory() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def assert_nothing_queued(self) -> None:
        assert self.outbox() == []
        assert self.queue.submits == []


@pytest.fixture
async def web(settings: Settings, store: sessionmaker[Session]) -> AsyncIterator[Web]:
    queue = RecordingQueue(store, lambda: NOW)
    app = page_app(settings, store, lambda: NOW, queue, routers=[direct_sign_in])
    calls: list[str] = []

    async def carriers(_context: WebContext, account: Account) -> list[str]:
        calls.append(account.name)
        return CARRIERS

    setattr(app.state, CARRIERS_STATE, carriers)
    units: dict[str, list[int]] = {}
    add_users(store, [("viewer", "viewer"), ("operator", "operator")])
    with transaction(store) as session:
        shop = new_account(session, "shop", storefronts=("de", "cz"))
        outlet = new_account(session, "outlet", storefronts=("de",))
        buyer = Customer(account_id=shop.id, id_buyer=77, email="anna.mueller@example.com")
        session.add(buyer)
        session.flush()
        waiting = {
            "status": "need_to_be_sent",
            "local_status": "new",
            "price": 1999,
            "shipping_rate": 499,
            "revenue_gross": 2098,
        }
        main = new_order(
            session,
            shop,
            "MXQ7",
            "de",
            NOW - timedelta(hours=3),
            [
                waiting
                | {
                    "sku": "SKU-MUG",
                    "delivery_time_expires_iso": NOW - timedelta(hours=1),
                },
                waiting
                | {
                    "sku": "SKU-CUP",
                    "delivery_time_expires_iso": NOW + timedelta(days=2),
                },
                {"status": "cancelled", "local_status": "cancelled", "sku": "SKU-PLATE"},
            ],
        )
        mug, cup, _plate = sorted(main.lines, key=lambda line: line.id_order_unit)
        mug.raw = _product("Blue mug", "4006381333931")
        cup.raw = _product("Red cup", "4006381333948")
        main.customer_id = buyer.id
        main.billing_address = _address("Anna", "Müller", "Berlin")
        main.shipping_address = _address("Anna", "Müller", "Berlin")
        main.status = "need_to_be_sent,cancelled"
        main.payment_method = "credit_card"
        sent = new_order(
            session,
            shop,
            "SENT1",
            "cz",
            NOW - timedelta(days=2),
            [{"status": "sent", "local_status": "shipped", "price": 50000, "sku": "SKU-CZ"}],
        )
        sent.status = "sent"
        sent.shipping_address = _address("Jan", "Novak", "Praha")
        opened = new_order(
            session,
            shop,
            "OPEN1",
            "de",
            NOW - timedelta(days=5),
            [{"status": "open", "local_status": "new", "price": 1000}],
        )
        opened.status = "open"
        for account in (shop, outlet):
            twin = new_order(
                session,
                account,
                "TWIN",
                "de",
                NOW - timedelta(days=9),
                [{"status": "need_to_be_sent", "local_status": "new", "price": 700}],
            )
            twin.status = "need_to_be_sent"
        session.flush()
        for order in (main, sent, opened):
            units[order.id_order] = sorted(line.id_order_unit for line in order.lines)
    async with client_of(app) as client:
        yield Web(client, app, store, queue, calls, units)


def _ids_in_order(html: str) -> list[str]:
    return re.findall(r'<tr data-id-order="([^"]+)"', html)


# --- access ---------------------------------------------------------------------------------


async def test_pages_need_a_signed_in_user(web: Web) -> None:
    for path in ("/orders", "/orders/MXQ7?account=shop", "/orders/MXQ7/outbox?account=shop"):
        answer = await web.client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login")


async def test_a_viewer_reads_but_cannot_act(web: Web) -> None:
    await web.sign_in("viewer")
    page = await web.client.get("/orders/MXQ7?account=shop")
    assert page.status_code == 200
    assert 'id="ship-form"' not in page.text and 'id="cancel-form"' not in page.text
    assert "need the operator role" in page.text
    assert web.carrier_calls == []  # no form, no need to ask Kaufland
    unit = web.units["MXQ7"][0]
    refused = await web.post(
        "/orders/MXQ7/ship?account=shop",
        {"units": str(unit), "carrier": "DHL", "tracking": TRACKING},
    )
    assert refused.status_code == 403
    web.assert_nothing_queued()


async def test_a_form_without_the_csrf_token_is_refused(web: Web) -> None:
    await web.sign_in("operator")
    unit = web.units["MXQ7"][0]
    form = {"units": str(unit), "carrier": "DHL", "tracking": TRACKING}
    refused = await web.post("/orders/MXQ7/ship?account=shop", form, token=False)
    assert refused.status_code == 403
    wrong = await web.client.post(
        "/orders/MXQ7/ship?account=shop", data=form | {"csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    cancel = await web.post(
        "/orders/MXQ7/cancel?account=shop", {"units": str(unit), "reason": "NoInventory"},
        token=False,
    )  # fmt: skip
    assert cancel.status_code == 403
    web.assert_nothing_queued()


# --- the list -------------------------------------------------------------------------------


async def test_the_list_shows_orders_newest_first_with_links(web: Web) -> None:
    await web.sign_in("viewer")
    page = await web.client.get("/orders")
    assert page.status_code == 200
    assert _ids_in_order(page.text) == ["MXQ7", "SENT1", "OPEN1", "TWIN", "TWIN"]
    assert 'href="/orders/MXQ7?account=shop"' in page.text
    assert 'href="/orders/TWIN?account=outlet"' in page.text
    assert "Anna Müller" in page.text and "anna.mueller@example.com" in page.text
    assert "5 orders" in page.text
    assert '<a href="/orders" aria-current="page">Orders</a>' in page.text  # the nav links it


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("account=outlet", ["TWIN"]),
        ("storefront=cz", ["SENT1"]),
        ("status=open", ["OPEN1"]),
        ("status=cancelled", ["MXQ7"]),
        ("local_status=shipped", ["SENT1"]),
        ("q=mxq", ["MXQ7"]),
        ("q=müller", ["MXQ7"]),
        ("q=NOVAK", ["SENT1"]),
        ("q=mueller%40example", ["MXQ7"]),
        ("q=100%25", []),  # a % is a character to find, not a wildcard
        ("from=2026-03-05&to=2026-03-08", ["SENT1", "OPEN1"]),
        ("from=2026-03-10", ["MXQ7"]),
        ("to=2026-03-01", ["TWIN", "TWIN"]),
        ("account=shop&status=need_to_be_sent", ["MXQ7", "TWIN"]),
    ],
)
async def test_the_filters(web: Web, query: str, expected: list[str]) -> None:
    await web.sign_in("viewer")
    page = await web.client.get(f"/orders?{query}")
    assert page.status_code == 200
    assert _ids_in_order(page.text) == expected


async def test_filters_not_understood_are_named_and_ignored(web: Web) -> None:
    await web.sign_in("viewer")
    page = await web.client.get("/orders?from=yesterday&storefront=xx&account=ghost")
    assert page.status_code == 200
    assert "&#39;yesterday&#39; is not a date (YYYY-MM-DD)" in page.text
    assert "&#39;xx&#39; is not a storefront" in page.text
    assert "there is no account named &#39;ghost&#39;" in page.text
    assert _ids_in_order(page.text) == []  # the unknown account matches nothing
    backwards = await web.client.get("/orders?from=2026-03-09&to=2026-03-01")
    assert "the end date is before the start date" in backwards.text


async def test_the_list_is_paged(web: Web, store: sessionmaker[Session]) -> None:
    with transaction(store) as session:
        shop = session.scalars(select(Account).where(Account.name == "shop")).one()
        for n in range(PAGE_SIZE):
            new_order(
                session,
                shop,
                f"BULK{n:03d}",
                "de",
                NOW - timedelta(days=30, minutes=n),
                [{"status": "sent", "local_status": "shipped", "price": 100}],
            )
    await web.sign_in("viewer")
    first = await web.client.get("/orders?account=shop")
    ids = _ids_in_order(first.text)
    assert len(ids) == PAGE_SIZE and ids[:4] == ["MXQ7", "SENT1", "OPEN1", "TWIN"]
    assert "Page 1 of 2" in first.text
    assert 'href="/orders?account=shop&amp;page=2"' in first.text
    second = await web.client.get("/orders?account=shop&page=2")
    assert _ids_in_order(second.text) == [f"BULK{n:03d}" for n in range(PAGE_SIZE - 4, PAGE_SIZE)]
    assert "Page 2 of 2" in second.text and 'rel="prev"' in second.text
    beyond = await web.client.get("/orders?account=shop&page=99")
    assert "Page 2 of 2" in beyond.text


# --- one order ------------------------------------------------------------------------------


async def test_the_detail_shows_buyer_lines_deadlines_and_commission(web: Web) -> None:
    await web.sign_in("operator")
    page = await web.client.get("/orders/MXQ7?account=shop")
    assert page.status_code == 200
    text = page.text
    for expected in (
        "Order MXQ7",
        "anna.mueller@example.com",
        "Hauptstraße 5",
        "10115 Berlin",
        "Blue mug",
        "4006381333931",
        "SKU-CUP",
        "19.99 EUR",
        "4.99 EUR",
        "credit_card",
    ):
        assert expected in text, expected
    # Commission per line: 19.99 + 4.99 - 20.98 = 4.00; the cancelled line has none.
    assert text.count("4.00 EUR") == 2 and "8.00 EUR" in text
    late, on_time, cancelled = web.units["MXQ7"]
    row = re.search(rf'data-id-order-unit="{late}".*?</tr>', text, re.S)
    assert row is not None and "late" in row.group(0)
    row = re.search(rf'data-id-order-unit="{on_time}".*?</tr>', text, re.S)
    assert row is not None and "badge late" not in row.group(0)
    # The ship form offers the waiting units ticked, Kaufland's carriers, not the cancelled one.
    form = re.search(r'<form[^>]*id="ship-form".*?</form>', text, re.S)
    assert form is not None
    assert f'value="{late}" checked' in form.group(0)
    assert f'value="{cancelled}"' not in form.group(0)
    assert all(f'<option value="{name}">' in form.group(0) for name in CARRIERS)
    assert web.carrier_calls == ["shop"]
    assert 'id="cancel-form"' in text and 'id="invoice-form"' in text


async def test_an_order_held_by_two_accounts_asks_which(web: Web) -> None:
    await web.sign_in("viewer")
    ambiguous = await web.client.get("/orders/TWIN")
    assert ambiguous.status_code == 409
    assert 'href="/orders/TWIN?account=outlet"' in ambiguous.text
    assert 'href="/orders/TWIN?account=shop"' in ambiguous.text
    assert (await web.client.get("/orders/TWIN?account=outlet")).status_code == 200
    alone = await web.client.get("/orders/SENT1")  # one account holds it: no need to say
    assert alone.status_code == 200 and "Jan Novak" in alone.text
    missing = await web.client.get("/orders/NOPE")
    assert missing.status_code == 404 and "no order &#39;NOPE&#39;" in missing.text
    other = await web.client.get("/orders/SENT1?account=outlet")
    assert other.status_code == 404


# --- shipping -------------------------------------------------------------------------------


async def test_shipping_queues_the_send_and_submits_the_outbox_job(web: Web) -> None:
    await web.sign_in("operator")
    late, on_time, _ = web.units["MXQ7"]
    answer = await web.post(
        "/orders/MXQ7/ship?account=shop",
        {"units": [str(late)], "carrier": "dhl", "tracking": f"{TRACKING}\n\nPARCEL-2\n"},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/orders/MXQ7?account=shop&done=ship&new=1")
    (message,) = web.outbox()
    assert message.action is OutboxAction.SEND and message.target == str(late)
    assert message.payload == {"carrier_code": "DHL", "tracking_numbers": f"{TRACKING},PARCEL-2"}
    assert message.state is OutboxState.PENDING
    (submit,) = web.queue.submits
    assert submit.kind is JobKind.OUTBOX
    # The page after the redirect: the notice, the queued parcel and a polling outbox panel.
    page = await web.client.get(answer.headers["location"])
    assert "Shipment queued: 1 new outbox message" in page.text
    assert f"DHL {TRACKING}, PARCEL-2" in page.text
    assert 'hx-get="/orders/MXQ7/outbox?account=shop"' in page.text
    # Partial shipment: the other unit is still offered, ticked, for the next parcel; the one
    # being sent is offered for an extra parcel only (not ticked) and can no longer be
    # cancelled, although the last import still calls it need_to_be_sent.
    form = re.search(r'<form[^>]*id="ship-form".*?</form>', page.text, re.S)
    assert form is not None and f'value="{on_time}" checked' in form.group(0)
    assert f'value="{late}">' in form.group(0)
    cancel = re.search(r'<form[^>]*id="cancel-form".*?</form>', page.text, re.S)
    assert cancel is not None and f'value="{late}"' not in cancel.group(0)
    row = re.search(rf'data-id-order-unit="{late}".*?</tr>', page.text, re.S)
    assert row is not None and "being sent" in row.group(0)
    # The same form again queues nothing new (a double click).
    again = await web.post(
        "/orders/MXQ7/ship?account=shop",
        {"units": [str(late)], "carrier": "DHL", "tracking": f"{TRACKING}\nPARCEL-2"},
    )
    assert "new=0&again=1" in again.headers["location"]
    assert len(web.outbox()) == 1


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"carrier": "DHL", "tracking": ""}, "Tracking numbers", "needs a tracking number"),
        ({"carrier": "DHL", "tracking": "   \n  "}, "Tracking numbers", "needs a tracking number"),
        ({"carrier": "DHL", "tracking": "0034,0435"}, "Tracking numbers", "contains a comma"),
        ({"carrier": "DHL", "tracking": "X" * 101}, "Tracking numbers", "is too long"),
        ({"carrier": "DHX", "tracking": TRACKING}, "Carrier", "unknown carrier"),
        ({"carrier": "", "tracking": TRACKING}, "Carrier", "choose a carrier"),
    ],
)
async def test_bad_ship_input_names_the_field_and_queues_nothing(
    web: Web, form: dict[str, str], field: str, message: str
) -> None:
    await web.sign_in("operator")
    unit = web.units["MXQ7"][0]
    answer = await web.post("/orders/MXQ7/ship?account=shop", form | {"units": str(unit)})
    assert answer.status_code == 422
    assert "Nothing was queued for order MXQ7" in answer.text
    assert re.search(rf"{field}: [^<]*{re.escape(message)}", answer.text), answer.text[-3000:]
    assert 'aria-invalid="true"' in answer.text
    web.assert_nothing_queued()


async def test_ship_refuses_units_that_cannot_ship(web: Web) -> None:
    await web.sign_in("operator")
    late, _, cancelled = web.units["MXQ7"]
    cases = [
        ([str(cancelled)], "is cancelled and cannot be shipped"),
        ([str(late), str(cancelled)], "is cancelled and cannot be shipped"),
        ([], "tick at least one order unit"),
        (["12x"], "&#39;12x&#39; is not an order unit id"),
        ([str(web.units["SENT1"][0])], "are not part of order MXQ7"),
    ]
    for units, message in cases:
        answer = await web.post(
            "/orders/MXQ7/ship?account=shop",
            {"units": units, "carrier": "DHL", "tracking": TRACKING},
        )
        assert answer.status_code == 422, units
        assert "Order units:" in answer.text and message in answer.text, units
        # The operator's input is kept for the correction.
        assert TRACKING in answer.text
    opened = await web.post(
        "/orders/OPEN1?account=shop".replace("?", "/ship?"),
        {"units": [str(web.units["OPEN1"][0])], "carrier": "DHL", "tracking": TRACKING},
    )
    assert opened.status_code == 422 and "still open" in opened.text
    web.assert_nothing_queued()


async def test_an_extra_parcel_for_a_sent_unit(web: Web) -> None:
    await web.sign_in("operator")
    (unit,) = web.units["SENT1"]
    answer = await web.post(
        "/orders/SENT1/ship", {"units": [str(unit)], "carrier": "GLS", "tracking": "GLS-9"}
    )
    assert answer.status_code == 303, answer.text
    (message,) = web.outbox()
    assert message.action is OutboxAction.ADD_SHIPMENT
    assert message.payload == {"carrier_code": "GLS", "tracking_number": "GLS-9"}


# --- cancelling and invoices ----------------------------------------------------------------


async def test_cancel_with_a_mapped_reason(web: Web) -> None:
    await web.sign_in("operator")
    late, on_time, cancelled = web.units["MXQ7"]
    page = await web.client.get("/orders/MXQ7?account=shop")
    form = re.search(r'<form[^>]*id="cancel-form".*?</form>', page.text, re.S)
    assert form is not None
    assert f'value="{on_time}"' in form.group(0) and f'value="{cancelled}"' not in form.group(0)
    assert '<option value="NoInventory">Out of stock (NoInventory)</option>' in form.group(0)
    bad = await web.post(
        "/orders/MXQ7/cancel?account=shop", {"units": [str(on_time)], "reason": "bored"}
    )
    assert bad.status_code == 422 and "Reason: unknown" in bad.text.replace("\n", " ")
    shipped = await web.post(
        "/orders/MXQ7/cancel?account=shop", {"units": [str(cancelled)], "reason": "NoInventory"}
    )
    assert shipped.status_code == 422 and "cannot be cancelled" in shipped.text
    web.assert_nothing_queued()
    answer = await web.post(
        "/orders/MXQ7/cancel?account=shop", {"units": [str(on_time)], "reason": "out of stock"}
    )
    assert answer.status_code == 303
    (message,) = web.outbox()
    assert message.action is OutboxAction.CANCEL and message.target == str(on_time)
    assert message.payload == {"reason": "NoInventory"}
    assert [s.kind for s in web.queue.submits] == [JobKind.OUTBOX]
    assert late != on_time


async def test_an_invoice_pdf_is_queued_and_other_files_are_refused(web: Web) -> None:
    await web.sign_in("operator")
    token = await web.csrf()

    async def upload(name: str, content: bytes) -> httpx.Response:
        return await web.client.post(
            "/orders/MXQ7/invoice?account=shop",
            data={"csrf_token": token},
            files={"file": (name, content, "application/pdf")},
        )

    for name, content, expected in (
        ("notes.pdf", b"hello", "notes.pdf is not a PDF"),
        ("empty.pdf", b"", "empty.pdf is empty"),
    ):
        refused = await upload(name, content)
        assert refused.status_code == 422
        assert f"Invoice file: {expected}" in refused.text
    none = await web.client.post(
        "/orders/MXQ7/invoice?account=shop",
        data={"csrf_token": token},
        files={"other": ("x.txt", b"x", "text/plain")},
    )
    assert none.status_code == 422 and "choose a PDF file" in none.text
    web.assert_nothing_queued()
    accepted = await upload("R-2026-0042.pdf", PDF)
    assert accepted.status_code == 303
    (message,) = web.outbox()
    assert message.action is OutboxAction.INVOICE and message.attachment == PDF
    assert message.payload["original_name"] == "R-2026-0042.pdf"
    page = await web.client.get(accepted.headers["location"])
    assert f"R-2026-0042.pdf ({len(PDF)} bytes)" in page.text


# --- the outbox panel -----------------------------------------------------------------------


async def test_the_outbox_panel_polls_only_while_messages_move(
    web: Web, store: sessionmaker[Session]
) -> None:
    await web.sign_in("operator")
    late = web.units["MXQ7"][0]
    await web.post(
        "/orders/MXQ7/ship?account=shop",
        {"units": [str(late)], "carrier": "DHL", "tracking": TRACKING},
    )
    moving = await web.client.get(
        "/orders/MXQ7/outbox?account=shop", headers={"HX-Request": "true"}
    )
    assert moving.status_code == 200
    assert moving.text.lstrip().startswith('<section class="card orders-outbox" id="outbox"')
    assert 'hx-trigger="every 2s"' in moving.text and 'data-state="pending"' in moving.text
    # The order units table comes along, swapped by its id, with the queued parcel.
    assert '<div class="table-wrap" id="order-lines-wrap" hx-swap-oob="true">' in moving.text
    assert f"DHL {TRACKING}" in moving.text
    with transaction(store) as session:
        message = session.scalars(select(OutboxMessage)).one()
        message.state = OutboxState.FAILED
        message.last_error = "HTTP 400: Unknown carrier code"
    settled = await web.client.get("/orders/MXQ7/outbox?account=shop")
    assert "hx-get" not in settled.text
    assert 'data-state="failed"' in settled.text and "Unknown carrier code" in settled.text
    # A refused send is not shown as the unit's tracking.
    page = await web.client.get("/orders/MXQ7?account=shop")
    row = re.search(rf'data-id-order-unit="{late}".*?</tr>', page.text, re.S)
    assert row is not None and TRACKING not in row.group(0)


async def test_nothing_in_the_store_changes_on_a_refused_form(
    web: Web, store: sessionmaker[Session]
) -> None:
    await web.sign_in("operator")
    with store() as session:
        before = session.scalar(select(func.count()).select_from(Order))
        statuses = sorted(session.scalars(select(Order.status)))
    await web.post("/orders/MXQ7/ship?account=shop", {"units": "1", "carrier": "DHL"})
    with store() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == before
        assert sorted(session.scalars(select(Order.status))) == statuses
    web.assert_nothing_queued()

"""Addresses of the management pages that hold a name or an id as typed by people: a SKU with
``/`` in it reaches its product page and its actions, and an account called ``new`` has its own
page (the add form lives at ``/accounts/_new``, which no account name can be)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.catalog import Currency, Product
from kaufland_sync.store.models.jobs import JobKind
from kaufland_sync.store.models.sync import BindingState, OfferBinding
from tests.builders import at, new_account
from tests.web.support import RecordingQueue, add_users, client_of, page_app, sign_in

pytestmark = pytest.mark.usefixtures("cheap_hashing")

NOW = at("2026-03-10", "15:30")
SKU = "TOOLS/SPADE-1"


@pytest.fixture
def queue(store: sessionmaker[Session]) -> RecordingQueue:
    return RecordingQueue(store, lambda: NOW)


@pytest.fixture
def app(settings: Settings, store: sessionmaker[Session], queue: RecordingQueue) -> FastAPI:
    add_users(store)
    with transaction(store) as session:
        shop = new_account(session, "shop")
        new_account(session, "new", storefronts=("de", "cz"), client_key="new-account-key")
        session.add(
            Product(
                sku=SKU,
                ean="4006381333931",
                title="Garden spade with a slash",
                price_minor=1234,
                currency=Currency.EUR,
                active=True,
                content_hash="0" * 64,
            )
        )
        session.add(
            OfferBinding(
                account_id=shop.id,
                storefront=Storefront.DE,
                sku=SKU,
                id_unit=501,
                state=BindingState.ACTIVE,
                payload_hash="p" * 64,
                stock_hash="s" * 64,
            )
        )
    return page_app(settings, store, lambda: NOW, queue)


def account_ids(store: sessionmaker[Session]) -> list[int]:
    with store() as session:
        return sorted(session.scalars(select(Account.id)))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
        yield client


async def test_a_sku_with_a_slash_has_its_page_and_its_actions(
    client: httpx.AsyncClient, store: sessionmaker[Session], queue: RecordingQueue
) -> None:
    token = await sign_in(client, "otto")
    listed = await client.get("/products", params={"q": "SPADE"})
    assert f'href="/products/{SKU}"' in listed.text

    page = await client.get(f"/products/{SKU}")
    assert page.status_code == 200
    assert "Garden spade with a slash" in page.text

    pushed = await client.post(f"/products/{SKU}/push", data={"csrf_token": token})
    assert pushed.status_code == 200, pushed.text
    assert f"Marked for sending for {SKU}" in pushed.text
    with store() as session:
        binding = session.scalar(select(OfferBinding).where(OfferBinding.sku == SKU))
    assert binding is not None and binding.payload_hash is None and binding.stock_hash is None
    # No account chosen: the offers run of every account is queued.
    assert sorted((s.kind, s.account_id) for s in queue.submits) == [
        (JobKind.OFFERS, account_id) for account_id in account_ids(store)
    ]

    unknown = await client.post(f"/products/{SKU}/explode", data={"csrf_token": token})
    assert unknown.status_code == 404
    assert "no product action" in unknown.text


async def test_an_unknown_sku_with_a_slash_is_404(client: httpx.AsyncClient) -> None:
    await sign_in(client, "vera")
    missing = await client.get("/products/TOOLS/NOPE")
    assert missing.status_code == 404
    assert "TOOLS/NOPE" in missing.text
    # No SKU at all is the list, as the trailing slash always was.
    bare = await client.get("/products/")
    assert bare.status_code == 307 and bare.headers["location"].endswith("/products")


async def test_an_account_named_new_has_its_own_page(client: httpx.AsyncClient) -> None:
    await sign_in(client, "ada")
    detail = await client.get("/accounts/new")
    assert detail.status_code == 200
    assert "Account new" in detail.text
    assert "Add account</h1>" not in detail.text

    form = await client.get("/accounts/_new")
    assert form.status_code == 200
    assert "Add account</h1>" in form.text

    listed = await client.get("/accounts")
    assert 'href="/accounts/_new"' in listed.text

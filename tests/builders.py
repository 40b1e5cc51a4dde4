"""Shared builders for tests that use the store: a migrated store on a URL, and the rows most
tests start from (an account, a catalogue, orders with lines).

The ``factory`` fixture (tests/conftest.py) gives a migrated store on every backend of
``db_url``; modules that need something else (one backend, several stores) call
``migrated_store`` themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.csv_import import import_csv
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.accounts import AccountRepository
from kaufland_sync.store.db import create_db_engine, session_factory, transaction
from kaufland_sync.store.migrate import upgrade
from kaufland_sync.store.models.accounts import Account, Environment, SyncDirection
from kaufland_sync.store.models.orders import Order, OrderLine
from kaufland_sync.sync.mappers.offers import OfferSettings

__all__ = [
    "add_account",
    "at",
    "import_catalogue",
    "migrated_store",
    "new_account",
    "new_order",
    "offer_settings",
]

# Order unit ids for ``new_order``: unique across the session, so no two lines ever collide.
_UNITS = itertools.count(314_567_896_590_000)


@contextmanager
def migrated_store(url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on the database at ``url``, migrated to the newest revision; the
    engine is disposed on exit (its pooled connections closed)."""
    engine = create_db_engine(url)
    try:
        upgrade(engine)
        yield session_factory(engine)
    finally:
        engine.dispose()


def at(day: str, clock: str = "12:00") -> datetime:
    """An aware UTC time on an ISO date: ``at("2026-03-02", "10:00")``."""
    return datetime.fromisoformat(f"{day}T{clock}:00+00:00")


def new_account(
    session: Session,
    name: str = "shop",
    *,
    storefronts: Sequence[str] = ("de",),
    rates: Mapping[str, str] | None = None,
    client_key: str | None = None,
    base_url: str = "http://localhost",
    base_currency: str | None = None,
) -> Account:
    """A ``custom`` account with default settings on each storefront, flushed in ``session``.

    ``rates`` (storefront → currency_rate) replaces ``storefronts`` with its keys and sets each
    storefront's rate. The client key defaults to ``key_<name>`` (one seller per account); the
    stored secret is never used: tests pass their own client.
    """
    codes = list(rates) if rates is not None else list(storefronts)
    account = AccountRepository(session).add(
        name,
        client_key=client_key or f"key_{name}",
        secret_key_encrypted="not used: the tests pass their own client",
        environment=Environment.CUSTOM,
        base_url=base_url,
        storefronts=codes,
        base_currency=base_currency,
    )
    if rates is not None:
        for settings in account.storefronts:
            settings.currency_rate = Decimal(rates[settings.storefront.value])
        session.flush()
    return account


def add_account(factory: sessionmaker[Session], name: str = "shop", **options: Any) -> Account:
    """``new_account`` in a transaction of its own (committed); options as there."""
    with transaction(factory) as session:
        return new_account(session, name, **options)


def import_catalogue(factory: sessionmaker[Session], csv_text: str, folder: Path) -> None:
    """Load a catalogue CSV (written to ``folder``) into the built-in catalogue; every row
    must be accepted."""
    path = folder / "catalogue.csv"
    path.write_text(csv_text, encoding="utf-8")
    report = import_csv(path, factory)
    assert not report.errors, report.errors


def offer_settings(factory: sessionmaker[Session]) -> list[tuple[OfferSettings, SyncDirection]]:
    """What the offers exporter takes for the store's only account: each storefront's offer
    settings with its offers direction."""
    with factory() as session:
        account = session.scalars(select(Account)).one()
        return [(OfferSettings.from_storefront(s), s.direction_offers) for s in account.storefronts]


def new_order(
    session: Session,
    account: Account,
    id_order: str,
    storefront: str,
    ordered_at: datetime | None,
    lines: list[dict[str, Any]],
) -> Order:
    """An order with one line per dict (OrderLine fields; ``id_order_unit`` is generated)."""
    code = Storefront(storefront)
    order = Order(
        account_id=account.id,
        id_order=id_order,
        storefront=code,
        currency=code.currency.value,
        ordered_at=ordered_at,
        raw={},
    )
    session.add(order)
    session.flush()
    for values in lines:
        session.add(OrderLine(order_id=order.id, id_order_unit=next(_UNITS), raw={}, **values))
    session.flush()
    return order

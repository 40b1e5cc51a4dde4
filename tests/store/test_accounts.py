"""The account repository on both backends: settings round-trip exactly, errors name things."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.store.accounts import (
    AccountError,
    AccountExistsError,
    AccountNotFoundError,
    AccountRepository,
    InvalidSettingError,
    SameSellerError,
)
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import (
    Account,
    Environment,
    OnDeactivate,
    SyncDirection,
)

TOKEN = "gAAAA-encrypted-token"


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


def add(repo: AccountRepository, name: str = "shop", **kwargs: object) -> Account:
    params: dict[str, object] = {
        "client_key": f"ck_{name}",
        "secret_key_encrypted": TOKEN,
        "environment": Environment.PRODUCTION,
        "storefronts": ["de", "CZ"],
    }
    params.update(kwargs)
    return repo.add(name, **params)  # type: ignore[arg-type]


def test_add_and_read_back_with_defaults(session: Session) -> None:
    repo = AccountRepository(session)
    add(repo)
    session.commit()
    session.expunge_all()
    account = repo.get("shop")
    assert account.environment is Environment.PRODUCTION
    assert account.base_url is None
    assert [s.storefront.value for s in account.storefronts] == ["cz", "de"]
    cz = repo.storefront(account, "cz")
    assert cz.currency_rate == Decimal(1)
    assert cz.rounding == "0.01"
    assert cz.markup_percent == Decimal(0)
    assert cz.direction("offers") is SyncDirection.TO_KAUFLAND
    assert cz.direction("orders") is SyncDirection.FROM_KAUFLAND
    assert cz.on_deactivate is OnDeactivate.ONHOLD
    assert cz.use_minimum_price is False
    assert cz.buffer_stock == 0
    assert cz.max_stock is None
    assert account.created_at.tzinfo is not None


def test_settings_round_trip_exactly(session: Session) -> None:
    repo = AccountRepository(session)
    account = add(repo)
    repo.update_storefront(
        account,
        "cz",
        {
            "currency_rate": "25.12345678",
            "rounding": "1.00",
            "markup_percent": "-12.5",
            "minimum_price_percent": "85",
            "use_minimum_price": True,
            "handling_time": "3",
            "id_shipping_group": 9_000_000_001,
            "condition": "NEW",
            "vat_indicator": "reduced_rate_1",
            "buffer_stock": 2,
            "max_stock": 50,
            "on_deactivate": "delete",
            "direction_stock": "both",
        },
    )
    repo.map_warehouse(account, "cz", "PRAHA", 77)
    repo.map_warehouse(account, "cz", "BRNO", 78)
    repo.map_warehouse(account, "cz", "BRNO", None)
    session.commit()
    session.expunge_all()
    cz = repo.storefront(repo.get("shop"), "cz")
    assert cz.currency_rate == Decimal("25.12345678")
    assert str(cz.currency_rate).rstrip("0") == "25.12345678"
    assert cz.rounding == "1"
    assert cz.markup_percent == Decimal("-12.5")
    assert cz.minimum_price_percent == Decimal(85)
    assert cz.use_minimum_price is True
    assert (cz.handling_time, cz.id_shipping_group) == (3, 9_000_000_001)
    assert (cz.condition, cz.vat_indicator) == ("NEW", "reduced_rate_1")
    assert (cz.buffer_stock, cz.max_stock) == (2, 50)
    assert cz.on_deactivate is OnDeactivate.DELETE
    assert cz.direction("stock") is SyncDirection.BOTH
    assert cz.warehouse_map() == {"PRAHA": 77}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("rounding", "0.5x", "must be one of 0.01"),
        ("rounding", "0.3", "must be one of"),
        ("currency_rate", "0", "greater than 0"),
        ("currency_rate", "1.123456789", "8 decimal places"),
        ("markup_percent", "abc", "decimal number"),
        ("minimum_price_percent", "120", "at most 100"),
        ("handling_time", "101", "between 0 and 100"),
        ("buffer_stock", "-1", "0 or more"),
        ("condition", "BROKEN", "must be one of"),
        ("vat_indicator", "unspecified", "must be one of"),
        ("direction_offers", "sideways", "to_kaufland"),
        ("buffer_stock", None, "cannot be cleared"),
    ],
)
def test_a_bad_setting_names_the_field_and_changes_nothing(
    session: Session, field: str, value: object, reason: str
) -> None:
    repo = AccountRepository(session)
    account = add(repo)
    with pytest.raises(InvalidSettingError, match=reason) as caught:
        repo.update_storefront(account, "de", {"markup_percent": "5", field: value})
    assert caught.value.field == field
    assert repo.storefront(account, "de").markup_percent == Decimal(0)


def test_minimum_price_needs_a_percent(session: Session) -> None:
    repo = AccountRepository(session)
    account = add(repo)
    with pytest.raises(InvalidSettingError, match="minimum_price_percent"):
        repo.update_storefront(account, "de", {"use_minimum_price": True})


def test_errors_name_the_account(session: Session) -> None:
    repo = AccountRepository(session)
    account = add(repo)
    with pytest.raises(AccountExistsError, match="'shop'"):
        add(repo)
    with pytest.raises(AccountNotFoundError, match="'nope'"):
        repo.get("nope")
    with pytest.raises(AccountError, match="'shop' does not sell on storefront 'pl'"):
        repo.update_storefront(account, "pl", {"buffer_stock": 1})
    with pytest.raises(InvalidSettingError, match="letters, digits"):
        add(repo, "bad name")
    with pytest.raises(InvalidSettingError, match="custom"):
        add(repo, "custom", environment=Environment.CUSTOM)


def test_list_add_storefront_and_remove_cascades(session: Session) -> None:
    repo = AccountRepository(session)
    add(repo, "b-shop")
    account = add(repo, "a-shop")
    repo.add_storefront(account, "pl")
    repo.map_warehouse(account, "pl", "WH1", 5)
    repo.remove_storefront(account, "de")
    session.commit()
    assert [a.name for a in repo.list()] == ["a-shop", "b-shop"]
    assert [s.storefront.value for s in repo.get("a-shop").storefronts] == ["cz", "pl"]
    repo.remove("a-shop")
    session.commit()
    assert [a.name for a in repo.list()] == ["b-shop"]
    from sqlalchemy import func, select

    from kaufland_sync.store.models.accounts import AccountStorefront, WarehouseMapping

    assert session.scalar(select(func.count()).select_from(AccountStorefront)) == 2
    assert session.scalar(select(func.count()).select_from(WarehouseMapping)) == 0


def test_the_database_enforces_one_row_per_account_and_storefront(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        add(AccountRepository(session))
    from kaufland_sync.store.models.accounts import AccountStorefront

    with pytest.raises(IntegrityError), transaction(factory) as session:
        account = AccountRepository(session).get("shop")
        session.add(AccountStorefront(account_id=account.id, storefront="de"))


def test_one_seller_is_one_account_per_kaufland(session: Session) -> None:
    """A second account with the same client key on the same Kaufland would import every order
    twice (and reserve its stock twice): refused, by add and by a key change alike."""
    repo = AccountRepository(session)
    add(repo, "shop", client_key="same")
    with pytest.raises(SameSellerError, match="account 'shop' already uses this client key"):
        add(repo, "shop2", client_key="same")
    # Another Kaufland (the playground, a sandbox) may hold the same key.
    add(repo, "shop-playground", client_key="same", environment=Environment.PLAYGROUND)
    add(
        repo, "shop-sandbox", client_key="same", environment=Environment.CUSTOM, base_url="http://x"
    )
    other = add(repo, "other", client_key="other")
    with pytest.raises(SameSellerError):
        repo.set_credentials(other, client_key="same")
    repo.set_credentials(other, client_key="other-2")
    assert other.client_key == "other-2"


def test_moving_an_account_to_another_kaufland(session: Session) -> None:
    """The environment (and a custom base URL) changes through the repository: a custom one
    needs its URL, other environments keep none, and the one-seller rule is checked for the
    key the account will hold where it ends up."""
    repo = AccountRepository(session)
    shop = add(repo, "shop", client_key="k1")
    add(repo, "trial", client_key="k2", environment=Environment.PLAYGROUND)
    with pytest.raises(InvalidSettingError, match="base_url"):
        repo.set_environment(shop, Environment.CUSTOM)
    repo.set_environment(shop, Environment.CUSTOM, "http://127.0.0.1:9000/v2")
    assert (shop.environment, shop.base_url) == (Environment.CUSTOM, "http://127.0.0.1:9000/v2")
    repo.set_environment(shop, Environment.PLAYGROUND, "http://ignored/v2")
    assert (shop.environment, shop.base_url) == (Environment.PLAYGROUND, None)
    # k2 is trial's on the playground: shop may not take it there, but may take it to production
    # in the same change (checked once, on the end state) ...
    with pytest.raises(SameSellerError, match="account 'trial' already uses this client key"):
        repo.set_environment(shop, Environment.PLAYGROUND, client_key="k2")
    assert shop.client_key == "k1"
    repo.set_environment(shop, Environment.PRODUCTION, client_key=" k2 ")
    assert (shop.environment, shop.client_key) == (Environment.PRODUCTION, "k2")
    # ... and trial cannot follow it there with the same key.
    trial = repo.get("trial")
    with pytest.raises(SameSellerError, match="account 'shop' already uses this client key"):
        repo.set_environment(trial, Environment.PRODUCTION)
    assert trial.environment is Environment.PLAYGROUND

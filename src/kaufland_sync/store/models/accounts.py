"""Seller accounts and their per-storefront settings.

An ``Account`` is one Kaufland seller login (client key + secret key) on one environment. Each
``AccountStorefront`` is a storefront the account sells on, with the settings that turn a
catalogue product into an offer there. The secret key is only ever stored encrypted
(``kaufland_sync.secrets``); this module never sees it in plain text.

Warehouse mapping is a child table (``account_storefront_warehouses``), not a JSON column: the
pair (storefront settings, local warehouse code) is unique by constraint, each Kaufland
``id_warehouse`` is a typed integer on both backends, and the sync engine can join on it.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kaufland_sync.pricing import ROUNDING_RULES as PRICING_ROUNDING_RULES
from kaufland_sync.pricing import parse_rounding
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.base import Base, Timestamped
from kaufland_sync.store.types import ExactDecimal, StrEnumType

__all__ = [
    "ROUNDING_RULES",
    "Account",
    "AccountStorefront",
    "Environment",
    "OnDeactivate",
    "SyncDirection",
    "WarehouseMapping",
    "parse_rounding",
]


class Environment(enum.StrEnum):
    """Where an account's API calls go: Kaufland's production or playground API, or a custom
    base URL (the local sandbox, a proxy)."""

    PRODUCTION = "production"
    PLAYGROUND = "playground"
    CUSTOM = "custom"


class SyncDirection(enum.StrEnum):
    """Which way one kind of data flows between the back office and Kaufland."""

    TO_KAUFLAND = "to_kaufland"
    FROM_KAUFLAND = "from_kaufland"
    BOTH = "both"
    OFF = "off"


class OnDeactivate(enum.StrEnum):
    """What happens to the Kaufland unit when its local product is deactivated."""

    ONHOLD = "onhold"  # keep the unit, with amount 0 / on hold; reactivation is one PATCH
    DELETE = "delete"  # delete the unit; reactivation creates a new one


#: Kinds of data with their own sync direction, and their defaults.
DEFAULT_DIRECTIONS: dict[str, SyncDirection] = {
    "offers": SyncDirection.TO_KAUFLAND,
    "stock": SyncDirection.TO_KAUFLAND,
    "prices": SyncDirection.TO_KAUFLAND,
    "orders": SyncDirection.FROM_KAUFLAND,
}

# Rounding rules are validated and applied by ``kaufland_sync.pricing`` (one implementation for
# the settings and the sync engine); the store keeps their canonical spelling.
ROUNDING_RULES = PRICING_ROUNDING_RULES


class Account(Timestamped, Base):
    """One Kaufland seller login. ``base_url`` is set only for the ``custom`` environment."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "environment IN ('production', 'playground', 'custom')", name="environment"
        ),
        CheckConstraint(
            "(environment = 'custom') = (base_url IS NOT NULL)", name="base_url_for_custom"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    client_key: Mapped[str] = mapped_column(String(128))
    # A Fernet token (kaufland_sync.secrets.SecretBox); never the plain secret key.
    secret_key_encrypted: Mapped[str] = mapped_column(Text)
    environment: Mapped[Environment] = mapped_column(StrEnumType(Environment, 16))
    base_url: Mapped[str | None] = mapped_column(String(500), default=None)
    # ISO 4217 code of the catalogue prices this account publishes (None: the product's own).
    base_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    # Put accepted returns back into the built-in catalogue's stock (once per returned piece).
    restock_returns: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where Kaufland sends this account's push notifications (set by ``webhooks subscribe``);
    # None: push notifications are off and polling alone keeps the account in step.
    push_callback_url: Mapped[str | None] = mapped_column(String(255), default=None)

    storefronts: Mapped[list[AccountStorefront]] = relationship(
        back_populates="account",
        cascade="all, delete-orphan",
        order_by="AccountStorefront.storefront",
        lazy="selectin",
    )

    def storefront(self, code: Storefront | str) -> AccountStorefront | None:
        """This account's settings for one storefront, or None when it does not sell there."""
        wanted = Storefront.parse(code)
        return next((s for s in self.storefronts if s.storefront == wanted), None)

    def __repr__(self) -> str:  # no keys in reprs: they end up in logs and tracebacks
        return f"Account(id={self.id!r}, name={self.name!r}, environment={self.environment!r})"


_DIRECTIONS_SQL = "('to_kaufland', 'from_kaufland', 'both', 'off')"


class AccountStorefront(Timestamped, Base):
    """An account's settings for one storefront (see docs/accounts.md for each setting)."""

    __tablename__ = "account_storefronts"
    __table_args__ = (
        UniqueConstraint("account_id", "storefront"),
        CheckConstraint(
            "storefront IN ('de', 'cz', 'sk', 'pl', 'at', 'fr', 'it')", name="storefront"
        ),
        CheckConstraint(f"direction_offers IN {_DIRECTIONS_SQL}", name="direction_offers"),
        CheckConstraint(f"direction_stock IN {_DIRECTIONS_SQL}", name="direction_stock"),
        CheckConstraint(f"direction_prices IN {_DIRECTIONS_SQL}", name="direction_prices"),
        CheckConstraint(f"direction_orders IN {_DIRECTIONS_SQL}", name="direction_orders"),
        CheckConstraint("on_deactivate IN ('onhold', 'delete')", name="on_deactivate"),
        CheckConstraint("buffer_stock >= 0", name="buffer_stock"),
        CheckConstraint("max_stock IS NULL OR max_stock >= 0", name="max_stock"),
        CheckConstraint(
            "handling_time IS NULL OR (handling_time >= 0 AND handling_time <= 100)",
            name="handling_time",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    storefront: Mapped[Storefront] = mapped_column(StrEnumType(Storefront, 2))

    direction_offers: Mapped[SyncDirection] = mapped_column(
        StrEnumType(SyncDirection, 16), default=DEFAULT_DIRECTIONS["offers"]
    )
    direction_stock: Mapped[SyncDirection] = mapped_column(
        StrEnumType(SyncDirection, 16), default=DEFAULT_DIRECTIONS["stock"]
    )
    direction_prices: Mapped[SyncDirection] = mapped_column(
        StrEnumType(SyncDirection, 16), default=DEFAULT_DIRECTIONS["prices"]
    )
    direction_orders: Mapped[SyncDirection] = mapped_column(
        StrEnumType(SyncDirection, 16), default=DEFAULT_DIRECTIONS["orders"]
    )

    # Offer price = catalogue price * currency_rate * (1 + markup_percent / 100), then rounded.
    currency_rate: Mapped[Decimal] = mapped_column(ExactDecimal(18, 8), default=Decimal(1))
    rounding: Mapped[str] = mapped_column(String(8), default="0.01")
    markup_percent: Mapped[Decimal] = mapped_column(ExactDecimal(9, 4), default=Decimal(0))
    # Opt-in: sending minimum_price switches on Kaufland's repricer (Smart Pricing) for the unit.
    # minimum_price = offer price * minimum_price_percent / 100, in cents.
    use_minimum_price: Mapped[bool] = mapped_column(Boolean, default=False)
    minimum_price_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal(9, 4), default=None)

    handling_time: Mapped[int | None] = mapped_column(Integer, default=None)  # days, 0..100
    id_shipping_group: Mapped[int | None] = mapped_column(BigInteger, default=None)
    condition: Mapped[str | None] = mapped_column(String(32), default=None)  # Kaufland's words
    vat_indicator: Mapped[str | None] = mapped_column(String(32), default=None)
    buffer_stock: Mapped[int] = mapped_column(Integer, default=0)
    max_stock: Mapped[int | None] = mapped_column(Integer, default=None)
    on_deactivate: Mapped[OnDeactivate] = mapped_column(
        StrEnumType(OnDeactivate, 16), default=OnDeactivate.ONHOLD
    )

    account: Mapped[Account] = relationship(back_populates="storefronts")
    warehouses: Mapped[list[WarehouseMapping]] = relationship(
        back_populates="account_storefront",
        cascade="all, delete-orphan",
        order_by="WarehouseMapping.local_warehouse",
        lazy="selectin",
    )

    def direction(self, kind: str) -> SyncDirection:
        """The sync direction for ``kind`` (``offers``, ``stock``, ``prices``, ``orders``)."""
        if kind not in DEFAULT_DIRECTIONS:
            raise ValueError(f"unknown data type {kind!r}; one of {', '.join(DEFAULT_DIRECTIONS)}")
        value: SyncDirection = getattr(self, f"direction_{kind}")
        return value

    def warehouse_map(self) -> dict[str, int]:
        """Local warehouse code → Kaufland ``id_warehouse``."""
        return {w.local_warehouse: w.id_warehouse for w in self.warehouses}

    def __repr__(self) -> str:
        return f"AccountStorefront(account_id={self.account_id!r}, storefront={self.storefront!r})"


class WarehouseMapping(Base):
    """One local warehouse (the catalogue's code) mapped to a Kaufland warehouse for a storefront.

    Stock in local warehouses without a mapping is not offered on that storefront.
    """

    __tablename__ = "account_storefront_warehouses"
    __table_args__ = (UniqueConstraint("account_storefront_id", "local_warehouse"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_storefront_id: Mapped[int] = mapped_column(
        ForeignKey("account_storefronts.id", ondelete="CASCADE")
    )
    local_warehouse: Mapped[str] = mapped_column(String(64))
    id_warehouse: Mapped[int] = mapped_column(BigInteger)

    account_storefront: Mapped[AccountStorefront] = relationship(back_populates="warehouses")

"""Repository for seller accounts and their storefront settings: statements only, no HTTP and no
plain secrets (callers pass the secret key already encrypted).

Every error names the account (and the setting) it is about, so the CLI can print it as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kaufland_sync.sellerapi.models.common import UnitCondition, WriteableVatIndicator
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.accounts import (
    DEFAULT_DIRECTIONS,
    Account,
    AccountStorefront,
    Environment,
    OnDeactivate,
    SyncDirection,
    WarehouseMapping,
    parse_rounding,
)

__all__ = [
    "SETTING_FIELDS",
    "AccountError",
    "AccountExistsError",
    "AccountNotFoundError",
    "AccountRepository",
    "InvalidSettingError",
    "SameSellerError",
    "validate_account_name",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


#: Currencies a catalogue can be priced in (Kaufland's currencies).
BASE_CURRENCIES = ("EUR", "CZK", "PLN")


class AccountError(Exception):
    """Base of the repository's errors; the message names the account."""


class AccountNotFoundError(AccountError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no account named {name!r} (see: kaufland-sync accounts list)")


class AccountExistsError(AccountError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"an account named {name!r} already exists")


class SameSellerError(AccountError):
    """Two accounts may not hold the same seller: Kaufland's order and return ids are the
    seller's, and the store keys order lines and return units on them."""

    def __init__(self, name: str, other: str) -> None:
        self.name = name
        self.other = other
        super().__init__(
            f"account {other!r} already uses this client key on the same Kaufland; "
            f"one seller is one account (use {other!r}, or remove it first)"
        )


class InvalidSettingError(AccountError, ValueError):
    """A value refused for one field; ``field`` is the model attribute's name."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field} {value}: {reason}")


def validate_account_name(name: str) -> str:
    """Account names are short handles used on the command line: 1-64 letters, digits, ``.``,
    ``_`` or ``-``, starting with a letter or digit."""
    if not _NAME.match(name):
        raise InvalidSettingError(
            "name",
            repr(name),
            "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


def _decimal(field: str, value: Any, *, low: Decimal | None, high: Decimal | None) -> Decimal:
    if isinstance(value, float):
        raise InvalidSettingError(field, value, "pass a Decimal or a string, not a float")
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except ArithmeticError:
        raise InvalidSettingError(field, value, "must be a decimal number") from None
    if not number.is_finite():
        raise InvalidSettingError(field, value, "must be a decimal number")
    if low is not None and number <= low:
        raise InvalidSettingError(field, value, f"must be greater than {low}")
    if high is not None and number > high:
        raise InvalidSettingError(field, value, f"must be at most {high}")
    return number


def _integer(field: str, value: Any, *, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise InvalidSettingError(field, value, "must be a whole number") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
        raise InvalidSettingError(field, value, f"must be {bounds}")
    return int(value)


def _choice(field: str, value: Any, choices: Iterable[str]) -> str:
    options = list(choices)
    text = str(value).strip()
    if text not in options:
        raise InvalidSettingError(field, text, f"must be one of {', '.join(options)}")
    return text


def _scale(field: str, number: Decimal, places: int) -> Decimal:
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidSettingError(field, number, f"at most {places} decimal places")
    return number


def _coerce(field: str, value: Any) -> Any:
    """The typed, validated value for one storefront setting (None clears optional ones)."""
    optional = {
        "minimum_price_percent",
        "handling_time",
        "id_shipping_group",
        "condition",
        "vat_indicator",
        "max_stock",
    }
    if value is None:
        if field in optional:
            return None
        raise InvalidSettingError(field, "none", "cannot be cleared")
    if field.startswith("direction_"):
        return SyncDirection(_choice(field, value, [d.value for d in SyncDirection]))
    if field == "currency_rate":
        return _scale(field, _decimal(field, value, low=Decimal(0), high=None), 8)
    if field == "markup_percent":
        return _scale(field, _decimal(field, value, low=Decimal(-100), high=None), 4)
    if field == "minimum_price_percent":
        return _scale(field, _decimal(field, value, low=Decimal(0), high=Decimal(100)), 4)
    if field == "rounding":
        try:
            return parse_rounding(str(value))
        except ValueError as exc:
            raise InvalidSettingError(field, value, str(exc).split(": ", 1)[1]) from None
    if field == "use_minimum_price":
        if not isinstance(value, bool):
            raise InvalidSettingError(field, value, "must be true or false")
        return value
    if field == "handling_time":
        return _integer(field, value, low=0, high=100)
    if field == "id_shipping_group":
        return _integer(field, value, low=1, high=None)
    if field in ("buffer_stock", "max_stock"):
        return _integer(field, value, low=0, high=None)
    if field == "condition":
        return _choice(field, value, [c.value for c in UnitCondition])
    if field == "vat_indicator":
        return _choice(field, value, [v.value for v in WriteableVatIndicator])
    if field == "on_deactivate":
        return OnDeactivate(_choice(field, value, [o.value for o in OnDeactivate]))
    raise InvalidSettingError(field, value, "unknown setting")


#: Storefront settings ``update_storefront`` accepts.
SETTING_FIELDS = (
    *(f"direction_{kind}" for kind in DEFAULT_DIRECTIONS),
    "currency_rate",
    "rounding",
    "markup_percent",
    "use_minimum_price",
    "minimum_price_percent",
    "handling_time",
    "id_shipping_group",
    "condition",
    "vat_indicator",
    "buffer_stock",
    "max_stock",
    "on_deactivate",
)


class AccountRepository:
    """Accounts in one ``Session``; the caller owns the transaction (``store.db.transaction``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        name: str,
        *,
        client_key: str,
        secret_key_encrypted: str,
        environment: Environment,
        base_url: str | None = None,
        storefronts: Iterable[Storefront | str] = (),
        base_currency: str | None = None,
    ) -> Account:
        """Create an account with default settings on each storefront.

        ``base_url`` is required for (and only kept with) the ``custom`` environment.
        """
        validate_account_name(name)
        if not client_key.strip():
            raise InvalidSettingError("client_key", "''", "must not be empty")
        if environment is Environment.CUSTOM and not base_url:
            raise InvalidSettingError("base_url", "''", "required for a custom environment")
        if self.find(name) is not None:
            raise AccountExistsError(name)
        kept_url = base_url if environment is Environment.CUSTOM else None
        self._refuse_same_seller(name, client_key.strip(), environment, kept_url)
        account = Account(
            name=name,
            client_key=client_key.strip(),
            secret_key_encrypted=secret_key_encrypted,
            environment=environment,
            base_url=kept_url,
            base_currency=base_currency,
        )
        for code in dict.fromkeys(Storefront.parse(s) for s in storefronts):
            account.storefronts.append(AccountStorefront(storefront=code))
        self.session.add(account)
        try:
            self.session.flush()
        except IntegrityError:  # a concurrent add of the same name won the race
            raise AccountExistsError(name) from None
        return account

    def _refuse_same_seller(
        self, name: str, client_key: str, environment: Environment, base_url: str | None
    ) -> None:
        query = select(Account.name).where(
            Account.client_key == client_key,
            Account.environment == environment,
            Account.name != name,
        )
        query = query.where(
            Account.base_url.is_(None) if base_url is None else Account.base_url == base_url
        )
        other = self.session.scalar(query)
        if other is not None:
            raise SameSellerError(name, other)

    def find(self, name: str) -> Account | None:
        return self.session.scalar(select(Account).where(Account.name == name))

    def get(self, name: str) -> Account:
        """The account called ``name``; ``AccountNotFoundError`` when there is none."""
        account = self.find(name)
        if account is None:
            raise AccountNotFoundError(name)
        return account

    def list(self) -> list[Account]:
        """All accounts, by name."""
        return list(self.session.scalars(select(Account).order_by(Account.name)))

    def set_credentials(
        self,
        account: Account,
        *,
        client_key: str | None = None,
        secret_key_encrypted: str | None = None,
    ) -> None:
        """Replace the client key and/or the (encrypted) secret key."""
        if client_key is not None:
            if not client_key.strip():
                raise InvalidSettingError("client_key", "''", "must not be empty")
            self._refuse_same_seller(
                account.name, client_key.strip(), account.environment, account.base_url
            )
            account.client_key = client_key.strip()
        if secret_key_encrypted is not None:
            account.secret_key_encrypted = secret_key_encrypted
        self.session.flush()

    def set_environment(
        self,
        account: Account,
        environment: Environment,
        base_url: str | None = None,
        *,
        client_key: str | None = None,
    ) -> None:
        """Move the account to another Kaufland (production, playground, or a custom base URL,
        required for and only kept with ``custom``), with a new client key if given; refused
        when another account already holds that key there (one seller, one account), checked
        once on where the account ends up."""
        if environment is Environment.CUSTOM and not base_url:
            raise InvalidSettingError("base_url", "''", "required for a custom environment")
        key = account.client_key if client_key is None else client_key.strip()
        if not key:
            raise InvalidSettingError("client_key", "''", "must not be empty")
        kept_url = base_url if environment is Environment.CUSTOM else None
        self._refuse_same_seller(account.name, key, environment, kept_url)
        account.client_key = key
        account.environment = environment
        account.base_url = kept_url
        self.session.flush()

    def set_base_currency(self, account: Account, currency: str | None) -> None:
        """The currency the catalogue's prices are in, which currency rates convert from
        (None: EUR). Refuses anything but EUR, CZK or PLN by name."""
        if currency is not None:
            code = currency.strip().upper()
            if code not in BASE_CURRENCIES:
                raise InvalidSettingError(
                    "base_currency", currency, f"must be one of {', '.join(BASE_CURRENCIES)}"
                )
            currency = code
        account.base_currency = currency
        self.session.flush()

    def storefront(self, account: Account, code: Storefront | str) -> AccountStorefront:
        """The account's settings for a storefront it sells on."""
        found = account.storefront(code)
        if found is None:
            sold = ", ".join(s.storefront.value for s in account.storefronts) or "none"
            raise AccountError(
                f"account {account.name!r} does not sell on storefront "
                f"{Storefront.parse(code).value!r} (its storefronts: {sold})"
            )
        return found

    def add_storefront(self, account: Account, code: Storefront | str) -> AccountStorefront:
        """Start selling on a storefront (default settings); returns the existing settings if
        the account already sells there."""
        existing = account.storefront(code)
        if existing is not None:
            return existing
        settings = AccountStorefront(storefront=Storefront.parse(code))
        account.storefronts.append(settings)
        self.session.flush()
        return settings

    def remove_storefront(self, account: Account, code: Storefront | str) -> None:
        account.storefronts.remove(self.storefront(account, code))
        self.session.flush()

    def update_storefront(
        self, account: Account, code: Storefront | str, changes: Mapping[str, Any]
    ) -> AccountStorefront:
        """Apply ``changes`` (setting name → value, see ``SETTING_FIELDS``) after validating all
        of them: one bad value changes nothing and raises ``InvalidSettingError``."""
        settings = self.storefront(account, code)
        typed = {field: _coerce(field, value) for field, value in changes.items()}
        use_minimum = typed.get("use_minimum_price", settings.use_minimum_price)
        percent = typed.get("minimum_price_percent", settings.minimum_price_percent)
        if use_minimum and percent is None:
            raise InvalidSettingError(
                "use_minimum_price", "true", "needs minimum_price_percent as well"
            )
        for field, value in typed.items():
            setattr(settings, field, value)
        self.session.flush()
        return settings

    def map_warehouse(
        self,
        account: Account,
        code: Storefront | str,
        local_warehouse: str,
        id_warehouse: int | None,
    ) -> None:
        """Map a local warehouse to a Kaufland ``id_warehouse`` on one storefront (None: unmap)."""
        settings = self.storefront(account, code)
        local = local_warehouse.strip()
        if not local or len(local) > 64:
            raise InvalidSettingError("warehouse", repr(local_warehouse), "give a local code")
        current = next((w for w in settings.warehouses if w.local_warehouse == local), None)
        if id_warehouse is None:
            if current is not None:
                settings.warehouses.remove(current)
        else:
            checked = _integer("warehouse", id_warehouse, low=1, high=None)
            if current is None:
                settings.warehouses.append(
                    WarehouseMapping(local_warehouse=local, id_warehouse=checked)
                )
            else:
                current.id_warehouse = checked
        self.session.flush()

    def remove(self, name: str) -> None:
        """Delete the account with its storefront settings and warehouse mappings."""
        self.session.delete(self.get(name))
        self.session.flush()

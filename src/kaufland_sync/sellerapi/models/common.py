"""Building blocks shared by every model module: bases, lenient field types, pages, money.

Two base classes carry the leniency policy:

* ``ApiModel`` (responses) ignores nothing and rejects nothing it does not know: unknown fields
  are kept (``extra="allow"``), so a field Kaufland adds tomorrow never breaks an import.
* ``RequestModel`` (request bodies) is strict (``extra="forbid"``): a typo in a field name fails
  here, before anything is sent. ``to_body()`` gives what goes on the wire.

Enumerated response values use ``Lenient[SomeEnum]``: a documented value becomes the enum member,
an undocumented one stays a plain ``str`` instead of failing validation.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from kaufland_sync.sellerapi._requester import Pagination
from kaufland_sync.sellerapi.storefronts import Currency, Storefront

__all__ = [
    "Address",
    "ApiModel",
    "Buyer",
    "CurrencyValue",
    "FulfillmentType",
    "Lenient",
    "Locale",
    "Page",
    "RequestModel",
    "StorefrontValue",
    "UnitCondition",
    "UtcDateTime",
    "VatIndicator",
    "WriteableVatIndicator",
    "format_minor",
    "parse_kaufland_timestamp",
]

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


class ApiModel(BaseModel):
    """Base of every response model: keeps unknown fields, accepts names or aliases."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are an error, values are validated."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_body(self) -> dict[str, Any]:
        """The JSON object to send: unset optional fields are left out, enums become text."""
        return self.model_dump(exclude_none=True, mode="json", by_alias=True)


# ``E | str`` in pydantic's default "smart" union mode turns a documented value into a plain str
# (str is the exact match); left-to-right makes the enum win and keeps str as the fallback.
Lenient = Annotated[E | str, Field(union_mode="left_to_right")]


def _to_utc(value: datetime) -> datetime:
    # Kaufland's ``_iso`` fields are UTC ("…Z"); a value without an offset is taken as UTC too.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]
"""An aware UTC datetime, parsed from Kaufland's ``…_iso`` strings."""


def _lower(value: Any) -> Any:
    # The spec's own examples write storefronts both as "de" and "DE".
    return value.lower() if isinstance(value, str) else value


StorefrontValue = Annotated[Lenient[Storefront], BeforeValidator(_lower)]
"""A storefront in a response: a ``Storefront`` when known (any case), else the raw text."""

CurrencyValue = Lenient[Currency]


class FulfillmentType(enum.StrEnum):
    """Who ships an order unit."""

    FULFILLED_BY_MERCHANT = "fulfilled_by_merchant"
    FULFILLED_BY_KAUFLAND = "fulfilled_by_kaufland"


class VatIndicator(enum.StrEnum):
    """VAT class of a unit; the storefront's rate for it comes from ``/info/vat-indicators``."""

    STANDARD_RATE = "standard_rate"
    REDUCED_RATE_1 = "reduced_rate_1"
    REDUCED_RATE_2 = "reduced_rate_2"
    SUPER_REDUCED_RATE = "super_reduced_rate"
    ZERO_RATE = "zero_rate"
    UNSPECIFIED = "unspecified"


class WriteableVatIndicator(enum.StrEnum):
    """The VAT indicators a unit write may set (``unspecified`` is read-only)."""

    STANDARD_RATE = "standard_rate"
    REDUCED_RATE_1 = "reduced_rate_1"
    REDUCED_RATE_2 = "reduced_rate_2"
    SUPER_REDUCED_RATE = "super_reduced_rate"
    ZERO_RATE = "zero_rate"


class Locale(enum.StrEnum):
    """Locales for product data (``ProductDataLocale`` additionally allows en-US and zh-CN)."""

    DE_DE = "de-DE"
    CS_CZ = "cs-CZ"
    SK_SK = "sk-SK"
    DE_AT = "de-AT"
    PL_PL = "pl-PL"
    FR_FR = "fr-FR"
    IT_IT = "it-IT"
    EN_US = "en-US"
    ZH_CN = "zh-CN"


class UnitCondition(enum.StrEnum):
    """Unit condition as the unit API spells it (``USED___AS_NEW`` has three underscores)."""

    NEW = "NEW"
    USED_AS_NEW = "USED___AS_NEW"
    USED_VERY_GOOD = "USED___VERY_GOOD"
    USED_GOOD = "USED___GOOD"
    USED_ACCEPTABLE = "USED___ACCEPTABLE"
    REFURBISHED_AS_NEW = "REFURBISHED___AS_NEW"
    REFURBISHED_VERY_GOOD = "REFURBISHED___VERY_GOOD"
    REFURBISHED_GOOD = "REFURBISHED___GOOD"
    REFURBISHED_ACCEPTABLE = "REFURBISHED___ACCEPTABLE"


class Address(ApiModel):
    """A billing or shipping address (hidden by Kaufland for a while after an order arrives)."""

    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = None
    additional_field: str | None = None
    city: str | None = None
    phone: str | None = None
    country: str | None = None


class Buyer(ApiModel):
    id_buyer: int
    email: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list endpoint: the parsed items and Kaufland's ``pagination`` block."""

    items: list[T]
    pagination: Pagination | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def total(self) -> int | None:
        """Total number of matching items on the server, when Kaufland said."""
        return self.pagination.total if self.pagination else None

    @property
    def has_more(self) -> bool:
        """Whether items remain after this page (False when no pagination was sent)."""
        p = self.pagination
        return p is not None and p.offset + len(self.items) < p.total


def format_minor(amount: int, currency: Currency | str) -> str:
    """Render an amount in minor units for people: ``format_minor(4550, "EUR") == "45.50 EUR"``.

    For logs and the UI only; amounts stay integers everywhere else.
    """
    cur = Currency(currency)
    per_major = cur.minor_units
    digits = len(str(per_major)) - 1
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), per_major)
    return f"{sign}{major}.{minor:0{digits}d} {cur.value}"


def parse_kaufland_timestamp(value: str | None) -> datetime | None:
    """Parse Kaufland's mixed timestamp forms into an aware UTC datetime.

    Accepts ISO 8601 (``2021-07-24T19:26:05Z``) and the non-ISO ``2021-05-31 01:06:05`` used by
    import files and reports. The zone of the latter is not documented; it is taken as UTC.
    Returns None for None, empty or unparseable text (these fields are informational).
    """
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _to_utc(parsed)

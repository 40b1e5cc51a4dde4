"""Prices and stock for one offer on one storefront: the seller's rules, pure (no I/O).

Used by the store (to validate settings) and by the sync engine's mappers (to compute offers).

A seller's catalogue has one price in one currency; each storefront needs a price in its own
currency, usually with a markup and a "nice" ending. Sellers express the conversion as a
coefficient ("CZK = EUR x 25.2"), not a live exchange rate, so the number they see is the number
they get. All arithmetic is ``Decimal`` on minor units; nothing passes through a float.

Rounding rules (``RoundingRule.parse``):

* a **step** — ``0.01``, ``0.05``, ``0.1``, ``0.5``, ``1``, ``5``, ``10`` — rounds half up to a
  multiple of the step (``1``: whole CZK; ``0.01``: cents);
* an **ending** — ``0.99``, ``0.95``, ``0.9``, ``0.49`` — rounds *up* to the next price whose
  fraction is that ending (23.41 → 23.99, 23.99 → 23.99, 24.00 → 24.99), the usual shop rule:
  a price is never rounded below what the rate and markup give.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "DEFAULT_BASE_CURRENCY",
    "MAX_AMOUNT",
    "ROUNDING_RULES",
    "CurrencyMismatchError",
    "PriceRule",
    "PricingError",
    "RoundingRule",
    "StockRule",
    "convert_price",
    "minimum_price",
    "offered_stock",
    "parse_rounding",
    "rule_for_currency",
]

MAX_AMOUNT = 99_999  # Kaufland refuses a unit amount above this
#: The catalogue currency an account's currency rates convert from when it sets none.
DEFAULT_BASE_CURRENCY = "EUR"
_STEPS = ("0.01", "0.05", "0.1", "0.5", "1", "5", "10")
_ENDINGS = ("0.99", "0.95", "0.9", "0.49")
ROUNDING_RULES = _STEPS + _ENDINGS
_HUNDRED = Decimal(100)


class PricingError(ValueError):
    """A price that cannot be offered (names the rule or the limit that refused it)."""


@dataclass(frozen=True)
class RoundingRule:
    kind: str  # "step" or "ending"
    value: Decimal  # in major units

    @classmethod
    def parse(cls, text: str) -> RoundingRule:
        """``"1"`` (or ``"1.00"``) → whole units, ``"0,99"`` → ends in .99; anything else is
        refused with the list of valid rules."""
        try:
            value = Decimal(text.strip().replace(",", "."))
        except (ArithmeticError, ValueError):
            value = None
        if value is not None and value.is_finite():
            for rule in ROUNDING_RULES:
                if Decimal(rule) == value:
                    return cls("step" if rule in _STEPS else "ending", Decimal(rule))
        raise PricingError(f"{text!r}: must be one of {', '.join(ROUNDING_RULES)}")

    def __str__(self) -> str:
        """The canonical spelling (one of ``ROUNDING_RULES``)."""
        return next((r for r in ROUNDING_RULES if Decimal(r) == self.value), str(self.value))

    def apply(self, major: Decimal) -> Decimal:
        """Round an amount in major units by this rule."""
        if self.kind == "step":
            return (major / self.value).quantize(Decimal(1), rounding=ROUND_HALF_UP) * self.value
        whole = major.to_integral_value(rounding=ROUND_FLOOR)
        candidate = whole + self.value
        if candidate < major:
            candidate += 1
        return candidate


@dataclass(frozen=True)
class PriceRule:
    """How a catalogue price becomes a storefront price: ``price x rate x (1 + markup%)``,
    then rounded. ``minimum_price_percent`` (opt-in) sets Kaufland's ``minimum_price`` — which
    switches on its repricer — to that share of the listing price."""

    currency_rate: Decimal = Decimal(1)
    markup_percent: Decimal = Decimal(0)
    rounding: RoundingRule = RoundingRule("step", Decimal("0.01"))
    minimum_price_percent: Decimal | None = None

    def __post_init__(self) -> None:
        if self.currency_rate <= 0:
            raise PricingError(f"currency rate must be above 0, got {self.currency_rate}")
        if self.markup_percent <= -100:
            raise PricingError(f"markup must be above -100%, got {self.markup_percent}%")
        if self.minimum_price_percent is not None and not (0 < self.minimum_price_percent <= 100):
            raise PricingError(
                f"minimum price must be 1-100% of the listing price, got "
                f"{self.minimum_price_percent}%"
            )


class CurrencyMismatchError(PricingError):
    """A price in a currency the storefront's rate does not convert from (``no_rate`` False), or
    in the one it converts from while no rate is set (``no_rate`` True)."""

    def __init__(self, message: str, *, no_rate: bool) -> None:
        super().__init__(message)
        self.no_rate = no_rate


def rule_for_currency(
    rule: PriceRule,
    *,
    price_currency: str,
    storefront: str,
    storefront_currency: str,
    base_currency: str | None,
) -> PriceRule:
    """The rule to apply to a price in ``price_currency`` on a storefront whose ``rule`` converts
    from ``base_currency`` (None: :data:`DEFAULT_BASE_CURRENCY`) to ``storefront_currency``.

    A price already in the storefront's currency keeps markup and rounding but no rate (the rate
    is for other currencies). A storefront has one rate, from the base currency only: any other
    currency, or the base currency with the rate still at 1 between two different currencies,
    raises :class:`CurrencyMismatchError` rather than publish a wrong price."""
    source = base_currency or DEFAULT_BASE_CURRENCY
    if price_currency == storefront_currency:
        return PriceRule(
            markup_percent=rule.markup_percent,
            rounding=rule.rounding,
            minimum_price_percent=rule.minimum_price_percent,
        )
    if price_currency != source:
        raise CurrencyMismatchError(
            f"priced in {price_currency}, but the currency rate for {storefront} converts from "
            f"{source}",
            no_rate=False,
        )
    if rule.currency_rate == 1:
        raise CurrencyMismatchError(
            f"priced in {price_currency}; set a currency rate for {storefront} "
            f"({price_currency} → {storefront_currency})",
            no_rate=True,
        )
    return rule


def parse_rounding(text: str) -> str:
    """The canonical spelling of a rounding rule (``"1.00"`` → ``"1"``); ``PricingError`` (a
    ``ValueError``) naming the valid rules otherwise."""
    return str(RoundingRule.parse(text))


def _to_minor(major: Decimal) -> int:
    return int((major * _HUNDRED).to_integral_value(rounding=ROUND_HALF_UP))


def convert_price(price_minor: int, rule: PriceRule, *, max_minor: int | None = None) -> int:
    """The storefront ``listing_price`` (minor units) for a catalogue price (minor units).

    Raises ``PricingError`` for a price that ends at or below zero or above ``max_minor``
    (Kaufland's per-currency maximum)."""
    try:
        major = Decimal(price_minor) / _HUNDRED * rule.currency_rate
        major = major * (1 + rule.markup_percent / _HUNDRED)
        rounded = rule.rounding.apply(major)
    except InvalidOperation as exc:  # pragma: no cover - Decimal inputs are validated above
        raise PricingError(f"cannot convert price {price_minor}: {exc}") from None
    minor = _to_minor(rounded)
    if minor < 1:
        raise PricingError(
            f"price {price_minor} becomes {minor} after conversion; Kaufland needs at least 1"
        )
    if max_minor is not None and minor > max_minor:
        raise PricingError(f"price {minor} is above the storefront's maximum of {max_minor}")
    return minor


def minimum_price(listing_minor: int, rule: PriceRule) -> int | None:
    """Kaufland's ``minimum_price`` for a listing price, or None when the seller did not opt in.
    Rounded down to whole minor units so it never exceeds the share asked for."""
    if rule.minimum_price_percent is None:
        return None
    share = Decimal(listing_minor) * rule.minimum_price_percent / _HUNDRED
    return max(1, int(share.to_integral_value(rounding=ROUND_FLOOR)))


@dataclass(frozen=True)
class StockRule:
    """``buffer``: pieces kept back from Kaufland; ``maximum``: cap on the offered amount."""

    buffer: int = 0
    maximum: int | None = None

    def __post_init__(self) -> None:
        if self.buffer < 0:
            raise PricingError(f"buffer stock must not be negative, got {self.buffer}")
        if self.maximum is not None and self.maximum < 0:
            raise PricingError(f"maximum stock must not be negative, got {self.maximum}")


def offered_stock(on_hand: int, reserved: int, rule: StockRule) -> int:
    """Offered amount = on hand in the mapped warehouses - buffer - reserved by open orders,
    never below 0, capped at the rule's maximum and at Kaufland's 99,999."""
    amount = on_hand - rule.buffer - reserved
    cap = MAX_AMOUNT if rule.maximum is None else min(rule.maximum, MAX_AMOUNT)
    return max(0, min(amount, cap))

"""Parsers for the text a seller types into a catalogue file or feed: prices, EANs, conditions.

Each parser takes the raw (already trimmed) text and returns the stored value, or raises
:class:`FieldError` with a reason a seller can act on. They are shared by every file or feed
adapter so that the same text means the same thing everywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from stdnum import ean as stdnum_ean
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

from kaufland_sync.store.models.catalog import Condition, Currency, VatIndicator

__all__ = [
    "FieldError",
    "format_price",
    "normalise_ean",
    "parse_active",
    "parse_condition",
    "parse_currency",
    "parse_image_urls",
    "parse_non_negative_int",
    "parse_price",
    "parse_vat_indicator",
]

#: Minor units per major unit for every supported currency (all have two decimal places).
MINOR_PER_MAJOR = 100


class FieldError(ValueError):
    """One field's text is not acceptable; the message says why in plain words."""


# Spaces a spreadsheet may put in numbers: ordinary, no-break, narrow no-break, thin; and the
# Swiss apostrophe thousands separator.
_NUMBER_NOISE = re.compile(r"[ \u00a0\u202f\u2009']")
_DIGITS = re.compile(r"\d+")


def _grouped(integer_part: str, separator: str) -> str:
    """``1.234.567`` → ``1234567`` when every group after the first has exactly three digits."""
    groups = integer_part.split(separator)
    if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
        raise FieldError(f"misplaced thousands separator {separator!r}")
    return "".join(groups)


def parse_price(text: str) -> int:
    """A price in major units → minor units, exactly (no float anywhere).

    Accepted: ``12``, ``12.5``, ``12.50``, ``12,50``, ``1234.5``, ``1 234,50``, ``1.234,50``,
    ``1,234.50``, ``1'234.50``. When both ``.`` and ``,`` occur, the last one is the decimal mark
    and the other separates thousands (groups of three). When only one kind occurs once and is
    followed by one or two digits it is the decimal mark; followed by exactly three digits it is
    ambiguous (``1.234`` is 1234 in Germany and 1.234 in the UK) and refused. At most two decimal
    places; no sign, no currency symbol.
    """
    raw = text
    text = _NUMBER_NOISE.sub("", text)
    if not text:
        raise FieldError("empty price")
    if not re.fullmatch(r"[0-9.,]+", text):
        raise FieldError(f"{raw!r} is not a price: use digits with . or , as the decimal mark")
    dot, comma = text.rfind("."), text.rfind(",")
    if dot >= 0 and comma >= 0:
        decimal_mark = "." if dot > comma else ","
        thousands = "," if decimal_mark == "." else "."
        integer_part, _, fraction = text.rpartition(decimal_mark)
        if thousands in fraction:
            raise FieldError(f"{raw!r}: thousands separator after the decimal mark")
        integer_part = _grouped(integer_part, thousands)
    elif dot >= 0 or comma >= 0:
        mark = "." if dot >= 0 else ","
        parts = text.split(mark)
        if len(parts) > 2:
            integer_part, fraction = _grouped(text, mark), ""
        elif len(parts[1]) == 3:
            raise FieldError(
                f"{raw!r} is ambiguous: write 1234.00 or 1.234,00 (thousands) or use at most "
                "two decimals"
            )
        else:
            integer_part, fraction = parts
    else:
        integer_part, fraction = text, ""
    if not _DIGITS.fullmatch(integer_part or "0") or (fraction and not _DIGITS.fullmatch(fraction)):
        raise FieldError(f"{raw!r} is not a price")
    if len(fraction) > 2:
        raise FieldError(f"{raw!r} has more than two decimal places")
    try:
        amount = Decimal(f"{integer_part or '0'}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the regexes above admit only digits
        raise FieldError(f"{raw!r} is not a price") from None
    return int(amount * MINOR_PER_MAJOR)


def format_price(minor: int) -> str:
    """Minor units → major units with a ``.`` and two decimals (``1299`` → ``12.99``)."""
    whole, cents = divmod(minor, MINOR_PER_MAJOR)
    return f"{whole}.{cents:02d}"


def normalise_ean(text: str) -> str:
    """Check an EAN/GTIN with python-stdnum (length, digits, check digit) and normalise it.

    Spaces and dashes are dropped; leading zeros are kept. EAN-8 and UPC-A (12 digits) become
    their zero-padded EAN-13 (the GTIN rule: padding does not change the check digit), as do
    GTIN-14s starting with ``0``. A GTIN-14 with another packaging indicator stays 14 digits
    (Kaufland accepts 13 or 14).
    """
    try:
        digits = stdnum_ean.validate(text)
    except InvalidChecksum:
        raise FieldError(f"{text!r}: wrong check digit") from None
    except InvalidLength:
        raise FieldError(f"{text!r}: an EAN/GTIN has 8, 12, 13 or 14 digits") from None
    except InvalidFormat:
        raise FieldError(f"{text!r}: an EAN/GTIN contains only digits") from None
    except ValidationError as error:  # pragma: no cover - any other stdnum complaint
        raise FieldError(f"{text!r}: {error}") from None
    if len(digits) < 13:
        return digits.zfill(13)
    if len(digits) == 14 and digits.startswith("0"):
        return digits[1:]
    return digits


def parse_currency(text: str) -> Currency:
    try:
        return Currency(text.upper())
    except ValueError:
        raise FieldError(f"{text!r}: currency must be EUR, CZK or PLN") from None


# Kaufland's three spellings of a condition: UnitCondition, the display text and the numeric code
# of its inventory feeds.
_CONDITION_ALIASES: dict[str, Condition] = {
    "100": Condition.NEW,
    "200": Condition.USED_AS_NEW,
    "300": Condition.USED_VERY_GOOD,
    "400": Condition.USED_GOOD,
    "500": Condition.USED_ACCEPTABLE,
}


def _condition_key(text: str) -> str:
    """``USED___VERY_GOOD``, ``used - very good`` and ``Used-Very Good`` share one key."""
    key = text.strip().lower().replace("___", " - ").replace("_", " ")
    return " ".join(re.sub(r"\s*-\s*", " - ", key).split())


for _condition in Condition:
    _CONDITION_ALIASES[_condition_key(_condition.value)] = _condition


def parse_condition(text: str) -> Condition:
    """``NEW``, ``USED___GOOD``, ``used - good`` or a feed code (``100``…``500``); empty is NEW."""
    if not text:
        return Condition.NEW
    try:
        return _CONDITION_ALIASES[_condition_key(text)]
    except KeyError:
        raise FieldError(
            f"{text!r}: unknown condition; use one of {', '.join(c.value for c in Condition)}"
        ) from None


def parse_vat_indicator(text: str) -> VatIndicator | None:
    """A Kaufland VAT indicator (``standard_rate``…); empty means "the storefront's setting"."""
    if not text:
        return None
    try:
        return VatIndicator(text.strip().lower())
    except ValueError:
        raise FieldError(
            f"{text!r}: VAT must be a VAT indicator, one of "
            f"{', '.join(v.value for v in VatIndicator)}"
        ) from None


def parse_non_negative_int(text: str, *, maximum: int | None = None) -> int:
    """A whole number ≥ 0 (``12``; ``12.0`` is refused: stock is counted, not measured)."""
    cleaned = _NUMBER_NOISE.sub("", text)
    if not _DIGITS.fullmatch(cleaned):
        raise FieldError(f"{text!r} is not a whole number ≥ 0")
    value = int(cleaned)
    if maximum is not None and value > maximum:
        raise FieldError(f"{text!r} is more than {maximum}")
    return value


_URL_SEPARATORS = re.compile(r"[|\s]+")


def parse_image_urls(text: str) -> list[str]:
    """URLs separated by ``|`` or whitespace; each must be ``http://`` or ``https://``."""
    urls = [url for url in _URL_SEPARATORS.split(text) if url]
    for url in urls:
        if not re.match(r"https?://[^/\s]+", url, re.IGNORECASE):
            raise FieldError(f"{url!r} is not an http(s) URL")
    return urls


_TRUE = {"1", "true", "yes", "y", "active", "ano", "ja", "tak"}
_FALSE = {"0", "false", "no", "n", "inactive", "ne", "nein", "nie"}


def parse_active(text: str) -> bool:
    """``1/0``, ``true/false``, ``yes/no`` (and ano/ne, ja/nein, tak/nie); empty is active."""
    key = text.strip().lower()
    if not key or key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise FieldError(f"{text!r}: use 1 or 0 (yes or no)")

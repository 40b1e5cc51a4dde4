"""Column types shared by the models: exact decimals and string-valued enums.

Both are plain ``TypeDecorator`` s, so Alembic migrations can name them and ``compare_metadata``
sees the same SQL type the migration created.
"""

from __future__ import annotations

import enum
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ExactDecimal", "StrEnumType", "check_in"]

E = TypeVar("E", bound=enum.StrEnum)


def check_in(column: str, values: type[enum.StrEnum]) -> str:
    """The SQL of a ``CheckConstraint`` that keeps ``column`` within an enum's values."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` kept exactly: ``NUMERIC(precision, scale)`` on PostgreSQL, canonical text on
    SQLite (whose NUMERIC affinity would turn ``25.2`` into a binary float).

    Values with more decimal places than ``scale`` are refused rather than silently rounded.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not stored as decimals; pass a Decimal or a string")
        try:
            number = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise ValueError(f"{value!r} is not a decimal number") from None
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite decimal number")
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.scale:
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        if dialect.name == "sqlite":
            return format(number, "f")
        return number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` stored as its value in a ``VARCHAR(length)``; the allowed values are enforced
    by a named ``CheckConstraint`` that the model declares next to the column."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_class(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum_class

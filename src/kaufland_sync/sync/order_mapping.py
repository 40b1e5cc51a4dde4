"""Order mappings: Kaufland's order values ↔ the seller's local words, per account.

Each rule is one :class:`~kaufland_sync.store.models.orders.OrderMapping` row (``kind``,
``storefront``, ``source`` → ``target``). Resolution, for one storefront:

1. the row of that storefront, else
2. the row for every storefront (``storefront = ""``), else
3. the built-in default below (status, payment and shipping only), else
4. for a status, Kaufland's own word (an undocumented status is shown as Kaufland sent it).

Kinds and their sources:

* ``status``: a Kaufland order-unit status (``OrderUnitStatus``) → local status
  (:data:`DEFAULT_STATUS`).
* ``payment``: Kaufland collects every buyer's payment and order units carry no payment method,
  so the only source is :data:`PAYMENT_SOURCE` (``marketplace``), mapped per storefront
  (default :data:`DEFAULT_PAYMENT`).
* ``shipping``: the unit's ``fulfillment_type`` (``FulfillmentType``) → local shipping method
  (:data:`DEFAULT_SHIPPING`). A unit without a fulfillment type counts as merchant-fulfilled,
  which is what Kaufland means when it leaves the field out.
* ``carrier``, ``cancel_reason``, ``refund_reason``: a local name → Kaufland's value. This module
  stores and validates them (Kaufland's side must be one of ``OrderUnitCancelReason`` /
  ``OrderUnitRefundReason``; a carrier must be non-empty); resolving them, with their defaults,
  is the job of the shipping and cancelling code (:meth:`OrderMappings.lookup`).

:func:`load_mappings` reads an account's rows once (one query); the returned
:class:`OrderMappings` then resolves in memory, so an import batch pays one query for all its
units.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kaufland_sync.sellerapi.models import (
    FulfillmentType,
    OrderUnitCancelReason,
    OrderUnitRefundReason,
    OrderUnitStatus,
)
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.orders import MappingKind, Order, OrderLine, OrderMapping

if TYPE_CHECKING:
    from kaufland_sync.store.models.accounts import Account

__all__ = [
    "DEFAULTS",
    "DEFAULT_PAYMENT",
    "DEFAULT_SHIPPING",
    "DEFAULT_STATUS",
    "LIFE_CYCLE",
    "PAYMENT_SOURCE",
    "EffectiveRule",
    "MappingRuleError",
    "OrderMappings",
    "apply_to_order",
    "check_scope",
    "effective_rules",
    "load_mappings",
    "local_summary",
    "parse_kind",
    "remap_orders",
    "set_rule",
    "shipping_summary",
    "status_summary",
    "unset_rule",
    "validate_rule",
]

#: Kaufland's order-unit life cycle; orders the statuses in an order's summary.
LIFE_CYCLE: tuple[str, ...] = tuple(s.value for s in OrderUnitStatus)

DEFAULT_STATUS: dict[str, str] = {
    "open": "Pending",
    "need_to_be_sent": "Not dispatched",
    "sent": "Dispatched",
    "sent_and_autopaid": "Dispatched",
    "received": "Delivered",
    "cancelled": "Cancelled",
    "returned": "Returned",
    "returned_paid": "Returned",
}

#: The one payment "source": Kaufland's marketplace collects the buyer's payment.
PAYMENT_SOURCE = "marketplace"
DEFAULT_PAYMENT = "Kaufland Marketplace"

DEFAULT_SHIPPING: dict[str, str] = {
    "fulfilled_by_merchant": "Merchant shipping",
    "fulfilled_by_kaufland": "Fulfilled by Kaufland",
}

#: Built-in defaults per kind. The reverse kinds (carrier, reasons) have none here.
DEFAULTS: dict[MappingKind, dict[str, str]] = {
    MappingKind.STATUS: DEFAULT_STATUS,
    MappingKind.PAYMENT: {PAYMENT_SOURCE: DEFAULT_PAYMENT},
    MappingKind.SHIPPING: DEFAULT_SHIPPING,
}

#: Longest target per kind: the columns the mapped values land in.
_TARGET_LENGTH = {MappingKind.STATUS: 64}
_LENGTH = 128  # OrderMapping.source / target


class MappingRuleError(ValueError):
    """A mapping rule that cannot be stored; names the field and the allowed values."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


@dataclass(frozen=True)
class OrderMappings:
    """One account's rules, resolved in memory (see the module docstring for the order)."""

    #: (kind, storefront or "", source) → target.
    rows: dict[tuple[MappingKind, str, str], str]

    def lookup(self, kind: MappingKind, storefront: Storefront | str, source: str) -> str | None:
        """The stored target for ``source`` on ``storefront`` (its own row, else the row for
        every storefront), or None: built-in defaults are not consulted."""
        code = str(storefront)
        found = self.rows.get((kind, code, source))
        if found is None:
            found = self.rows.get((kind, "", source))
        return found

    def resolve(self, kind: MappingKind, storefront: Storefront | str, source: str) -> str | None:
        """:meth:`lookup`, else the built-in default, else None."""
        found = self.lookup(kind, storefront, source)
        return found if found is not None else DEFAULTS.get(kind, {}).get(source)

    def status(self, storefront: Storefront | str, kaufland_status: str) -> str:
        """The local status of a unit in ``kaufland_status`` (Kaufland's word if unmapped)."""
        return self.resolve(MappingKind.STATUS, storefront, kaufland_status) or kaufland_status

    def payment(self, storefront: Storefront | str) -> str:
        """The local payment method of an order on ``storefront``."""
        return self.resolve(MappingKind.PAYMENT, storefront, PAYMENT_SOURCE) or DEFAULT_PAYMENT

    def shipping(self, storefront: Storefront | str, fulfillment_type: str | None) -> str:
        """The local shipping method of a unit (no fulfillment type: merchant-fulfilled)."""
        source = fulfillment_type or FulfillmentType.FULFILLED_BY_MERCHANT.value
        return self.resolve(MappingKind.SHIPPING, storefront, source) or source


def load_mappings(session: Session, account_id: int) -> OrderMappings:
    """Every rule of ``account_id``, read with one query."""
    rows = session.execute(
        select(
            OrderMapping.kind, OrderMapping.storefront, OrderMapping.source, OrderMapping.target
        ).where(OrderMapping.account_id == account_id)
    )
    return OrderMappings({(kind, sf, source): target for kind, sf, source, target in rows})


def status_summary(statuses: Iterable[str], *, limit: int = 200) -> str:
    """Distinct Kaufland statuses in life-cycle order (unknown ones last, by name), joined
    with ``,``: the order-level ``status``."""
    rank = {s: i for i, s in enumerate(LIFE_CYCLE)}
    ordered = sorted(set(statuses), key=lambda s: (rank.get(s, len(rank)), s))
    return ",".join(ordered)[:limit]


def local_summary(pairs: Iterable[tuple[str, str]], *, limit: int = 200) -> str:
    """The order-level ``local_status``: the lines' distinct local statuses, ordered by the
    life cycle of the Kaufland status behind each (first occurrence wins), joined with ``,``
    and cut to ``limit`` characters (the column's width)."""
    rank = {s: i for i, s in enumerate(LIFE_CYCLE)}
    ordered = sorted(set(pairs), key=lambda p: (rank.get(p[0], len(rank)), p[0], p[1]))
    seen: dict[str, None] = {}
    for _, local in ordered:
        seen.setdefault(local, None)
    return ",".join(seen)[:limit]


def shipping_summary(methods: Iterable[str], *, limit: int = 128) -> str:
    """The order-level ``shipping_method``: the lines' distinct methods, sorted, joined."""
    return ", ".join(sorted(set(methods)))[:limit]


def apply_to_order(order: Order, lines: Sequence[OrderLine], mappings: OrderMappings) -> None:
    """Set the local status of each of ``lines`` and the order's local status, payment and
    shipping method from the lines' stored Kaufland values. ``lines`` must be all the order's
    lines (the summaries cover them)."""
    storefront = order.storefront
    for line in lines:
        local = mappings.status(storefront, line.status)
        if line.local_status != local:
            line.local_status = local
    summary = local_summary((line.status, line.local_status) for line in lines)
    if order.local_status != summary:
        order.local_status = summary
    payment = mappings.payment(storefront)
    if order.payment_method != payment:
        order.payment_method = payment
    shipping = shipping_summary(
        mappings.shipping(storefront, _fulfillment(line.raw)) for line in lines
    )
    if lines and order.shipping_method != shipping:
        order.shipping_method = shipping


def _fulfillment(raw: dict[str, Any] | None) -> str | None:
    value = (raw or {}).get("fulfillment_type")
    return value if isinstance(value, str) else None


def remap_orders(session: Session, account_id: int) -> int:
    """Map every order of ``account_id`` again from its stored lines (after a rule changed);
    no call to Kaufland. Returns how many orders changed."""
    mappings = load_mappings(session, account_id)
    changed = 0
    orders = session.scalars(select(Order).where(Order.account_id == account_id)).all()
    for order in orders:
        before = (order.local_status, order.payment_method, order.shipping_method)
        lines = list(order.lines)
        line_before = [line.local_status for line in lines]
        apply_to_order(order, lines, mappings)
        after = (order.local_status, order.payment_method, order.shipping_method)
        if before != after or line_before != [line.local_status for line in lines]:
            changed += 1
    session.flush()
    return changed


# ------------------------------------------------------------------ rules as data


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """One rule as it applies: a stored override or a built-in default.

    ``origin`` is ``override`` (a stored row) or ``default``; ``default`` is the built-in target
    the row replaces (None when there is none); ``overridden`` marks a default hidden by a row
    for every storefront."""

    kind: MappingKind
    storefront: str
    source: str
    target: str
    origin: str
    default: str | None = None
    overridden: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "storefront": self.storefront,
            "source": self.source,
            "target": self.target,
            "origin": self.origin,
            "default": self.default,
            "overridden": self.overridden,
        }


def effective_rules(
    session: Session | None, account_id: int | None, kind: MappingKind | None = None
) -> list[EffectiveRule]:
    """The rules of ``account_id``: every built-in default (marked ``overridden`` when a row
    for every storefront replaces it) and every stored row, by kind, storefront and source.
    Without a session or account: the built-in defaults only."""
    mappings = (
        load_mappings(session, account_id)
        if session is not None and account_id is not None
        else OrderMappings({})
    )
    rules: list[EffectiveRule] = []
    for rule_kind, defaults in DEFAULTS.items():
        if kind is not None and rule_kind is not kind:
            continue
        for source, target in defaults.items():
            hidden = (rule_kind, "", source) in mappings.rows
            rules.append(
                EffectiveRule(rule_kind, "", source, target, "default", target, overridden=hidden)
            )
    for (rule_kind, storefront, source), target in mappings.rows.items():
        if kind is not None and rule_kind is not kind:
            continue
        default = DEFAULTS.get(rule_kind, {}).get(source)
        rules.append(EffectiveRule(rule_kind, storefront, source, target, "override", default))
    order = {k: i for i, k in enumerate(MappingKind)}
    rules.sort(key=lambda r: (order[r.kind], r.source, r.storefront, r.origin != "default"))
    return rules


def parse_kind(value: str | MappingKind) -> MappingKind:
    """``value`` as a :class:`MappingKind` (case-insensitive), or a :class:`MappingRuleError`."""
    try:
        return MappingKind(str(value).strip().lower())
    except ValueError:
        raise MappingRuleError(
            "kind", f"{value!r} is not a mapping kind; one of {_choices(MappingKind)}"
        ) from None


def _storefront(value: str | None) -> str:
    if value is None or value.strip() == "":
        return ""
    try:
        return Storefront.parse(value.strip()).value
    except ValueError:
        raise MappingRuleError(
            "storefront",
            f"{value!r} is not a storefront; one of {_choices(s.value for s in Storefront)} "
            "(or none for every storefront)",
        ) from None


def check_scope(account: Account, storefront: str | None) -> None:
    """Refuse a rule scoped to a storefront ``account`` does not sell on: it would be stored
    and never apply, which looks like a mapping that silently does not work. Raises a
    :class:`MappingRuleError` on ``storefront`` with the account's storefronts. An empty scope
    (every storefront) passes, and so does a code that is no storefront at all: the rule's own
    validation refuses that one with the valid codes."""
    text = (storefront or "").strip()
    if not text:
        return
    try:
        code = Storefront.parse(text)
    except ValueError:
        return
    if account.storefront(code) is None:
        sold = ", ".join(s.storefront.value for s in account.storefronts) or "none"
        raise MappingRuleError(
            "storefront",
            f"account {account.name!r} does not sell on {storefront!r}, so the rule could never "
            f"apply (its storefronts: {sold})",
        )


def _text(field: str, value: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise MappingRuleError(field, "must not be empty")
    if len(text) > limit:
        raise MappingRuleError(field, f"at most {limit} characters (got {len(text)})")
    return text


def _one_of(field: str, value: str, allowed: Iterable[str], *, what: str) -> str:
    """``value`` spelled as the allowed value it matches case-insensitively."""
    options = list(allowed)
    by_fold = {option.casefold(): option for option in options}
    found = by_fold.get(value.strip().casefold())
    if found is None:
        raise MappingRuleError(field, f"{value!r} is not {what}; one of {_choices(options)}")
    return found


def validate_rule(
    kind: str | MappingKind, source: str, target: str
) -> tuple[MappingKind, str, str]:
    """``(kind, source, target)`` checked and spelled canonically, or a
    :class:`MappingRuleError` naming the field at fault and the allowed values."""
    parsed = parse_kind(kind)
    if parsed is MappingKind.STATUS:
        source = _one_of(
            "source", source, (s.value for s in OrderUnitStatus), what="a Kaufland order status"
        )
    elif parsed is MappingKind.PAYMENT:
        source = _one_of(
            "source",
            source,
            [PAYMENT_SOURCE],
            what="a payment source (Kaufland collects every payment)",
        )
    elif parsed is MappingKind.SHIPPING:
        source = _one_of(
            "source", source, (f.value for f in FulfillmentType), what="a fulfillment type"
        )
    else:
        source = _text("source", source, _LENGTH)
    if parsed is MappingKind.CANCEL_REASON:
        target = _one_of(
            "target",
            target,
            (r.value for r in OrderUnitCancelReason),
            what="a Kaufland cancel reason",
        )
    elif parsed is MappingKind.REFUND_REASON:
        target = _one_of(
            "target",
            target,
            (r.value for r in OrderUnitRefundReason),
            what="a Kaufland refund reason",
        )
    else:
        target = _text("target", target, _TARGET_LENGTH.get(parsed, _LENGTH))
    return parsed, source, target


def set_rule(
    session: Session,
    account_id: int,
    kind: str | MappingKind,
    source: str,
    target: str,
    *,
    storefront: str | None = None,
) -> OrderMapping:
    """Store (or replace) the rule ``source`` → ``target`` of ``kind`` for ``storefront``
    (None or "": every storefront). Validates first (:func:`validate_rule`)."""
    parsed, source, target = validate_rule(kind, source, target)
    code = _storefront(storefront)
    row = session.scalar(
        select(OrderMapping).where(
            OrderMapping.account_id == account_id,
            OrderMapping.storefront == code,
            OrderMapping.kind == parsed,
            OrderMapping.source == source,
        )
    )
    if row is None:
        row = OrderMapping(
            account_id=account_id, storefront=code, kind=parsed, source=source, target=target
        )
        session.add(row)
    else:
        row.target = target
    session.flush()
    return row


def unset_rule(
    session: Session,
    account_id: int,
    kind: str | MappingKind,
    source: str,
    *,
    storefront: str | None = None,
) -> bool:
    """Delete the stored rule; True when there was one. The built-in default (if any) applies
    again. ``source`` is matched as :func:`set_rule` would spell it."""
    parsed = parse_kind(kind)
    code = _storefront(storefront)
    wanted = source.strip()
    rows = session.scalars(
        select(OrderMapping).where(
            OrderMapping.account_id == account_id,
            OrderMapping.storefront == code,
            OrderMapping.kind == parsed,
        )
    ).all()
    row = next((r for r in rows if r.source == wanted), None) or next(
        (r for r in rows if r.source.casefold() == wanted.casefold()), None
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True

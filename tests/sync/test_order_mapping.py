"""Order mappings on SQLite and PostgreSQL: defaults, overrides per storefront, validation of
each kind, the effective rule list and re-mapping stored orders after a change."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, Environment
from kaufland_sync.store.models.orders import MappingKind, Order, OrderLine, OrderMapping
from kaufland_sync.sync.order_mapping import (
    DEFAULT_PAYMENT,
    DEFAULT_STATUS,
    MappingRuleError,
    OrderMappings,
    effective_rules,
    load_mappings,
    local_summary,
    remap_orders,
    set_rule,
    status_summary,
    unset_rule,
    validate_rule,
)


@pytest.fixture
def factory(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The shared migrated store (tests/conftest.py) with accounts ``shop`` (1), ``other`` (2)."""
    with transaction(factory) as session:
        for name in ("shop", "other"):
            session.add(
                Account(
                    name=name,
                    client_key="k",
                    secret_key_encrypted="x",
                    environment=Environment.PLAYGROUND,
                )
            )
    return factory


def test_the_defaults_follow_the_issue() -> None:
    none = OrderMappings({})
    assert [none.status("de", s) for s in DEFAULT_STATUS] == [
        "Pending",
        "Not dispatched",
        "Dispatched",
        "Dispatched",
        "Delivered",
        "Cancelled",
        "Returned",
        "Returned",
    ]
    assert none.status("de", "lost_in_space") == "lost_in_space"  # undocumented: as sent
    assert none.payment("cz") == DEFAULT_PAYMENT
    assert none.shipping("de", "fulfilled_by_kaufland") == "Fulfilled by Kaufland"
    assert none.shipping("de", None) == none.shipping("de", "fulfilled_by_merchant")
    assert none.lookup(MappingKind.CARRIER, "de", "dhl") is None


def test_a_storefront_row_wins_over_the_all_row_which_wins_over_the_default(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        set_rule(session, 1, "status", "sent", "Shipped")
        set_rule(session, 1, "status", "SENT", "Odesláno", storefront="CZ")
        set_rule(session, 1, "payment", "marketplace", "Kaufland CZ", storefront="cz")
        set_rule(session, 2, "status", "sent", "Other account")
    with factory() as session:
        rules = load_mappings(session, 1)
    assert rules.status(Storefront.CZ, "sent") == "Odesláno"
    assert rules.status("de", "sent") == "Shipped"
    assert rules.status("de", "received") == "Delivered"
    assert (rules.payment("cz"), rules.payment("de")) == ("Kaufland CZ", DEFAULT_PAYMENT)

    # Setting again replaces the target; unsetting brings the next rule back.
    with transaction(factory) as session:
        set_rule(session, 1, "status", "sent", "On its way")
        assert unset_rule(session, 1, "status", "sent", storefront="cz")
        assert not unset_rule(session, 1, "status", "sent", storefront="cz")
    with factory() as session:
        rules = load_mappings(session, 1)
        assert rules.status("cz", "sent") == "On its way"
        assert len(session.scalars(select(OrderMapping)).all()) == 3


@pytest.mark.parametrize(
    ("kind", "source", "target", "field", "hint"),
    [
        ("colour", "sent", "x", "kind", "status, payment, shipping, carrier"),
        ("status", "shipped", "x", "source", "need_to_be_sent"),
        ("status", "sent", "  ", "target", "must not be empty"),
        ("status", "sent", "x" * 65, "target", "at most 64"),
        ("payment", "paypal", "x", "source", "marketplace"),
        ("shipping", "express", "x", "source", "fulfilled_by_merchant, fulfilled_by_kaufland"),
        ("cancel_reason", "no stock", "OutOfStock", "target", "NoInventory"),
        ("refund_reason", "broken", "broken", "target", "delivery_damage"),
        ("carrier", "dhl", "", "target", "must not be empty"),
        ("carrier", "", "DHL", "source", "must not be empty"),
    ],
)
def test_bad_rules_name_the_field_and_the_allowed_values(
    kind: str, source: str, target: str, field: str, hint: str
) -> None:
    with pytest.raises(MappingRuleError) as caught:
        validate_rule(kind, source, target)
    assert caught.value.field == field
    assert hint in str(caught.value)


def test_kaufland_values_are_spelled_canonically() -> None:
    assert validate_rule("Cancel_Reason", " out ", "noinventory") == (
        MappingKind.CANCEL_REASON,
        "out",
        "NoInventory",
    )
    assert validate_rule("refund_reason", "late", "DELIVERY_DELAY")[2] == "delivery_delay"
    assert validate_rule("shipping", "Fulfilled_By_Kaufland", "FBK")[1] == "fulfilled_by_kaufland"
    assert validate_rule("carrier", "Post", "DHL")[1:] == ("Post", "DHL")


def test_a_bad_storefront_is_refused(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session, pytest.raises(MappingRuleError) as caught:
        set_rule(session, 1, "status", "sent", "x", storefront="uk")
    assert caught.value.field == "storefront" and "de, cz" in caught.value.message


def test_effective_rules_mark_defaults_and_overrides(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        set_rule(session, 1, "status", "open", "New")
        set_rule(session, 1, "status", "sent", "Sent CZ", storefront="cz")
        set_rule(session, 1, "carrier", "post", "DHL")
    with factory() as session:
        rules = effective_rules(session, 1)
        status = effective_rules(session, 1, MappingKind.STATUS)
    by_key = {(r.kind.value, r.storefront, r.source, r.origin): r for r in rules}
    assert by_key["status", "", "open", "default"].overridden
    assert by_key["status", "", "open", "override"].target == "New"
    assert by_key["status", "", "open", "override"].default == "Pending"
    assert not by_key["status", "", "sent", "default"].overridden  # cz only
    assert by_key["status", "cz", "sent", "override"].target == "Sent CZ"
    assert by_key["carrier", "", "post", "override"].default is None
    assert by_key["payment", "", "marketplace", "default"].target == DEFAULT_PAYMENT
    assert {r.kind for r in status} == {MappingKind.STATUS} and len(status) == 10
    assert len(effective_rules(None, None)) == 8 + 1 + 2


def test_summaries_follow_the_life_cycle() -> None:
    assert status_summary(["sent", "open", "sent", "odd"]) == "open,sent,odd"
    pairs = [("sent", "Dispatched"), ("sent_and_autopaid", "Dispatched"), ("open", "Pending")]
    assert local_summary(pairs) == "Pending,Dispatched"


def test_remap_orders_applies_a_changed_rule_to_stored_orders(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        order = Order(account_id=1, id_order="A", storefront=Storefront.DE, raw={})
        session.add(order)
        session.flush()
        for n, status in enumerate(("sent", "cancelled")):
            session.add(
                OrderLine(
                    order_id=order.id,
                    id_order_unit=n + 1,
                    status=status,
                    raw={"fulfillment_type": "fulfilled_by_merchant"},
                )
            )
        session.flush()
        assert remap_orders(session, 1) == 1
        assert remap_orders(session, 1) == 0  # nothing changed since
    with transaction(factory) as session:
        set_rule(session, 1, "status", "sent", "Shipped")
        set_rule(session, 1, "shipping", "fulfilled_by_merchant", "DHL Parcel", storefront="de")
        assert remap_orders(session, 1) == 1
    with factory() as session:
        order = session.scalars(select(Order)).one()
        assert order.local_status == "Shipped,Cancelled"
        assert [line.local_status for line in order.lines] == ["Shipped", "Cancelled"]
        assert (order.payment_method, order.shipping_method) == (DEFAULT_PAYMENT, "DHL Parcel")

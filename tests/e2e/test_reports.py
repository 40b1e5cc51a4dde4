"""Commission report end to end: buyer orders placed through the playground endpoint on two
storefronts, imported with ``import_orders`` over loopback HTTP; the report's totals equal the
sums of Kaufland's own money fields for those order units, and its base-currency total divides
the CZK figures by the storefront's rate."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.reports._period import Period
from kaufland_sync.reports.commission import commission_report
from kaufland_sync.sandbox.server import RunningSandbox
from kaufland_sync.sellerapi import KauflandClient
from kaufland_sync.sellerapi.models import OrderUnit
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account, AccountStorefront
from kaufland_sync.sync.importers.orders import import_orders
from tests.conformance import SpecRecorder
from tests.e2e.conftest import Control, clock, make_account, open_client

CZK_PER_EUR = Decimal("25.2")


async def place(client: KauflandClient, storefront: str, pieces: list[int]) -> set[str]:
    """Buyer orders on ``storefront``: one order per entry of ``pieces``, of that many pieces
    of a different available unit each. Returns the ``id_order`` s."""
    units = [
        u
        for u in (await client.units.list(storefront=storefront, limit=50)).items
        if u.status == "AVAILABLE" and (u.amount or 0) >= 3
    ]
    assert len(units) >= len(pieces), f"the demo seed has too few units on {storefront}"
    placed: set[str] = set()
    for unit, amount in zip(units, pieces, strict=False):
        orders = await client.playground.create_orders(
            [(unit.id_unit, amount)], storefront=storefront
        )
        placed.update(o.id_order for o in orders)
    return placed


def commission(unit: OrderUnit) -> int:
    assert unit.price is not None and unit.revenue_gross is not None
    return unit.price + (unit.shipping_rate or 0) - unit.revenue_gross


async def test_commission_totals_are_kauflands_figures_for_the_imported_units(
    sandbox: RunningSandbox,
    control: Control,
    recorder: SpecRecorder,
    factory: sessionmaker[Session],
) -> None:
    account = make_account(factory, sandbox, ["de", "cz"])
    with transaction(factory) as session:
        cz = session.scalars(
            select(AccountStorefront).where(
                AccountStorefront.account_id == account.id, AccountStorefront.storefront == "cz"
            )
        ).one()
        cz.currency_rate = CZK_PER_EUR

    async with open_client(sandbox, recorder) as client:
        placed = {
            "de": await place(client, "de", [2, 1, 1]),
            "cz": await place(client, "cz", [1, 2]),
        }
        units: dict[str, list[OrderUnit]] = {
            code: [
                u
                async for u in client.order_units.iter_all(storefront=code)
                if u.id_order in placed[code]
            ]
            for code in placed
        }
        # One piece cancelled by the seller: no commission for it.
        cancelled = units["de"][0]
        await client.order_units.cancel(cancelled.id_order_unit, reason="NoInventory")
        summary = await import_orders(client, factory, account, ["de", "cz"], clock=clock)

    assert summary.lines_new == len(units["de"]) + len(units["cz"]) == 7
    expected: dict[str, dict[str, int]] = {}
    for code, found in units.items():
        sold = [u for u in found if u.id_order_unit != cancelled.id_order_unit]
        expected[code] = {
            "lines": len(sold),
            "cancelled": len(found) - len(sold),
            "price": sum(u.price or 0 for u in sold),
            "shipping": sum(u.shipping_rate or 0 for u in sold),
            "revenue_gross": sum(u.revenue_gross or 0 for u in sold),
            "revenue_net": sum(u.revenue_net or 0 for u in sold),
            "commission": sum(commission(u) for u in sold),
        }
    assert all(e["commission"] > 0 for e in expected.values())

    with factory() as session:
        stored = session.get(Account, account.id)
        assert stored is not None
        report = commission_report(session, stored, by=Period.MONTH)

    for total in report.totals:
        f = total.figures
        got = {
            "lines": f.lines,
            "cancelled": f.cancelled,
            "price": f.price,
            "shipping": f.shipping,
            "revenue_gross": f.revenue_gross,
            "revenue_net": f.revenue_net,
            "commission": f.commission,
        }
        assert got == expected[total.storefront.value], total.storefront
    assert {t.storefront.value: t.currency for t in report.totals} == {"cz": "CZK", "de": "EUR"}

    # Base currency (EUR): de as it is; cz divided by 25.2 per month row, rounded half up.
    cz_by_month: dict[str, int] = defaultdict(int)
    for u in units["cz"]:
        assert u.ts_created_iso is not None
        cz_by_month[u.ts_created_iso.strftime("%Y-%m")] += commission(u)
    cz_base = sum(
        int((Decimal(amount) / CZK_PER_EUR).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        for amount in cz_by_month.values()
    )
    assert report.total["commission"] == expected["de"]["commission"] + cz_base
    assert report.total["lines"] == 6 and report.unconverted == []

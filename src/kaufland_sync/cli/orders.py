"""``kaufland-sync orders``: the orders imported from Kaufland (``import orders``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._output import print_json

app = typer.Typer(name="orders", help="Orders imported from Kaufland.", no_args_is_help=True)


@app.command("list")
def list_orders(
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account's orders.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the orders as JSON.")] = False,
) -> None:
    """List the imported orders, newest first, each with its lines (Kaufland ``id_order``,
    ``id_order_unit``, Kaufland status)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from kaufland_sync.cli._account import fail
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.orders import Order

    factory = open_store()
    with factory() as session:
        query = select(Order, Account.name).join(Account, Account.id == Order.account_id)
        if account is not None:
            if session.scalar(select(Account.id).where(Account.name == account)) is None:
                fail(f"no account named {account!r}")
            query = query.where(Account.name == account)
        query = query.options(selectinload(Order.lines)).order_by(
            Order.ordered_at.desc(), Order.id_order
        )
        rows: list[dict[str, Any]] = [
            {
                "account": name,
                "id_order": order.id_order,
                "storefront": order.storefront.value,
                "currency": order.currency,
                "ordered_at": order.ordered_at.isoformat() if order.ordered_at else None,
                "status": order.status,
                "shipping_address": order.shipping_address,
                "lines": [
                    {
                        "id_order_unit": line.id_order_unit,
                        "sku": line.sku,
                        "status": line.status,
                        "price": line.price,
                        "shipping_rate": line.shipping_rate,
                        "delivery_time_expires_iso": (
                            line.delivery_time_expires_iso.isoformat()
                            if line.delivery_time_expires_iso
                            else None
                        ),
                    }
                    for line in order.lines
                ],
            }
            for order, name in session.execute(query)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} orders", title_justify="left")
    for column in ("account", "id_order", "storefront", "ordered at", "lines", "status"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["account"],
            row["id_order"],
            row["storefront"],
            row["ordered_at"] or "",
            str(len(row["lines"])),
            row["status"],
        )
    Console(highlight=False).print(table)

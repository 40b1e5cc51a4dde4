"""``kaufland-sync orders``: the orders imported from Kaufland (``import orders``) and what the
seller does with them — ship, cancel, upload an invoice, refund.

Each action is checked against the local order, queued in the outbox (nothing is queued when
it is invalid) and then sent at once; ``--queue-only`` stops after queueing. Sending runs the
steps ``outbox``, ``orders`` and ``stock`` of ``sync orders``
(:func:`kaufland_sync.sync.orders_sync.sync_orders`): the account's due messages go out, the
orders are imported again (so the new statuses show, and reservations follow new, shipped and
cancelled orders), and the stock of every SKU whose reservation changed is pushed to every
storefront at once. Exit status: 0 when Kaufland accepted the action or could not be reached
(then it stays queued and is retried by ``outbox run`` / ``sync orders``); 1 when it was refused
or its outcome is unknown, with Kaufland's reason. A refresh or stock push that fails is a
warning on stderr and does not change the exit status (the next ``sync orders`` does it).

Command docstrings are the ``--help`` text: plain sentences, no reStructuredText.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import fail
from kaufland_sync.cli._output import err, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kaufland_sync.cli._account import AccountContext
    from kaufland_sync.sellerapi.client import KauflandClient
    from kaufland_sync.store.models.orders import Order
    from kaufland_sync.store.models.outbox import OutboxMessage
    from kaufland_sync.sync.fulfilment import Queued
    from kaufland_sync.sync.orders_sync import OrdersSyncReport

app = typer.Typer(
    name="orders", help="Orders imported from Kaufland, and shipping them.", no_args_is_help=True
)

AccountOption = Annotated[
    str | None,
    typer.Option("--account", help="Account holding the order (needed when several do)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
QueueOnly = Annotated[
    bool,
    typer.Option("--queue-only", help="Only queue the action; `outbox run` sends it later."),
]
UnitOption = Annotated[
    list[int] | None,
    typer.Option(
        "--unit", help="An id_order_unit of the order (repeatable; default: all that fit)."
    ),
]

#: The steps of ``sync orders`` an order command (and ``outbox run``) runs after queueing.
REFRESH_STEPS = ("outbox", "orders", "stock")
_FAILURES_SHOWN = 10


def _now() -> datetime:
    return datetime.now(UTC)


def _money(minor: int | None, currency: str | None) -> str:
    from kaufland_sync.sync.fulfilment import format_amount

    return "" if minor is None else format_amount(minor, currency, with_currency=True)


def to_minor_units(text: str, currency: str | None) -> int:
    """``"4.99"`` in ``currency`` → 499, exactly, by the rule the pages use too
    (:func:`kaufland_sync.sync.fulfilment.parse_amount`); a refused text is a usage error
    naming ``--amount``."""
    from kaufland_sync.sync.fulfilment import parse_amount

    try:
        return parse_amount(text, currency)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--amount") from None


# ---------------------------------------------------------------------------------------------
# list and show


def _line_json(line: Any, currency: str | None) -> dict[str, Any]:
    return {
        "id_order_unit": line.id_order_unit,
        "sku": line.sku,
        "status": line.status,
        "local_status": line.local_status,
        "stock_state": line.stock_state.value,
        "price": line.price,
        "revenue_gross": line.revenue_gross,
        "revenue_net": line.revenue_net,
        "shipping_rate": line.shipping_rate,
        "vat": str(line.vat) if line.vat is not None else None,
        "currency": currency,
        "sent_at": line.sent_at.isoformat() if line.sent_at else None,
        "cancel_reason": line.cancel_reason,
        "delivery_time_expires_iso": (
            line.delivery_time_expires_iso.isoformat() if line.delivery_time_expires_iso else None
        ),
    }


def _order_json(order: Order, account: str) -> dict[str, Any]:
    """An order as ``orders list --json`` and ``orders show --json`` print it."""
    return {
        "account": account,
        "id_order": order.id_order,
        "storefront": order.storefront.value,
        "currency": order.currency,
        "ordered_at": order.ordered_at.isoformat() if order.ordered_at else None,
        "status": order.status,
        "local_status": order.local_status,
        "payment_method": order.payment_method,
        "shipping_method": order.shipping_method,
        "shipping_address": order.shipping_address,
        "lines": [_line_json(line, order.currency) for line in order.lines],
    }


@app.command("list")
def list_orders(
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account's orders.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the orders as JSON.")] = False,
) -> None:
    """List the imported orders, newest first.

    Each order comes with its lines: Kaufland's id_order and id_order_unit, Kaufland's status
    and the local status.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

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
            _order_json(order, name) for order, name in session.execute(query)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} orders", title_justify="left")
    for column in ("account", "id_order", "storefront", "ordered at", "lines", "status", "local"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["account"],
            row["id_order"],
            row["storefront"],
            row["ordered_at"] or "",
            str(len(row["lines"])),
            row["status"],
            row["local_status"],
        )
    Console(highlight=False).print(table)


def _message_json(message: OutboxMessage) -> dict[str, Any]:
    from kaufland_sync.sync.outbox import payload_view

    return {
        "id": message.id,
        "action": message.action.value,
        "target": message.target,
        "payload": payload_view(message),
        "state": message.state.value,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.isoformat(),
        "done_at": message.done_at.isoformat() if message.done_at else None,
        "last_error": message.last_error,
        "result": message.result,
        "created_at": message.created_at.isoformat(),
    }


def _order_accounts(id_order: str) -> list[str]:
    from sqlalchemy import select

    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.orders import Order

    with open_store()() as session:
        return sorted(
            session.scalars(
                select(Account.name)
                .join(Order, Order.account_id == Account.id)
                .where(Order.id_order == id_order)
            )
        )


def _account_name(id_order: str, account: str | None) -> str:
    """The account holding ``id_order``: ``--account`` if given, else the only one that does."""
    if account is not None:
        return account
    names = _order_accounts(id_order)
    if not names:
        fail(
            f"order {id_order} is not in the local store "
            "(run `kaufland-sync import orders --account NAME` first)"
        )
    if len(names) > 1:
        fail(f"order {id_order} exists in several accounts ({', '.join(names)}); pass --account")
    return names[0]


@app.command("show")
def show(
    id_order: Annotated[str, typer.Argument(help="Kaufland id_order.")],
    account: AccountOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one order with its lines, shipments, outbox messages and refunds.

    Shown: payment method, shipping method, buyer e-mail, addresses, each line's statuses,
    stock state and prices, the carrier and tracking numbers sent for it, every outbox message
    about the order and the refunds.
    """
    from sqlalchemy import select

    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.orders import Customer, Order
    from kaufland_sync.store.models.outbox import OutboxMessage
    from kaufland_sync.store.models.returns import Refund
    from kaufland_sync.sync.outbox import list_messages

    name = _account_name(id_order, account)
    with open_store()() as session:
        found = session.execute(
            select(Order)
            .join(Account, Account.id == Order.account_id)
            .where(Account.name == name, Order.id_order == id_order)
        ).scalar_one_or_none()
        if found is None:
            fail(f"order {id_order} is not in the local store for account {name!r}")
        order: Order = found
        messages = list(reversed(list_messages(session, order_id=order.id)))
        refunds = session.scalars(
            select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)
        ).all()
        refund_states = {
            m.id: m.state.value
            for m in session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.id.in_([r.outbox_id for r in refunds if r.outbox_id])
                )
            )
        }
        customer = None if order.customer_id is None else session.get(Customer, order.customer_id)
        outbox = [_message_json(m) for m in messages]
        data: dict[str, Any] = {
            **_order_json(order, name),
            "buyer_email": None if customer is None else customer.email,
            "billing_address": order.billing_address,
            "outbox": outbox,
            "refunds": [
                {
                    "id_order_unit": r.id_order_unit,
                    "amount": r.amount,
                    "currency": r.currency,
                    "reason": r.reason,
                    "outbox_id": r.outbox_id,
                    "state": refund_states.get(r.outbox_id) if r.outbox_id else None,
                    "created_at": r.created_at.isoformat(),
                }
                for r in refunds
            ],
        }
    for line in data["lines"]:
        line["shipments"] = _shipments(outbox, line["id_order_unit"])
    if as_json:
        print_json(data)
        return
    _print_order(data)


def _shipments(messages: list[dict[str, Any]], id_order_unit: int) -> list[dict[str, Any]]:
    """The carrier and tracking numbers sent (or queued) for one order unit, from its ``send``
    and ``add_shipment`` messages, oldest first; refused (failed) ones are left out."""
    found: list[dict[str, Any]] = []
    for m in sorted(messages, key=lambda m: m["id"]):
        if m["target"] != str(id_order_unit) or m["state"] == "failed":
            continue
        if m["action"] not in ("send", "add_shipment"):
            continue
        payload = m["payload"]
        numbers = str(payload.get("tracking_numbers") or payload.get("tracking_number") or "")
        found.append(
            {
                "carrier": payload.get("carrier_code"),
                "tracking_numbers": [n for n in numbers.split(",") if n],
                "outbox_id": m["id"],
                "state": m["state"],
            }
        )
    return found


def _details(message: dict[str, Any], currency: str | None) -> str:
    """A message's payload in a few words for the tables (never the attachment)."""
    from kaufland_sync.sync.fulfilment import format_amount

    p = message["payload"]
    action = message["action"]
    if action == "send":
        return f"{p.get('carrier_code', '?')} {p.get('tracking_numbers') or '(no tracking)'}"
    if action == "add_shipment":
        return f"{p.get('carrier_code', '?')} {p.get('tracking_number', '?')}"
    if action == "cancel":
        return str(p.get("reason", ""))
    if action == "refund" and isinstance(p.get("amount"), int):
        cur = p.get("currency") or currency
        return f"{format_amount(p['amount'], cur, with_currency=True)} {p.get('reason', '')}"
    if action == "invoice":
        return f"{p.get('original_name', '?')} ({p.get('attachment_bytes', '?')} bytes)"
    return str(p.get("message") or "")


def _address(value: dict[str, Any] | None) -> str:
    if not value:
        return "(hidden by Kaufland until the order is released)"
    parts = [
        " ".join(filter(None, [value.get("first_name"), value.get("last_name")])),
        value.get("company_name"),
        " ".join(filter(None, [value.get("street"), value.get("house_number")])),
        " ".join(filter(None, [value.get("postcode"), value.get("city")])),
        value.get("country"),
    ]
    return ", ".join(str(p) for p in parts if p)


def _print_order(data: dict[str, Any]) -> None:
    out = Console(highlight=False)
    out.print(
        f"[bold]{data['id_order']}[/bold] ({data['account']}, {data['storefront']}) ordered "
        f"{data['ordered_at'] or '?'}: {data['status']} / local {data['local_status'] or '-'}"
    )
    out.print(f"  payment: {data['payment_method'] or '-'}")
    out.print(f"  shipping method: {data['shipping_method'] or '-'}")
    out.print(f"  buyer e-mail: {data['buyer_email'] or '(not known)'}")
    out.print(f"  ship to: {_address(data['shipping_address'])}")
    out.print(f"  bill to: {_address(data['billing_address'])}")
    lines = Table(title="Lines", title_justify="left")
    for column in ("id_order_unit", "sku", "status", "local", "stock", "price", "shipping"):
        lines.add_column(column, overflow="fold")
    for line in data["lines"]:
        lines.add_row(
            str(line["id_order_unit"]),
            line["sku"] or "",
            line["status"],
            line["local_status"] or "",
            line["stock_state"],
            _money(line["price"], data["currency"]),
            _money(line["shipping_rate"], data["currency"]),
        )
    out.print(lines)
    for line in data["lines"]:
        for parcel in line["shipments"]:
            numbers = ", ".join(parcel["tracking_numbers"]) or "no tracking number"
            out.print(
                f"  shipped {line['id_order_unit']}: {parcel['carrier']} {numbers} "
                f"({parcel['state']}, outbox #{parcel['outbox_id']})",
                soft_wrap=True,
            )
    if data["outbox"]:
        table = Table(title="Outbox", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("id", "action", "target", "details", "state", "tries", "last error"):
            # Ids and states stay whole; the free text folds into what room is left.
            fixed = column not in ("details", "last error")
            table.add_column(column, overflow="fold", no_wrap=fixed)
        for m in data["outbox"]:
            table.add_row(
                str(m["id"]),
                m["action"],
                m["target"],
                _details(m, data["currency"]),
                m["state"],
                str(m["attempts"]),
                m["last_error"] or "",
            )
        out.print(table)
    for r in data["refunds"]:
        out.print(
            f"  refund {_money(r['amount'], r['currency'])} on {r['id_order_unit']} "
            f"({r['reason']}): {r['state'] or '?'}"
        )


# ---------------------------------------------------------------------------------------------
# actions


def _quick_retries(ctx: AccountContext) -> AccountContext:
    """The account's context with a client that gives up quickly: a command sends once now, and
    the outbox retries with its own, longer backoff."""
    from kaufland_sync.sellerapi import RetryPolicy

    quick = RetryPolicy(max_attempts=3, base_delay=0.2, max_delay=1.0)
    return dataclasses.replace(ctx, _client_kwargs={**ctx._client_kwargs, "retry": quick})


def _act(
    id_order: str,
    account: str | None,
    make: Callable[[Session, int, list[str]], list[Queued]],
    *,
    needs_carriers: bool = False,
    queue_only: bool,
    as_json: bool,
) -> None:
    """Queue what ``make`` asks for (one transaction), then run the ``outbox``, ``orders`` and
    ``stock`` steps of ``sync orders`` once and report the state of each message of this
    command and the stock pushed."""
    from kaufland_sync.cli._account import open_account
    from kaufland_sync.sellerapi.errors import KauflandError
    from kaufland_sync.store.db import transaction
    from kaufland_sync.store.models.outbox import OutboxMessage
    from kaufland_sync.sync.fulfilment import CarrierCache, FulfilmentError, carriers_used

    ctx = _quick_retries(open_account(_account_name(id_order, account)))
    account_id = ctx.account.id
    report: OrdersSyncReport | None = None

    async def run() -> list[Queued] | str:
        nonlocal report
        async with ctx.client() as client:
            carriers: list[str] = []
            if needs_carriers:
                try:
                    carriers = await CarrierCache().names(client)
                except KauflandError as exc:
                    with ctx.factory() as session:
                        carriers = carriers_used(session, account_id)
                    err.print(
                        f"[yellow]warning:[/yellow] Kaufland's carrier list could not be read "
                        f"({exc}); checking against the carriers used before: "
                        f"{', '.join(carriers)}",
                        soft_wrap=True,
                    )
            try:
                with transaction(ctx.factory) as session:
                    queued = make(session, account_id, carriers)
            except FulfilmentError as exc:
                return str(exc)
            if not queue_only:
                report = await _send_and_refresh(client, ctx)
            return queued

    outcome = asyncio.run(run())
    if isinstance(outcome, str):
        fail(f"nothing queued: {outcome}")
    with ctx.factory() as session:
        messages = [session.get_one(OutboxMessage, q.message_id) for q in outcome]
        rows = [_message_json(m) | {"new": q.new} for m, q in zip(messages, outcome, strict=True)]
    _report(rows, ctx.account.name, queue_only=queue_only, as_json=as_json, refresh=report)


async def _send_and_refresh(client: KauflandClient, ctx: AccountContext) -> OrdersSyncReport:
    """Send the account's due messages, import its orders again and push the stock of SKUs
    whose reservation changed: ``sync orders`` with the steps outbox, orders and stock."""
    from kaufland_sync.sync.orders_sync import sync_orders

    storefronts = [s.storefront for s in ctx.account.storefronts]
    return await sync_orders(
        client,
        ctx.factory,
        ctx.account,
        storefronts,
        clock=_now,
        steps=REFRESH_STEPS,
    )


def print_sync_steps(report: OrdersSyncReport, account: str, *, to_stderr: bool = False) -> None:
    """Print what the refresh after sending did: the stock pushed per storefront (as ``import
    orders`` prints it), and a warning for a step that failed. ``to_stderr`` keeps stdout for
    JSON."""
    out = err if to_stderr else Console(highlight=False)
    for p in report.stock:
        refused = f", {len(p.failed)} failed" if p.failed else ""
        out.print(
            f"stock pushed to {p.storefront}: {p.updated} updated, {p.unchanged} unchanged, "
            f"{p.skipped} not published{refused}",
            soft_wrap=True,
        )
        for sku, reason in p.failed[:_FAILURES_SHOWN]:
            out.print(f"  {sku}: {reason}", soft_wrap=True, markup=False)
    if "orders" in report.errors:
        err.print(
            f"[yellow]warning:[/yellow] the orders could not be refreshed "
            f"({report.errors['orders']}); `kaufland-sync sync orders --account {account}` "
            "does it later",
            soft_wrap=True,
        )
    if "stock" in report.errors or any(p.failed for p in report.stock):
        reason = report.errors.get("stock", "some SKUs were refused")
        err.print(
            f"[yellow]warning:[/yellow] the stock push failed ({reason}); run "
            f"`kaufland-sync sync stock --account {account}`",
            soft_wrap=True,
        )


def _report(
    messages: list[dict[str, Any]],
    account: str,
    *,
    queue_only: bool,
    as_json: bool,
    refresh: OrdersSyncReport | None = None,
) -> None:
    """Print each message's state, then what ``refresh`` did (stock pushed); exit 1 when a
    message was refused or its outcome is unknown."""
    refused = [m for m in messages if m["state"] in ("failed", "unknown")]
    if as_json:
        print_json(messages)
    else:
        out = Console(highlight=False)
        for m in messages:
            again = "" if m["new"] else " (queued before)"
            line = f"#{m['id']} {m['action']} {m['target']}: {m['state']}{again}"
            if m["state"] == "pending":
                line += (
                    f" — queued; it will be sent by `kaufland-sync outbox run --account {account}`"
                    if queue_only
                    else " — Kaufland could not be reached; it stays queued and is retried"
                )
            out.print(line, soft_wrap=True)
            if m["state"] in ("pending", "failed", "unknown") and m["last_error"]:
                out.print(f"    {m['last_error']}", soft_wrap=True)
    if refresh is not None:
        print_sync_steps(refresh, account, to_stderr=as_json)
    if refused:
        for m in refused:
            hint = (
                "check on Kaufland, then `outbox resolve` or `outbox retry`"
                if m["state"] == "unknown"
                else "fix the cause, then `outbox retry` (or give a corrected command)"
            )
            err.print(
                f"[red]error:[/red] #{m['id']} {m['action']} {m['target']} {m['state']}: "
                f"{m['last_error']} ({hint})",
                soft_wrap=True,
            )
        raise typer.Exit(1)


@app.command("ship")
def ship(
    id_order: Annotated[str, typer.Argument(help="Kaufland id_order.")],
    carrier: Annotated[
        str,
        typer.Option("--carrier", help="Carrier: a local name (carrier mapping) or Kaufland's."),
    ],
    tracking: Annotated[
        list[str] | None,
        typer.Option("--tracking", help="Tracking number (repeatable: several parcels)."),
    ] = None,
    unit: UnitOption = None,
    account: AccountOption = None,
    queue_only: QueueOnly = False,
    as_json: JsonOption = False,
) -> None:
    """Ship order units with a carrier and tracking numbers.

    Default units: every line waiting to be sent. Units already sent get the tracking numbers
    as extra parcels. Then the stock of SKUs whose reservation changed is pushed.
    """
    from kaufland_sync.sync import fulfilment

    _act(
        id_order,
        account,
        lambda session, account_id, carriers: fulfilment.ship(
            session,
            account_id,
            id_order,
            carrier=carrier,
            tracking_numbers=tracking or [],
            carriers=carriers,
            units=unit or None,
        ),
        needs_carriers=True,
        queue_only=queue_only,
        as_json=as_json,
    )


@app.command("cancel")
def cancel(
    id_order: Annotated[str, typer.Argument(help="Kaufland id_order.")],
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why: a local word (e.g. 'out of stock') or Kaufland's."),
    ],
    unit: UnitOption = None,
    account: AccountOption = None,
    queue_only: QueueOnly = False,
    as_json: JsonOption = False,
) -> None:
    """Cancel order units that are not shipped yet.

    Default units: every one that can be cancelled. Then the released stock is pushed.
    """
    from kaufland_sync.sync import fulfilment

    _act(
        id_order,
        account,
        lambda session, account_id, _: fulfilment.cancel(
            session, account_id, id_order, reason=reason, units=unit or None
        ),
        queue_only=queue_only,
        as_json=as_json,
    )


@app.command("invoice")
def invoice(
    id_order: Annotated[str, typer.Argument(help="Kaufland id_order.")],
    file: Annotated[Path, typer.Argument(help="The invoice as a PDF file.")],
    account: AccountOption = None,
    queue_only: QueueOnly = False,
    as_json: JsonOption = False,
) -> None:
    """Upload an invoice PDF for an order (at most 10 MB)."""
    from kaufland_sync.sync import fulfilment

    try:
        content = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    _act(
        id_order,
        account,
        lambda session, account_id, _: [
            fulfilment.invoice(session, account_id, id_order, content=content, file_name=file.name)
        ],
        queue_only=queue_only,
        as_json=as_json,
    )


@app.command("refund")
def refund(
    id_order: Annotated[str, typer.Argument(help="Kaufland id_order.")],
    unit: Annotated[int, typer.Option("--unit", help="The id_order_unit to refund.")],
    amount: Annotated[
        str, typer.Option("--amount", help="Amount in the order's currency, e.g. 4.99.")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why: a local word (e.g. 'late') or Kaufland's.")
    ],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="Set to refund the same amount again on purpose the same day (else a repeated "
            "command is taken for the first).",
        ),
    ] = None,
    account: AccountOption = None,
    queue_only: QueueOnly = False,
    as_json: JsonOption = False,
) -> None:
    """Refund part or all of a sent or returned order unit.

    The amount is in the order's currency, at most the unit's price plus shipping minus the
    earlier refunds.
    """
    from sqlalchemy import select

    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.orders import Order
    from kaufland_sync.sync import fulfilment

    name = _account_name(id_order, account)
    with open_store()() as session:
        currency = session.scalar(
            select(Order.currency)
            .join(Account, Account.id == Order.account_id)
            .where(Account.name == name, Order.id_order == id_order)
        )
    minor = to_minor_units(amount, currency)
    _act(
        id_order,
        name,
        lambda session, account_id, _: [
            fulfilment.refund(
                session,
                account_id,
                id_order,
                id_order_unit=unit,
                amount=minor,
                reason=reason,
                key=key,
            )[0]
        ],
        queue_only=queue_only,
        as_json=as_json,
    )

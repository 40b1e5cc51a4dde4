"""``kaufland-sync outbox``: the actions queued for Kaufland and their state.

``list`` shows them (what is stuck and why), ``run`` sends what is due for an account and, like
the order commands, imports its orders again and pushes the stock whose reservation changed,
``retry`` makes a failed or unknown message due again, ``resolve`` marks one handled by hand.

``list`` is meant to be read at 80 columns: times to the second, and each last error on a line
of its own under the table, cut to :data:`ERROR_WIDTH` characters (``--json`` has everything).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import fail
from kaufland_sync.cli._output import print_json

if TYPE_CHECKING:
    from kaufland_sync.store.models.outbox import OutboxMessage

app = typer.Typer(
    name="outbox",
    help="Actions queued for Kaufland (shipments, cancellations, invoices, refunds, returns).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
#: Width of the ``last error`` lines under the ``outbox list`` table (``--json`` has it all).
ERROR_WIDTH = 80


def _now() -> datetime:
    return datetime.now(UTC)


def _when(value: str | None) -> str:
    """An ISO timestamp of ours (UTC) to the second, for the table: ``2026-05-04 09:12:03``."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _cut(text: str | None, width: int) -> str:
    """``text`` on one line, at most ``width`` characters (an ellipsis marks the cut)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _row(message: OutboxMessage, account: str) -> dict[str, Any]:
    from kaufland_sync.sync.outbox import payload_view

    return {
        "id": message.id,
        "account": account,
        "action": message.action.value,
        "target": message.target,
        "order_id": message.order_id,
        "payload": payload_view(message),
        "state": message.state.value,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.isoformat(),
        "claimed_at": message.claimed_at.isoformat() if message.claimed_at else None,
        "done_at": message.done_at.isoformat() if message.done_at else None,
        "last_error": message.last_error,
        "result": message.result,
        "created_at": message.created_at.isoformat(),
    }


@app.command("list")
def list_outbox(
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="Only these states: pending, sending, done, failed, unknown."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """List outbox messages, newest first, with their state and last error.

    The table shows times to the second, with the start of each last error under it; --json
    gives every field in full, with what each message carries (payload; for an invoice the
    file name and size, never the file).
    """
    from sqlalchemy import select

    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.outbox import OutboxState
    from kaufland_sync.sync.outbox import list_messages

    states = []
    for value in state or []:
        try:
            states.append(OutboxState(value.lower()))
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not one of {', '.join(s.value for s in OutboxState)}",
                param_hint="--state",
            ) from None
    with open_store()() as session:
        names: dict[int, str] = {
            ident: name for ident, name in session.execute(select(Account.id, Account.name))
        }
        account_id = None
        if account is not None:
            account_id = next((i for i, n in names.items() if n == account), None)
            if account_id is None:
                fail(f"no account named {account!r}")
        rows = [
            _row(m, names.get(m.account_id, "?"))
            for m in list_messages(session, account_id=account_id, states=states, limit=limit)
        ]
    if as_json:
        print_json(rows)
        return
    # 80 columns: no column folds. The account column only when several accounts are listed,
    # and each last error on a line of its own below the table, cut to fit.
    several = len({r["account"] for r in rows}) > 1
    table = Table(
        title=f"{len(rows)} outbox messages",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    columns = ["id", "account", "action", "target", "state", "tries", "next / done (UTC)"]
    for column in columns:
        if column != "account" or several:
            table.add_column(column, no_wrap=True)
    for r in rows:
        when = r["done_at"] or (r["next_attempt_at"] if r["state"] == "pending" else None)
        cells = [str(r["id"]), r["account"], r["action"], r["target"], r["state"]]
        cells += [str(r["attempts"]), _when(when)]
        if not several:
            del cells[1]
        table.add_row(*cells)
    out = Console(highlight=False)
    out.print(table)
    for r in rows:
        if r["last_error"]:
            prefix = f"#{r['id']} last error: "
            out.print(prefix + _cut(r["last_error"], ERROR_WIDTH - len(prefix)), markup=False)


@app.command("run")
def run(
    account: Annotated[str, typer.Option("--account", help="Account name.")],
    as_json: JsonOption = False,
) -> None:
    """Send the account's due messages now, then refresh its orders and push stock.

    Like the order commands, this runs the outbox, orders and stock steps of `sync orders`.
    Exit status 0 even when messages are retried later or refused: their state says so, and
    `outbox list` shows why.
    """
    from kaufland_sync.cli._account import open_account
    from kaufland_sync.cli.orders import REFRESH_STEPS, print_sync_steps
    from kaufland_sync.sync.orders_sync import OrdersSyncReport, sync_orders
    from kaufland_sync.sync.outbox import OutboxRunSummary

    ctx = open_account(account)

    async def send() -> OrdersSyncReport:
        async with ctx.client() as client:
            return await sync_orders(
                client,
                ctx.factory,
                ctx.account,
                [s.storefront for s in ctx.account.storefronts],
                clock=_now,
                steps=REFRESH_STEPS,
            )

    report = asyncio.run(send())
    summary = report.outbox or OutboxRunSummary()
    if as_json:
        # The outbox summary's keys stay at the top level, as before the refresh was added.
        print_json(
            summary.as_dict()
            | {
                "orders": None if report.orders is None else report.orders.as_dict(),
                "stock": [p.as_dict() for p in report.stock],
                "stock_skus": report.stock_skus,
                "errors": report.errors,
            }
        )
    else:
        Console(highlight=False).print(
            f"outbox {account}: {summary.sent} sent ({summary.already} had already taken "
            f"effect), {summary.retrying} to retry later, {summary.failed} refused, "
            f"{summary.unknown} with unknown outcome"
        )
    print_sync_steps(report, account, to_stderr=as_json)
    if "outbox" in report.errors:
        fail(f"the outbox could not be run: {report.errors['outbox']}")


@app.command("retry")
def retry(
    message_ids: Annotated[list[int], typer.Argument(help="Outbox message id(s).")],
    as_json: JsonOption = False,
) -> None:
    """Make failed, unknown or waiting messages due again.

    The next `outbox run` sends them. For an unknown refund, check on Kaufland first that it
    was not applied.
    """
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.db import transaction
    from kaufland_sync.sync.outbox import OutboxError, retry_message

    try:
        with transaction(open_store()) as session:
            rows = [
                _row(message, str(message.account_id))
                for message in (retry_message(session, ident, now=_now()) for ident in message_ids)
            ]
    except OutboxError as exc:
        fail(f"nothing retried: {exc}")
    if as_json:
        print_json(rows)
        return
    out = Console(highlight=False)
    for row in rows:
        out.print(f"#{row['id']} {row['action']} {row['target']}: pending")


@app.command("resolve")
def resolve(
    message_id: Annotated[int, typer.Argument(help="Outbox message id.")],
    note: Annotated[str, typer.Option("--note", help="How it was handled (kept).")],
    as_json: JsonOption = False,
) -> None:
    """Mark a failed or unknown message done by hand, with a note on how."""
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.db import transaction
    from kaufland_sync.sync.outbox import OutboxError, resolve_message

    try:
        with transaction(open_store()) as session:
            message = resolve_message(session, message_id, note=note, now=_now())
            row = _row(message, str(message.account_id))
    except OutboxError as exc:
        fail(str(exc))
    if as_json:
        print_json(row)
        return
    Console(highlight=False).print(
        f"#{message_id} {row['action']} {row['target']}: done (by hand: {note.strip()})"
    )

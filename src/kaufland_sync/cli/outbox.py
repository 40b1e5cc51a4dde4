"""``kaufland-sync outbox``: the actions queued for Kaufland and their state.

``list`` shows them (what is stuck and why), ``run`` sends what is due for an account, ``retry``
makes a failed or unknown message due again, ``resolve`` marks one handled by hand.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
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


def _now() -> datetime:
    return datetime.now(UTC)


def _row(message: OutboxMessage, account: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "account": account,
        "action": message.action.value,
        "target": message.target,
        "order_id": message.order_id,
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
    """List outbox messages, newest first, with their state, attempts and last error."""
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
        names = dict(session.execute(select(Account.id, Account.name)).tuples().all())
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
    table = Table(title=f"{len(rows)} outbox messages", title_justify="left")
    for column in (
        "id",
        "account",
        "action",
        "target",
        "state",
        "attempts",
        "next / done",
        "last error",
    ):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["account"],
            r["action"],
            r["target"],
            r["state"],
            str(r["attempts"]),
            r["done_at"] or (r["next_attempt_at"] if r["state"] == "pending" else ""),
            r["last_error"] or "",
        )
    Console(highlight=False).print(table)


@app.command("run")
def run(
    account: Annotated[str, typer.Option("--account", help="Account name.")],
    as_json: JsonOption = False,
) -> None:
    """Send the account's due messages now (exit status 0 even when some are retried later or
    refused: their state says so; ``outbox list`` shows why)."""
    from kaufland_sync.cli._account import open_account
    from kaufland_sync.sync.outbox import OutboxRunSummary, run_outbox

    ctx = open_account(account)

    async def send() -> OutboxRunSummary:
        async with ctx.client() as client:
            return await run_outbox(client, ctx.factory, ctx.account.id, clock=_now)

    summary = asyncio.run(send())
    if as_json:
        print_json(summary.as_dict())
        return
    Console(highlight=False).print(
        f"outbox {account}: {summary.sent} sent ({summary.already} had already taken effect), "
        f"{summary.retrying} to retry later, {summary.failed} refused, "
        f"{summary.unknown} with unknown outcome"
    )


@app.command("retry")
def retry(
    message_ids: Annotated[list[int], typer.Argument(help="Outbox message id(s).")],
    as_json: JsonOption = False,
) -> None:
    """Make failed or unknown messages due again (the next `outbox run` sends them). For an
    unknown refund, check on Kaufland first that it was not applied."""
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
    """Mark a failed or unknown message done by hand, with a note saying how it was handled."""
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

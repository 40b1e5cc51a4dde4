"""``kaufland-sync returns``: returns imported from Kaufland and the seller's decisions on them.

* ``returns list [--account NAME] [--status STATUS] [--open] [--json]`` — return units with
  reason, status, order, SKU, the deadline Kaufland decides by and the time left;
* ``returns show ID_RETURN_UNIT [--json]`` — one unit, its return and its queued decisions;
* ``returns accept|reject|clarify|repair ID_RETURN_UNIT [--message TEXT]`` — check and queue the
  decision in the outbox, then run the account's outbox once and print where it stands.

Local statuses change with the next ``kaufland-sync import returns``, which reads what Kaufland
made of a decision. Exit status 1 for a refused decision, an unknown unit or a decision Kaufland
refused (outbox ``failed``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import fail, open_account
from kaufland_sync.cli._output import print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kaufland_sync.store.models.returns import ReturnUnit

app = typer.Typer(
    name="returns",
    help="Returns imported from Kaufland and the seller's decisions on them.",
    no_args_is_help=True,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def human_delta(left: timedelta) -> str:
    """``2d 4h``, ``3h 05m``, ``12m``; ``overdue 1d 2h`` once negative."""
    seconds = int(left.total_seconds())
    sign = "overdue " if seconds <= 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days}d {hours}h"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    else:
        text = f"{minutes}m"
    return sign + text


def _unit_dict(session: Session, unit: ReturnUnit, now: datetime) -> dict[str, Any]:
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.orders import Order, OrderLine
    from kaufland_sync.sync.returns import decide_by, is_overdue, time_left

    ret = unit.return_
    account = session.get(Account, ret.account_id)
    line = None if unit.order_line_id is None else session.get(OrderLine, unit.order_line_id)
    order = None if line is None else session.get(Order, line.order_id)
    left = time_left(unit, now)
    return {
        "id_return_unit": unit.id_return_unit,
        "id_return": ret.id_return,
        "account": None if account is None else account.name,
        "storefront": None if ret.storefront is None else ret.storefront.value,
        "status": unit.status,
        "reason": unit.reason,
        "note": unit.note,
        "id_order": None if order is None else order.id_order,
        "id_order_unit": unit.id_order_unit,
        "sku": None if line is None else line.sku,
        "created_at": _iso(unit.ts_created),
        "arrived_at": _iso(unit.arrived_at),
        "decided_at": _iso(unit.decided_at),
        "decide_by": _iso(decide_by(unit)),
        "time_left_seconds": None if left is None else int(left.total_seconds()),
        "overdue": is_overdue(unit, now),
        "restocked": unit.restocked,
    }


@app.command("list")
def list_returns(
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account's returns.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only units in this Kaufland status.")
    ] = None,
    only_open: Annotated[
        bool,
        typer.Option("--open", help="Only units still waiting for the seller (not decided)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List return units, those Kaufland decides soonest first."""
    from sqlalchemy import select

    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.sellerapi.models.returns import ReturnUnitStatus
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.returns import Return, ReturnUnit
    from kaufland_sync.sync.returns import OPEN_STATUSES

    statuses = [s.value for s in ReturnUnitStatus]

    if status is not None and status not in statuses:
        raise typer.BadParameter(
            f"{status!r} is not a return-unit status; one of {', '.join(statuses)}",
            param_hint="--status",
        )
    factory = open_store()
    now = _now()
    with factory() as session:
        query = select(ReturnUnit).join(Return, ReturnUnit.return_id == Return.id)
        if account is not None:
            found = session.scalar(select(Account).where(Account.name == account))
            if found is None:
                fail(f"no account named {account!r}")
            query = query.where(Return.account_id == found.id)
        if status is not None:
            query = query.where(ReturnUnit.status == status)
        if only_open:
            query = query.where(ReturnUnit.status.in_(OPEN_STATUSES))
        rows = [_unit_dict(session, u, now) for u in session.scalars(query)]
    far = 10**12
    rows.sort(
        key=lambda r: (
            far if r["time_left_seconds"] is None else r["time_left_seconds"],
            r["created_at"] or "",
            r["id_return_unit"],
        )
    )
    if as_json:
        print_json(rows)
        return
    out = Console(highlight=False)
    table = Table(title=f"{len(rows)} return units", title_justify="left")
    for column in ("return unit", "account", "sf", "order", "SKU", "reason", "status"):
        table.add_column(column, overflow="fold")
    table.add_column("decide by")
    table.add_column("time left")
    for r in rows:
        left = r["time_left_seconds"]
        shown = "-" if left is None else human_delta(timedelta(seconds=left))
        if r["overdue"]:
            shown = f"[red]{shown}[/red]"
        table.add_row(
            str(r["id_return_unit"]),
            r["account"] or "",
            r["storefront"] or "",
            r["id_order"] or str(r["id_order_unit"] or ""),
            r["sku"] or "",
            r["reason"] or "",
            r["status"],
            (r["decide_by"] or "-").replace("T", " "),
            shown,
        )
    out.print(table)


def _load(session: Session, id_return_unit: int, account: str | None) -> ReturnUnit:
    """The return unit ``id_return_unit`` (of ``account`` when given). Ids are Kaufland's, so
    two accounts on different Kaufland environments may both hold one: then --account says
    which."""
    from sqlalchemy import select

    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.returns import Return, ReturnUnit

    query = (
        select(ReturnUnit, Account.name)
        .join(Return, ReturnUnit.return_id == Return.id)
        .join(Account, Account.id == Return.account_id)
        .where(ReturnUnit.id_return_unit == id_return_unit)
    )
    if account is not None:
        query = query.where(Account.name == account)
    found = session.execute(query).all()
    if not found:
        owner = f" of account {account!r}" if account is not None else ""
        fail(
            f"return unit {id_return_unit}{owner} is not known locally "
            "(run `kaufland-sync import returns --account NAME` first)"
        )
    if len(found) > 1:
        names = ", ".join(sorted(name for _, name in found))
        fail(f"return unit {id_return_unit} is held by several accounts ({names}): pass --account")
    unit: ReturnUnit = found[0][0]
    return unit


def _messages(session: Session, account_id: int, id_return_unit: int) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from kaufland_sync.store.models.outbox import OutboxMessage
    from kaufland_sync.sync.returns import ReturnDecision

    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.account_id == account_id,
            OutboxMessage.target == str(id_return_unit),
            OutboxMessage.action.in_([d.action for d in ReturnDecision]),
        )
        .order_by(OutboxMessage.id)
    )
    return [
        {
            "outbox_id": m.id,
            "action": m.action.value,
            "state": m.state.value,
            "attempts": m.attempts,
            "message": m.payload.get("message"),
            "last_error": m.last_error,
            "created_at": _iso(m.created_at),
            "done_at": _iso(m.done_at),
        }
        for m in rows
    ]


@app.command("show")
def show(
    id_return_unit: Annotated[int, typer.Argument(help="Kaufland id_return_unit.")],
    account: Annotated[
        str | None, typer.Option("--account", help="The account holding it (if several do).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one return unit: its return, order line, deadline and queued decisions."""
    from kaufland_sync.cli.catalog import open_store

    factory = open_store()
    now = _now()
    with factory() as session:
        unit = _load(session, id_return_unit, account)
        data = _unit_dict(session, unit, now)
        ret = unit.return_
        data["return"] = {
            "status": ret.status,
            "tracking_provider": ret.tracking_provider,
            "tracking_code": ret.tracking_code,
            "created_at": _iso(ret.ts_created),
            "updated_at": _iso(ret.ts_updated),
        }
        data["decisions"] = _messages(session, ret.account_id, id_return_unit)
    if as_json:
        print_json(data)
        return
    out = Console(highlight=False)
    for key, value in data.items():
        if key in ("return", "decisions", "time_left_seconds"):
            continue
        out.print(f"{key + ':':<17}{'-' if value is None else value}")
    left = data["time_left_seconds"]
    out.print(f"{'time left:':<17}{'-' if left is None else human_delta(timedelta(seconds=left))}")
    out.print(
        f"{'return:':<17}{data['return']['status'] or '-'}"
        f" (tracking {data['return']['tracking_code'] or '-'})"
    )
    for m in data["decisions"]:
        error = f": {m['last_error']}" if m["last_error"] else ""
        out.print(f"decision #{m['outbox_id']}: {m['action']} {m['state']}{error}")


def _decide(
    id_return_unit: int, decision: str, message: str | None, as_json: bool, account: str | None
) -> None:
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.store.models.outbox import OutboxMessage, OutboxState
    from kaufland_sync.sync.outbox import run_outbox
    from kaufland_sync.sync.returns import ReturnDecisionError, decide

    factory = open_store()
    with factory() as session:
        unit = _load(session, id_return_unit, account)
        owner = session.get(Account, unit.return_.account_id)
        assert owner is not None  # the foreign key guarantees it
        name = owner.name
    ctx = open_account(name)
    try:
        queued = decide(
            ctx.factory,
            account_id=ctx.account.id,
            id_return_unit=id_return_unit,
            decision=decision,
            message=message,
            clock=_now,
        )
    except ReturnDecisionError as exc:
        fail(str(exc))

    async def send() -> None:
        async with ctx.client() as client:
            await run_outbox(client, ctx.factory, ctx.account.id, clock=_now)

    asyncio.run(send())
    with ctx.factory() as session:
        row = session.get(OutboxMessage, queued.outbox_id)
        assert row is not None
        state, error, attempts = row.state, row.last_error, row.attempts
    result = {
        "id_return_unit": id_return_unit,
        "decision": decision,
        "outbox_id": queued.outbox_id,
        "queued_now": queued.created,
        "state": state.value,
        "attempts": attempts,
        "last_error": error,
    }
    if as_json:
        print_json(result)
    else:
        out = Console(highlight=False)
        # The same decision given again finds the first message: say so, as the order
        # commands do, so the first result is not taken for a new one.
        again = "" if queued.created else " (queued before)"
        head = f"{decision} of return unit {id_return_unit}{again}"
        if state == OutboxState.DONE:
            out.print(
                f"{head}: sent to Kaufland (outbox #{queued.outbox_id}); `import returns` "
                "shows the new status",
                soft_wrap=True,
            )
        elif state == OutboxState.PENDING:
            out.print(
                f"{head}: queued (outbox #{queued.outbox_id}), Kaufland not reached yet "
                f"({error or 'not sent yet'}); it is retried by `kaufland-sync outbox run`",
                soft_wrap=True,
            )
        else:
            out.print(
                f"{head}: outbox #{queued.outbox_id} is {state.value}: {error or '-'}",
                soft_wrap=True,
            )
    if state in (OutboxState.FAILED, OutboxState.UNKNOWN):
        raise typer.Exit(1)


_ID = Annotated[int, typer.Argument(help="Kaufland id_return_unit.")]
_JSON = Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")]
_ACCOUNT = Annotated[
    str | None, typer.Option("--account", help="The account holding it (if several do).")
]
_MESSAGE_OPTIONAL = Annotated[
    str | None, typer.Option("--message", help="Not used by this decision.", hidden=True)
]
_MESSAGE = Annotated[
    str | None,
    typer.Option("--message", help="Message to the buyer (Kaufland opens a ticket with it)."),
]


@app.command("accept")
def accept(
    id_return_unit: _ID,
    message: _MESSAGE_OPTIONAL = None,
    as_json: _JSON = False,
    account: _ACCOUNT = None,
) -> None:
    """Accept a returned item (Kaufland refunds the buyer)."""
    _decide(id_return_unit, "accept", message, as_json, account)


@app.command("reject")
def reject(
    id_return_unit: _ID,
    message: _MESSAGE = None,
    as_json: _JSON = False,
    account: _ACCOUNT = None,
) -> None:
    """Reject a return, telling the buyer why (--message, required)."""
    _decide(id_return_unit, "reject", message, as_json, account)


@app.command("clarify")
def clarify(
    id_return_unit: _ID,
    message: _MESSAGE = None,
    as_json: _JSON = False,
    account: _ACCOUNT = None,
) -> None:
    """Ask the buyer about a return (--message, required)."""
    _decide(id_return_unit, "clarify", message, as_json, account)


@app.command("repair")
def repair(
    id_return_unit: _ID,
    message: _MESSAGE_OPTIONAL = None,
    as_json: _JSON = False,
    account: _ACCOUNT = None,
) -> None:
    """Send a returned item to repair."""
    _decide(id_return_unit, "repair", message, as_json, account)

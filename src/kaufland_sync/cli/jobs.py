"""``kaufland-sync jobs`` and ``kaufland-sync schedules``: the job ledger from the terminal.

``jobs list`` shows what is queued, running, done or failed (``jobs failed`` only the failed
list, with each error), ``jobs retry`` / ``jobs drop`` act on the failed list, ``jobs add``
queues a job by hand for the workers. ``schedules show`` / ``schedules set`` read and change how
often each kind of job runs per account (5, 15 or 60 minutes, or off).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import fail
from kaufland_sync.cli._output import err, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.store.models.jobs import Job

app = typer.Typer(
    name="jobs",
    help="Queued, running, done and failed jobs; retry or drop failed ones.",
    no_args_is_help=True,
)
schedules_app = typer.Typer(
    name="schedules",
    help="How often each kind of job runs per account (5, 15, 60 minutes or off).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
AccountOption = Annotated[str, typer.Option("--account", help="Account name.")]
#: Width of the error lines under the ``jobs list`` table (``--json`` has them whole).
ERROR_WIDTH = 80


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    aware = _aware(value)
    return aware.isoformat() if aware else None


def _short(value: datetime | None) -> str:
    aware = _aware(value)
    return aware.strftime("%m-%d %H:%M:%S") if aware else ""


def _cut(text: str | None, width: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _kinds() -> list[str]:
    from kaufland_sync.store.models.jobs import JobKind

    return [k.value for k in JobKind]


def _parse_kind(value: str) -> Any:
    from kaufland_sync.store.models.jobs import JobKind

    try:
        return JobKind(value.strip().lower())
    except ValueError:
        raise typer.BadParameter(
            f"unknown job kind {value!r}; one of: {', '.join(_kinds())}", param_hint="KIND"
        ) from None


def _account_id(session: Session, name: str) -> int:
    from kaufland_sync.store.accounts import AccountError, AccountRepository

    try:
        return AccountRepository(session).get(name).id
    except AccountError as exc:
        fail(str(exc))


def _names(session: Session) -> dict[int, str]:
    from sqlalchemy import select

    from kaufland_sync.store.models.accounts import Account

    return {
        account_id: name for account_id, name in session.execute(select(Account.id, Account.name))
    }


def _row(job: Job, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": job.id,
        "account": names.get(job.account_id, str(job.account_id)),
        "kind": job.kind.value,
        "trigger": job.trigger.value,
        "state": job.state.value,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "enqueued_at": _iso(job.enqueued_at),
        "not_before": _iso(job.not_before),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "duration_ms": job.duration_ms,
        "worker": job.worker,
        "counts": job.counts or {},
        "last_error": job.last_error,
    }


def _open() -> sessionmaker[Session]:
    from kaufland_sync.cli.catalog import open_store

    return open_store()


def _queue(factory: sessionmaker[Session]) -> Any:
    from kaufland_sync.config import load_settings
    from kaufland_sync.jobs.queue import JobQueue, QueueURLError

    try:
        return JobQueue(load_settings(), factory)
    except QueueURLError as exc:
        fail(str(exc))


def _show(rows: list[dict[str, Any]], *, as_json: bool, title: str) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print(f"no {title}")
        return
    table = Table(box=box.SIMPLE, pad_edge=False, title=None)
    for column in ("id", "account", "kind", "trigger", "state", "tries", "due / done", "ms"):
        table.add_column(column, overflow="fold")
    errors: list[str] = []
    for row in rows:
        done = row["finished_at"] or row["not_before"]
        table.add_row(
            str(row["id"]),
            row["account"],
            row["kind"],
            row["trigger"],
            row["state"],
            f"{row['attempts']}/{row['max_attempts']}",
            _short(datetime.fromisoformat(done)) if done else "",
            "" if row["duration_ms"] is None else str(row["duration_ms"]),
        )
        if row["last_error"] and row["state"] in {"failed", "retrying"}:
            errors.append(f"  #{row['id']}: {_cut(row['last_error'], ERROR_WIDTH - 8)}")
    Console(width=max(80, Console().width)).print(table)
    for line in errors:
        print(line)


@app.command("list")
def list_jobs(
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state", help="Only these states: queued, running, retrying, done, failed, dropped."
        ),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind of job.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Jobs, newest first: state, attempts, when due or done, duration, last error."""
    from kaufland_sync.jobs import ledger
    from kaufland_sync.store.models.jobs import JobState

    states: list[JobState] = []
    for value in state or ():
        try:
            states.append(JobState(value.strip().lower()))
        except ValueError:
            raise typer.BadParameter(
                f"unknown state {value!r}; one of: {', '.join(s.value for s in JobState)}",
                param_hint="--state",
            ) from None
    factory = _open()
    with factory() as session:
        account_id = _account_id(session, account) if account else None
        jobs = ledger.list_jobs(
            session,
            states=states or None,
            account_id=account_id,
            kind=_parse_kind(kind) if kind else None,
            limit=limit,
        )
        names = _names(session)
        rows = [_row(job, names) for job in jobs]
    _show(rows, as_json=as_json, title="jobs")


@app.command("failed")
def failed(
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The failed list: jobs that kept failing, with their last error."""
    from kaufland_sync.jobs import ledger
    from kaufland_sync.store.models.jobs import JobState

    factory = _open()
    with factory() as session:
        account_id = _account_id(session, account) if account else None
        jobs = ledger.list_jobs(
            session, states=[JobState.FAILED], account_id=account_id, limit=10000
        )
        names = _names(session)
        rows = [_row(job, names) for job in jobs]
    _show(rows, as_json=as_json, title="failed jobs")


def _act(job_id: int, verb: str) -> None:
    from kaufland_sync.jobs import ledger

    factory = _open()
    with factory() as session:
        try:
            if verb == "retry":
                queued = ledger.retry(session, job_id, now=_now())
                session.commit()
            else:
                ledger.drop(session, job_id, now=_now())
                session.commit()
                queued = None
        except ledger.JobError as exc:
            fail(str(exc))
    if queued is not None:
        queue = _queue(factory)
        try:
            queue.send(queued.job_id)
        finally:
            queue.close()
        err.print(f"job {job_id} queued again as job {queued.job_id}")
    else:
        err.print(f"job {job_id} dropped")


@app.command("retry")
def retry(job_id: Annotated[int, typer.Argument(help="Job id (see `jobs failed`).")]) -> None:
    """Queue a failed job again, with a fresh set of attempts."""
    _act(job_id, "retry")


@app.command("drop")
def drop(job_id: Annotated[int, typer.Argument(help="Job id (see `jobs list`).")]) -> None:
    """Take a failed or queued job off the list for good."""
    _act(job_id, "drop")


@app.command("add")
def add(
    kind: Annotated[
        str,
        typer.Argument(
            help="orders, stock, offers, outbox, returns, tickets, categories or performance."
        ),
    ],
    account: AccountOption,
) -> None:
    """Queue one job now for the workers (the same job already queued is not queued twice)."""
    from kaufland_sync.store.models.jobs import JobTrigger

    wanted = _parse_kind(kind)
    factory = _open()
    with factory() as session:
        account_id = _account_id(session, account)
    queue = _queue(factory)
    try:
        queued = queue.submit(account_id=account_id, kind=wanted, trigger=JobTrigger.MANUAL)
    finally:
        queue.close()
    if queued.created:
        err.print(f"queued job {queued.job_id}: {wanted.value} for {account}")
    else:
        err.print(f"already queued as job {queued.job_id}: {wanted.value} for {account}")


@schedules_app.command("show")
def show_schedules(
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every account's interval per kind of job and when each runs next."""
    from sqlalchemy import select

    from kaufland_sync.jobs import ledger
    from kaufland_sync.store.models.accounts import Account

    factory = _open()
    rows: list[dict[str, Any]] = []
    with factory() as session:
        query = select(Account).order_by(Account.name)
        if account:
            query = query.where(Account.id == _account_id(session, account))
        for acc in session.scalars(query):
            for schedule in sorted(
                ledger.ensure_schedules(session, acc.id, now=_now()),
                key=lambda s: _kinds().index(s.kind.value),
            ):
                rows.append(
                    {
                        "account": acc.name,
                        "kind": schedule.kind.value,
                        "interval_minutes": schedule.interval_minutes,
                        "next_due_at": _iso(schedule.next_due_at)
                        if schedule.interval_minutes
                        else None,
                    }
                )
        session.commit()
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print("no accounts")
        return
    table = Table(box=box.SIMPLE, pad_edge=False)
    for column in ("account", "kind", "every", "next run"):
        table.add_column(column)
    for row in rows:
        minutes = row["interval_minutes"]
        due = row["next_due_at"]
        table.add_row(
            row["account"],
            row["kind"],
            f"{minutes} min" if minutes else "off",
            _short(datetime.fromisoformat(due)) if due else "",
        )
    Console(width=max(80, Console().width)).print(table)


@schedules_app.command("set")
def set_schedule(
    kind: Annotated[str, typer.Argument(help="Kind of job (see `schedules show`).")],
    every: Annotated[str, typer.Argument(help="5, 15, 60 (minutes) or off.")],
    account: AccountOption,
) -> None:
    """Run one kind of job for an account every 5, 15 or 60 minutes, or switch it off."""
    from kaufland_sync.jobs import ledger

    wanted = _parse_kind(kind)
    text = every.strip().lower().removesuffix("min").strip()
    if text in {"off", "0", "never"}:
        minutes = 0
    elif text.isdigit():
        minutes = int(text)
    else:
        raise typer.BadParameter(
            f"{every!r} is not an interval; use 5, 15, 60 or off", param_hint="EVERY"
        )
    factory = _open()
    with factory() as session:
        account_id = _account_id(session, account)
        try:
            ledger.set_interval(session, account_id, wanted, minutes, now=_now())
        except ledger.JobError as exc:
            fail(str(exc))
        session.commit()
    err.print(
        f"{account}: {wanted.value} " + (f"every {minutes} minutes" if minutes else "switched off")
    )

"""The queue page: jobs waiting, running and failed, and the outbox's actions still to send.

``GET /queue`` shows how many jobs are in each state, the pending (queued and retrying),
running and failed jobs with their attempts, due time or lease and last error, and the outbox
messages that are not done yet. The lists sit in one panel, ``GET /queue/panel``, which htmx
loads again every :data:`REFRESH_SECONDS` (not while a control inside it has the focus, so a
note being typed is not wiped).

Operators act on what is stuck, through the same functions as the command line:

* ``POST /queue/jobs/{id}/retry`` and ``/drop`` are ``kaufland-sync jobs retry|drop``
  (:func:`kaufland_sync.jobs.ledger.retry` / :func:`~kaufland_sync.jobs.ledger.drop`); a retried
  job's message is then sent to the queue, as the REST API does, so a worker picks it up now;
* ``POST /queue/outbox/{id}/retry`` and ``/resolve`` are ``kaufland-sync outbox retry|resolve``
  (:mod:`kaufland_sync.sync.outbox`); after a retry an ``outbox`` job is queued for the account so
  the message goes out without waiting for the schedule.

An htmx request gets the panel back (always 200: htmx does not swap error answers), with the
outcome or the refusal written above the lists; a plain form post gets the whole page, with 404
or 409 when nothing was done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kaufland_sync.jobs import ledger
from kaufland_sync.logging import get_logger
from kaufland_sync.store.models.jobs import PENDING_STATES, Job, JobState
from kaufland_sync.store.models.outbox import OutboxMessage, OutboxState
from kaufland_sync.store.models.users import Role, User
from kaufland_sync.sync.outbox import (
    OutboxError,
    list_messages,
    payload_view,
    resolve_message,
    retry_message,
)
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages._common import (
    AccountChoice,
    Context,
    Csrf,
    FilterError,
    Operator,
    Viewer,
    account_choices,
    answer_status,
    is_htmx,
    parse_account,
    parse_id,
    submit_outbox,
    when,
)
from kaufland_sync.web.templating import templates

__all__ = ["LIST_LIMIT", "OPEN_OUTBOX_STATES", "REFRESH_SECONDS", "router"]

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

#: How often the panel reloads while the page is shown (seconds).
REFRESH_SECONDS = 5
#: At most this many jobs per list and outbox messages (newest first); the counts are exact.
LIST_LIMIT = 200
#: Outbox messages that still need something: sending, a retry, or a person.
OPEN_OUTBOX_STATES: tuple[OutboxState, ...] = (
    OutboxState.PENDING,
    OutboxState.SENDING,
    OutboxState.FAILED,
    OutboxState.UNKNOWN,
)
#: Longest note kept when an outbox message is resolved by hand.
MAX_NOTE_LENGTH = 500


@runtime_checkable
class _Sender(Protocol):
    """``JobQueue.send``; a queue without it (a test stand-in) leaves the retried job to the
    scheduler's recovery, which sends due jobs whose message went missing."""

    def send(self, job_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Notice:
    """What the last action did (``ok``) or why it was refused."""

    text: str
    ok: bool


# --- reading ---------------------------------------------------------------------------------


def _job_row(job: Job, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": job.id,
        "account": names.get(job.account_id, str(job.account_id)),
        "kind": job.kind.value,
        "trigger": job.trigger.value,
        "state": job.state.value,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "enqueued_at": when(job.enqueued_at),
        "due": when(job.not_before),
        "started_at": when(job.started_at),
        "finished_at": when(job.finished_at),
        "lease_until": when(job.lease_until),
        "worker": job.worker or "",
        "last_error": job.last_error or "",
    }


def _outbox_row(message: OutboxMessage, names: dict[int, str]) -> dict[str, Any]:
    view = payload_view(message)
    return {
        "id": message.id,
        "account": names.get(message.account_id, str(message.account_id)),
        "action": message.action.value,
        "target": message.target,
        "order_id": message.order_id,
        "payload": ", ".join(f"{key}: {value}" for key, value in sorted(view.items())),
        "state": message.state.value,
        "attempts": message.attempts,
        "next_attempt_at": when(message.next_attempt_at),
        "claimed_at": when(message.claimed_at),
        "created_at": when(message.created_at),
        "last_error": message.last_error or "",
        "retryable": message.state
        in (OutboxState.FAILED, OutboxState.UNKNOWN, OutboxState.PENDING),
        "resolvable": message.state in (OutboxState.FAILED, OutboxState.UNKNOWN),
    }


def _counts(
    session: Session,
    model: type[Job] | type[OutboxMessage],
    states: Iterable[str],
    account_id: int | None,
) -> dict[str, int]:
    """How many rows of ``model`` are in each of ``states`` (zeros included), of one account
    or of all."""
    query = select(model.state, func.count()).group_by(model.state)
    if account_id is not None:
        query = query.where(model.account_id == account_id)
    counts = {str(state): 0 for state in states}
    for state, count in session.execute(query):
        counts[str(state)] = int(count)
    return counts


def _panel_data(session: Session, account: AccountChoice | None) -> dict[str, Any]:
    account_id = None if account is None else account.id
    names = {choice.id: choice.name for choice in account_choices(session)}

    def jobs(states: Iterable[JobState]) -> list[dict[str, Any]]:
        found = ledger.list_jobs(
            session, states=list(states), account_id=account_id, limit=LIST_LIMIT
        )
        return [_job_row(job, names) for job in found]

    messages = list_messages(
        session, account_id=account_id, states=OPEN_OUTBOX_STATES, limit=LIST_LIMIT
    )
    return {
        "job_counts": _counts(session, Job, JobState, account_id),
        "outbox_counts": _counts(session, OutboxMessage, OutboxState, account_id),
        "pending": jobs(PENDING_STATES),
        "running": jobs([JobState.RUNNING]),
        "failed": jobs([JobState.FAILED]),
        "outbox": [_outbox_row(message, names) for message in messages],
    }


def _render(
    request: Request,
    context: WebContext,
    user: User,
    *,
    account_value: str | None,
    notice: Notice | None = None,
    status: int = 200,
    fragment: bool = False,
) -> HTMLResponse:
    """The page (or its panel alone) for the account filter ``account_value``."""
    with context.factory() as session:
        choices = account_choices(session)
        try:
            account = parse_account(account_value, choices)
        except FilterError as exc:
            account, notice, status = None, Notice(str(exc), ok=False), 400
        data = _panel_data(session, account)
    template = "pages/queue_panel.html" if fragment else "pages/queue_page.html"
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "can_act": user.role.allows(Role.OPERATOR),
            "accounts": choices,
            "account": account,
            "notice": notice,
            "refresh_seconds": REFRESH_SECONDS,
            "list_limit": LIST_LIMIT,
            "note_limit": MAX_NOTE_LENGTH,
            **data,
        },
        status_code=status,
    )


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, context: Context, user: Viewer) -> HTMLResponse:
    """The whole page (viewer and up); ``?account=`` narrows it to one account."""
    return _render(request, context, user, account_value=request.query_params.get("account"))


@router.get("/queue/panel", response_class=HTMLResponse)
def queue_panel(request: Request, context: Context, user: Viewer) -> HTMLResponse:
    """The counts and lists alone, for htmx's periodic reload."""
    return _render(
        request,
        context,
        user,
        account_value=request.query_params.get("account"),
        fragment=True,
    )


# --- acting ----------------------------------------------------------------------------------


def _send_job(context: WebContext, job_id: int) -> bool:
    """Hand "run job ``job_id``" to the queue; False when the queue cannot be reached (the job
    is pending and due in the ledger, so the scheduler's recovery sends it later)."""
    try:
        queue = context.queue
        if isinstance(queue, _Sender):
            queue.send(job_id)
    except Exception as exc:
        log.warning("job queue unavailable", job=job_id, error=str(exc))
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Acting:
    """An operator's form post on the page: what it takes to answer with the page again (for
    the account filter it was shown with) and the outcome or refusal above the lists."""

    request: Request
    context: WebContext
    user: User
    account: str

    def answer(self, text: str, status: int) -> HTMLResponse:
        """The page, or to htmx its panel, with ``text``: done (``status`` 200) or refused."""
        return _render(
            self.request,
            self.context,
            self.user,
            account_value=self.account,
            notice=Notice(text, ok=status == 200),
            status=answer_status(self.request, status),
            fragment=is_htmx(self.request),
        )


def _acting(
    request: Request,
    context: Context,
    user: Operator,
    account: Annotated[str, Form(max_length=64)] = "",
) -> _Acting:
    return _Acting(request, context, user, account)


Acting = Annotated[_Acting, Depends(_acting)]


def _on_job(acting: _Acting, job_id: str, act: Callable[[Session, int], str]) -> HTMLResponse:
    """Run ``act(session, id)`` on an existing job and commit; its text is the notice. A bad
    or unknown id is 404, a job the ledger refuses to touch (:class:`ledger.JobError`) 409."""
    try:
        ident = parse_id(job_id, "job")
    except FilterError as exc:
        return acting.answer(str(exc), 404)
    with acting.context.factory() as session:
        if session.get(Job, ident) is None:
            return acting.answer(f"job {ident} does not exist", 404)
        try:
            text = act(session, ident)
        except ledger.JobError as exc:
            return acting.answer(str(exc), 409)
        session.commit()
    return acting.answer(text, 200)


@router.post("/queue/jobs/{job_id}/retry", dependencies=[Csrf])
def retry_job(acting: Acting, job_id: str) -> HTMLResponse:
    """Queue a failed job again with fresh attempts (operator)."""

    def act(session: Session, ident: int) -> str:
        queued = ledger.retry(session, ident, now=acting.context.clock())
        session.commit()  # the job is due before its message reaches a worker
        log.info("job retried", job=ident, queued=queued.job_id, user=acting.user.name)
        text = (
            f"job {ident} queued again"
            if queued.job_id == ident
            else f"job {ident} dropped: job {queued.job_id} of the same kind was pending and "
            "runs now"
        )
        if not _send_job(acting.context, queued.job_id):
            text += "; the queue cannot be reached, so the scheduler will send it shortly"
        return text

    return _on_job(acting, job_id, act)


@router.post("/queue/jobs/{job_id}/drop", dependencies=[Csrf])
def drop_job(acting: Acting, job_id: str) -> HTMLResponse:
    """Take a failed or pending job off the list for good (operator)."""

    def act(session: Session, ident: int) -> str:
        ledger.drop(session, ident, now=acting.context.clock())
        log.info("job dropped", job=ident, user=acting.user.name)
        return f"job {ident} dropped"

    return _on_job(acting, job_id, act)


@router.post("/queue/outbox/{message_id}/retry", dependencies=[Csrf])
def retry_outbox(acting: Acting, message_id: str) -> HTMLResponse:
    """Make a failed, unknown or waiting outbox message due now (operator), then queue the
    account's ``outbox`` job so it is sent without waiting for the schedule."""
    try:
        ident = parse_id(message_id, "outbox message")
    except FilterError as exc:
        return acting.answer(str(exc), 404)
    with acting.context.factory() as session:
        try:
            message = retry_message(session, ident, now=acting.context.clock())
        except OutboxError as exc:
            status = 404 if session.get(OutboxMessage, ident) is None else 409
            return acting.answer(str(exc), status)
        owner, label = message.account_id, f"{message.action.value} {message.target}"
        session.commit()
    log.info("outbox message retried", message=ident, user=acting.user.name)
    text = f"outbox message #{ident} ({label}) is due again"
    if submit_outbox(acting.context, owner):
        text += " and an outbox run is queued"
    else:
        text += "; the queue cannot be reached, so the next scheduled outbox run sends it"
    return acting.answer(text, 200)


@router.post("/queue/outbox/{message_id}/resolve", dependencies=[Csrf])
def resolve_outbox(
    acting: Acting,
    message_id: str,
    note: Annotated[str, Form(max_length=10_000)] = "",
) -> HTMLResponse:
    """Mark a failed or unknown outbox message done by hand, with a note saying how (operator).
    An empty or overlong note changes nothing."""
    try:
        ident = parse_id(message_id, "outbox message")
    except FilterError as exc:
        return acting.answer(str(exc), 404)
    text = note.strip()
    if not text or len(text) > MAX_NOTE_LENGTH:
        problem = "is required" if not text else f"is longer than {MAX_NOTE_LENGTH} characters"
        return acting.answer(
            f"Note for outbox message #{ident} {problem}: say how it was handled", 400
        )
    with acting.context.factory() as session:
        try:
            message = resolve_message(session, ident, note=text, now=acting.context.clock())
        except OutboxError as exc:
            status = 404 if session.get(OutboxMessage, ident) is None else 409
            return acting.answer(str(exc), status)
        label = f"{message.action.value} {message.target}"
        session.commit()
    log.info("outbox message resolved by hand", message=ident, user=acting.user.name)
    return acting.answer(f"outbox message #{ident} ({label}) marked done by hand", 200)

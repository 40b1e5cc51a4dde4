"""``/jobs``: the job system's ledger, and queueing, retrying and dropping jobs, as
``kaufland-sync jobs list|add|retry|drop`` do (:mod:`kaufland_sync.jobs.ledger` and the app's
queue)."""

from __future__ import annotations

from typing import Annotated, Protocol, runtime_checkable

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import func, select

from kaufland_sync.jobs import ledger
from kaufland_sync.logging import get_logger
from kaufland_sync.store.models.jobs import Job, JobKind, JobState, JobTrigger
from kaufland_sync.web.api._common import (
    DEFAULT_LIMIT,
    ApiError,
    Limit,
    Offset,
    Operator,
    Viewer,
    account_by_name,
    account_names,
    not_found,
    responses,
)
from kaufland_sync.web.api.schemas import JobIn, JobOut, JobPage
from kaufland_sync.web.deps import WebContext, get_context

__all__ = ["router"]

log = get_logger(__name__)

router = APIRouter(tags=["jobs"])

Context = Annotated[WebContext, Depends(get_context)]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Job id.")]


@runtime_checkable
class _Sender(Protocol):
    """``JobQueue.send``: put a pending job's message on the queue."""

    def send(self, job_id: int) -> None: ...


def _job(job: Job, names: dict[int, str]) -> JobOut:
    return JobOut(
        id=job.id,
        account=names.get(job.account_id, str(job.account_id)),
        kind=job.kind,
        trigger=job.trigger,
        state=job.state,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        enqueued_at=job.enqueued_at,
        not_before=job.not_before,
        started_at=job.started_at,
        finished_at=job.finished_at,
        duration_ms=job.duration_ms,
        worker=job.worker,
        counts=job.counts or {},
        last_error=job.last_error,
    )


def _one(context: WebContext, job_id: int) -> JobOut:
    with context.factory() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise not_found(f"job {job_id}")
        return _job(job, account_names(session))


@router.get("/jobs", response_model=JobPage, responses=responses(403, 404, 422))
def list_jobs(
    _: Viewer,
    context: Context,
    state: Annotated[list[JobState] | None, Query(description="Only these states.")] = None,
    kind: Annotated[JobKind | None, Query()] = None,
    account: Annotated[str | None, Query(max_length=64, description="Account name.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> JobPage:
    """Jobs, newest first."""
    with context.factory() as session:
        query = select(Job)
        if state:
            query = query.where(Job.state.in_(state))
        if kind is not None:
            query = query.where(Job.kind == kind)
        if account is not None:
            query = query.where(Job.account_id == account_by_name(session, account).id)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        jobs = session.scalars(query.order_by(Job.id.desc()).limit(limit).offset(offset))
        names = account_names(session)
        items = [_job(job, names) for job in jobs]
    return JobPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/jobs/{job_id}", response_model=JobOut, responses=responses(403, 404, 422))
def get_job(_: Viewer, context: Context, job_id: JobId) -> JobOut:
    """One job."""
    return _one(context, job_id)


def _queue_unavailable(exc: Exception) -> ApiError:
    log.warning("job queue unavailable", error=str(exc))
    return ApiError(503, "Queue unavailable", "The job queue cannot be reached; try again.")


@router.post(
    "/jobs", response_model=JobOut, status_code=202, responses=responses(400, 403, 404, 422, 503)
)
def add_job(_: Operator, context: Context, body: JobIn, response: Response) -> JobOut:
    """Queue a job now for the workers (operator), as ``kaufland-sync jobs add``. When the
    same job is pending already, that one is answered (header ``X-Job-Created: false``)."""
    with context.factory() as session:
        account_id = account_by_name(session, body.account).id
    try:
        queued = context.queue.submit(
            account_id=account_id, kind=body.kind, trigger=JobTrigger.MANUAL
        )
    except Exception as exc:
        raise _queue_unavailable(exc) from None
    response.headers["X-Job-Created"] = "true" if queued.created else "false"
    return _one(context, queued.job_id)


@router.post(
    "/jobs/{job_id}/retry",
    response_model=JobOut,
    status_code=202,
    responses=responses(403, 404, 409, 422, 503),
)
def retry_job(_: Operator, context: Context, job_id: JobId) -> JobOut:
    """Queue a failed job again with a fresh set of attempts (operator), as ``kaufland-sync
    jobs retry``. Answers the job that will run: this one, or the same kind's job already
    pending for the account (then this one is dropped)."""
    with context.factory() as session:
        if session.get(Job, job_id) is None:
            raise not_found(f"job {job_id}")
        try:
            queued = ledger.retry(session, job_id, now=context.clock())
        except ledger.JobError as exc:
            raise ApiError(409, "Not retryable", str(exc)) from None
        session.commit()
    try:
        queue = context.queue
    except Exception as exc:
        raise _queue_unavailable(exc) from None
    # The ledger row is due now either way; a queue that cannot send (a stand-in without
    # ``send``) leaves it to the scheduler's recovery, which re-sends due jobs.
    if isinstance(queue, _Sender):
        try:
            queue.send(queued.job_id)
        except Exception as exc:
            raise _queue_unavailable(exc) from None
    return _one(context, queued.job_id)


@router.delete("/jobs/{job_id}", response_model=JobOut, responses=responses(403, 404, 409, 422))
def drop_job(_: Operator, context: Context, job_id: JobId) -> JobOut:
    """Take a failed or pending job off the list for good (operator), as ``kaufland-sync jobs
    drop``; a running or finished job is refused (409)."""
    with context.factory() as session:
        if session.get(Job, job_id) is None:
            raise not_found(f"job {job_id}")
        try:
            ledger.drop(session, job_id, now=context.clock())
        except ledger.JobError as exc:
            raise ApiError(409, "Not droppable", str(exc)) from None
        session.commit()
    return _one(context, job_id)

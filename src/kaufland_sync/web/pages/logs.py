"""The sync log: every sync run (``SyncRun``, one per account, storefront and run) and every
job that finished (``Job``), newest first, filterable and paged.

``GET /logs`` takes ``account`` (id or name), ``storefront``, ``kind``, ``outcome``, ``source``
(``sync``, ``job`` or both), ``from`` and ``to`` (UTC dates, inclusive) and ``page``. A sync
run counts at its start, a job when it finished. The two records are kept apart in the store
(a job may run several sync runs, one per storefront, and jobs like ``categories`` run none),
so the log reads both and merges them by time; a filter that only one of them knows (a
storefront: jobs have none; ``done``: sync runs say ``ok``) leaves the other out.

Each row opens (htmx, ``GET /logs/sync/{id}`` or ``/logs/job/{id}``) to its counts and its
whole error. Viewers and up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kaufland_sync.reports._common import counts_in_words
from kaufland_sync.reports._period import utc_day_start
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.models.jobs import Job, JobKind, JobState
from kaufland_sync.store.models.sync import RunOutcome, SyncKind, SyncRun
from kaufland_sync.web.deps import WebContext
from kaufland_sync.web.pages._common import (
    AccountChoice,
    Context,
    FilterError,
    Viewer,
    account_choices,
    answer_status,
    page_count,
    parse_account,
    parse_date,
    parse_id,
    parse_storefront,
    when,
)
from kaufland_sync.web.templating import templates

__all__ = ["JOB_OUTCOMES", "KINDS", "MAX_PAGE", "OUTCOMES", "PAGE_SIZE", "router"]

router = APIRouter(include_in_schema=False)

#: Entries per page.
PAGE_SIZE = 50
#: The deepest page served: each page reads every newer entry of both records to merge them,
#: and nobody pages through thousands of entries (the filters find them faster).
MAX_PAGE = 200
#: How a finished job ended (a job still pending or running is on the queue page instead).
JOB_OUTCOMES: tuple[JobState, ...] = (JobState.DONE, JobState.FAILED, JobState.DROPPED)
#: Every kind either record knows, for the kind filter.
KINDS: tuple[str, ...] = tuple(sorted({k.value for k in SyncKind} | {k.value for k in JobKind}))
#: Every outcome either record knows, for the outcome filter.
OUTCOMES: tuple[str, ...] = (
    *(o.value for o in RunOutcome),
    *(s.value for s in JOB_OUTCOMES if s.value not in {o.value for o in RunOutcome}),
)
SOURCES: tuple[tuple[str, str], ...] = (
    ("", "Sync runs and jobs"),
    ("sync", "Sync runs"),
    ("job", "Jobs"),
)
# The counters of a sync run, in the order people read them.
_RUN_COUNTS = ("created", "updated", "unchanged", "held", "deleted", "failed", "skipped", "calls")


@dataclass(frozen=True, slots=True)
class LogFilters:
    """The log's filters, checked; ``query`` gives them back as a query string."""

    account: AccountChoice | None = None
    storefront: Storefront | None = None
    kind: str | None = None
    outcome: str | None = None
    source: str = ""
    start: datetime | None = None  # first instant in range
    end: datetime | None = None  # first instant after the range
    page: int = 1
    raw: tuple[tuple[str, str], ...] = ()

    def query(self, **changes: Any) -> str:
        values = dict(self.raw) | {key: str(value) for key, value in changes.items()}
        return urlencode({key: value for key, value in values.items() if value})


def parse_filters(params: Any, choices: list[AccountChoice]) -> LogFilters:
    """The filters of a query string; :class:`FilterError` names a bad one."""
    names = ("account", "storefront", "kind", "outcome", "source", "from", "to")
    raw = tuple((name, (params.get(name) or "").strip()) for name in names)
    values = dict(raw)
    kind = values["kind"].lower() or None
    if kind is not None and kind not in KINDS:
        raise FilterError("kind", f"kind {kind!r} is unknown; one of {', '.join(KINDS)}")
    outcome = values["outcome"].lower() or None
    if outcome is not None and outcome not in OUTCOMES:
        raise FilterError(
            "outcome", f"outcome {outcome!r} is unknown; one of {', '.join(OUTCOMES)}"
        )
    source = values["source"].lower()
    if source not in dict(SOURCES):
        raise FilterError("source", f"source {source!r} is unknown; sync, job or empty for both")
    first, last = parse_date(values["from"], "from"), parse_date(values["to"], "to")
    if first is not None and last is not None and first > last:
        raise FilterError("from", f"from {first} is after to {last}")
    page_text = (params.get("page") or "1").strip()
    if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        raise FilterError("page", f"page {page_text!r} is not a page number from 1 to {MAX_PAGE}")
    return LogFilters(
        account=parse_account(values["account"], choices),
        storefront=parse_storefront(values["storefront"]),
        kind=kind,
        outcome=outcome,
        source=source,
        start=None if first is None else utc_day_start(first),
        end=None if last is None else utc_day_start(last + timedelta(days=1)),
        page=int(page_text),
        raw=raw,
    )


# --- queries ---------------------------------------------------------------------------------


def _sync_query(filters: LogFilters) -> Select[Any] | None:
    """Sync runs the filters select, or None when they rule sync runs out."""
    if filters.source == "job":
        return None
    if filters.kind is not None and filters.kind not in {k.value for k in SyncKind}:
        return None
    if filters.outcome is not None and filters.outcome not in {o.value for o in RunOutcome}:
        return None
    query = select(SyncRun)
    if filters.account is not None:
        query = query.where(SyncRun.account_id == filters.account.id)
    if filters.storefront is not None:
        query = query.where(SyncRun.storefront == filters.storefront)
    if filters.kind is not None:
        query = query.where(SyncRun.kind == SyncKind(filters.kind))
    if filters.outcome is not None:
        query = query.where(SyncRun.outcome == RunOutcome(filters.outcome))
    if filters.start is not None:
        query = query.where(SyncRun.started_at >= filters.start)
    if filters.end is not None:
        query = query.where(SyncRun.started_at < filters.end)
    return query


def _job_query(filters: LogFilters) -> Select[Any] | None:
    """Finished jobs the filters select, or None when they rule jobs out."""
    if filters.source == "sync" or filters.storefront is not None:
        return None
    if filters.kind is not None and filters.kind not in {k.value for k in JobKind}:
        return None
    outcomes = [state for state in JOB_OUTCOMES if filters.outcome in (None, state.value)]
    if not outcomes:
        return None
    query = select(Job).where(Job.finished_at.is_not(None), Job.state.in_(outcomes))
    if filters.account is not None:
        query = query.where(Job.account_id == filters.account.id)
    if filters.kind is not None:
        query = query.where(Job.kind == JobKind(filters.kind))
    if filters.start is not None:
        query = query.where(Job.finished_at >= filters.start)
    if filters.end is not None:
        query = query.where(Job.finished_at < filters.end)
    return query


def _count(session: Session, query: Select[Any] | None) -> int:
    if query is None:
        return 0
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _first_line(text: str | None, width: int = 160) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _run_entry(run: SyncRun, names: dict[int, str]) -> dict[str, Any]:
    counts = counts_in_words(
        [(name, getattr(run, name)) for name in _RUN_COUNTS if name != "calls"]
    )
    return {
        "source": "sync",
        "id": run.id,
        "at": run.started_at,
        "when": when(run.started_at),
        "kind": run.kind.value,
        "account": names.get(run.account_id, str(run.account_id)),
        "storefront": run.storefront.value,
        "outcome": run.outcome.value,
        "summary": counts,
        "error": _first_line(run.error_summary),
    }


def _job_entry(job: Job, names: dict[int, str]) -> dict[str, Any]:
    numbers = [(str(k), v) for k, v in sorted((job.counts or {}).items()) if type(v) is int]
    assert job.finished_at is not None  # the query reads finished jobs only
    return {
        "source": "job",
        "id": job.id,
        "at": job.finished_at,
        "when": when(job.finished_at),
        "kind": job.kind.value,
        "account": names.get(job.account_id, str(job.account_id)),
        "storefront": "",
        "outcome": job.state.value,
        "summary": counts_in_words(numbers),
        "error": _first_line(job.last_error) if job.state is not JobState.DONE else "",
    }


def read_log(
    session: Session, filters: LogFilters, names: dict[int, str]
) -> tuple[list[dict[str, Any]], int]:
    """One page of entries, newest first, and how many entries match in all.

    Both records are read newest first up to the end of the page and merged, so the page is
    exact whatever the mix of runs and jobs."""
    runs, jobs = _sync_query(filters), _job_query(filters)
    wanted = filters.page * PAGE_SIZE
    entries: list[dict[str, Any]] = []
    if runs is not None:
        ordered = runs.order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(wanted)
        entries += [_run_entry(run, names) for run in session.scalars(ordered)]
    if jobs is not None:
        ordered_jobs = jobs.order_by(Job.finished_at.desc(), Job.id.desc()).limit(wanted)
        entries += [_job_entry(job, names) for job in session.scalars(ordered_jobs)]
    entries.sort(key=lambda entry: (entry["at"], entry["source"], entry["id"]), reverse=True)
    start = (filters.page - 1) * PAGE_SIZE
    return entries[start : start + PAGE_SIZE], _count(session, runs) + _count(session, jobs)


# --- routes ----------------------------------------------------------------------------------


@router.get("/logs", response_class=HTMLResponse)
def logs_page(request: Request, context: Context, user: Viewer) -> HTMLResponse:
    """The log with its filters; a bad filter answers 400 naming it and lists nothing."""
    error: FilterError | None = None
    entries: list[dict[str, Any]] = []
    total = 0
    with context.factory() as session:
        choices = account_choices(session)
        try:
            filters = parse_filters(request.query_params, choices)
        except FilterError as exc:
            error = exc
            filters = LogFilters(
                raw=tuple((key, value) for key, value in request.query_params.items())
            )
        else:
            names = {choice.id: choice.name for choice in choices}
            entries, total = read_log(session, filters, names)
    pages = page_count(total, PAGE_SIZE)
    return templates.TemplateResponse(
        request,
        "pages/logs_page.html",
        {
            "user": user,
            "accounts": choices,
            "storefronts": [code.value for code in Storefront],
            "kinds": KINDS,
            "outcomes": OUTCOMES,
            "sources": SOURCES,
            "values": dict(filters.raw),
            "filters": filters,
            "error": error,
            "entries": entries,
            "total": total,
            "page_count": min(pages, MAX_PAGE),
            "page_size": PAGE_SIZE,
        },
        status_code=answer_status(request, 400 if error else 200),
    )


def _detail(request: Request, context: WebContext, source: str, value: str) -> HTMLResponse:
    names: dict[int, str]
    try:
        ident = parse_id(value, "sync run" if source == "sync" else "job")
    except FilterError as exc:
        return _detail_missing(request, str(exc))
    with context.factory() as session:
        names = {choice.id: choice.name for choice in account_choices(session)}
        record: SyncRun | Job | None = (
            session.get(SyncRun, ident) if source == "sync" else session.get(Job, ident)
        )
        if record is None:
            what = "sync run" if source == "sync" else "job"
            return _detail_missing(request, f"{what} {ident} does not exist")
        if isinstance(record, SyncRun):
            counts = [(name, getattr(record, name)) for name in _RUN_COUNTS]
            facts = [
                ("Account", names.get(record.account_id, str(record.account_id))),
                ("Storefront", record.storefront.value),
                ("Kind", record.kind.value + (" (full)" if record.full else "")),
                ("Outcome", record.outcome.value),
                ("Started", when(record.started_at)),
                ("Finished", when(record.finished_at)),
            ]
            error = record.error_summary or ""
        else:
            counts = [
                (str(key), value)
                for key, value in sorted((record.counts or {}).items())
                if isinstance(value, int | float | str)
            ]
            facts = [
                ("Account", names.get(record.account_id, str(record.account_id))),
                ("Kind", record.kind.value),
                ("Trigger", record.trigger.value),
                ("State", record.state.value),
                ("Attempts", f"{record.attempts}/{record.max_attempts}"),
                ("Started", when(record.started_at)),
                ("Finished", when(record.finished_at)),
                ("Duration", "" if record.duration_ms is None else f"{record.duration_ms} ms"),
                ("Worker", record.worker or ""),
            ]
            error = record.last_error or ""
    return templates.TemplateResponse(
        request,
        "pages/logs_detail.html",
        {"source": source, "id": ident, "facts": facts, "counts": counts, "error": error},
    )


def _detail_missing(request: Request, message: str) -> HTMLResponse:
    # 200 with the message: htmx swaps only successful answers into the opened row.
    return templates.TemplateResponse(
        request, "pages/logs_detail.html", {"missing": message, "facts": [], "counts": []}
    )


@router.get("/logs/sync/{run_id}", response_class=HTMLResponse)
def sync_run_detail(request: Request, context: Context, _: Viewer, run_id: str) -> HTMLResponse:
    """One sync run's counts and whole error summary (an htmx fragment)."""
    return _detail(request, context, "sync", run_id)


@router.get("/logs/job/{job_id}", response_class=HTMLResponse)
def job_detail(request: Request, context: Context, _: Viewer, job_id: str) -> HTMLResponse:
    """One job's counts, attempts and whole last error (an htmx fragment)."""
    return _detail(request, context, "job", job_id)

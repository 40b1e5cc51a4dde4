"""Kaufland's push notifications: ``/webhooks/kaufland/{account_name}``.

* ``GET ?mode=subscribe&challenge=X`` answers ``X`` as the whole ``text/plain`` body when the
  account exists (Kaufland's check when a subscription is created or re-pointed), 404 when it
  does not.
* ``POST`` is one event ``{"event_name", "id_message", "resource", "storefront"}``, signed like
  an API request with the account's secret key: ``Shop-Signature`` = hex HMAC-SHA256 of
  ``POST\\n<callback URL>\\n<raw body>\\n<Shop-Timestamp>`` (``sellerapi._signing``).

Checks, in this order, each answered with a problem JSON that never holds a secret: unknown
account 404; missing or malformed ``Shop-Timestamp``/``Shop-Signature``, a timestamp more than
300 s from our clock (a replay, or a wrong clock) or a wrong signature 401; a body that is not
a JSON object with string ``event_name`` and ``id_message`` 400.

Which URL the signature covers: Kaufland signs the callback URL it was given, which this
process cannot see directly behind a proxy. The signature is accepted when it matches any of
(1) the account's ``push_callback_url`` (what ``webhooks subscribe`` registered, so what
Kaufland signs), (2) ``settings.public_url`` + this path (the same URL built the same way, for
an account subscribed by other means) and (3) the URL of the request as it arrived (direct
access, tests). Each is our own address for this one account, so accepting any of them lets
nobody without the secret key in; the timestamp window and the ``id_message`` deduplication
limit replays.

A valid event is recorded as a ``PushEvent`` (unique per account and ``id_message``: Kaufland
delivers at least once) and turned into a job (``EVENT_KINDS``) with trigger ``push``; the answer
is 202 at once, the job runs on a worker. A repeated ``id_message`` answers 200 and queues
nothing new; an event no job is for (e.g. ``buy_box_changed``) is recorded and answered 200.
If queueing fails the answer is 503, so Kaufland delivers again and the repeat queues the job.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from kaufland_sync import metrics
from kaufland_sync.logging import get_logger
from kaufland_sync.sellerapi._signing import sign_request, signatures_match
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import JobKind, JobTrigger, PushEvent
from kaufland_sync.sync.webhooks import CallbackUrlError, callback_url_for
from kaufland_sync.web.deps import WebContext, get_context, problem

__all__ = [
    "EVENT_KINDS",
    "MAX_BODY_BYTES",
    "MAX_CHALLENGE",
    "TIMESTAMP_TOLERANCE",
    "candidate_urls",
    "router",
]

log = get_logger(__name__)

router = APIRouter(prefix="/webhooks/kaufland", tags=["webhooks"])

#: Seconds a ``Shop-Timestamp`` may be away from our clock, either way.
TIMESTAMP_TOLERANCE = 300
#: Push messages are a few hundred bytes; anything this large is not one.
MAX_BODY_BYTES = 64 * 1024
#: Kaufland's challenges are short random strings; a longer one is not echoed.
MAX_CHALLENGE = 1024

#: The job each event calls for. ``item_unit_*`` and ``item_changed`` run the offers push,
#: which compares what Kaufland has with the catalogue (a push Kaufland reports back changes
#: nothing the second time, so this does not loop).
EVENT_KINDS: dict[str, JobKind] = {
    "order_new": JobKind.ORDERS,
    "order_unit_new": JobKind.ORDERS,
    "order_unit_status_changed": JobKind.ORDERS,
    "return_new": JobKind.RETURNS,
    "return_status_changed": JobKind.RETURNS,
    "return_unit_status_changed": JobKind.RETURNS,
    "item_changed": JobKind.OFFERS,
    "item_unit_new": JobKind.OFFERS,
    "item_unit_changed": JobKind.OFFERS,
    "item_unit_deleted": JobKind.OFFERS,
    "item_unit_out_of_stock": JobKind.OFFERS,
    "item_unit_not_available": JobKind.OFFERS,
    "item_unit_available": JobKind.OFFERS,
    "category_changed": JobKind.CATEGORIES,
}

_PROBLEMS = "/problems/webhooks/"
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True)
class _Receiver:
    """The account a receiver path names, with what checking its signatures takes."""

    id: int
    name: str
    secret_key_encrypted: str
    push_callback_url: str | None


def _load_account(context: WebContext, name: str) -> _Receiver | None:
    with context.factory() as session:
        account = session.scalar(select(Account).where(Account.name == name))
        if account is None:
            return None
        return _Receiver(
            account.id, account.name, account.secret_key_encrypted, account.push_callback_url
        )


def _unknown_account(name: str) -> JSONResponse:
    return problem(
        404,
        "Unknown account",
        f"No account named {name!r} receives push notifications here.",
        type_=_PROBLEMS + "unknown-account",
    )


def _unauthorized(detail: str) -> JSONResponse:
    return problem(401, "Invalid signature", detail, type_=_PROBLEMS + "invalid-signature")


def _bad_message(detail: str) -> JSONResponse:
    return problem(400, "Malformed notification", detail, type_=_PROBLEMS + "malformed")


@router.get("/{account_name}", response_model=None)
def challenge(
    account_name: str,
    request: Request,
    mode: str | None = None,
    challenge: str | None = None,
) -> Response:
    """Kaufland's callback check: echo ``challenge`` as the whole body."""
    context = get_context(request)
    if _load_account(context, account_name) is None:
        return _unknown_account(account_name)
    if mode != "subscribe" or not challenge:
        return problem(
            400,
            "Not a subscription check",
            "This address receives Kaufland push notifications; a GET must carry "
            "?mode=subscribe&challenge=...",
            type_=_PROBLEMS + "not-a-challenge",
        )
    if len(challenge) > MAX_CHALLENGE:
        return problem(
            400,
            "Challenge too long",
            f"The challenge is longer than {MAX_CHALLENGE} characters.",
            type_=_PROBLEMS + "not-a-challenge",
        )
    log.info("push subscription check answered", account=account_name)
    return PlainTextResponse(challenge, headers=_NO_STORE)


def candidate_urls(
    *, request_url: str, public_url: str | None, push_callback_url: str | None, account: str
) -> list[str]:
    """The URLs a push for ``account`` may be signed over, in the order they are tried (see
    the module docstring), without repeats."""
    urls: list[str] = []
    if push_callback_url:
        urls.append(push_callback_url)
    if public_url:
        # A public URL Kaufland would refuse cannot be the one it signs.
        with contextlib.suppress(CallbackUrlError):
            urls.append(callback_url_for(public_url, account))
    urls.append(request_url)
    return list(dict.fromkeys(urls))


def _request_url(request: Request) -> str:
    """The request's URL as the sender wrote it: scheme and Host header, and the path as
    raw bytes (Starlette's ``request.url`` holds the *decoded* path; a signature covers the
    encoded one)."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.url.query
    return f"{request.url.scheme}://{request.url.netloc}{path}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class _Message:
    event_name: str
    id_message: str
    resource: str | None
    storefront: str | None


def _parse(body: bytes) -> _Message | str:
    """The push message, or what is wrong with it."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "The body is not valid JSON."
    if not isinstance(data, dict):
        return "The body must be a JSON object."
    fields: dict[str, str | None] = {}
    for name, required, longest in (
        ("event_name", True, 64),
        ("id_message", True, 255),
        ("resource", False, 500),
        ("storefront", False, 8),
    ):
        value = data.get(name)
        if value is None and not required:
            fields[name] = None
            continue
        if not isinstance(value, str) or not value.strip():
            return f"{name!r} must be a non-empty string."
        if len(value) > longest:
            return f"{name!r} is longer than {longest} characters."
        fields[name] = value
    return _Message(
        event_name=str(fields["event_name"]),
        id_message=str(fields["id_message"]),
        resource=fields["resource"],
        storefront=fields["storefront"],
    )


def _check_signature(
    context: WebContext, account: _Receiver, request_url: str, headers: dict[str, str], body: bytes
) -> JSONResponse | None:
    """None when the request is Kaufland's, else the 401 (or 500) to answer."""
    stamp = headers.get("shop-timestamp", "").strip()
    signature = headers.get("shop-signature", "").strip()
    if not stamp or not signature:
        return _unauthorized("The Shop-Timestamp and Shop-Signature headers are required.")
    try:
        timestamp = int(stamp)
    except ValueError:
        return _unauthorized("Shop-Timestamp must be a Unix time in seconds.")
    skew = abs(context.clock().timestamp() - timestamp)
    if skew > TIMESTAMP_TOLERANCE:
        return _unauthorized(
            f"Shop-Timestamp is {int(skew)} s away from this server's clock (at most "
            f"{TIMESTAMP_TOLERANCE} s allowed): a replayed message, or a clock to correct."
        )
    from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError

    try:
        secret = context.secret_box().decrypt(account.secret_key_encrypted, account=account.name)
    except (MasterKeyError, SecretDecryptionError) as exc:
        # The message names the account and the remedy, never the key.
        log.error("push signature cannot be checked", account=account.name, error=str(exc))
        return problem(
            500,
            "Cannot check signatures",
            "This server cannot read the account's secret key; see its log.",
            type_=_PROBLEMS + "secret-unavailable",
        )
    urls = candidate_urls(
        request_url=request_url,
        public_url=context.settings.public_url,
        push_callback_url=account.push_callback_url,
        account=account.name,
    )
    for url in urls:
        if signatures_match(sign_request("POST", url, body, stamp, secret), signature):
            return None
    log.warning("push with a wrong signature refused", account=account.name, urls=urls)
    return _unauthorized(
        "Shop-Signature does not match: the message was not signed with this account's "
        "secret key for this callback URL."
    )


def _count(event_name: str) -> None:
    """Count the event for /metrics (known names only, so labels stay few)."""
    label = event_name if event_name in EVENT_KINDS else "other"
    metrics.PUSH_EVENTS.labels(event=label).inc()


@dataclass(frozen=True)
class _Recorded:
    event_id: int
    job_id: int | None
    new: bool


def _record(context: WebContext, account_id: int, message: _Message, now: datetime) -> _Recorded:
    """Store the event unless it is a repeat. A concurrent delivery of the same message may
    insert first: the unique constraint decides, and the loser reads the winner's row."""
    where = (PushEvent.account_id == account_id, PushEvent.id_message == message.id_message)
    with context.factory() as session:
        found = session.scalar(select(PushEvent).where(*where))
        if found is not None:
            return _Recorded(found.id, found.job_id, new=False)
        event = PushEvent(
            account_id=account_id,
            id_message=message.id_message,
            event_name=message.event_name,
            resource=message.resource,
            storefront=message.storefront,
            received_at=now,
        )
        session.add(event)
        try:
            session.flush()
            recorded = _Recorded(event.id, None, new=True)
            session.commit()
        except IntegrityError:
            session.rollback()
            found = session.scalars(select(PushEvent).where(*where)).one()
            return _Recorded(found.id, found.job_id, new=False)
        return recorded


def _link(context: WebContext, event_id: int, job_id: int) -> None:
    with context.factory() as session:
        event = session.get(PushEvent, event_id)
        if event is not None:
            event.job_id = job_id
            session.commit()


def _handle(
    context: WebContext,
    account_name: str,
    request_url: str,
    headers: dict[str, str],
    body: bytes,
) -> Response:
    """Everything after reading the body (blocking database work: runs in a thread)."""
    account = _load_account(context, account_name)
    if account is None:
        return _unknown_account(account_name)
    refused = _check_signature(context, account, request_url, headers, body)
    if refused is not None:
        return refused
    parsed = _parse(body)
    if isinstance(parsed, str):
        return _bad_message(parsed)
    recorded = _record(context, account.id, parsed, context.clock())
    kind = EVENT_KINDS.get(parsed.event_name)
    answer: dict[str, Any] = {
        "id_message": parsed.id_message,
        "event_name": parsed.event_name,
        "job_kind": None if kind is None else kind.value,
        "job_id": recorded.job_id,
    }
    if recorded.new:
        _count(parsed.event_name)
    # A repeat whose first delivery could not queue its job (job_id still empty) queues it now.
    if kind is None or recorded.job_id is not None:
        status = "ignored" if recorded.new else "duplicate"
        log.info("push event", account=account.name, event_name=parsed.event_name, outcome=status)
        return JSONResponse({"status": status, **answer}, status_code=200)
    try:
        submitted = context.queue.submit(account_id=account.id, kind=kind, trigger=JobTrigger.PUSH)
    except Exception as exc:
        log.error(
            "push event could not be queued",
            account=account.name,
            event_name=parsed.event_name,
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
        return problem(
            503,
            "Cannot queue the job",
            "The event was received but its job could not be queued; deliver it again.",
            type_=_PROBLEMS + "queue-unavailable",
        )
    try:
        _link(context, recorded.event_id, submitted.job_id)
    except Exception as exc:
        # The job is queued, which is what matters; a redelivery would find it pending.
        log.warning(
            "push event not linked to its job",
            account=account.name,
            job_id=submitted.job_id,
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
    answer["job_id"] = submitted.job_id
    log.info(
        "push event",
        account=account.name,
        event_name=parsed.event_name,
        outcome="queued",
        job_id=submitted.job_id,
        new_job=submitted.created,
    )
    return JSONResponse({"status": "accepted", **answer}, status_code=202)


@router.post("/{account_name}", response_model=None)
async def receive(account_name: str, request: Request) -> Response:
    """One push notification (see the module docstring). Answers within milliseconds: the
    job runs later on a worker (Kaufland wants a 2xx within 5 s)."""
    context = get_context(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _bad_message(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _bad_message(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    headers = {k.lower(): v for k, v in request.headers.items()}
    return await run_in_threadpool(
        _handle, context, account_name, _request_url(request), headers, body
    )

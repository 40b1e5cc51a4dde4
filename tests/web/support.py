"""Helpers for tests of the web process: a recording job queue, an account whose secret key
is really encrypted (the receiver decrypts it), signing a push as the sandbox does, the app
served by uvicorn on a free loopback port (for Kaufland's - the sandbox's - requests), SQLite
stores copied from one migrated once, and - for the tests of the pages - the whole app
(``ui=True``) with users, signing in (through the login form or a test-only route) and the
session's CSRF token.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from fastapi import APIRouter, FastAPI, Request
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.secrets import secret_box
from kaufland_sync.sellerapi._signing import sign_request
from kaufland_sync.store.db import create_db_engine, session_factory, transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import JobKind, JobTrigger
from kaufland_sync.web import auth
from kaufland_sync.web.app import create_app
from kaufland_sync.web.auth import create_user, find_user, start_session
from kaufland_sync.web.deps import get_context
from tests.builders import migrated_store, new_account

__all__ = [
    "PASSWORD",
    "STAFF",
    "LiveApp",
    "RecordingQueue",
    "Submit",
    "add_push_account",
    "add_users",
    "client_of",
    "copied_store",
    "csrf_in",
    "direct_sign_in",
    "migrate_template",
    "page_app",
    "settings_for",
    "sign_in",
    "signed_headers",
    "use_cheap_hashing",
]


#: The password of the users :func:`add_users` creates.
PASSWORD = "a long enough password"
#: (name, role) of the users the page tests sign in as, one per role.
STAFF = (("vera", "viewer"), ("otto", "operator"), ("ada", "admin"))

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Submit:
    account_id: int
    kind: JobKind
    trigger: JobTrigger
    job_id: int
    created: bool


@dataclass
class RecordingQueue:
    """Stands in for ``JobQueue``: writes the ledger job (so ids are real rows) and records
    each submit instead of sending a message. ``broken`` makes submits raise."""

    factory: sessionmaker[Session]
    clock: Any
    submits: list[Submit] = field(default_factory=list)
    pending: int = 0
    broken: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(
        self,
        *,
        account_id: int,
        kind: JobKind,
        trigger: JobTrigger,
        not_before: datetime | None = None,
    ) -> ledger.Enqueued:
        if self.broken:
            raise ConnectionError("queue unavailable")
        with self.factory() as session:
            result = ledger.enqueue(
                session,
                account_id=account_id,
                kind=kind,
                trigger=trigger,
                now=self.clock(),
                not_before=not_before,
            )
            session.commit()
        with self._lock:
            self.submits.append(Submit(account_id, kind, trigger, result.job_id, result.created))
        return result

    def pending_count(self) -> int:
        if self.broken:
            raise ConnectionError("queue unavailable")
        return self.pending


def settings_for(data_dir: Any, **values: Any) -> Settings:
    """Settings in ``data_dir`` with a master key of their own (no key file written)."""
    key = SecretStr(Fernet.generate_key().decode())
    return Settings(data_dir=data_dir, master_key=key, **values)


def migrate_template(path: Path) -> Path:
    """A migrated, empty SQLite store at ``path``, to be copied by :func:`copied_store`."""
    with migrated_store(f"sqlite:///{path}"):
        pass  # disposing the engine checkpoints the WAL into the file
    return path


@contextmanager
def copied_store(template: Path, path: Path) -> Iterator[sessionmaker[Session]]:
    """A session factory on a copy, at ``path``, of the migrated SQLite store ``template``
    (running the migrations costs about a second; copying the file, nothing). The engine is
    disposed on exit."""
    shutil.copyfile(template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def add_push_account(
    factory: sessionmaker[Session],
    settings: Settings,
    name: str = "shop",
    *,
    client_key: str | None = None,
    secret: str = "push_secret_" + "s" * 40,
    base_url: str = "http://localhost",
    push_callback_url: str | None = None,
    storefronts: tuple[str, ...] = ("de",),
) -> Account:
    """An account whose secret key is encrypted with ``settings``' master key."""
    with transaction(factory) as session:
        account = new_account(
            session, name, client_key=client_key, base_url=base_url, storefronts=storefronts
        )
        account.secret_key_encrypted = secret_box(settings).encrypt(secret)
        account.push_callback_url = push_callback_url
        return account


def signed_headers(url: str, body: bytes, timestamp: int, secret: str) -> dict[str, str]:
    """The headers the sandbox's notifier (and Kaufland) send with a push."""
    return {
        "Content-Type": "application/json",
        "Shop-Timestamp": str(timestamp),
        "Shop-Signature": sign_request("POST", url, body, timestamp, secret),
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveApp:
    """``app`` served by uvicorn on ``127.0.0.1:<free port>`` in a background thread, so that
    the sandbox (another thread, real HTTP) can reach it. ``url`` has no trailing slash."""

    def __init__(self, app: FastAPI, *, start_timeout: float = 10.0) -> None:
        self.app = app
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._start_timeout = start_timeout

    def start(self) -> LiveApp:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve()), name="web-app", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._thread = None

    def __enter__(self) -> LiveApp:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --- the pages: the whole app, users, signing in -------------------------------------------------


def use_cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with small parameters (the defaults cost ~50 ms and 64 MiB per hash), no session
    secret from the environment. tests/web/conftest.py's ``cheap_hashing`` fixture calls it."""
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))
    monkeypatch.setattr(auth, "_dummy_hash", None)
    monkeypatch.delenv(auth.SESSION_SECRET_ENV, raising=False)


def add_users(
    store: sessionmaker[Session],
    users: Iterable[tuple[str, str]] = STAFF,
    password: str = PASSWORD,
) -> None:
    """Users (name, role), all with ``password``: by default :data:`STAFF`."""
    with transaction(store) as session:
        for name, role in users:
            create_user(session, name, role, password)


def page_app(
    settings: Settings,
    store: sessionmaker[Session],
    clock: Callable[[], datetime],
    queue: RecordingQueue | None = None,
    *,
    routers: Iterable[APIRouter] = (),
) -> FastAPI:
    """The app as ``kaufland-sync run`` serves it (``ui=True``) on ``store`` at ``clock``'s
    time, submitting to ``queue`` (default: a new :class:`RecordingQueue`)."""
    return create_app(
        settings,
        factory=store,
        queue=queue if queue is not None else RecordingQueue(store, clock),
        clock=clock,
        routers=routers,
        ui=True,
    )


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of ``app`` with cookies of its own, inside the app's lifespan (so
    what the app opens at startup is closed when the block ends)."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


#: ``GET /test/sign-in/{name}`` starts a session for ``name`` without the login form (whose own
#: tests are elsewhere), at the app's clock: include it in an app with ``routers=``.
direct_sign_in = APIRouter()


@direct_sign_in.get("/test/sign-in/{name}")
def _direct_sign_in(name: str, request: Request) -> dict[str, str]:
    context = get_context(request)
    with context.factory() as session:
        user = find_user(session, name)
    assert user is not None, name
    start_session(request, user, context.clock())
    return {"signed_in": name}


def csrf_in(html: str) -> str:
    """The CSRF token a page carries: the layout's ``<meta name="csrf-token">``, or a form's
    hidden ``csrf_token`` field (the login form)."""
    found = _CSRF_META.search(html) or _CSRF_INPUT.search(html)
    assert found is not None, html[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> str:
    """Sign ``name`` in through the login form; the session's new CSRF token (signing in
    renews it), read off the dashboard."""
    form = await client.get("/login")
    answer = await client.post(
        "/login", data={"name": name, "password": password, "csrf_token": csrf_in(form.text)}
    )
    assert answer.status_code == 303, answer.text
    return csrf_in((await client.get("/")).text)

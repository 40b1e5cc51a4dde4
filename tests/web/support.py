"""Helpers for tests of the web process: a recording job queue, an account whose secret key
is really encrypted (the receiver decrypts it), signing a push as the sandbox does, and the app
served by uvicorn on a free loopback port (for Kaufland's - the sandbox's - requests).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.jobs import ledger
from kaufland_sync.secrets import secret_box
from kaufland_sync.sellerapi._signing import sign_request
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.accounts import Account
from kaufland_sync.store.models.jobs import JobKind, JobTrigger
from tests.builders import new_account

__all__ = [
    "LiveApp",
    "RecordingQueue",
    "Submit",
    "add_push_account",
    "settings_for",
    "signed_headers",
]


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

"""One settings object for the whole program, read from ``KAUFLAND_SYNC_*`` environment variables.

Nothing is read at import time: entry points call ``Settings()`` (or ``load_settings()``) once and
pass the object down. Everything the program keeps on disk lives under ``data_dir``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir", "load_settings"]


def default_data_dir() -> Path:
    """Per-user data folder: ``$XDG_DATA_HOME/kaufland-sync`` (``~/.local/share/kaufland-sync``),
    ``%APPDATA%\\kaufland-sync`` on Windows, ``~/Library/Application Support`` on macOS."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "kaufland-sync"


class Settings(BaseSettings):
    """Validated configuration. Field ``x`` is read from ``KAUFLAND_SYNC_X``."""

    model_config = SettingsConfigDict(env_prefix="KAUFLAND_SYNC_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    # SQLAlchemy URL; default: a SQLite file in data_dir. PostgreSQL:
    # postgresql+psycopg://user:password@host:5432/kaufland_sync
    database_url: str | None = None
    # Base64 (urlsafe) 32-byte key for secrets at rest; default: data_dir/master.key, created
    # with mode 0600 on first use.
    master_key: SecretStr | None = None
    # Key (at least 32 characters) that signs the web app's session cookies; default:
    # data_dir/session.key, created with mode 0600 on first use. Set it when several web
    # processes serve behind one load balancer, so a session signed by one is valid on all.
    session_secret: SecretStr | None = None
    # Level of the engine's log lines on stderr (DEBUG, INFO, WARNING, ERROR); every command's
    # --log-level option reads the same variable and wins when given.
    log_level: str = "WARNING"
    # Job queue: unset = a SQLite-backed Huey queue in data_dir (one machine); ``redis://...`` =
    # a Redis-backed queue shared by workers on many machines. With Redis, the per-client-key
    # rate limit is shared through the same server.
    queue_url: str | None = None
    # The address Kaufland reaches this service at (for push notification subscriptions), e.g.
    # https://sync.example.com; the webhook path is appended.
    public_url: str | None = None
    # Requests per second per client key (Kaufland allows 111).
    rate_limit: float = 111.0
    # Seconds a running job's lock lasts without a heartbeat (renewed every quarter of it): how
    # long a job of a crashed worker waits before the scheduler's recovery runs it again.
    job_lease_seconds: float = Field(default=60.0, ge=4.0, le=3600.0)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'kaufland-sync.db'}"

    @property
    def resolved_queue_url(self) -> str:
        """``redis://...`` as given, or ``sqlite:///<data_dir>/queue.db``."""
        if self.queue_url:
            return self.queue_url
        return f"sqlite:///{self.data_dir / 'queue.db'}"

    @property
    def master_key_file(self) -> Path:
        return self.data_dir / "master.key"


def load_settings() -> Settings:
    """Read the settings from the environment (called by entry points, never at import)."""
    return Settings()

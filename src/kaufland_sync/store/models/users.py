"""Who may use the web app and the REST API: users, their API tokens, and failed logins.

* a :class:`User` signs in to the web app with a name and a password (only its argon2 hash is
  kept) and has one :class:`Role`; roles are ordered, viewer < operator < admin, and a page or
  route asks for a minimum role;
* an :class:`ApiToken` lets a program call the REST API as its user. Only the token's SHA-256
  is stored (the token is shown once, when it is created); ``prefix`` (its first characters)
  is kept in clear so people can tell their tokens apart. A revoked token stays, with
  ``revoked_at`` set, so the list shows what was revoked and when;
* a :class:`LoginFailure` is one failed login, by the name typed and the client's address;
  counting recent rows throttles password guessing (``kaufland_sync.web.auth``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kaufland_sync.store.base import Base, utc_now
from kaufland_sync.store.types import StrEnumType, check_in

__all__ = ["ApiToken", "LoginFailure", "Role", "User"]


class Role(enum.StrEnum):
    """What a user may do: ``viewer`` looks, ``operator`` also acts (ship, push, retry),
    ``admin`` also manages accounts, settings and users."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class User(Base):
    """A person (or a program's owner) who signs in. ``name`` is unique as typed (case
    matters); an inactive user can neither sign in nor use their tokens."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(check_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, name={self.name!r}, role={self.role!r})"


class ApiToken(Base):
    """A REST API token of one user. ``token_hash`` is the hex SHA-256 of the whole token (the
    token is random enough that a slow hash adds nothing); ``prefix`` is its first 8
    characters, shown in lists."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        # Never the hash: a repr ends up in logs.
        return f"ApiToken(id={self.id!r}, user_id={self.user_id!r}, prefix={self.prefix!r})"


class LoginFailure(Base):
    """One failed login: the name typed (which need not be a user) and the client's address.
    Rows older than the throttling window are deleted as new ones are written."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_name_failed_at", "name", "failed_at"),
        Index("ix_login_failures_ip_failed_at", "ip", "failed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"LoginFailure(name={self.name!r}, ip={self.ip!r}, failed_at={self.failed_at!r})"

"""Access to the web app and the REST API: users and passwords, API tokens, sessions, CSRF and
login throttling.

* Passwords are hashed with argon2id (``argon2-cffi``'s defaults); a hash made with weaker
  parameters is re-hashed at the next successful login.
* The web app's session is a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous):
  ``ks_session``, HttpOnly, SameSite=Lax, Secure when ``public_url`` is https, valid 12 hours
  from login. It holds the user's id, a marker of their password hash (changing the password
  or deactivating the user ends every session), the login time and a CSRF token. The signing
  secret is ``KAUFLAND_SYNC_SESSION_SECRET`` or ``data_dir/session.key`` (made on first use,
  mode 0600), so sessions survive restarts and are shared by every web process.
* Every unsafe request of the HTML app (POST, PUT, PATCH, DELETE) must carry the session's CSRF
  token, as header ``X-CSRF-Token`` (htmx) or form field ``csrf_token`` (:func:`verify_csrf`).
  The login form has one too: ``GET /login`` puts a token in a session before anyone signs in.
* REST API calls send ``Authorization: Bearer ks_...``; only the token's SHA-256 is stored.
* Logins are throttled: after :data:`NAME_FAILURES` failures for a name, or :data:`IP_FAILURES`
  from one address, within :data:`THROTTLE_WINDOW`, further attempts are refused without looking
  at the password until the oldest failure ages out. A success clears the name's failures.

Nothing here logs or stores a password or a token in clear.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import os
import re
import secrets
import string
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode, urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from starlette.middleware.sessions import SessionMiddleware

from kaufland_sync.logging import get_logger
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.models.users import ApiToken, LoginFailure, Role, User
from kaufland_sync.web.deps import get_context, problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.config import Settings

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "IP_FAILURES",
    "MIN_PASSWORD_LENGTH",
    "NAME_FAILURES",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE",
    "SESSION_SECRET_ENV",
    "THROTTLE_WINDOW",
    "TOKEN_PREFIX",
    "ApiPrincipal",
    "AuthRefusal",
    "LoginResult",
    "Role",
    "SessionKeyError",
    "UserError",
    "attempt_login",
    "authenticate_token",
    "create_user",
    "csrf_token",
    "current_user",
    "end_session",
    "ensure_first_admin",
    "generate_password",
    "hash_password",
    "install_auth",
    "is_safe_next",
    "issue_token",
    "needs_rehash",
    "require_token",
    "require_user",
    "revoke_token",
    "session_secret",
    "set_password",
    "start_session",
    "verify_csrf",
    "verify_password",
]

log = get_logger(__name__)

SESSION_COOKIE = "ks_session"
SESSION_MAX_AGE = 12 * 60 * 60  # seconds
SESSION_SECRET_ENV = "KAUFLAND_SYNC_SESSION_SECRET"  # noqa: S105 - a variable's name
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
MIN_PASSWORD_LENGTH = 12
# argon2 accepts any length; a cap keeps one request from costing a lot of hashing input.
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "ks_"  # noqa: S105 - what every token starts with
SHOWN_PREFIX_LENGTH = 8
THROTTLE_WINDOW = timedelta(minutes=15)
NAME_FAILURES = 5
IP_FAILURES = 20

# Session keys.
_USER_ID = "uid"
_PASSWORD_MARKER = "pw"  # noqa: S105 - a session key's name
_LOGIN_AT = "at"
_CSRF = "csrf"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# Letters and digits only: a generated password is read off a terminal and typed again.
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
# How stale ``ApiToken.last_used_at`` may get: writing it on every API call would make every
# read a write (and serialise callers on SQLite) for a value people read in minutes.
_LAST_USED_RESOLUTION = timedelta(minutes=1)

#: The password hasher; tests may swap in one with cheaper parameters.
HASHER = PasswordHasher()


class UserError(ValueError):
    """A user or token request that cannot be done (bad name, short password, unknown user,
    duplicate); the message is meant for the person who asked."""


class SessionKeyError(RuntimeError):
    """The session secret is missing, too short or readable by others."""


# ---------------------------------------------------------------------------------------------
# Passwords


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; encodes its own parameters)."""
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed hash never matches."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether ``password_hash`` was made with other parameters than :data:`HASHER`'s."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


_dummy_hash: str | None = None


def _burn_verification(password: str) -> None:
    """Spend the time of one verification, so an unknown name answers as slowly as a wrong
    password (the timing must not tell which names exist)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    verify_password(_dummy_hash, password)


def generate_password(length: int = 20) -> str:
    """A random password of letters and digits (about 5.95 bits per character)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")


def _password_marker(password_hash: str) -> str:
    # Kept in the session cookie (signed, not encrypted): a digest of the hash reveals nothing
    # useful, and it changes whenever the password does.
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Users


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise UserError(
            f"{name!r} is not a valid user name (1-64 letters, digits and . _ @ -, "
            "starting with a letter or digit)"
        )


def find_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def create_user(session: Session, name: str, role: Role | str, password: str) -> User:
    """A new active user (flushed, so it has an id). Raises :class:`UserError` for an invalid
    name or role, a password shorter than :data:`MIN_PASSWORD_LENGTH`, or a taken name."""
    _check_name(name)
    try:
        parsed = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise UserError(f"{role!r} is not a role (one of {choices})") from None
    _check_password(password)
    if find_user(session, name) is not None:
        raise UserError(f"a user named {name!r} exists already")
    user = User(name=name, role=parsed, password_hash=hash_password(password), active=True)
    session.add(user)
    session.flush()
    log.info("user created", user=name, role=parsed.value)
    return user


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password; every session of theirs ends (their marker changes)."""
    _check_password(password)
    user.password_hash = hash_password(password)


def ensure_first_admin(factory: sessionmaker[Session]) -> str | None:
    """If the store has no user at all, create ``admin`` (role admin) with a random
    20-character password and return that password, to be shown once; otherwise ``None``.

    Safe to call from several processes at once: only one creates the user, the others get
    ``None``.
    """
    password = generate_password(20)
    try:
        with factory() as session, session.begin():
            if session.scalar(select(func.count()).select_from(User)):
                return None
            create_user(session, "admin", Role.ADMIN, password)
    except IntegrityError:  # another process created it between our count and insert
        return None
    return password


# ---------------------------------------------------------------------------------------------
# API tokens


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling the REST API: a user, through one of their tokens."""

    user_id: int
    user_name: str
    role: Role
    token_id: int
    token_prefix: str

    def allows(self, needed: Role | str) -> bool:
        return self.role.allows(Role(needed))


def _token_hash(raw: str) -> str:
    # A plain SHA-256 suffices: the token carries 256 random bits, nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str, *, now: datetime | None = None) -> str:
    """A new API token for ``user`` labelled ``name``; returns the token, which is not stored
    and cannot be shown again."""
    label = name.strip()
    if not label or len(label) > 64:
        raise UserError("a token needs a name of 1-64 characters")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            name=label,
            token_hash=_token_hash(raw),
            prefix=raw[:SHOWN_PREFIX_LENGTH],
            created_at=now or utc_now(),
        )
    )
    session.flush()
    log.info("api token created", user=user.name, token=raw[:SHOWN_PREFIX_LENGTH])
    return raw


def revoke_token(
    session: Session, user: User, prefix: str, *, now: datetime | None = None
) -> ApiToken:
    """Revoke the live token of ``user`` shown as ``prefix`` (or given whole). Raises
    :class:`UserError` when none or more than one token matches."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if len(prefix) > SHOWN_PREFIX_LENGTH:
        query = query.where(ApiToken.token_hash == _token_hash(prefix))
    else:
        query = query.where(ApiToken.prefix == prefix)
    found = list(session.scalars(query))
    if not found:
        raise UserError(f"{user.name} has no active token {prefix[:SHOWN_PREFIX_LENGTH]!r}")
    if len(found) > 1:
        raise UserError(
            f"{user.name} has {len(found)} tokens starting {prefix!r}; revoke by the whole token"
        )
    token = found[0]
    token.revoked_at = now or utc_now()
    log.info("api token revoked", user=user.name, token=token.prefix)
    return token


def authenticate_token(
    session: Session, raw: str, *, now: datetime | None = None
) -> ApiPrincipal | None:
    """The principal of a live token of an active user, or ``None``. Notes the use in
    ``last_used_at`` (at most once a minute); the caller commits."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(raw))
    ).one_or_none()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = now or utc_now()
    if token.last_used_at is None or now - token.last_used_at >= _LAST_USED_RESOLUTION:
        token.last_used_at = now
    return ApiPrincipal(
        user_id=token.user.id,
        user_name=token.user.name,
        role=token.user.role,
        token_id=token.id,
        token_prefix=token.prefix,
    )


# ---------------------------------------------------------------------------------------------
# Logins and throttling


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: ``user`` when it succeeded; ``retry_after`` (seconds)
    when it was refused unchecked because of too many recent failures."""

    user: User | None = None
    retry_after: int | None = None


def _retry_after(times: list[datetime], limit: int, now: datetime) -> int | None:
    """Seconds until fewer than ``limit`` of the failures at ``times`` (oldest first, all in
    the window) remain in the window, or ``None`` when there are fewer already."""
    if len(times) < limit:
        return None
    releasing = times[len(times) - limit]
    return max(1, math.ceil((releasing + THROTTLE_WINDOW - now).total_seconds()))


def throttled(session: Session, name: str, ip: str, now: datetime) -> int | None:
    """Seconds to wait before ``name`` may try again from ``ip``, or ``None`` if it may now."""
    since = now - THROTTLE_WINDOW
    by_name = list(
        session.scalars(
            select(LoginFailure.failed_at)
            .where(LoginFailure.name == name[:64], LoginFailure.failed_at > since)
            .order_by(LoginFailure.failed_at)
        )
    )
    by_ip = list(
        session.scalars(
            select(LoginFailure.failed_at)
            .where(LoginFailure.ip == ip[:64], LoginFailure.failed_at > since)
            .order_by(LoginFailure.failed_at)
        )
    )
    waits = [
        wait
        for wait in (
            _retry_after(by_name, NAME_FAILURES, now),
            _retry_after(by_ip, IP_FAILURES, now),
        )
        if wait is not None
    ]
    return max(waits) if waits else None


def _record_failure(session: Session, name: str, ip: str, now: datetime) -> None:
    # Old rows are of no further use; deleting them here keeps the table small without a job.
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - THROTTLE_WINDOW))
    session.add(LoginFailure(name=name[:64], ip=ip[:64], failed_at=now))


def attempt_login(
    session: Session, *, name: str, password: str, ip: str, now: datetime
) -> LoginResult:
    """Check ``name`` and ``password`` from the client at ``ip``; the caller commits.

    Refused unchecked while throttled; a failure is recorded; a success clears the name's
    failures, notes ``last_login_at`` and re-hashes a password hashed with old parameters.
    """
    wait = throttled(session, name, ip, now)
    if wait is not None:
        log.warning("login throttled", user=name[:64], ip=ip, retry_after=wait)
        return LoginResult(retry_after=wait)
    user = find_user(session, name) if len(password) <= MAX_PASSWORD_LENGTH else None
    if user is None or not user.active:
        _burn_verification(password[:MAX_PASSWORD_LENGTH])
        _record_failure(session, name, ip, now)
        log.warning("login failed", user=name[:64], ip=ip)
        return LoginResult()
    if not verify_password(user.password_hash, password):
        _record_failure(session, name, ip, now)
        log.warning("login failed", user=name, ip=ip)
        return LoginResult()
    session.execute(delete(LoginFailure).where(LoginFailure.name == name))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    log.info("login", user=name, ip=ip)
    return LoginResult(user=user)


# ---------------------------------------------------------------------------------------------
# Sessions and CSRF


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made when the session has none yet (templates put it in a
    meta tag and in forms)."""
    token = request.session.get(_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF] = token
    return token


def start_session(request: Request, user: User, now: datetime) -> None:
    """Sign ``user`` in on this request's session. Whatever the session held before is
    dropped and the CSRF token renewed, so a token planted before login is worthless."""
    request.session.clear()
    request.session.update(
        {
            _USER_ID: user.id,
            _PASSWORD_MARKER: _password_marker(user.password_hash),
            _LOGIN_AT: int(now.timestamp()),
            _CSRF: secrets.token_urlsafe(32),
        }
    )
    request.state.kaufland_user = user


def end_session(request: Request) -> None:
    """Sign out: the session cookie is deleted."""
    request.session.clear()
    request.state.kaufland_user = None


def current_user(request: Request) -> User | None:
    """FastAPI dependency: the signed-in, active user of this request, or ``None``. A session
    that is too old, or whose user was removed, deactivated or given a new password, is
    ended."""
    with contextlib.suppress(AttributeError):
        cached: User | None = request.state.kaufland_user
        return cached
    user = _session_user(request)
    request.state.kaufland_user = user
    return user


def _session_user(request: Request) -> User | None:
    user_id = request.session.get(_USER_ID)
    if not isinstance(user_id, int):
        return None
    context = get_context(request)
    login_at = request.session.get(_LOGIN_AT)
    age = context.clock().timestamp() - login_at if isinstance(login_at, int) else None
    user = None
    if age is not None and -60 <= age <= SESSION_MAX_AGE:  # a minute of clock skew is fine
        with context.factory() as session:
            user = session.get(User, user_id)
    if (
        user is None
        or not user.active
        or request.session.get(_PASSWORD_MARKER) != _password_marker(user.password_hash)
    ):
        request.session.clear()
        return None
    return user


class AuthRefusal(Exception):
    """Raised by the dependencies here to answer with ``response`` at once (a redirect to
    the login page, a 401/403); :func:`install_auth` registers the handler."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _refusal_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthRefusal)
    return exc.response


def is_safe_next(target: str | None) -> bool:
    """Whether ``target`` is a path on this site to send a browser to after login: it starts
    with one ``/``, names no scheme or host, and has no backslash or control character (which
    browsers may read as ``//other.host``)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _login_url(next_path: str) -> str:
    if not is_safe_next(next_path) or next_path == "/":
        return "/login"
    return "/login?" + urlencode({"next": next_path})


def _page_path(request: Request) -> str:
    """The page to come back to after login: for htmx requests the page the browser shows
    (``HX-Current-URL``), otherwise the requested one."""
    current = request.headers.get("hx-current-url")
    if current:
        parts = urlsplit(current)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if is_safe_next(path):
            return path
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def require_user(min_role: Role | str = Role.VIEWER) -> Callable[..., User]:
    """FastAPI dependency factory for HTML pages and htmx endpoints: the signed-in user with at
    least ``min_role``. Without a session: a 303 redirect to ``/login?next=<page>``, or for
    htmx requests (``HX-Request`` header) 401 with ``HX-Redirect`` to that address, since
    htmx would swap a redirected login page into the page. Role too low: 403."""
    needed = Role(min_role)

    def dependency(request: Request, user: Annotated[User | None, Depends(current_user)]) -> User:
        if user is None:
            target = _login_url(_page_path(request))
            if request.headers.get("hx-request"):
                raise AuthRefusal(
                    Response(status_code=401, headers={"HX-Redirect": target, "Vary": "HX-Request"})
                )
            raise AuthRefusal(RedirectResponse(target, status_code=303))
        if not user.role.allows(needed):
            raise AuthRefusal(
                HTMLResponse(
                    "<!doctype html><title>Forbidden</title><h1>Forbidden</h1>"
                    f"<p>This needs the role {needed.value}; you are {user.role.value}.</p>",
                    status_code=403,
                )
            )
        return user

    return dependency


# Declared through FastAPI's HTTPBearer so the OpenAPI document shows the bearer scheme; we
# answer missing credentials ourselves (auto_error=False) with problem JSON.
_bearer = HTTPBearer(auto_error=False, scheme_name="token", description="An API token: ks_...")


def require_token(min_role: Role | str = Role.VIEWER) -> Callable[..., ApiPrincipal]:
    """FastAPI dependency factory for the REST API: the caller of ``Authorization: Bearer
    <token>`` with at least ``min_role``. No, wrong or revoked token, or an inactive user: 401
    problem+json with ``WWW-Authenticate: Bearer``; role too low: 403 problem+json."""
    needed = Role(min_role)

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiPrincipal:
        principal = None
        if credentials is not None:
            context = get_context(request)
            with context.factory() as session, session.begin():
                principal = authenticate_token(
                    session, credentials.credentials, now=context.clock()
                )
        if principal is None:
            answer = problem(
                401, "Unauthorized", "This needs a valid API token: Authorization: Bearer ks_..."
            )
            answer.headers["WWW-Authenticate"] = 'Bearer realm="kaufland-sync"'
            raise AuthRefusal(answer)
        if not principal.allows(needed):
            raise AuthRefusal(
                problem(
                    403,
                    "Forbidden",
                    f"This needs the role {needed.value}; the token's user is "
                    f"{principal.role.value}.",
                )
            )
        return principal

    return dependency


async def verify_csrf(request: Request) -> None:
    """FastAPI dependency for every unsafe HTML form or htmx request: the session's CSRF token
    must come back as header ``X-CSRF-Token`` or form field ``csrf_token``; 403 otherwise."""
    if request.method in _SAFE_METHODS:
        return
    if not await csrf_matches(request):
        raise AuthRefusal(
            HTMLResponse(
                "<!doctype html><title>Forbidden</title><h1>Forbidden</h1>"
                "<p>The form has expired or did not come from this site. Reload the page and"
                " try again.</p>",
                status_code=403,
            )
        )


async def csrf_matches(request: Request) -> bool:
    """Whether the request carries this session's CSRF token (header or form field)."""
    expected = request.session.get(_CSRF)
    if not isinstance(expected, str) or not expected:
        return False
    sent: Any = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str):
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


# ---------------------------------------------------------------------------------------------
# Installing


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies: ``KAUFLAND_SYNC_SESSION_SECRET`` (at least 32
    characters) or ``data_dir/session.key``, created with mode 0600 on first use."""
    given = (
        settings.session_secret.get_secret_value() if settings.session_secret is not None else None
    )
    if given is not None:
        if len(given.strip()) < 32:
            raise SessionKeyError(f"{SESSION_SECRET_ENV} must have at least 32 characters")
        return given.strip()
    path = settings.data_dir / "session.key"
    if not path.exists():
        _create_secret_file(path)
    if sys.platform != "win32":  # POSIX modes do not describe Windows ACLs
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SessionKeyError(
                f"the session key file {path} can be read by other users (mode {mode:04o}); "
                f"make it private with: chmod 600 {path}"
            )
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise SessionKeyError(f"the session key file {path} holds no usable key; delete it")
    return secret


def _create_secret_file(path: Path) -> None:
    """Write a random key to ``path`` atomically with mode 0600; if another process made the
    file meanwhile, keep theirs (``os.link`` never replaces a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def install_auth(app: FastAPI, settings: Settings) -> None:
    """Give ``app`` sessions (the signed ``ks_session`` cookie) and the handler of
    :class:`AuthRefusal`. Call before the app starts serving."""
    public = settings.public_url or ""
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=public.lower().startswith("https://"),
    )
    app.add_exception_handler(AuthRefusal, _refusal_handler)

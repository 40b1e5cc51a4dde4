"""Access to the web app and the REST API (``kaufland_sync.web.auth``, ``web.auth_routes``):
password hashing, the first admin, login throttling, sessions and their cookie, CSRF, safe
redirects after login, and API tokens."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.config import Settings
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.users import ApiToken, LoginFailure, Role, User
from kaufland_sync.web import auth, auth_routes
from kaufland_sync.web.app import create_app
from kaufland_sync.web.auth import (
    ApiPrincipal,
    attempt_login,
    authenticate_token,
    create_user,
    csrf_token,
    ensure_first_admin,
    hash_password,
    install_auth,
    is_safe_next,
    issue_token,
    needs_rehash,
    require_token,
    require_user,
    revoke_token,
    session_secret,
    set_password,
    verify_csrf,
    verify_password,
)
from tests.web.support import RecordingQueue, settings_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with small parameters: the defaults cost ~50 ms and 64 MiB per hash."""
    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))
    monkeypatch.setattr(auth, "_dummy_hash", None)
    monkeypatch.delenv(auth.SESSION_SECRET_ENV, raising=False)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _add_user(
    factory: sessionmaker[Session], name: str, role: Role = Role.ADMIN, password: str = PASSWORD
) -> int:
    with transaction(factory) as session:
        return create_user(session, name, role, password).id


# ---------------------------------------------------------------------------------------------
# Passwords, users, the first admin


def test_hashes_verify_only_their_password_and_old_parameters_need_a_rehash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert hashed != hash_password(PASSWORD)  # salted
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)
    assert not needs_rehash(hashed)
    assert needs_rehash("not a hash")

    monkeypatch.setattr(auth, "HASHER", PasswordHasher(time_cost=2, memory_cost=512, parallelism=1))
    assert needs_rehash(hashed)
    assert verify_password(hashed, PASSWORD)  # old hashes still verify


def test_a_login_rehashes_a_password_hashed_with_old_parameters(
    store: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_user(store, "ann")
    stronger = PasswordHasher(time_cost=2, memory_cost=512, parallelism=1)
    monkeypatch.setattr(auth, "HASHER", stronger)
    with transaction(store) as session:
        result = attempt_login(session, name="ann", password=PASSWORD, ip="1.2.3.4", now=T0)
        assert result.user is not None
    with store() as session:
        user = session.scalars(select(User)).one()
        assert not stronger.check_needs_rehash(user.password_hash)
        assert verify_password(user.password_hash, PASSWORD)
        assert user.last_login_at == T0


def test_first_admin_is_created_once_with_a_random_password(
    store: sessionmaker[Session],
) -> None:
    password = ensure_first_admin(store)
    assert password is not None
    assert len(password) == 20
    assert password.isalnum()
    assert ensure_first_admin(store) is None
    with store() as session:
        admin = session.scalars(select(User)).one()
        assert (admin.name, admin.role, admin.active) == ("admin", Role.ADMIN, True)
        assert verify_password(admin.password_hash, password)


def test_no_first_admin_when_any_user_exists(store: sessionmaker[Session]) -> None:
    _add_user(store, "vera", Role.VIEWER)
    assert ensure_first_admin(store) is None
    with store() as session:
        assert session.scalars(select(User.name)).all() == ["vera"]


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("ann", "admin", "short", "at least 12 characters"),
        ("ann", "owner", PASSWORD, "is not a role"),
        ("", "admin", PASSWORD, "not a valid user name"),
        ("a b", "admin", PASSWORD, "not a valid user name"),
        ("x" * 65, "admin", PASSWORD, "not a valid user name"),
        ("taken", "viewer", PASSWORD, "exists already"),
    ],
)
def test_create_user_refuses_bad_requests(
    store: sessionmaker[Session], name: str, role: str, password: str, message: str
) -> None:
    _add_user(store, "taken")
    with transaction(store) as session, pytest.raises(auth.UserError, match=message):
        create_user(session, name, role, password)


# ---------------------------------------------------------------------------------------------
# Throttling (unit, with the clock given)


def _try(factory: sessionmaker[Session], name: str, password: str, ip: str, now: datetime) -> Any:
    with transaction(factory) as session:
        return attempt_login(session, name=name, password=password, ip=ip, now=now)


def test_five_failures_for_a_name_lock_it_for_fifteen_minutes(
    store: sessionmaker[Session],
) -> None:
    _add_user(store, "ann")
    for i in range(5):
        result = _try(store, "ann", "wrong password", "10.0.0.1", T0 + timedelta(seconds=10 * i))
        assert (result.user, result.retry_after) == (None, None)

    # Refused without looking at the password, even the right one, from any address.
    now = T0 + timedelta(minutes=1)
    refused = _try(store, "ann", PASSWORD, "10.0.0.2", now)
    assert refused.user is None
    assert refused.retry_after == 14 * 60  # until the first failure leaves the window
    with store() as session:  # a refusal is not a new failure (it would extend the lock)
        assert len(session.scalars(select(LoginFailure)).all()) == 5

    # Once the oldest failure is 15 minutes old, one more attempt is allowed.
    later = T0 + timedelta(minutes=15, seconds=1)
    assert _try(store, "ann", PASSWORD, "10.0.0.1", later).user is not None
    with store() as session:  # and the success cleared the name's failures
        assert session.scalars(select(LoginFailure)).all() == []


def test_a_success_clears_the_names_failures(store: sessionmaker[Session]) -> None:
    _add_user(store, "ann")
    for i in range(4):
        _try(store, "ann", "wrong password", "10.0.0.1", T0 + timedelta(seconds=i))
    assert _try(store, "ann", PASSWORD, "10.0.0.1", T0 + timedelta(seconds=5)).user is not None
    for i in range(4):
        result = _try(store, "ann", "wrong password", "10.0.0.1", T0 + timedelta(seconds=10 + i))
        assert result.retry_after is None
    assert _try(store, "ann", PASSWORD, "10.0.0.1", T0 + timedelta(seconds=20)).user is not None


def test_twenty_failures_from_one_address_lock_the_address(
    store: sessionmaker[Session],
) -> None:
    _add_user(store, "ann")
    for i in range(20):  # four tries each on five names: no name reaches its limit
        _try(store, f"guess{i % 5}", "wrong password", "10.0.0.9", T0 + timedelta(seconds=i))
    now = T0 + timedelta(minutes=5)
    locked = _try(store, "ann", PASSWORD, "10.0.0.9", now)
    assert locked.user is None
    assert locked.retry_after == 10 * 60
    # Another address is not affected.
    assert _try(store, "ann", PASSWORD, "10.0.0.10", now).user is not None


def test_old_failures_are_deleted_as_new_ones_are_written(store: sessionmaker[Session]) -> None:
    _try(store, "ann", "wrong password", "10.0.0.1", T0)
    _try(store, "bob", "wrong password", "10.0.0.1", T0 + timedelta(minutes=16))
    with store() as session:
        assert session.scalars(select(LoginFailure.name)).all() == ["bob"]


# ---------------------------------------------------------------------------------------------
# The web app: login, logout, sessions, CSRF


@dataclass
class Web:
    app: FastAPI
    client: httpx.AsyncClient
    clock: Clock
    factory: sessionmaker[Session]
    settings: Settings
    seen: list[ApiPrincipal] = field(default_factory=list)

    async def csrf(self, path: str = "/login") -> str:
        page = await self.client.get(path)
        found = CSRF_INPUT.search(page.text)
        assert found is not None, page.text
        return found.group(1)

    async def login(self, name: str = "ann", password: str = PASSWORD, next_: str = "") -> Any:
        token = await self.csrf()
        return await self.client.post(
            "/login",
            data={"name": name, "password": password, "next": next_, "csrf_token": token},
        )


def _test_router(seen: list[ApiPrincipal]) -> APIRouter:
    router = APIRouter()

    @router.get("/csrf")
    def show_csrf(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @router.get("/private")
    def private(user: User = Depends(require_user())) -> dict[str, str]:  # noqa: B008
        return {"user": user.name}

    @router.get("/admin-only")
    def admin_only(user: User = Depends(require_user("admin"))) -> dict[str, str]:  # noqa: B008
        return {"user": user.name}

    @router.post("/act", dependencies=[Depends(verify_csrf)])
    def act(user: User = Depends(require_user(Role.OPERATOR))) -> dict[str, str]:  # noqa: B008
        return {"done_by": user.name}

    @router.get("/api/v1/me")
    def me(principal: ApiPrincipal = Depends(require_token())) -> dict[str, str]:  # noqa: B008
        seen.append(principal)
        return {"user": principal.user_name, "role": principal.role.value}

    @router.post("/api/v1/admin")
    def api_admin(
        principal: ApiPrincipal = Depends(require_token("admin")),  # noqa: B008
    ) -> dict[str, str]:
        return {"user": principal.user_name}

    return router


def _client(app: FastAPI, base_url: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@asynccontextmanager
async def _web(
    factory: sessionmaker[Session], settings: Settings, base_url: str = "http://testserver"
) -> AsyncIterator[Web]:
    clock = Clock()
    seen: list[ApiPrincipal] = []
    app = create_app(
        settings,
        factory=factory,
        queue=RecordingQueue(factory, clock),
        clock=clock,
        routers=[auth_routes.router, _test_router(seen)],
    )
    install_auth(app, settings)
    async with _client(app, base_url) as client:
        yield Web(app, client, clock, factory, settings, seen)


@pytest.fixture
async def web(store: sessionmaker[Session], settings: Settings) -> AsyncIterator[Web]:
    _add_user(store, "ann", Role.ADMIN)
    async with _web(store, settings) as made:
        yield made


async def test_login_page_renders_the_form_inside_the_layout(web: Web) -> None:
    page = await web.client.get("/login?next=/orders")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/login"' in page.text
    assert '<input type="hidden" name="next" value="/orders">' in page.text
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert meta is not None
    assert CSRF_INPUT.search(page.text).group(1) == meta.group(1)  # type: ignore[union-attr]
    assert auth.SESSION_COOKIE in page.cookies  # the pre-login session holding the token


async def test_login_logout_flow(web: Web) -> None:
    answer = await web.client.get("/private")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fprivate"

    failed = await web.login(password="wrong password!")
    assert failed.status_code == 200
    assert "Wrong name or password." in failed.text
    assert 'value="ann"' in failed.text  # the name is kept, never the password
    assert "wrong password!" not in failed.text

    signed_in = await web.login(next_="/private")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/private"
    assert (await web.client.get("/private")).json() == {"user": "ann"}
    # A signed-in user visiting the login page goes on.
    assert (await web.client.get("/login?next=/private")).headers["location"] == "/private"
    with web.factory() as session:
        assert session.scalars(select(User.last_login_at)).one() == T0

    # Logging out needs the session's CSRF token too.
    assert (await web.client.post("/logout")).status_code == 403
    out = await web.client.post("/logout", data={"csrf_token": (await _session_csrf(web))})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert (await web.client.get("/private")).status_code == 303


async def _session_csrf(web: Web) -> str:
    """The CSRF token of the current session, as templates get it."""
    token: str = (await web.client.get("/csrf")).json()["token"]
    return token


async def test_signing_in_renews_the_csrf_token(web: Web) -> None:
    before = await web.csrf()
    await web.login()
    after = await _session_csrf(web)
    assert after != before
    # The pre-login token no longer works for unsafe requests.
    assert (await web.client.post("/act", headers={"X-CSRF-Token": before})).status_code == 403
    assert (await web.client.post("/act", headers={"X-CSRF-Token": after})).json() == {
        "done_by": "ann"
    }


async def test_unsafe_requests_need_the_sessions_csrf_token(web: Web) -> None:
    await web.login()
    token = await _session_csrf(web)
    assert (await web.client.post("/act")).status_code == 403
    assert (await web.client.post("/act", headers={"X-CSRF-Token": "x" + token})).status_code == 403
    assert (await web.client.post("/act", data={"csrf_token": "forged"})).status_code == 403
    assert (await web.client.post("/act", headers={"X-CSRF-Token": token})).status_code == 200
    assert (await web.client.post("/act", data={"csrf_token": token})).status_code == 200

    # Another browser's session token is worthless here.
    async with _client(web.app) as other:
        other_token = CSRF_INPUT.search((await other.get("/login")).text).group(1)  # type: ignore[union-attr]
    assert (await web.client.post("/act", headers={"X-CSRF-Token": other_token})).status_code == 403


async def test_login_without_the_csrf_token_is_refused(web: Web) -> None:
    await web.csrf()  # a session exists, but the form's token is not sent
    answer = await web.client.post("/login", data={"name": "ann", "password": PASSWORD})
    assert answer.status_code == 403
    assert "The form had expired" in answer.text
    assert (await web.client.get("/private")).status_code == 303
    # Nor with no session at all (a cross-site form post).
    async with _client(web.app) as fresh:
        answer = await fresh.post(
            "/login", data={"name": "ann", "password": PASSWORD, "csrf_token": "guess"}
        )
        assert answer.status_code == 403


async def test_htmx_requests_get_401_with_hx_redirect(web: Web) -> None:
    answer = await web.client.get(
        "/private",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/orders?page=2"},
    )
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/login?next=%2Forders%3Fpage%3D2"
    assert "location" not in answer.headers


async def test_a_role_too_low_is_forbidden(web: Web) -> None:
    _add_user(web.factory, "olga", Role.OPERATOR)
    await web.login("olga")
    assert (await web.client.get("/private")).status_code == 200
    assert (await web.client.get("/admin-only")).status_code == 403


async def test_throttled_login_answers_429_with_retry_after(web: Web) -> None:
    for _ in range(5):
        assert (await web.login(password="wrong password!")).status_code == 200
    web.clock.advance(minutes=5)
    answer = await web.login()  # the right password, unchecked
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == str(10 * 60)
    assert "Too many failed logins" in answer.text
    assert (await web.client.get("/private")).status_code == 303
    web.clock.advance(minutes=10)
    assert (await web.login()).status_code == 303


async def test_sessions_end_after_twelve_hours_and_on_a_password_change(web: Web) -> None:
    await web.login()
    web.clock.advance(hours=11, minutes=59)
    assert (await web.client.get("/private")).status_code == 200
    web.clock.advance(minutes=2)
    assert (await web.client.get("/private")).status_code == 303

    await web.login()
    assert (await web.client.get("/private")).status_code == 200
    with transaction(web.factory) as session:
        set_password(session.scalars(select(User)).one(), "another good password")
    assert (await web.client.get("/private")).status_code == 303


async def test_an_inactive_or_removed_user_is_signed_out(web: Web) -> None:
    await web.login()
    with transaction(web.factory) as session:
        session.scalars(select(User)).one().active = False
    assert (await web.client.get("/private")).status_code == 303
    assert (await web.login()).status_code == 200  # and cannot sign in again


async def test_session_cookie_flags_on_plain_http(web: Web) -> None:
    cookie = (await web.login()).headers["set-cookie"]
    assert cookie.startswith(f"{auth.SESSION_COOKIE}=")
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert f"max-age={12 * 3600}" in flags
    assert "path=/" in flags
    assert "secure" not in flags


async def test_session_cookie_is_secure_when_the_public_url_is_https(
    store: sessionmaker[Session], tmp_path: Path
) -> None:
    _add_user(store, "ann")
    settings = settings_for(tmp_path / "data", public_url="https://sync.example.com")
    async with _web(store, settings, "https://testserver") as web:
        answer = await web.login(next_="/private")
        assert answer.status_code == 303
        flags = [part.strip().lower() for part in answer.headers["set-cookie"].split(";")]
        assert "secure" in flags
        assert (await web.client.get("/private")).json() == {"user": "ann"}


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("/private", "/private"),
        ("/orders?status=open&page=2", "/orders?status=open&page=2"),
        ("", "/"),
        ("//evil.example/x", "/"),
        ("https://evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=y", "/"),
        ("/\t/evil.example", "/"),
        ("orders", "/"),
    ],
)
async def test_after_login_only_same_site_paths_are_followed(
    web: Web, next_: str, expected: str
) -> None:
    answer = await web.login(next_=next_)
    assert answer.status_code == 303
    assert answer.headers["location"] == expected


def test_is_safe_next() -> None:
    assert is_safe_next("/a/b?c=d#e")
    for unsafe in (None, "", "//x", "/\\x", "http://x/", "x", "/a b", "/\x7f"):
        assert not is_safe_next(unsafe)


async def test_the_login_form_refuses_oversized_fields(web: Web) -> None:
    token = await web.csrf()
    answer = await web.client.post(
        "/login", data={"name": "ann", "password": "p" * 5000, "csrf_token": token}
    )
    assert answer.status_code == 422
    with web.factory() as session:
        assert session.scalars(select(LoginFailure)).all() == []


# ---------------------------------------------------------------------------------------------
# API tokens


def _token(factory: sessionmaker[Session], user: str = "ann", label: str = "ERP") -> str:
    with transaction(factory) as session:
        owner = session.scalars(select(User).where(User.name == user)).one()
        return issue_token(session, owner, label, now=T0)


def test_tokens_are_random_and_only_their_hash_is_stored(store: sessionmaker[Session]) -> None:
    _add_user(store, "ann")
    raw = _token(store)
    assert raw.startswith("ks_")
    assert len(raw) == 3 + 43  # 32 random bytes, urlsafe base64 without padding
    assert raw != _token(store)
    with store() as session:
        stored = session.scalars(select(ApiToken)).first()
        assert stored is not None
        assert stored.prefix == raw[:8]
        assert raw not in (stored.token_hash, stored.prefix, repr(stored))
        assert len(stored.token_hash) == 64


def test_authenticate_token_notes_the_use_once_a_minute(store: sessionmaker[Session]) -> None:
    _add_user(store, "ann", Role.OPERATOR)
    raw = _token(store)
    with transaction(store) as session:
        principal = authenticate_token(session, raw, now=T0)
        assert principal is not None
        assert (principal.user_name, principal.role, principal.token_prefix) == (
            "ann",
            Role.OPERATOR,
            raw[:8],
        )
        assert principal.allows("viewer") and not principal.allows("admin")
    for seconds, expected in ((30, T0), (61, T0 + timedelta(seconds=61))):
        with transaction(store) as session:
            authenticate_token(session, raw, now=T0 + timedelta(seconds=seconds))
        with store() as session:
            assert session.scalars(select(ApiToken.last_used_at)).one() == expected
    with store() as session:
        assert authenticate_token(session, raw + "x") is None
        assert authenticate_token(session, "Bearer " + raw) is None


def test_revoke_token_by_prefix_or_whole_token(store: sessionmaker[Session]) -> None:
    _add_user(store, "ann")
    first, second = _token(store), _token(store)
    with transaction(store) as session:
        ann = session.scalars(select(User)).one()
        assert revoke_token(session, ann, first[:8], now=T0).revoked_at == T0
        revoke_token(session, ann, second)
        with pytest.raises(auth.UserError, match="no active token"):
            revoke_token(session, ann, first[:8])
    with store() as session:
        assert authenticate_token(session, first) is None
        assert authenticate_token(session, second) is None


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


async def test_api_routes_need_a_valid_token(web: Web) -> None:
    raw = _token(web.factory)
    ok = await web.client.get("/api/v1/me", headers=_bearer(raw))
    assert ok.status_code == 200
    assert ok.json() == {"user": "ann", "role": "admin"}
    assert [p.token_prefix for p in web.seen] == [raw[:8]]
    with web.factory() as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() == T0

    for headers in ({}, _bearer("ks_wrong"), {"Authorization": f"Basic {raw}"}):
        refused = await web.client.get("/api/v1/me", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused.json()["status"] == 401
        assert raw not in refused.text

    with transaction(web.factory) as session:
        revoke_token(session, session.scalars(select(User)).one(), raw[:8])
    assert (await web.client.get("/api/v1/me", headers=_bearer(raw))).status_code == 401

    # A session cookie is no API credential.
    await web.login()
    assert (await web.client.get("/api/v1/me")).status_code == 401


async def test_api_tokens_of_inactive_users_and_too_low_roles(web: Web) -> None:
    _add_user(web.factory, "vera", Role.VIEWER)
    raw = _token(web.factory, "vera")
    assert (await web.client.get("/api/v1/me", headers=_bearer(raw))).json()["role"] == "viewer"
    forbidden = await web.client.post("/api/v1/admin", headers=_bearer(raw))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"
    assert "admin" in forbidden.json()["detail"]
    with transaction(web.factory) as session:
        session.scalars(select(User).where(User.name == "vera")).one().active = False
    assert (await web.client.get("/api/v1/me", headers=_bearer(raw))).status_code == 401


# ---------------------------------------------------------------------------------------------
# The session secret


def test_session_secret_file_is_made_private_once(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    secret = session_secret(settings)
    path = tmp_path / "data" / "session.key"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(secret) >= 32
    assert session_secret(settings) == secret
    path.chmod(0o644)
    with pytest.raises(auth.SessionKeyError, match="chmod 600"):
        session_secret(settings)


def test_session_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings read the variable when they are made, like every KAUFLAND_SYNC_* setting.
    monkeypatch.setenv(auth.SESSION_SECRET_ENV, "s" * 40)
    settings = settings_for(tmp_path / "data")
    assert session_secret(settings) == "s" * 40
    assert not (tmp_path / "data" / "session.key").exists()
    monkeypatch.setenv(auth.SESSION_SECRET_ENV, "short")
    with pytest.raises(auth.SessionKeyError, match="at least 32"):
        session_secret(settings_for(tmp_path / "data"))


async def test_sessions_survive_a_restart_with_the_same_key(
    store: sessionmaker[Session], settings: Settings
) -> None:
    _add_user(store, "ann")
    cookies: dict[str, str] = {}
    async with _web(store, settings) as web:
        await web.login()
        cookies = dict(web.client.cookies)
    async with _web(store, settings) as web:
        web.client.cookies.update(cookies)
        assert (await web.client.get("/private")).json() == {"user": "ann"}

"""``kaufland-sync users``: the people who may use the web app, and their REST API tokens.

Passwords are asked twice with hidden input unless ``--password`` is given (which other users
of the machine may see in the process list: for scripts only); they need at least 12
characters. A token is printed once, alone on stdout, when it is created; only its hash is
kept.

Exit codes: 0 success; 1 the request cannot be done (unknown user, taken name, short password,
the last admin); 2 bad arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kaufland_sync.cli._output import err, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kaufland_sync.store.models.users import User

app = typer.Typer(
    name="users",
    help="Users of the web app (admin, operator, viewer) and their REST API tokens.",
    no_args_is_help=True,
)
token_app = typer.Typer(
    name="token", help="REST API tokens of a user: create, list, revoke.", no_args_is_help=True
)
app.add_typer(token_app, name="token")

out = Console(highlight=False)


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _session() -> Iterator[Session]:
    """One session on the migrated store, committed on success; a ``UserError`` becomes one
    ``error:`` line and exit status 1."""
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.db import transaction
    from kaufland_sync.web.auth import UserError

    try:
        with transaction(open_store()) as session:
            yield session
    except UserError as exc:
        _fail(str(exc))


def _user(session: Session, name: str) -> User:
    from kaufland_sync.web.auth import find_user

    user = find_user(session, name)
    if user is None:
        _fail(f"no user named {name!r}")
    return user


def _ask_password() -> str:
    from kaufland_sync.web.auth import MIN_PASSWORD_LENGTH

    password: str = typer.prompt(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        hide_input=True,
        confirmation_prompt=True,
        err=True,
    )
    return password


def _check_length(password: str) -> None:
    """Refuse a short password before anything is asked of the store."""
    from kaufland_sync.web.auth import MIN_PASSWORD_LENGTH

    if len(password) < MIN_PASSWORD_LENGTH:
        _fail(
            f"the password has {len(password)} characters; it needs at least "
            f"{MIN_PASSWORD_LENGTH} (a few words make a good one)"
        )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


_ROLE_HELP = "admin (everything), operator (act on orders, offers, jobs) or viewer (read only)."


@app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="The login name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option(help=_ROLE_HELP)] = "viewer",
    password: Annotated[
        str | None,
        typer.Option(help="The password (asked twice, hidden, when absent). Scripts only."),
    ] = None,
) -> None:
    """Add a user who can sign in to the web app."""
    from kaufland_sync.store.models.users import Role
    from kaufland_sync.web.auth import create_user

    if role not in {r.value for r in Role}:
        raise typer.BadParameter(
            f"{role!r} is not one of admin, operator, viewer", param_hint="--role"
        )
    if password is None:
        password = _ask_password()
    _check_length(password)
    with _session() as session:
        user = create_user(session, name, role, password)
        err.print(f"Added {user.name} ({user.role.value}).")


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the users."""
    from sqlalchemy import select

    from kaufland_sync.store.models.users import User

    with _session() as session:
        rows: list[dict[str, Any]] = []
        for user in session.scalars(select(User).order_by(User.name)):
            rows.append(
                {
                    "name": user.name,
                    "role": user.role.value,
                    "active": user.active,
                    "created_at": _iso(user.created_at),
                    "last_login_at": _iso(user.last_login_at),
                    "tokens": sum(1 for t in user.tokens if t.revoked_at is None),
                }
            )
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print("No users yet. Add one with: kaufland-sync users add NAME --role admin")
        return
    table = Table(title="Users", title_justify="left")
    for column in ("name", "role", "active", "last login", "tokens"):
        table.add_column(column)
    for row in rows:
        last = row["last_login_at"]
        table.add_row(
            row["name"],
            row["role"],
            "yes" if row["active"] else "no",
            _when(datetime.fromisoformat(last)) if last else "-",
            str(row["tokens"]),
        )
    out.print(table)


def _other_active_admins(session: Session, user: User) -> int:
    from sqlalchemy import func, select

    from kaufland_sync.store.models.users import Role, User

    count = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    return int(count or 0)


@app.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="The user to remove.")]) -> None:
    """Remove a user and their tokens. The last admin cannot be removed."""
    from kaufland_sync.store.models.users import Role

    with _session() as session:
        user = _user(session, name)
        if user.role is Role.ADMIN and user.active and not _other_active_admins(session, user):
            _fail(f"{name} is the last admin; add another admin first")
        session.delete(user)
    err.print(f"Removed {name}.")


@app.command("passwd")
def passwd_command(
    name: Annotated[str, typer.Argument(help="The user.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new password (asked twice, hidden, when absent). Scripts only."),
    ] = None,
) -> None:
    """Set a user's password; the user's web sessions end."""
    from kaufland_sync.web.auth import set_password

    if password is None:
        with _session() as session:
            _user(session, name)  # an unknown name is said before a password is typed
        password = _ask_password()
    _check_length(password)
    with _session() as session:
        set_password(_user(session, name), password)
    err.print(f"Password of {name} changed.")


@token_app.command("create")
def token_create_command(
    user_name: Annotated[str, typer.Argument(metavar="NAME", help="The token's user.")],
    label: Annotated[str, typer.Option("--name", help="What the token is for, e.g. 'ERP'.")],
) -> None:
    """Create a REST API token; it is printed once, alone on stdout."""
    from kaufland_sync.web.auth import issue_token

    with _session() as session:
        user = _user(session, user_name)
        raw = issue_token(session, user, label)
    err.print(f"This token is shown only now; store it safely (it acts as {user_name}):")
    typer.echo(raw)


@token_app.command("list")
def token_list_command(
    user_name: Annotated[str, typer.Argument(metavar="NAME", help="The user.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a user's tokens (by prefix; tokens themselves are never shown again)."""
    with _session() as session:
        user = _user(session, user_name)
        rows = [
            {
                "prefix": token.prefix,
                "name": token.name,
                "created_at": _iso(token.created_at),
                "last_used_at": _iso(token.last_used_at),
                "revoked_at": _iso(token.revoked_at),
            }
            for token in sorted(user.tokens, key=lambda t: t.id)
        ]
        table = Table(title=f"Tokens of {user.name}", title_justify="left")
        for column in ("prefix", "name", "created", "last used", "revoked"):
            table.add_column(column)
        for token in sorted(user.tokens, key=lambda t: t.id):
            table.add_row(
                token.prefix,
                token.name,
                _when(token.created_at),
                _when(token.last_used_at),
                _when(token.revoked_at),
            )
    if as_json:
        print_json(rows)
    elif rows:
        out.print(table)
    else:
        err.print(f"{user_name} has no tokens.")


@token_app.command("revoke")
def token_revoke_command(
    user_name: Annotated[str, typer.Argument(metavar="NAME", help="The token's user.")],
    prefix: Annotated[str, typer.Argument(help="The token's prefix as listed (or the token).")],
) -> None:
    """Revoke a token: calls with it are refused from now on."""
    from kaufland_sync.web.auth import revoke_token

    with _session() as session:
        user = _user(session, user_name)
        token = revoke_token(session, user, prefix)
        shown = token.prefix
    err.print(f"Revoked token {shown} of {user_name}.")

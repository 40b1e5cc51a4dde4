"""``kaufland-sync webhooks``: Kaufland push notifications for an account.

* ``webhooks subscribe --account NAME [--public-url URL] [--email E] [--storefront S ...]
  [--json]`` — make Kaufland send every event of the account's storefronts to
  ``URL/webhooks/kaufland/NAME`` (``--public-url`` defaults to ``KAUFLAND_SYNC_PUBLIC_URL``).
  Kaufland checks the address at once, so ``kaufland-sync run`` must be serving there first.
  On success the account's push notifications count as on (``push_callback_url``).
* ``webhooks list --account NAME [--json]`` — the seller's subscriptions at Kaufland, ours
  marked.
* ``webhooks unsubscribe --account NAME [--storefront S ...]`` — delete ours; push
  notifications are off again (polling alone keeps the account in step).

Exit status 1 for any failure, with one ``error:`` line saying what to do.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import fail, open_account
from kaufland_sync.cli._output import print_json

if TYPE_CHECKING:
    from kaufland_sync.cli._account import AccountContext
    from kaufland_sync.sync.webhooks import SubscriptionChange

app = typer.Typer(
    name="webhooks",
    help="Kaufland push notifications: subscribe an account's receiver, list, unsubscribe.",
    no_args_is_help=True,
)

AccountOpt = Annotated[str, typer.Option("--account", help="The account (see: accounts list).")]
StorefrontsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--storefront",
        help="Only this storefront (repeatable); default: every storefront of the account.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _storefronts(ctx: AccountContext, only: list[str] | None) -> list[str]:
    if not only:
        return [s.storefront.value for s in ctx.account.storefronts]
    codes: list[str] = []
    for value in only:
        for found in ctx.storefronts(value):
            if found.storefront.value not in codes:
                codes.append(found.storefront.value)
    return codes


def _set_callback(ctx: AccountContext, url: str | None) -> None:
    from kaufland_sync.store.db import transaction
    from kaufland_sync.store.models.accounts import Account

    with transaction(ctx.factory) as session:
        account = session.get(Account, ctx.account.id)
        if account is not None:
            account.push_callback_url = url


def _changes_table(title: str, changes: list[SubscriptionChange]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("action", "sf", "event", "subscription", "detail"):
        table.add_column(column, overflow="fold")
    for change in changes:
        table.add_row(
            change.action.value,
            change.storefront or "",
            change.event_name,
            "" if change.id_subscription is None else str(change.id_subscription),
            change.detail,
        )
    return table


@app.command("subscribe")
def subscribe(
    account: AccountOpt,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="Where Kaufland reaches this service, e.g. https://sync.example.com "
            "(default: KAUFLAND_SYNC_PUBLIC_URL).",
        ),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            "--email",
            help="Fallback e-mail Kaufland writes to when it cannot deliver (needed the first "
            "time; later runs keep the one already set).",
        ),
    ] = None,
    storefront: StorefrontsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe the account's receiver to every Kaufland event (idempotent)."""
    from kaufland_sync.config import load_settings
    from kaufland_sync.sellerapi.errors import KauflandError
    from kaufland_sync.sync.webhooks import (
        CallbackUrlError,
        CallbackVerificationError,
        MissingEmailError,
        SubscribeReport,
        callback_url_for,
    )
    from kaufland_sync.sync.webhooks import subscribe as run_subscribe

    base = public_url or load_settings().public_url
    if not base:
        fail(
            "give --public-url (or set KAUFLAND_SYNC_PUBLIC_URL): the address at which "
            "Kaufland reaches `kaufland-sync run`, e.g. https://sync.example.com"
        )
    if email is not None and ("@" not in email.strip("@") or len(email) < 3):
        raise typer.BadParameter(f"{email!r} is not an e-mail address", param_hint="--email")
    ctx = open_account(account)
    try:
        callback_url = callback_url_for(base, ctx.account.name)
    except CallbackUrlError as exc:
        fail(str(exc))
    codes = _storefronts(ctx, storefront)

    async def run() -> SubscribeReport:
        async with ctx.client() as client:
            return await run_subscribe(
                client, storefronts=codes, callback_url=callback_url, fallback_email=email
            )

    try:
        report = asyncio.run(run())
    except CallbackVerificationError as exc:
        if exc.report.changes:
            Console(stderr=True, highlight=False).print(
                _changes_table("done before the failure", exc.report.changes)
            )
        fail(
            f"Kaufland could not verify {callback_url}: it sends GET {callback_url}"
            "?mode=subscribe&challenge=... and needs the challenge back within 15 s. Start "
            "`kaufland-sync run` (it serves /webhooks/kaufland/...), make sure the public URL "
            f"reaches it from the internet, then run this again. Kaufland said: "
            f"{exc.cause.message or exc.cause}"
        )
    except (MissingEmailError, CallbackUrlError) as exc:
        fail(f"{exc} (give --email)" if isinstance(exc, MissingEmailError) else str(exc))
    except KauflandError as exc:
        fail(f"subscribing stopped (run it again to continue): {exc}")
    _set_callback(ctx, callback_url)
    if as_json:
        print_json({"account": ctx.account.name, **report.to_dict()})
        return
    out = Console(highlight=False)
    out.print(_changes_table(f"push notifications for {ctx.account.name}", report.changes))
    out.print(
        f"{len(report.created)} created, {len(report.updated)} updated, {len(report.kept)} "
        f"kept, {len(report.removed)} removed; Kaufland sends to {callback_url}"
    )


def _subscription_dict(sub: Any, ours: bool) -> dict[str, Any]:
    return {
        "id_subscription": sub.id_subscription,
        "storefront": sub.storefront,
        "event_name": None if sub.event_name is None else str(sub.event_name),
        "callback_url": sub.callback_url,
        "fallback_email": sub.fallback_email,
        "is_active": sub.is_active,
        "ours": ours,
    }


@app.command("list")
def list_cmd(account: AccountOpt, as_json: JsonOpt = False) -> None:
    """The seller's subscriptions at Kaufland; ``ours`` marks this account's receiver."""
    from kaufland_sync.sellerapi.errors import KauflandError
    from kaufland_sync.sync.webhooks import is_ours, list_subscriptions, webhook_path

    ctx = open_account(account)
    mine = ctx.account.push_callback_url or webhook_path(ctx.account.name)

    async def run() -> list[dict[str, Any]]:
        async with ctx.client() as client:
            subs = await list_subscriptions(client)
        return [_subscription_dict(s, is_ours(s, mine)) for s in subs]

    try:
        rows = asyncio.run(run())
    except KauflandError as exc:
        fail(str(exc))
    if as_json:
        print_json(
            {
                "account": ctx.account.name,
                "push_callback_url": ctx.account.push_callback_url,
                "subscriptions": rows,
            }
        )
        return
    out = Console(highlight=False)
    state = ctx.account.push_callback_url or "off (polling only)"
    out.print(f"push notifications for {ctx.account.name}: {state}")
    table = Table(title=f"{len(rows)} subscriptions", title_justify="left")
    for column in ("id", "sf", "event", "active", "ours", "callback URL"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id_subscription"]),
            r["storefront"] or "all",
            r["event_name"] or "",
            "yes" if r["is_active"] else "[red]no[/red]",
            "yes" if r["ours"] else "",
            r["callback_url"] or "",
        )
    out.print(table)


@app.command("unsubscribe")
def unsubscribe(
    account: AccountOpt, storefront: StorefrontsOpt = None, as_json: JsonOpt = False
) -> None:
    """Delete this account's subscriptions (others' stay); push notifications are off."""
    from kaufland_sync.sellerapi.errors import KauflandError
    from kaufland_sync.sync.webhooks import unsubscribe as run_unsubscribe
    from kaufland_sync.sync.webhooks import webhook_path

    ctx = open_account(account)
    mine = ctx.account.push_callback_url or webhook_path(ctx.account.name)
    codes = _storefronts(ctx, storefront) if storefront else None

    async def run() -> list[SubscriptionChange]:
        async with ctx.client() as client:
            return await run_unsubscribe(client, callback_url=mine, storefronts=codes)

    try:
        deleted = asyncio.run(run())
    except KauflandError as exc:
        fail(f"unsubscribing stopped (run it again to continue): {exc}")
    # With some storefronts only, the others still push: the account stays "on".
    if codes is None:
        _set_callback(ctx, None)
    if as_json:
        print_json({"account": ctx.account.name, "deleted": [d.to_dict() for d in deleted]})
        return
    out = Console(highlight=False)
    if deleted:
        out.print(_changes_table(f"push notifications for {ctx.account.name}", deleted))
    out.print(f"{len(deleted)} subscriptions deleted")

"""``kaufland-sync accounts``: add, list, show, set, test and remove seller accounts.

Every command opens the database from ``Settings`` and migrates it to the newest revision first.
Secret keys are encrypted before they are stored and masked whenever they are shown.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from kaufland_sync.cli._output import err, mask, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kaufland_sync.accounts import AccountService
    from kaufland_sync.config import Settings
    from kaufland_sync.store.models.accounts import Account, AccountStorefront

app = typer.Typer(
    help="Seller accounts: keys, environment, storefronts and per-storefront settings.",
    no_args_is_help=True,
)

# Model field -> command-line option, so validation errors name what the user typed.
_OPTION_FOR_FIELD = {
    "name": "NAME",
    "client_key": "--client-key",
    "secret_key": "--secret-key",
    "base_url": "--base-url",
    "base_currency": "--base-currency",
    "storefront": "--storefront",
    "currency_rate": "--currency-rate",
    "rounding": "--rounding",
    "markup_percent": "--markup-percent",
    "use_minimum_price": "--minimum-price-percent",
    "minimum_price_percent": "--minimum-price-percent",
    "handling_time": "--handling-time",
    "id_shipping_group": "--shipping-group",
    "condition": "--condition",
    "vat_indicator": "--vat-indicator",
    "buffer_stock": "--buffer-stock",
    "max_stock": "--max-stock",
    "on_deactivate": "--on-deactivate",
    "warehouse": "--warehouse",
}


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _session() -> Iterator[tuple[Settings, Session]]:
    """Settings and one committed-on-success session on a migrated database; known errors
    become one ``error:`` line and exit status 1 instead of a traceback."""
    from kaufland_sync.config import load_settings
    from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError
    from kaufland_sync.store.accounts import AccountError, InvalidSettingError
    from kaufland_sync.store.db import create_db_engine, session_factory, transaction
    from kaufland_sync.store.migrate import upgrade

    settings = load_settings()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        with transaction(session_factory(engine)) as session:
            yield settings, session
    except InvalidSettingError as exc:
        option = _OPTION_FOR_FIELD.get(exc.field, exc.field)
        raise typer.BadParameter(f"{exc.value}: {exc.reason}", param_hint=option) from None
    except (AccountError, MasterKeyError, SecretDecryptionError) as exc:
        _fail(str(exc))
    finally:
        engine.dispose()


#: ``--secret-key -``: ask for the key (or read it from stdin) instead of taking it as an argument.
_ASK = "-"


def _read_secret() -> str:
    """The new secret key for ``--secret-key -``: asked for unseen in a terminal, else the
    first line of stdin."""
    if sys.stdin.isatty():
        given = str(typer.prompt("New secret key", hide_input=True))
    else:
        given = sys.stdin.readline()
    given = given.strip()
    if not given:
        raise typer.BadParameter("no secret key was given on stdin", param_hint="--secret-key")
    return given


def _service(settings: Settings, session: Session) -> AccountService:
    from kaufland_sync.accounts import AccountService
    from kaufland_sync.secrets import secret_box
    from kaufland_sync.store.accounts import AccountRepository

    return AccountService(AccountRepository(session), secret_box(settings))


def _storefront_dict(settings: AccountStorefront) -> dict[str, Any]:
    return {
        "storefront": settings.storefront.value,
        "directions": {
            kind: settings.direction(kind).value for kind in ("offers", "stock", "prices", "orders")
        },
        "currency_rate": str(settings.currency_rate),
        "rounding": settings.rounding,
        "markup_percent": str(settings.markup_percent),
        "use_minimum_price": settings.use_minimum_price,
        "minimum_price_percent": (
            None if settings.minimum_price_percent is None else str(settings.minimum_price_percent)
        ),
        "handling_time": settings.handling_time,
        "id_shipping_group": settings.id_shipping_group,
        "condition": settings.condition,
        "vat_indicator": settings.vat_indicator,
        "buffer_stock": settings.buffer_stock,
        "max_stock": settings.max_stock,
        "on_deactivate": settings.on_deactivate.value,
        "warehouses": settings.warehouse_map(),
    }


def _account_dict(account: Account, *, details: bool) -> dict[str, Any]:
    from kaufland_sync.accounts import base_url_for

    data: dict[str, Any] = {
        "name": account.name,
        "environment": account.environment.value,
        "base_url": base_url_for(account),
        "base_currency": account.base_currency or "EUR (default)",
        "restock_returns": account.restock_returns,
        "client_key": account.client_key,
        # Never decrypted for display: the stored token's length says nothing about the key.
        "secret_key": "•" * 8,
        "storefronts": [s.storefront.value for s in account.storefronts],
        "created_at": account.created_at.isoformat(),
        "updated_at": account.updated_at.isoformat(),
    }
    if details:
        data["storefront_settings"] = [_storefront_dict(s) for s in account.storefronts]
    return data


def _parse_pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{value!r}: expected KEY=VALUE", param_hint=option)
        pairs.append((key.strip(), rest.strip()))
    return pairs


def _optional(value: str | None) -> Any:
    """``none`` (any case) clears an optional setting; anything else is passed on to validate."""
    if value is None:
        return None
    return None if value.strip().lower() in ("none", "") else value


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short name for the account, e.g. 'shop-de'.")],
    client_key: Annotated[
        str, typer.Option("--client-key", help="Client key from the seller portal.")
    ],
    storefront: Annotated[
        list[str],
        typer.Option("--storefront", help="Storefront to sell on (repeat: de, cz, sk, ...)."),
    ],
    secret_key: Annotated[
        str | None,
        typer.Option(
            "--secret-key",
            envvar="KAUFLAND_SYNC_SECRET_KEY",
            help="Secret key (prefer the environment variable, or leave out to be asked).",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="A custom API base URL ending in /v2 (e.g. the local sandbox)."
        ),
    ] = None,
    playground: Annotated[
        bool, typer.Option("--playground", help="Use Kaufland's playground API.")
    ] = False,
) -> None:
    """Add a seller account (production unless --playground or --base-url is given)."""
    from kaufland_sync.accounts import environment_for
    from kaufland_sync.sellerapi.storefronts import Storefront

    if not secret_key:
        if not sys.stdin.isatty():
            raise typer.BadParameter(
                "missing; pass it, set KAUFLAND_SYNC_SECRET_KEY, or run in a terminal to be asked",
                param_hint="--secret-key",
            )
        secret_key = typer.prompt("Secret key", hide_input=True)
    try:
        codes = [Storefront.parse(code) for code in storefront]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--storefront") from None
    with _session() as (settings, session):
        environment, url = environment_for(base_url, playground=playground)
        account = _service(settings, session).add(
            name,
            client_key=client_key,
            secret_key=secret_key,
            environment=environment,
            base_url=url,
            storefronts=codes,
        )
        sold = ", ".join(s.storefront.value for s in account.storefronts)
        err.print(
            f"[green]added[/green] account {name!r} ({environment.value}, storefronts: {sold}); "
            f"check it with: kaufland-sync accounts test {name}",
            soft_wrap=True,
        )


@app.command("list")
def list_accounts(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the accounts."""
    from kaufland_sync.store.accounts import AccountRepository

    with _session() as (_settings, session):
        accounts = [_account_dict(a, details=False) for a in AccountRepository(session).list()]
    if as_json:
        print_json(accounts)
        return
    if not accounts:
        err.print("no accounts yet; add one with: kaufland-sync accounts add NAME ...")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "environment", "base URL", "client key", "storefronts")
    for item in accounts:
        table.add_row(
            item["name"],
            item["environment"],
            item["base_url"],
            mask(item["client_key"]),
            ", ".join(item["storefronts"]),
        )
    Console(highlight=False).print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Account name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one account with its storefront settings (the secret key stays masked)."""
    from kaufland_sync.store.accounts import AccountRepository

    with _session() as (_settings, session):
        data = _account_dict(AccountRepository(session).get(name), details=True)
    if as_json:
        print_json(data)
        return
    out = sys.stdout
    for key in ("name", "environment", "base_url", "base_currency", "client_key", "secret_key"):
        out.write(f"{key + ':':<15}{data[key]}\n")
    out.write(f"{'restock returns:':<15} {'yes' if data['restock_returns'] else 'no'}\n")
    for item in data["storefront_settings"]:
        out.write(f"\nstorefront {item['storefront']}\n")
        for key, value in item.items():
            if key == "storefront":
                continue
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
            out.write(f"  {key + ':':<23}{'-' if value is None else value}\n")


@app.command("set")
def set_settings(
    name: Annotated[str, typer.Argument(help="Account name.")],
    storefront: Annotated[
        str | None, typer.Option("--storefront", help="Storefront whose settings to change.")
    ] = None,
    currency_rate: Annotated[
        str | None,
        typer.Option(help="Multiply catalogue prices by this (e.g. 25.2 for EUR -> CZK)."),
    ] = None,
    rounding: Annotated[
        str | None, typer.Option(help="Rounding rule: 0.01, 1, 0.99, ... (see docs/accounts.md).")
    ] = None,
    markup_percent: Annotated[
        str | None, typer.Option(help="Markup in percent (negative: discount).")
    ] = None,
    buffer_stock: Annotated[
        str | None, typer.Option(help="Units held back from the offered stock.")
    ] = None,
    max_stock: Annotated[
        str | None, typer.Option(help="Highest stock offered ('none': no cap).")
    ] = None,
    handling_time: Annotated[
        str | None, typer.Option(help="Days until shipping, 0-100 ('none': unset).")
    ] = None,
    shipping_group: Annotated[
        str | None, typer.Option(help="Kaufland id_shipping_group ('none': unset).")
    ] = None,
    condition: Annotated[
        str | None, typer.Option(help="Unit condition, e.g. NEW ('none': the product's).")
    ] = None,
    vat_indicator: Annotated[
        str | None, typer.Option(help="VAT indicator, e.g. standard_rate ('none': unset).")
    ] = None,
    minimum_price_percent: Annotated[
        str | None,
        typer.Option(help="Send minimum_price at this percent of the price (turns on repricing)."),
    ] = None,
    no_minimum_price: Annotated[
        bool, typer.Option("--no-minimum-price", help="Stop sending minimum_price.")
    ] = False,
    on_deactivate: Annotated[
        str | None, typer.Option(help="When a product is deactivated: onhold or delete.")
    ] = None,
    direction: Annotated[
        list[str] | None,
        typer.Option(help="KIND=DIRECTION, kind offers|stock|prices|orders (repeatable)."),
    ] = None,
    warehouse: Annotated[
        list[str] | None,
        typer.Option(help="LOCAL=ID_WAREHOUSE maps a local warehouse ('LOCAL=none' unmaps)."),
    ] = None,
    remove_storefront: Annotated[
        bool, typer.Option("--remove-storefront", help="Stop selling on --storefront.")
    ] = False,
    client_key: Annotated[str | None, typer.Option(help="Replace the client key.")] = None,
    secret_key: Annotated[
        str | None,
        typer.Option(
            help="Replace the secret key. Give - to type it unseen (or pipe it in on stdin), "
            "so it stays out of the process list and the shell history.",
            show_default=False,
        ),
    ] = None,
    base_currency: Annotated[
        str | None,
        typer.Option(
            help="Currency of the catalogue prices, which --currency-rate converts from "
            "(EUR, CZK or PLN; 'none': EUR)."
        ),
    ] = None,
    restock_returns: Annotated[
        bool | None,
        typer.Option(
            "--restock-returns/--no-restock-returns",
            help="Put accepted returns back into the built-in catalogue's stock (once each).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Change an account's keys, catalogue currency, or its settings on one storefront."""
    from kaufland_sync.sellerapi.storefronts import Storefront
    from kaufland_sync.store.models.accounts import DEFAULT_DIRECTIONS

    if minimum_price_percent is not None and no_minimum_price:
        raise typer.BadParameter(
            "give either --minimum-price-percent or --no-minimum-price",
            param_hint="--no-minimum-price",
        )
    changes: dict[str, Any] = {}
    for field, value in (
        ("currency_rate", currency_rate),
        ("rounding", rounding),
        ("markup_percent", markup_percent),
        ("buffer_stock", buffer_stock),
        ("on_deactivate", on_deactivate),
    ):
        if value is not None:
            changes[field] = value
    for field, value in (
        ("max_stock", max_stock),
        ("handling_time", handling_time),
        ("id_shipping_group", shipping_group),
        ("condition", condition),
        ("vat_indicator", vat_indicator),
    ):
        if value is not None:
            changes[field] = _optional(value)
    if minimum_price_percent is not None:
        changes["minimum_price_percent"] = minimum_price_percent
        changes["use_minimum_price"] = True
    if no_minimum_price:
        changes["use_minimum_price"] = False
    for kind, value in _parse_pairs(direction or [], "--direction"):
        if kind not in DEFAULT_DIRECTIONS:
            raise typer.BadParameter(
                f"{kind!r}: data type must be one of {', '.join(DEFAULT_DIRECTIONS)}",
                param_hint="--direction",
            )
        changes[f"direction_{kind}"] = value
    mappings: list[tuple[str, int | None]] = []
    for local, value in _parse_pairs(warehouse or [], "--warehouse"):
        target = _optional(value)
        if target is not None and not target.isdigit():
            raise typer.BadParameter(
                f"{local}={value}: the Kaufland id_warehouse must be a whole number",
                param_hint="--warehouse",
            )
        mappings.append((local, None if target is None else int(target)))
    wants_storefront = bool(changes or mappings or remove_storefront)
    code: Storefront | None = None
    if storefront is not None:
        try:
            code = Storefront.parse(storefront)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--storefront") from None
    elif wants_storefront:
        raise typer.BadParameter("say which storefront to change", param_hint="--storefront")
    if (
        code is None
        and client_key is None
        and secret_key is None
        and base_currency is None
        and restock_returns is None
    ):
        raise typer.BadParameter("nothing to change", param_hint="--storefront")

    if secret_key == _ASK:
        secret_key = _read_secret()
    with _session() as (settings, session):
        service = _service(settings, session)
        repository = service.repository
        account = repository.get(name)
        if client_key is not None:
            repository.set_credentials(account, client_key=client_key)
        if secret_key is not None:
            service.set_secret_key(account, secret_key)
        done: list[str] = []
        if base_currency is not None:
            repository.set_base_currency(account, _optional(base_currency))
            done.append(f"catalogue currency {account.base_currency or 'EUR (default)'}")
        if restock_returns is not None:
            account.restock_returns = restock_returns
            done.append("restocking returns" if restock_returns else "not restocking returns")
        if code is not None and remove_storefront:
            repository.remove_storefront(account, code)
            done.append(f"removed storefront {code.value}")
        elif code is not None:
            if account.storefront(code) is None:
                repository.add_storefront(account, code)
                done.append(f"added storefront {code.value}")
            repository.update_storefront(account, code, changes)
            for local, id_warehouse in mappings:
                repository.map_warehouse(account, code, local, id_warehouse)
            if changes or mappings:
                done.append(f"updated {code.value}: " + ", ".join([*changes, *dict(mappings)]))
        if client_key is not None or secret_key is not None:
            done.append("updated keys")
        err.print(f"[green]{name}[/green]: " + "; ".join(done or ["nothing changed"]))


@app.command("test")
def test(
    name: Annotated[str, typer.Argument(help="Account name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the account's keys, this machine's clock and its storefronts against Kaufland.

    Exit status 1 when anything needs fixing.
    """
    import asyncio

    from kaufland_sync.accounts import check_connection

    with _session() as (settings, session):
        service = _service(settings, session)
        account = service.repository.get(name)
        storefronts = [s.storefront for s in account.storefronts]
        client = service.client_for(account, retry=None, timeout=15.0)

    async def run() -> Any:
        async with client:
            return await check_connection(client, storefronts)

    report = asyncio.run(run())
    if as_json:
        print_json({"account": name, **report.as_dict()})
    else:
        out = sys.stdout
        out.write(f"account {name} at {report.base_url}\n")
        if report.credentials_ok:
            out.write("  credentials: accepted\n")
        if report.clock_skew_seconds is not None:
            out.write(f"  clock: {_clock_line(report.clock_skew_seconds)}\n")
        if report.configured:
            out.write(f"  storefronts configured on Kaufland: {', '.join(report.configured)}\n")
        if report.missing:
            out.write(f"  storefronts missing on Kaufland: {', '.join(report.missing)}\n")
        if report.unused:
            out.write(f"  also on Kaufland, not used here: {', '.join(report.unused)}\n")
        for warning in report.warnings:
            out.write(f"  warning: {warning}\n")
        for problem in report.problems:
            out.write(f"  problem: {problem}\n")
        out.write("OK\n" if report.ok else "FAILED\n")
    if not report.ok:
        raise typer.Exit(1)


def _clock_line(skew: float) -> str:
    from kaufland_sync.sellerapi.errors import describe_skew

    if abs(skew) < 2:  # the Date header has whole seconds
        return "in step with Kaufland's"
    return describe_skew(skew)


@app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="Account name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account with its settings (nothing changes on Kaufland)."""
    from kaufland_sync.store.accounts import AccountRepository

    with _session() as (_settings, session):
        repository = AccountRepository(session)
        repository.get(name)
        if not yes:
            if not sys.stdin.isatty():
                raise typer.BadParameter("confirm with --yes", param_hint="--yes")
            typer.confirm(f"Delete account {name!r} and its settings?", abort=True)
        repository.remove(name)
    err.print(f"removed account {name!r}")

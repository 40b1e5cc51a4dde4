"""``kaufland-sync mappings``: how Kaufland values translate to local ones and back.

``list`` shows the effective rules (built-in defaults and the account's own rows, marked);
``set`` and ``unset`` change one rule. After a change of a status, payment or shipping rule the
account's stored orders are mapped again from their kept Kaufland values (no call to Kaufland).
Exit status 1 for a wrong account, kind, storefront, source or target (the message names the
field and the allowed values).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli._account import fail
from kaufland_sync.cli._output import print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.sync.order_mapping import EffectiveRule

app = typer.Typer(
    name="mappings",
    help="Map Kaufland's order statuses, payment and shipping methods, carriers and reasons.",
    no_args_is_help=True,
)

KINDS_HELP = "status, payment, shipping, carrier, cancel_reason or refund_reason"
AccountOption = Annotated[str, typer.Option("--account", help="Account name.")]
KindOption = Annotated[str, typer.Option("--kind", help=f"What the rule maps: {KINDS_HELP}.")]
StorefrontOption = Annotated[
    str | None,
    typer.Option("--storefront", help="Only on this storefront (default: every storefront)."),
]
_REMAPPED_KINDS = ("status", "payment", "shipping")


def _account(session: Session, name: str) -> Account:
    from kaufland_sync.store.accounts import AccountError, AccountRepository

    try:
        return AccountRepository(session).get(name)
    except AccountError as exc:
        fail(str(exc))


@app.command("list")
def list_rules(
    account: Annotated[
        str | None, typer.Option("--account", help="Account name (default: every account).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help=f"Only this kind: {KINDS_HELP}.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rules as JSON.")] = False,
) -> None:
    """The effective rules: built-in defaults and the account's own rules (overrides)."""
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.accounts import AccountRepository
    from kaufland_sync.sync.order_mapping import MappingRuleError, effective_rules, parse_kind

    try:
        wanted = None if kind is None else parse_kind(kind)
    except MappingRuleError as exc:
        fail(f"--kind {exc.message}")
    factory: sessionmaker[Session] = open_store()
    listed: list[tuple[str, list[EffectiveRule]]] = []
    with factory() as session:
        accounts = [_account(session, account)] if account else AccountRepository(session).list()
        for item in accounts:
            listed.append((item.name, effective_rules(session, item.id, wanted)))
        if not accounts:
            listed.append(("", effective_rules(None, None, wanted)))
    if as_json:
        print_json([rule.as_dict() | {"account": name} for name, rules in listed for rule in rules])
        return
    out = Console(highlight=False, width=140)
    for name, rules in listed:
        title = f"Mappings of {name}" if name else "Built-in mappings (no accounts yet)"
        table = Table(title=title, title_justify="left")
        for column in ("kind", "storefront", "source", "target", "rule"):
            table.add_column(column, overflow="fold")
        for rule in rules:
            if rule.origin == "default":
                mark = "default (overridden)" if rule.overridden else "default"
            else:
                mark = "override" + (f" of {rule.default!r}" if rule.default else "")
            table.add_row(rule.kind.value, rule.storefront or "all", rule.source, rule.target, mark)
        out.print(table)
        if not rules:
            out.print("no rules")


def _remap(factory: sessionmaker[Session], account_id: int, kind: str) -> int | None:
    from kaufland_sync.store.db import transaction
    from kaufland_sync.sync.order_mapping import remap_orders

    if kind not in _REMAPPED_KINDS:
        return None
    with transaction(factory) as session:
        return remap_orders(session, account_id)


@app.command("set")
def set_rule(
    account: AccountOption,
    kind: KindOption,
    source: Annotated[
        str,
        typer.Argument(
            help="Kaufland's value (status, fulfillment type, 'marketplace') or, for carriers "
            "and reasons, the local name."
        ),
    ],
    target: Annotated[
        str,
        typer.Argument(
            help="The local value or, for carriers and reasons, Kaufland's carrier or reason."
        ),
    ],
    storefront: StorefrontOption = None,
) -> None:
    """Add or replace one rule (a storefront's rule wins over the rule for every storefront,
    which wins over the built-in default)."""
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.db import transaction
    from kaufland_sync.sync.order_mapping import MappingRuleError, check_scope
    from kaufland_sync.sync.order_mapping import set_rule as store_rule

    factory = open_store()
    try:
        with transaction(factory) as session:
            found = _account(session, account)
            account_id = found.id
            try:
                check_scope(found, storefront)
            except MappingRuleError as exc:
                fail(f"--storefront: {exc.message}")
            row = store_rule(session, account_id, kind, source, target, storefront=storefront)
            stored = (row.kind.value, row.storefront, row.source, row.target)
    except MappingRuleError as exc:
        fail(f"--{exc.field} {exc.message}" if exc.field in ("kind", "storefront") else str(exc))
    remapped = _remap(factory, account_id, stored[0])
    where = stored[1] or "every storefront"
    message = f"{stored[0]}: {stored[2]} → {stored[3]} on {where}"
    if remapped is not None:
        message += f"; {remapped} order(s) mapped again"
    Console(highlight=False).print(message)


@app.command("unset")
def unset_rule(
    account: AccountOption,
    kind: KindOption,
    source: Annotated[str, typer.Argument(help="The rule's source, as in `mappings list`.")],
    storefront: StorefrontOption = None,
) -> None:
    """Remove one rule; the rule for every storefront, or the built-in default, applies again."""
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.store.db import transaction
    from kaufland_sync.sync.order_mapping import MappingRuleError, parse_kind
    from kaufland_sync.sync.order_mapping import unset_rule as drop_rule

    factory = open_store()
    try:
        parsed = parse_kind(kind)
        with transaction(factory) as session:
            account_id = _account(session, account).id
            removed = drop_rule(session, account_id, parsed, source, storefront=storefront)
    except MappingRuleError as exc:
        fail(f"--{exc.field} {exc.message}")
    where = storefront or "every storefront"
    if not removed:
        fail(f"no {parsed.value} rule for {source!r} on {where} of account {account!r}")
    remapped = _remap(factory, account_id, parsed.value)
    message = f"{parsed.value}: rule for {source} on {where} removed"
    if remapped is not None:
        message += f"; {remapped} order(s) mapped again"
    Console(highlight=False).print(message)

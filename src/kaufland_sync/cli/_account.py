"""Shared by the commands that act for one account (``categories``, ``product-data``,
``import``): a migrated store, the account, and a Kaufland client for it.

Known failures (no such account, a storefront it does not sell on, a wrong master key) become
one ``error:`` line and exit status 1 instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from kaufland_sync.cli._output import err

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.sellerapi.client import KauflandClient
    from kaufland_sync.sellerapi.storefronts import Storefront
    from kaufland_sync.store.models.accounts import Account, AccountStorefront


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(code)


def parse_storefront(value: str) -> Storefront:
    from kaufland_sync.sellerapi.storefronts import Storefront

    try:
        return Storefront.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--storefront") from None


@dataclass
class AccountContext:
    """The store's sessions, the account (detached, loaded with its storefronts) and a way to
    build its client."""

    factory: sessionmaker[Session]
    account: Account
    _client_kwargs: dict[str, Any]
    _secret: str

    def storefronts(self, only: str | None) -> list[AccountStorefront]:
        """The account's storefront settings, or only the one named (error if not sold there)."""
        if only is None:
            return list(self.account.storefronts)
        wanted = parse_storefront(only)
        found = self.account.storefront(wanted)
        if found is None:
            sold = ", ".join(s.storefront.value for s in self.account.storefronts) or "none"
            fail(
                f"account {self.account.name!r} does not sell on storefront {wanted.value!r} "
                f"(its storefronts: {sold})"
            )
        return [found]

    def client(self, storefront: Storefront | None = None) -> KauflandClient:
        from kaufland_sync.accounts import base_url_for
        from kaufland_sync.sellerapi.client import KauflandClient

        return KauflandClient(
            self.account.client_key,
            self._secret,
            base_url=base_url_for(self.account),
            storefront=storefront,
            **self._client_kwargs,
        )


def open_account(name: str) -> AccountContext:
    """Open the store and load account ``name`` with its decrypted secret key."""
    from kaufland_sync.cli.catalog import open_store
    from kaufland_sync.config import load_settings
    from kaufland_sync.secrets import MasterKeyError, SecretDecryptionError, secret_box
    from kaufland_sync.store.accounts import AccountError, AccountRepository

    factory = open_store()
    try:
        with factory() as session:
            account = AccountRepository(session).get(name)
            _ = [s.warehouses for s in account.storefronts]  # load before the session closes
            secret = secret_box(load_settings()).decrypt(
                account.secret_key_encrypted, account=account.name
            )
    except (AccountError, MasterKeyError, SecretDecryptionError) as exc:
        fail(str(exc))
    return AccountContext(factory, account, {}, secret)

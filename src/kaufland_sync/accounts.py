"""Accounts as the rest of the program uses them: add one (encrypting its secret key), build a
``KauflandClient`` for one, and check that its credentials, clock and storefronts work.

Rules live here; statements live in ``store.accounts``; HTTP lives in ``sellerapi``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kaufland_sync.secrets import SecretBox
from kaufland_sync.sellerapi.client import (
    PLAYGROUND_BASE_URL,
    PRODUCTION_BASE_URL,
    KauflandClient,
)
from kaufland_sync.sellerapi.storefronts import Storefront
from kaufland_sync.store.accounts import AccountRepository, InvalidSettingError
from kaufland_sync.store.models.accounts import Account, Environment

__all__ = [
    "AccountService",
    "ConnectionReport",
    "base_url_for",
    "check_connection",
    "environment_for",
]

# A difference this large is worth a warning even though Kaufland still accepts it (300 s).
_CLOCK_WARNING_SECONDS = 60.0
_CLOCK_LIMIT_SECONDS = 300.0


def base_url_for(account: Account) -> str:
    """The API base URL (ending in ``/v2``) the account's calls go to."""
    if account.environment is Environment.PRODUCTION:
        return PRODUCTION_BASE_URL
    if account.environment is Environment.PLAYGROUND:
        return PLAYGROUND_BASE_URL
    if not account.base_url:
        raise InvalidSettingError("base_url", "''", f"account {account.name!r} has no base URL")
    return account.base_url


def environment_for(base_url: str | None, *, playground: bool) -> tuple[Environment, str | None]:
    """The environment and stored base URL for ``--base-url`` / ``--playground``.

    Kaufland's own URLs map to their environments, so the account follows Kaufland if those ever
    change; any other absolute http(s) URL is a custom environment (the sandbox, a proxy).
    """
    if playground and base_url:
        raise InvalidSettingError("base_url", base_url, "give either a base URL or playground")
    if playground:
        return Environment.PLAYGROUND, None
    if not base_url:
        return Environment.PRODUCTION, None
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or "://" not in url or url.endswith("://"):
        raise InvalidSettingError("base_url", base_url, "must be an absolute http(s) URL")
    if url == PRODUCTION_BASE_URL:
        return Environment.PRODUCTION, None
    if url == PLAYGROUND_BASE_URL:
        return Environment.PLAYGROUND, None
    return Environment.CUSTOM, url


class AccountService:
    """Accounts with their secrets: encrypts on the way in, decrypts only to build a client."""

    def __init__(self, repository: AccountRepository, box: SecretBox) -> None:
        self.repository = repository
        self.box = box

    def add(
        self,
        name: str,
        *,
        client_key: str,
        secret_key: str,
        environment: Environment,
        base_url: str | None,
        storefronts: Iterable[Storefront | str],
    ) -> Account:
        """Store a new account; its secret key is encrypted before it reaches the session."""
        if not secret_key.strip():
            raise InvalidSettingError("secret_key", "''", "must not be empty")
        codes = list(storefronts)
        if not codes:
            raise InvalidSettingError("storefront", "''", "give at least one storefront")
        return self.repository.add(
            name,
            client_key=client_key,
            secret_key_encrypted=self.box.encrypt(secret_key.strip()),
            environment=environment,
            base_url=base_url,
            storefronts=codes,
        )

    def set_secret_key(self, account: Account, secret_key: str) -> None:
        if not secret_key.strip():
            raise InvalidSettingError("secret_key", "''", "must not be empty")
        self.repository.set_credentials(
            account, secret_key_encrypted=self.box.encrypt(secret_key.strip())
        )

    def secret_key(self, account: Account) -> str:
        """The plain secret key (``SecretDecryptionError`` naming the account on a wrong
        master key). Keep it in memory only as long as the client needs it."""
        return self.box.decrypt(account.secret_key_encrypted, account=account.name)

    def client_for(
        self, account: Account, storefront: Storefront | str | None = None, **kwargs: Any
    ) -> KauflandClient:
        """A ``KauflandClient`` for the account (its environment's base URL); ``kwargs`` go to
        the client (``http_client``, ``retry``, ``correct_clock_skew``...)."""
        return KauflandClient(
            account.client_key,
            self.secret_key(account),
            base_url=base_url_for(account),
            storefront=storefront,
            **kwargs,
        )


@dataclass
class ConnectionReport:
    """What ``check_connection`` found. ``ok`` is False when any problem was found."""

    base_url: str
    credentials_ok: bool = False
    clock_skew_seconds: float | None = None  # Kaufland's time minus ours; positive: we are behind
    configured: list[str] = field(default_factory=list)  # account storefronts Kaufland has
    missing: list[str] = field(default_factory=list)  # account storefronts Kaufland lacks
    unused: list[str] = field(default_factory=list)  # Kaufland storefronts the account skips
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "base_url": self.base_url,
            "credentials_ok": self.credentials_ok,
            "clock_skew_seconds": self.clock_skew_seconds,
            "configured": self.configured,
            "missing": self.missing,
            "unused": self.unused,
            "problems": self.problems,
            "warnings": self.warnings,
        }


def _server_skew(headers: Mapping[str, str], local_now: float) -> float | None:
    """Kaufland's time (the ``Date`` header, whole seconds) minus ``local_now``."""
    value = next((v for k, v in headers.items() if k.lower() == "date"), None)
    if not value:
        return None
    try:
        server = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return server.timestamp() - local_now if server.tzinfo else None


def _clock_text(skew: float) -> str:
    from kaufland_sync.sellerapi.errors import describe_skew

    return describe_skew(skew)


def _explain(error: Exception, base_url: str) -> str:
    """Plain words for why the check call failed, and what to do."""
    from kaufland_sync.sellerapi import errors

    if isinstance(error, errors.ClockSkewError):
        return (
            f"Kaufland refused the request because {_clock_text(error.skew_seconds)}; requests "
            "must be signed within 5 minutes of Kaufland's time. Set the clock right (enable "
            "NTP, e.g. `timedatectl set-ntp true`)."
        )
    if isinstance(error, errors.SignatureError):
        return (
            "Kaufland did not accept the request signature: the secret key does not belong to "
            "this client key (mistyped, or from another account). Copy both keys again from the "
            "seller portal (Settings > API) and update the account."
        )
    if isinstance(error, errors.InvalidCredentialsError):
        return (
            "Kaufland does not know this client key (mistyped, revoked, or meant for the other "
            "environment: production and playground keys differ). Copy it again from the "
            "seller portal."
        )
    if isinstance(error, errors.InactiveAccountError):
        return "Kaufland says this seller account is not active; activate it in the seller portal."
    if isinstance(error, errors.AuthenticationError):
        return f"Kaufland refused the credentials (HTTP {error.status_code}): {error.message}"
    if isinstance(error, errors.TransportError):
        detail = str(error.cause) or "no detail"
        return (
            f"could not reach {base_url} ({type(error.cause).__name__}: {detail}). Check the "
            "URL, the network, and any proxy or firewall in between."
        )
    if isinstance(error, errors.ApiError):
        return f"Kaufland answered HTTP {error.status_code}: {error.message or error.problem_type}"
    return f"unexpected error: {error}"


async def check_connection(
    client: KauflandClient,
    storefronts: Iterable[Storefront | str],
    *,
    clock: Callable[[], float] = time.time,
) -> ConnectionReport:
    """Ping with the account's keys, read Kaufland's clock from the answer's ``Date`` header, and
    compare ``GET /info/storefront`` with the storefronts the account sells on.

    Never raises for an API or network failure: those become ``problems`` in plain words.
    """
    from kaufland_sync.sellerapi.errors import KauflandError

    report = ConnectionReport(base_url=client.base_url)
    try:
        response = await client.request("GET", "/status/ping")
    except KauflandError as exc:
        report.problems.append(_explain(exc, client.base_url))
        return report
    report.credentials_ok = True
    skew = _server_skew(response.headers, clock())
    if skew is None and client.clock_offset:
        skew = client.clock_offset
    report.clock_skew_seconds = None if skew is None else round(skew, 1)
    if skew is not None and abs(skew) > _CLOCK_LIMIT_SECONDS:
        report.problems.append(
            f"{_clock_text(skew)}. Kaufland refuses requests signed more than 5 minutes off its "
            "time; kaufland-sync corrects for it, but set the clock right (enable NTP, e.g. "
            "`timedatectl set-ntp true`)."
        )
    elif skew is not None and abs(skew) > _CLOCK_WARNING_SECONDS:
        report.warnings.append(f"{_clock_text(skew)}; consider enabling NTP")
    try:
        on_kaufland = await client.info.storefronts()
    except KauflandError as exc:
        report.problems.append(_explain(exc, client.base_url))
        return report
    known = {code.lower() for code in on_kaufland}
    wanted = [Storefront.parse(s).value for s in storefronts]
    report.configured = [s for s in wanted if s in known]
    report.missing = [s for s in wanted if s not in known]
    report.unused = sorted(known - set(wanted))
    for code in report.missing:
        report.problems.append(
            f"storefront {code!r} is not set up for this seller on Kaufland: configure it in the "
            "seller portal, or stop selling there (kaufland-sync accounts set ... --remove-"
            f"storefront {code})"
        )
    return report

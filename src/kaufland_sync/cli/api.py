"""``kaufland-sync api``: one signed call, its answer printed as JSON (a debugging tool)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import typer

from kaufland_sync.cli._output import err, mask, print_json

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def split_target(path: str) -> tuple[str, dict[str, list[str]]]:
    """Split ``/units?storefront=de&status=a&status=b`` into a path and repeated-key params.

    A leading ``/v2`` is dropped (the base URL carries it) and a missing leading ``/`` added.
    """
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        raise typer.BadParameter(
            "give the path only (e.g. /units?storefront=de); the host comes from --base-url",
            param_hint="PATH",
        )
    clean = parts.path if parts.path.startswith("/") else "/" + parts.path
    if clean == "/v2" or clean.startswith("/v2/"):
        clean = clean[3:] or "/"
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return clean, params


def parse_data(data: str | None) -> str | None:
    """Validate ``--data`` (inline JSON or ``@file.json``) and return it as compact JSON text."""
    if data is None:
        return None
    text = data
    if data.startswith("@"):
        try:
            with open(data[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot read {data[1:]}: {exc.strerror}", param_hint="--data"
            ) from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            param_hint="--data",
        ) from None
    return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)


def api(
    method: Annotated[str, typer.Argument(help="HTTP method: GET, POST, PUT, PATCH or DELETE.")],
    path: Annotated[
        str, typer.Argument(help="Path under /v2 with its query, e.g. '/units?limit=5'.")
    ],
    base_url: Annotated[
        str,
        typer.Option(
            envvar="KAUFLAND_SYNC_BASE_URL",
            help="API base URL ending in /v2 (production, playground or the sandbox).",
        ),
    ] = "https://sellerapi.kaufland.com/v2",
    client_key: Annotated[
        str,
        typer.Option(envvar="KAUFLAND_SYNC_CLIENT_KEY", help="Client key from the seller portal."),
    ] = "",
    secret_key: Annotated[
        str,
        typer.Option(
            envvar="KAUFLAND_SYNC_SECRET_KEY",
            help="Secret key from the seller portal (prefer the environment variable).",
            show_default=False,
        ),
    ] = "",
    storefront: Annotated[
        str | None,
        typer.Option(
            envvar="KAUFLAND_SYNC_STOREFRONT", help="Storefront: de, cz, sk, pl, at, fr, it."
        ),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="JSON request body, inline or @file.json.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the request sent.")
    ] = False,
) -> None:
    """Make one signed call to the Seller API and print the JSON answer."""
    from kaufland_sync.sellerapi.storefronts import Storefront

    verb = method.upper()
    if verb not in METHODS:
        raise typer.BadParameter(
            f"{method!r} is not one of {', '.join(METHODS)}", param_hint="METHOD"
        )
    if not client_key:
        raise typer.BadParameter(
            "missing; or set KAUFLAND_SYNC_CLIENT_KEY", param_hint="--client-key"
        )
    if not secret_key:
        raise typer.BadParameter(
            "missing; or set KAUFLAND_SYNC_SECRET_KEY", param_hint="--secret-key"
        )
    clean_path, params = split_target(path)
    query: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in params.items()}
    if storefront:
        try:
            query["storefront"] = Storefront.parse(storefront).value
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--storefront") from None
    body = parse_data(data)
    if verbose:
        err.print(f"[dim]{verb} {base_url.rstrip('/')}{clean_path} {query or ''}[/dim]")
        err.print(f"[dim]Shop-Client-Key: {mask(client_key)}[/dim]")
    status, payload = asyncio.run(
        _call(verb, clean_path, query, body, base_url, client_key, secret_key)
    )
    colour = "green" if status < 400 else "red"
    err.print(f"[{colour}]HTTP {status}[/{colour}]")
    if payload is not None:
        print_json(payload)
    if status >= 400:
        raise typer.Exit(1)


async def _call(
    method: str,
    path: str,
    query: dict[str, Any],
    body: str | None,
    base_url: str,
    client_key: str,
    secret_key: str,
) -> tuple[int, Any]:
    from kaufland_sync.sellerapi import KauflandClient
    from kaufland_sync.sellerapi.errors import KauflandError

    async with KauflandClient(client_key, secret_key, base_url=base_url) as client:
        try:
            response = await client.raw(method, path, params=query or None, body=body)
        except KauflandError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    if not response.content:
        return response.status_code, None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"raw": response.text}

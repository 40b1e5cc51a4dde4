"""``kaufland-sync sandbox``: serve the local Kaufland stand-in over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Embedded defaults for the demo and local trials. They are not secrets: they only open the
# sandbox, which refuses clients that are not on loopback for its control API anyway.
DEMO_CLIENT_KEY = "demo_client_key_0000000000000001"
DEMO_SECRET_KEY = "demo_secret_key_" + "0" * 48


def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    client_key: Annotated[
        list[str] | None,
        typer.Option(
            help="Client key of a seller; repeat together with --secret-key for several sellers."
        ),
    ] = None,
    secret_key: Annotated[
        list[str] | None,
        typer.Option(help="Secret key paired with the --client-key in the same position."),
    ] = None,
    seed: Annotated[
        str, typer.Option(help="Initial world: 'demo' (catalogue, offers) or 'empty'.")
    ] = "demo",
    open_delay: Annotated[
        float,
        typer.Option(
            help="Seconds a new order unit stays 'open' with hidden addresses (Kaufland: ~900)."
        ),
    ] = 0.0,
    review_delay: Annotated[
        float,
        typer.Option(help="Seconds before product data sent with PUT /product-data is reviewed."),
    ] = 0.0,
    rate_limit: Annotated[
        float, typer.Option(help="Requests per second per client key (0: off).")
    ] = 111.0,
    latency_ms: Annotated[
        float, typer.Option(help="Added latency per request, in milliseconds.")
    ] = 0.0,
    state: Annotated[
        Path | None, typer.Option(help="JSON file that keeps the world across restarts.")
    ] = None,
    public_base_url: Annotated[
        str | None,
        typer.Option(
            help="scheme://host[:port] clients sign against (default: the request's Host header)."
        ),
    ] = None,
    storefront: Annotated[
        list[str] | None,
        typer.Option(help="Storefronts the sellers have configured (default: all)."),
    ] = None,
    random_seed: Annotated[
        int | None, typer.Option(help="Seed for faults and random buyers.")
    ] = None,
    buyers_every: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Invented buyers order by themselves, on average every this many seconds "
            "across all sellers (0: off).",
        ),
    ] = 0.0,
    buyers_storefront: Annotated[
        list[str] | None,
        typer.Option(help="Storefront those buyers shop on (repeatable; default: all)."),
    ] = None,
) -> None:
    """Serve the Kaufland sandbox (``/v2/...`` plus the ``/_sandbox/`` control API)."""
    from kaufland_sync.sandbox.server import serve
    from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials
    from kaufland_sync.sellerapi.storefronts import Storefront

    keys = client_key or [DEMO_CLIENT_KEY]
    secrets = secret_key or ([DEMO_SECRET_KEY] if not client_key else [])
    if len(keys) != len(secrets):
        raise typer.BadParameter(
            f"{len(keys)} client key(s) but {len(secrets)} secret key(s); give them in pairs",
            param_hint="--secret-key",
        )
    if seed not in ("demo", "empty"):
        raise typer.BadParameter("must be 'demo' or 'empty'", param_hint="--seed")
    try:
        fronts = (
            tuple(Storefront.parse(s).value for s in storefront) if storefront else ALL_STOREFRONTS
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--storefront") from None
    try:
        buyer_fronts = (
            tuple(Storefront.parse(s).value for s in buyers_storefront)
            if buyers_storefront
            else None
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--buyers-storefront") from None
    config = SandboxConfig(
        sellers=[SellerCredentials(k, s, fronts) for k, s in zip(keys, secrets, strict=True)],
        public_base_url=public_base_url,
        seed=seed,
        open_delay=open_delay,
        review_delay=review_delay,
        rate_limit=rate_limit,
        latency_ms=latency_ms,
        state_file=state,
        random_seed=random_seed,
        buyers_every=buyers_every,
        buyers_storefronts=buyer_fronts,
    )
    typer.echo(
        f"Kaufland sandbox on http://{host}:{port}/v2 for {len(keys)} seller(s); "
        f"control API at http://{host}:{port}/_sandbox/state. Ctrl-C stops it."
    )
    if buyers_every > 0:
        typer.echo(f"Invented buyers order about every {buyers_every:g} s.")
    serve(config, host, port)

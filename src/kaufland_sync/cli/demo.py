"""``kaufland-sync demo``: the sandbox with demo data and a signed round trip through the client.

It is what ``make demo`` runs on a fresh machine: it needs no configuration (embedded demo keys),
prints every HTTP call the client makes and what it means, then keeps the sandbox serving so the
reader can try ``kaufland-sync api`` against it.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli.sandbox import DEMO_CLIENT_KEY, DEMO_SECRET_KEY

console = Console(highlight=False)


def demo(
    port: Annotated[int, typer.Option(help="Port for the sandbox (0: any free port).")] = 8765,
    once: Annotated[
        bool, typer.Option(help="Exit after the round trip instead of serving.")
    ] = False,
) -> None:
    """Start the sandbox with demo data, run a signed round trip, keep serving until Ctrl-C."""
    from kaufland_sync.sandbox.server import RunningSandbox
    from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials

    config = SandboxConfig(
        sellers=[SellerCredentials(DEMO_CLIENT_KEY, DEMO_SECRET_KEY, ALL_STOREFRONTS)],
        seed="demo",
        open_delay=0.0,
        random_seed=7,
    )
    try:
        running = RunningSandbox(config, port=port)
        running.start()
    except OSError as exc:
        console.print(f"[red]Cannot start the sandbox on port {port}: {exc.strerror}.[/red]")
        console.print(
            "Another program uses that port; try [bold]kaufland-sync demo --port 0[/bold]."
        )
        raise typer.Exit(1) from None
    try:
        console.rule("[bold]kaufland-sync demo[/bold]")
        console.print(f"Sandbox (Kaufland stand-in) serving [bold]{running.base_url}[/bold]\n")
        asyncio.run(round_trip(running.base_url))
        if once:
            return
        console.print(
            "\nThe sandbox keeps running. Try, in another terminal:\n"
            f"  export KAUFLAND_SYNC_BASE_URL={running.base_url}\n"
            f"  export KAUFLAND_SYNC_CLIENT_KEY={DEMO_CLIENT_KEY}\n"
            f"  export KAUFLAND_SYNC_SECRET_KEY={DEMO_SECRET_KEY}\n"
            "  .venv/bin/kaufland-sync api GET '/units?limit=3' --storefront de\n"
            f"World counts: {running.root_url}/_sandbox/state\n"
            "Press Ctrl-C to stop.",
            soft_wrap=True,  # long keys must stay on one line to be copied
        )
        signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop, like Ctrl-C
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            console.print("\nStopped.")
    finally:
        running.stop()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


class CallLog:
    """httpx hooks that record every exchange the client makes, with its duration."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int, float]] = []

    async def started(self, request: httpx.Request) -> None:
        request.extensions["demo_started"] = time.perf_counter()

    async def finished(self, response: httpx.Response) -> None:
        request = response.request
        started = request.extensions.get("demo_started", time.perf_counter())
        elapsed_ms = (time.perf_counter() - started) * 1000
        target = request.url.raw_path.decode("ascii")
        self.rows.append((request.method, target, response.status_code, elapsed_ms))


async def round_trip(base_url: str) -> None:
    """Walk through what a connector does, printing each step and the HTTP calls behind it."""
    from kaufland_sync.sellerapi import KauflandClient
    from kaufland_sync.sellerapi.errors import ApiError
    from kaufland_sync.sellerapi.models.units import UnitPatchRequest, UnitRequest

    log = CallLog()
    http = httpx.AsyncClient(
        event_hooks={"request": [log.started], "response": [log.finished]}, timeout=10.0
    )
    steps: list[tuple[str, str]] = []

    def step(title: str, outcome: str) -> None:
        steps.append((title, outcome))
        console.print(f"[green]✔[/green] {title}: {outcome}")

    async with KauflandClient(
        DEMO_CLIENT_KEY,
        DEMO_SECRET_KEY,
        base_url=base_url,
        storefront="de",
        user_agent="kaufland-sync-demo",
        http_client=http,
    ) as client:
        ping = await client.status.ping()
        step("Signed request accepted (GET /status/ping)", repr(ping.message))

        storefronts = await client.info.storefronts()
        step("Storefronts configured for this seller", ", ".join(storefronts))

        page = await client.units.list(storefront="de", limit=5)
        step(
            "Offers on kaufland.de",
            f"{page.total} units, first page of {len(page.items)}",
        )

        sample = page.items[0]
        if sample.id_product is None:
            raise RuntimeError("the demo catalogue returned a unit without a product")
        known = await client.products.get(sample.id_product, storefront="de")
        ean = known.eans[0] if known.eans else ""
        product = await client.products.by_ean(ean, storefront="de")
        step("Catalogue lookup by EAN", f"{ean}: {product.title!r} (id {product.id_product})")

        sku = f"DEMO-{int(time.time())}"
        created = await client.units.create(
            UnitRequest(
                id_offer=sku,
                ean=ean,
                listing_price=2499,
                amount=7,
                handling_time=1,
                condition="NEW",
            ),
            storefront="de",
        )
        step(
            "New offer published",
            f"id_unit {created.id_unit}, SKU {sku}, 24.99 EUR, stock {created.amount}, "
            f"status {created.status}",
        )

        updated = await client.units.update(
            created.id_unit, UnitPatchRequest(amount=12, listing_price=2399), storefront="de"
        )
        step("Price and stock updated", f"23.99 EUR, stock {updated.amount}")

        orders = await client.playground.create_orders([(created.id_unit, 2)], storefront="de")
        id_order = orders[0].id_order
        step("A buyer orders 2 pieces (POST /playground/orders)", f"order {id_order}")

        after = await client.units.get(created.id_unit, storefront="de")
        step("Stock on Kaufland dropped with the order", f"{updated.amount} → {after.amount}")

        units = [u async for u in client.order_units.iter_all(storefront="de")]
        mine = [u for u in units if u.id_order == id_order]
        step(
            "Order units imported",
            f"{len(mine)} units of order {id_order}: " + ", ".join(str(u.status) for u in mine),
        )

        first = mine[0]
        await client.order_units.send(
            first.id_order_unit, tracking_numbers="00340434161234567890", carrier_code="DHL"
        )
        shipped = await client.order_units.get(first.id_order_unit)
        step("Shipped with DHL tracking", f"order unit {first.id_order_unit} is {shipped.status}")

        await client.order_units.cancel(mine[1].id_order_unit, reason="NoInventory")
        restocked = await client.units.get(created.id_unit, storefront="de")
        step("Second piece cancelled, stock released", f"stock back to {restocked.amount}")

    async with KauflandClient(
        DEMO_CLIENT_KEY, "wrong-secret-" + "0" * 51, base_url=base_url, http_client=None
    ) as bad:
        try:
            await bad.status.ping()
            step("A wrongly signed request", "unexpectedly accepted")
        except ApiError as exc:
            step(
                "A wrongly signed request is refused", f"HTTP {exc.status_code} {exc.problem_type}"
            )

    table = Table(title="HTTP calls made by the client (signed, paced, retried)")
    table.add_column("method")
    table.add_column("target")
    table.add_column("status", justify="right")
    table.add_column("ms", justify="right")
    for method, target, status, ms in log.rows:
        table.add_row(method, target, str(status), f"{ms:.1f}")
    console.print()
    console.print(table)

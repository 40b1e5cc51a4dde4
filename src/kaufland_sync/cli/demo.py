"""``kaufland-sync demo``: the whole product running on embedded defaults, with buyers ordering.

It is what ``make demo`` runs on a fresh machine, with no configuration and no other server:

1. the sandbox (the Kaufland stand-in) starts with demo data and the embedded demo seller; its
   invented buyers place an order now and then (``--buyers-every``), and its world is kept in
   the demo folder across runs (``sandbox-world.json``);
2. the demo store lives in a folder of its own (``--data-dir``, default ``<data dir>/demo``:
   ``$KAUFLAND_SYNC_DATA_DIR/demo`` or the per-user data folder's ``demo``), so a real store is
   never touched; the database and queue settings of the environment are ignored for the same
   reason. The account ``demo`` for the sandbox seller is added when missing (and pointed at the
   sandbox's current address), the sample catalogue ``docs/examples/catalog-sample.csv`` is
   imported when the catalogue is empty;
3. what ``kaufland-sync run`` serves runs in this process on that store: the web app (health,
   metrics, push receiver) on ``--port``, a worker and the scheduler; the account is subscribed to
   push notifications at the local web app, so every buyer's order reaches the store within
   seconds (and the schedules catch anything missed);
4. a signed round trip through the client shows each Seller API call and what it means (its
   order, too, travels back by push);
5. then the demo prints where to look and every order as it is imported, until Ctrl-C or
   SIGTERM stop everything gracefully (running jobs finish, the sandbox saves its world).

``--once`` (tests, CI) stops after step 4 once an orders job queued after the round trip has
run and the store holds at least one order: exit status 0, or 1 when that does not happen in
time.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from kaufland_sync.cli.sandbox import DEMO_CLIENT_KEY, DEMO_SECRET_KEY

if TYPE_CHECKING:
    import uvicorn
    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.backoffice.csv_import import ImportReport
    from kaufland_sync.config import Settings
    from kaufland_sync.sandbox.server import RunningSandbox

# Long URLs, paths and keys stay on one line (to be copied), also when output is not a terminal.
console = Console(highlight=False, soft_wrap=True)

#: The demo account's name (also in its push receiver's path).
DEMO_ACCOUNT = "demo"
#: The storefront the demo account sells on and the sandbox's buyers shop on.
DEMO_STOREFRONT = "de"
#: Fallback e-mail of the demo's push subscriptions (the sandbox never writes to it).
DEMO_EMAIL = "demo@example.com"
#: The sandbox's port unless ``--sandbox-port`` or ``--port 0`` say otherwise.
DEFAULT_SANDBOX_PORT = 8765
#: The sample catalogue of the source tree (absent from an installed wheel: then none is imported).
SAMPLE_CATALOG = Path(__file__).resolve().parents[3] / "docs" / "examples" / "catalog-sample.csv"
#: Longest wait in ``--once`` for the orders job after the round trip.
ONCE_TIMEOUT_SECONDS = 120.0
#: Seconds between two looks at the store for newly imported orders while serving.
WATCH_EVERY_SECONDS = 2.0
#: At most this many new orders are named per look (the rest are counted).
WATCH_SHOWN = 5


def demo(
    port: Annotated[
        int, typer.Option(help="Port of the web app (health, metrics, push); 0: any free port.")
    ] = 8080,
    sandbox_port: Annotated[
        int | None,
        typer.Option(
            help=f"Port of the sandbox (default {DEFAULT_SANDBOX_PORT}; with --port 0 any free "
            "port); 0: any free port."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder of the demo store (default: <data dir>/demo, the data dir being "
            "KAUFLAND_SYNC_DATA_DIR or the per-user one). Never point it at a real store.",
        ),
    ] = None,
    buyers_every: Annotated[
        float,
        typer.Option(
            min=0.0, help="The sandbox's buyers order about every this many seconds (0: never)."
        ),
    ] = 20.0,
    concurrency: Annotated[
        int, typer.Option(min=1, max=16, help="Jobs the demo's worker runs at the same time.")
    ] = 2,
    once: Annotated[
        bool,
        typer.Option(
            help="Exit once the round trip is done and an orders job has imported orders."
        ),
    ] = False,
) -> None:
    """Run the sandbox with buyers and the whole service on a demo store; Ctrl-C stops."""
    from kaufland_sync.config import load_settings

    base = load_settings()
    folder = (data_dir or base.data_dir / "demo").expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if sandbox_port is None:
        sandbox_port = 0 if port == 0 else DEFAULT_SANDBOX_PORT
    sandbox = _start_sandbox(folder, sandbox_port, buyers_every)
    try:
        _run(base, folder, sandbox, port=port, concurrency=concurrency, once=once)
    finally:
        sandbox.stop()  # saves the world into the demo folder
    if not once:
        console.print("Stopped.")


def _start_sandbox(folder: Path, port: int, buyers_every: float) -> RunningSandbox:
    from kaufland_sync.sandbox.server import RunningSandbox
    from kaufland_sync.sandbox.world import ALL_STOREFRONTS, SandboxConfig, SellerCredentials

    config = SandboxConfig(
        sellers=[SellerCredentials(DEMO_CLIENT_KEY, DEMO_SECRET_KEY, ALL_STOREFRONTS)],
        seed="demo",
        # Kaufland keeps a new order unit `open` (address hidden) for ~15 minutes; the round
        # trip ships its order at once, so here orders can be sent straight away.
        open_delay=0.0,
        random_seed=7,
        # Kept across runs: the demo store remembers the orders of this world, so a fresh world
        # reusing their ids would contradict it.
        state_file=folder / "sandbox-world.json",
        buyers_every=buyers_every,
        buyers_storefronts=(DEMO_STOREFRONT,),
    )
    try:
        return RunningSandbox(config, port=port).start()
    except (OSError, RuntimeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        console.print(f"[red]Cannot start the sandbox on port {port}: {reason}.[/red]")
        console.print(
            "Another program may use that port; try [bold]kaufland-sync demo --port 0[/bold]."
        )
        raise typer.Exit(1) from None


def _run(
    base: Settings,
    folder: Path,
    sandbox: RunningSandbox,
    *,
    port: int,
    concurrency: int,
    once: bool,
) -> None:
    """Everything after the sandbox: store, web app, worker, subscription, round trip, serving."""
    from kaufland_sync.jobs.worker import start_in_thread
    from kaufland_sync.store.db import create_db_engine, session_factory
    from kaufland_sync.store.migrate import upgrade
    from kaufland_sync.web.app import create_app

    try:
        listener = _listen("127.0.0.1", port)
    except OSError as exc:
        console.print(f"[red]Cannot serve the web app on port {port}: {exc.strerror}.[/red]")
        console.print("Try another [bold]--port[/bold] (0: any free port).")
        raise typer.Exit(1) from None
    web_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = demo_settings(base, folder, public_url=web_url)
    engine = create_db_engine(settings.resolved_database_url)
    web: _WebServer | None = None
    worker = None
    try:
        upgrade(engine)
        factory = session_factory(engine)
        console.rule("[bold]kaufland-sync demo[/bold]")
        console.print(f"Demo store: [bold]{folder}[/bold] (your own store is not touched)")
        console.print(f"Sandbox (Kaufland stand-in) serving [bold]{sandbox.base_url}[/bold]")
        account_id, created = ensure_account(settings, factory, sandbox.base_url)
        console.print(
            f"Account [bold]{DEMO_ACCOUNT}[/bold] "
            + ("added" if created else "already there")
            + f" (sandbox seller, storefront {DEMO_STOREFRONT})"
        )
        report = ensure_catalog(factory)
        if report is not None:
            console.print(
                f"Catalogue imported from {SAMPLE_CATALOG.name}: "
                f"{report.products_created} products, "
                f"{report.stock_levels_written} stock levels"
            )
        ensure_demo_user(factory)
        web = _WebServer(create_app(settings, factory=factory, ui=True), listener)
        web.start()
        worker = start_in_thread(settings, concurrency=concurrency, with_scheduler=True)
        console.print(
            f"Service running (as `kaufland-sync run` would): web app [bold]{web_url}[/bold], "
            f"{concurrency} job threads and the scheduler"
        )
        callback = asyncio.run(subscribe_push(settings, factory, account_id, web_url))
        console.print(f"Push notifications of the sandbox go to [bold]{callback}[/bold]\n")
        baseline = _last_order_id(factory, account_id)
        asyncio.run(round_trip(sandbox.base_url))
        if once:
            _finish_once(settings, factory, account_id)
            return
        _instructions(folder, web_url, sandbox)
        _serve_until_stopped(factory, account_id, baseline)
    finally:
        if worker is not None:
            worker.stop()
        if web is not None:
            web.stop()
        listener.close()
        engine.dispose()


def demo_settings(base: Settings, folder: Path, *, public_url: str) -> Settings:
    """``base`` moved onto the demo folder: its own SQLite store, queue and master key, so a
    store or queue the environment names (``KAUFLAND_SYNC_DATABASE_URL`` ...) is never used."""
    return base.model_copy(
        update={
            "data_dir": folder,
            "database_url": None,
            "queue_url": None,
            "master_key": None,
            "public_url": public_url,
        }
    )


def ensure_account(
    settings: Settings, factory: sessionmaker[Session], base_url: str
) -> tuple[int, bool]:
    """The demo account's id, and whether it was added now. An existing one keeps its data and
    is pointed at ``base_url`` (the sandbox's port may differ from the last run's)."""
    from kaufland_sync.accounts import AccountService
    from kaufland_sync.secrets import secret_box
    from kaufland_sync.store.accounts import AccountRepository
    from kaufland_sync.store.db import transaction
    from kaufland_sync.store.models.accounts import Environment

    with transaction(factory) as session:
        repository = AccountRepository(session)
        account = repository.find(DEMO_ACCOUNT)
        if account is not None:
            if account.environment is Environment.CUSTOM and account.base_url != base_url:
                repository.set_environment(account, Environment.CUSTOM, base_url)
            return account.id, False
        account = AccountService(repository, secret_box(settings)).add(
            DEMO_ACCOUNT,
            client_key=DEMO_CLIENT_KEY,
            secret_key=DEMO_SECRET_KEY,
            environment=Environment.CUSTOM,
            base_url=base_url,
            storefronts=[DEMO_STOREFRONT],
        )
        # Kaufland needs a handling time on every offer; the sample catalogue leaves most
        # rows to the storefront's default, which a new account does not have yet.
        repository.update_storefront(account, DEMO_STOREFRONT, {"handling_time": 1})
        return account.id, True


def ensure_catalog(factory: sessionmaker[Session]) -> ImportReport | None:
    """Import the sample catalogue when the store has no product yet (None: nothing imported,
    because there are products already or the sample is not there)."""
    from sqlalchemy import func, select

    from kaufland_sync.backoffice.csv_import import import_csv
    from kaufland_sync.store.models.catalog import Product

    with factory() as session:
        if session.scalar(select(func.count()).select_from(Product)):
            return None
    if not SAMPLE_CATALOG.is_file():
        return None
    return import_csv(SAMPLE_CATALOG, factory)


async def subscribe_push(
    settings: Settings, factory: sessionmaker[Session], account_id: int, web_url: str
) -> str:
    """Subscribe the demo account's events at the local web app (which must be serving: the
    sandbox checks the address first) and mark push notifications on; the callback URL."""
    from kaufland_sync.clients import client_for_account
    from kaufland_sync.secrets import secret_box
    from kaufland_sync.store.db import transaction
    from kaufland_sync.store.models.accounts import Account
    from kaufland_sync.sync.webhooks import callback_url_for, subscribe

    callback = callback_url_for(web_url, DEMO_ACCOUNT)
    with factory() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise RuntimeError("the demo account disappeared")
        session.expunge(account)
    secret = secret_box(settings).decrypt(account.secret_key_encrypted, account=account.name)
    async with client_for_account(settings, account, secret) as client:
        await subscribe(
            client,
            storefronts=[DEMO_STOREFRONT],
            callback_url=callback,
            fallback_email=DEMO_EMAIL,
        )
    with transaction(factory) as session:
        stored = session.get(Account, account_id)
        if stored is not None:
            stored.push_callback_url = callback
    return callback


def _finish_once(settings: Settings, factory: sessionmaker[Session], account_id: int) -> None:
    """Queue an orders job, wait for it and check the store has orders; exit 1 if not."""
    from kaufland_sync.jobs.queue import JobQueue
    from kaufland_sync.store.models.jobs import JobKind, JobState, JobTrigger

    queue = JobQueue(settings, factory)
    try:
        job_id = queue.submit(
            account_id=account_id, kind=JobKind.ORDERS, trigger=JobTrigger.MANUAL
        ).job_id
    finally:
        queue.close()
    state = _wait_for_job(factory, job_id, ONCE_TIMEOUT_SECONDS)
    orders = _order_count(factory, account_id)
    if state is not JobState.DONE or orders == 0:
        console.print(
            f"[red]The orders job {job_id} ended {state or 'not in time'} with {orders} "
            "orders in the store.[/red] See: "
            f"KAUFLAND_SYNC_DATA_DIR={settings.data_dir} kaufland-sync jobs list",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(f"\n[green]✔[/green] Orders job {job_id} done: {orders} order(s) in the store")


def _wait_for_job(factory: sessionmaker[Session], job_id: int, timeout: float) -> Any:
    """The job's state once it is done, failed or dropped; None when ``timeout`` passes first.
    (Polls the ledger: the job runs on the worker's threads, which report nothing else.)"""
    from kaufland_sync.store.models.jobs import Job, JobState

    final = {JobState.DONE, JobState.FAILED, JobState.DROPPED}
    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            job = session.get(Job, job_id)
            state = None if job is None else job.state
        if state in final:
            return state
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def _order_count(factory: sessionmaker[Session], account_id: int) -> int:
    from sqlalchemy import func, select

    from kaufland_sync.store.models.orders import Order

    with factory() as session:
        query = select(func.count()).select_from(Order).where(Order.account_id == account_id)
        return int(session.scalar(query) or 0)


def _last_order_id(factory: sessionmaker[Session], account_id: int) -> int:
    from sqlalchemy import func, select

    from kaufland_sync.store.models.orders import Order

    with factory() as session:
        return int(
            session.scalar(select(func.max(Order.id)).where(Order.account_id == account_id)) or 0
        )


#: The demo's web sign-in. A known password exists only in the demo's own store; a real
#: installation gets a random one on first run (``kaufland-sync run``) or ``users add``.
DEMO_USER = "demo"
DEMO_PASSWORD = "kaufland-demo"  # noqa: S105 - the demo store's documented sign-in


def ensure_demo_user(factory: sessionmaker[Session]) -> None:
    """The demo's admin user (``demo`` / ``kaufland-demo``), once."""
    from kaufland_sync.store.models.users import Role
    from kaufland_sync.web.auth import create_user, find_user

    with factory() as session, session.begin():
        if find_user(session, DEMO_USER) is None:
            create_user(session, DEMO_USER, Role.ADMIN, DEMO_PASSWORD)


def _instructions(folder: Path, web_url: str, sandbox: RunningSandbox) -> None:
    console.print(
        "\nThe demo keeps running; buyers order now and then and each order is imported.\n"
        f"  dashboard: {web_url}/  (sign in as {DEMO_USER} / {DEMO_PASSWORD})\n"
        f"  health:  {web_url}/health\n"
        f"  metrics: {web_url}/metrics\n"
        f"  sandbox: {sandbox.root_url}/_sandbox/state\n"
        "Look at the demo store in another terminal:\n"
        f"  export KAUFLAND_SYNC_DATA_DIR={folder}\n"
        f"  .venv/bin/kaufland-sync orders list --account {DEMO_ACCOUNT}\n"
        "  .venv/bin/kaufland-sync jobs list\n"
        f"  .venv/bin/kaufland-sync schedules show --account {DEMO_ACCOUNT}\n"
        "Or call the Seller API of the sandbox yourself:\n"
        f"  export KAUFLAND_SYNC_BASE_URL={sandbox.base_url}\n"
        f"  export KAUFLAND_SYNC_CLIENT_KEY={DEMO_CLIENT_KEY}\n"
        f"  export KAUFLAND_SYNC_SECRET_KEY={DEMO_SECRET_KEY}\n"
        "  .venv/bin/kaufland-sync api GET '/units?limit=3' --storefront de\n"
        "Press Ctrl-C to stop.",
        soft_wrap=True,  # long keys and paths must stay on one line to be copied
    )


def _serve_until_stopped(factory: sessionmaker[Session], account_id: int, seen: int) -> None:
    """Name each newly imported order until SIGINT or SIGTERM (a service manager's stop);
    the caller then stops the worker, the web app and the sandbox."""
    from sqlalchemy import select

    from kaufland_sync.store.models.orders import Order

    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(WATCH_EVERY_SECONDS):
            with factory() as session:
                rows = session.execute(
                    select(Order.id, Order.id_order, Order.storefront, Order.status)
                    .where(Order.account_id == account_id, Order.id > seen)
                    .order_by(Order.id)
                ).all()
            for row in rows[:WATCH_SHOWN]:
                console.print(
                    f"{time.strftime('%H:%M:%S')} order {row.id_order} ({row.storefront}) "
                    f"imported, status {row.status}"
                )
            if len(rows) > WATCH_SHOWN:
                console.print(f"… and {len(rows) - WATCH_SHOWN} more orders imported")
            if rows:
                seen = rows[-1].id
        console.print("\nStopping: running jobs finish first (a second Ctrl-C stops at once)…")
    finally:
        # Back to the defaults: a second signal while stopping ends the process at once.
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket (bound now, so ``--port 0`` knows its port before serving)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class _WebServer:
    """The web app served by uvicorn on ``listener`` in a background thread (uvicorn installs
    no signal handlers there: this process's main thread owns Ctrl-C and SIGTERM)."""

    app: Any
    listener: socket.socket
    start_timeout: float = 15.0

    def __post_init__(self) -> None:
        import uvicorn

        config = uvicorn.Config(self.app, log_level="warning", access_log=False)
        self.server: uvicorn.Server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.listener])),
            name="kaufland-sync-web",
            daemon=True,
        )
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web app did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Finish the requests in progress, run the app's shutdown and join."""
        if self.thread is None:
            return
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.thread = None


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

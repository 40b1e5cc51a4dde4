"""Client throughput against the sandbox: paced concurrency vs a plain sequential loop.

Starts ``kaufland-sync sandbox`` in its own process (30 ms latency, 111 requests/s per client
key), then sends ``PATCH /units/{id}`` through one KauflandClient:

* paced: N requests from C coroutines sharing the client (the client keeps under the limit);
* sequential: a plain loop awaiting one request after the other;
* unpaced: the same concurrency with the client's pacing switched off, to show what the
  limit does to a client that does not pace (429s answered, retried with backoff).

Prints requests/s, share of the limit, 429s seen by the sandbox, and client CPU time per
request. Figures, not asserts: copy them into docs/benchmarks.md.

    .venv/bin/python benchmarks/client_throughput.py [--requests 5000] [--sequential 500]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

from _harness import free_port, start_sandbox
from kaufland_sync.sellerapi import KauflandClient, RateLimiter
from kaufland_sync.sellerapi.errors import KauflandError

KEY = "bench_client_key_000000000000001"
SECRET = "bench_secret_key_" + "c" * 47


@dataclass
class Row:
    name: str
    requests: int
    concurrency: int
    seconds: float
    cpu_seconds: float
    ok: int
    failed: int
    answered_429: int

    def cells(self, limit: float) -> list[str]:
        rate = self.requests / self.seconds if self.seconds else 0.0
        return [
            self.name,
            str(self.requests),
            str(self.concurrency),
            f"{self.seconds:.1f}",
            f"{rate:.1f}",
            f"{100 * rate / limit:.0f}%",
            str(self.answered_429),
            str(self.failed),
            f"{1000 * self.cpu_seconds / self.requests:.2f}",
        ]


def count_429(root: str) -> int:
    state = httpx.get(f"{root}/_sandbox/state", timeout=10).json()["data"]
    return sum(by.get("429", 0) for by in state["requests"].values())


def reset(root: str) -> None:
    httpx.post(f"{root}/_sandbox/reset", json={"seed": "demo"}, timeout=10).raise_for_status()


async def run(
    name: str, root: str, ids: list[int], requests: int, concurrency: int, paced: bool
) -> Row:
    reset(root)
    RateLimiter.clear_registry()
    rng = random.Random(7)
    jobs: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        jobs.put_nowait(n)
    ok = failed = 0
    kwargs: dict[str, Any] = {} if paced else {"rate_limit": None}
    async with KauflandClient(KEY, SECRET, base_url=f"{root}/v2", storefront="de", **kwargs) as api:

        async def worker() -> None:
            nonlocal ok, failed
            while True:
                try:
                    jobs.get_nowait()
                except asyncio.QueueEmpty:
                    return
                id_unit = rng.choice(ids)
                try:
                    await api.units.update(id_unit, {"amount": rng.randint(0, 500)})
                    ok += 1
                except KauflandError:
                    failed += 1

        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return Row(name, requests, concurrency, seconds, cpu, ok, failed, count_429(root))


async def unit_ids(root: str) -> list[int]:
    async with KauflandClient(KEY, SECRET, base_url=f"{root}/v2", storefront="de") as api:
        return [u.id_unit async for u in api.units.iter_all()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="PATCHes in the paced run")
    parser.add_argument("--sequential", type=int, default=500, help="PATCHes in the plain loop")
    parser.add_argument(
        "--unpaced", type=int, default=3000, help="PATCHes without pacing (0: skip)"
    )
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--rate-limit", type=float, default=111.0)
    args = parser.parse_args()
    # Retries of the unpaced run are counted in the table; their warnings would drown it.
    logging.getLogger("kaufland_sync.sellerapi").setLevel(logging.ERROR)

    port = free_port()
    root = f"http://127.0.0.1:{port}"
    sandbox = start_sandbox(
        port,
        *("--latency-ms", str(args.latency_ms), "--rate-limit", str(args.rate_limit)),
        *("--client-key", KEY, "--secret-key", SECRET, "--random-seed", "1"),
    )
    try:
        ids = asyncio.run(unit_ids(root))
        rows = [
            asyncio.run(run("paced, concurrent", root, ids, args.requests, args.concurrency, True)),
            asyncio.run(run("plain sequential loop", root, ids, args.sequential, 1, True)),
        ]
        if args.unpaced:
            rows.append(
                asyncio.run(
                    run("unpaced, concurrent", root, ids, args.unpaced, args.concurrency, False)
                )
            )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)

    header = [
        "run",
        "requests",
        "conc.",
        "seconds",
        "req/s",
        "of limit",
        "429s",
        "failed",
        "CPU ms/req",
    ]
    table = [header] + [row.cells(args.rate_limit) for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print(
        f"PATCH /units against the sandbox: {args.latency_ms:g} ms latency, "
        f"limit {args.rate_limit:g} requests/s per client key; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    for i, r in enumerate(table):
        cells = zip(r, widths, strict=True)
        print("  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(cells)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()

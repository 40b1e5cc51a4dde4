"""Offers sync at catalogue scale, driven exactly as a seller would: through the CLI.

Starts the sandbox in its own process (30 ms latency, 111 requests/s per client key, an empty
world), writes a catalogue CSV of N products with valid EANs, then runs, each as its own
``kaufland-sync`` process against a fresh data folder:

1. ``catalog import`` of the catalogue;
2. ``sync offers`` — the first publication (one ``POST /units`` per product);
3. ``sync offers`` again — nothing changed, so nothing should be sent;
4. a full price update (every price changes; re-imported from a CSV) and ``sync offers``
   (``POST /units/bulk`` with 150 units per call);
5. a 1% delta: ``sync offers --dry-run`` (the time to detect the changes), then ``sync offers``.

For each step it prints wall time, API calls the sandbox received (writes and reads), and the
peak memory (max RSS) of that process. Figures, not asserts: copy them into docs/benchmarks.md.

    .venv/bin/python benchmarks/offers_sync.py [--products 100000]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from _harness import free_port, run_cli, start_sandbox

KEY = "bench_offers_client_key_00000001"
SECRET = "bench_offers_secret_" + "d" * 44
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class Step:
    name: str
    seconds: float
    writes: int
    reads: int
    peak_mb: float
    note: str = ""


def ean13(n: int) -> str:
    body = f"40{n:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def write_catalogue(path: Path, count: int, prices: list[int]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["sku", "ean", "title", "price", "currency", "stock", "brand", "category"])
        for n in range(count):
            price = prices[n]
            out.writerow(
                [
                    f"BENCH-{n:07d}",
                    ean13(n),
                    f"Benchmark product {n}",
                    f"{price // 100}.{price % 100:02d}",
                    "EUR",
                    (n * 7) % 40,
                    "Benchwerk",
                    "Haushalt > Küche",
                ]
            )


def requests_by_kind(root: str) -> tuple[int, int]:
    state = httpx.get(f"{root}/_sandbox/state", timeout=30).json()["data"]
    writes = reads = 0
    for endpoint, by_status in state["requests"].items():
        count = sum(by_status.values())
        if endpoint.split(" ", 1)[0] in WRITES:
            writes += count
        else:
            reads += count
    return writes, reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--rate-limit", type=float, default=111.0)
    args = parser.parse_args()
    n = args.products
    rng = random.Random(11)
    prices = [rng.randint(199, 99_999) for _ in range(n)]

    work = Path(tempfile.mkdtemp(prefix="kaufland-bench-"))
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    sandbox = start_sandbox(
        port,
        *("--seed", "empty", "--latency-ms", str(args.latency_ms)),
        *("--rate-limit", str(args.rate_limit), "--client-key", KEY, "--secret-key", SECRET),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAUFLAND_SYNC_")}
    env["KAUFLAND_SYNC_DATA_DIR"] = str(work / "data")
    env["KAUFLAND_SYNC_SECRET_KEY"] = SECRET
    steps: list[Step] = []
    try:

        def step(name: str, *cli: str, note: str = "") -> str:
            writes0, reads0 = requests_by_kind(root)
            seconds, peak, out = run_cli(env, *cli, accept=(0, 1))  # 1: some failed, reported
            writes1, reads1 = requests_by_kind(root)
            steps.append(Step(name, seconds, writes1 - writes0, reads1 - reads0, peak, note))
            return out

        catalogue = work / "catalogue.csv"
        write_catalogue(catalogue, n, prices)
        step("catalog import", "catalog", "import", str(catalogue))
        run_cli(
            env,
            "accounts",
            "add",
            "bench",
            "--client-key",
            KEY,
            "--base-url",
            f"{root}/v2",
            "--storefront",
            "de",
        )
        run_cli(env, "accounts", "set", "bench", "--storefront", "de", "--handling-time", "1")
        step(
            "sync offers: first publication",
            "sync",
            "offers",
            "--account",
            "bench",
            "--json",
            note=f"{n} creates",
        )
        step("sync offers: nothing changed", "sync", "offers", "--account", "bench", "--json")

        write_catalogue(catalogue, n, [p + 100 for p in prices])
        step("catalog import: every price +1.00", "catalog", "import", str(catalogue))
        bulk = math.ceil(n / 150)
        step(
            "sync offers: full price update",
            "sync",
            "offers",
            "--account",
            "bench",
            "--json",
            note=f"ideal {bulk} bulk calls, ~{bulk / args.rate_limit:.1f} s at the limit",
        )

        changed = set(rng.sample(range(n), max(1, n // 100)))
        delta = [p + 100 + (50 if i in changed else 0) for i, p in enumerate(prices)]
        write_catalogue(catalogue, n, delta)
        step("catalog import: 1% of prices", "catalog", "import", str(catalogue))
        step(
            "sync offers --dry-run: detect 1%",
            "sync",
            "offers",
            "--account",
            "bench",
            "--dry-run",
            "--json",
        )
        step(
            "sync offers: 1% delta",
            "sync",
            "offers",
            "--account",
            "bench",
            "--json",
            note=f"ideal {math.ceil(len(changed) / 150)} bulk calls",
        )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)

    print(
        f"{n:,} products on storefront de; sandbox with {args.latency_ms:g} ms latency and "
        f"{args.rate_limit:g} requests/s; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    header = ["step", "seconds", "writes", "reads", "peak MB", "note"]
    rows = [header] + [
        [s.name, f"{s.seconds:.1f}", str(s.writes), str(s.reads), f"{s.peak_mb:.0f}", s.note]
        for s in steps
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        cells = zip(row, widths, strict=True)
        print("  ".join(c.rjust(w) if 0 < j < 5 else c.ljust(w) for j, (c, w) in enumerate(cells)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()

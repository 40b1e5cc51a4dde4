"""``kaufland-sync report commission|performance|fees`` through Typer's CliRunner: the table,
JSON and CSV outputs parsed and checked against the hand-computed store rows of
tests/reports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from kaufland_sync.cli import app
from tests.builders import migrated_store
from tests.reports import test_fees, test_performance
from tests.reports.test_commission import seed_sales

Seeder = Callable[[sessionmaker[Session]], None]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Seeder], None]]:
    """A data folder whose store the test fills with ``store(seeder)``."""
    for name in ("KAUFLAND_SYNC_DATABASE_URL", "KAUFLAND_SYNC_MASTER_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAUFLAND_SYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "250")  # wide enough that Rich never folds a table cell
    with migrated_store(f"sqlite:///{tmp_path / 'data' / 'kaufland-sync.db'}") as factory:
        yield lambda seeder: seeder(factory)


def report(*args: str) -> Result:
    return CliRunner().invoke(app, ["report", *args])


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_commission_as_json_csv_and_table(store: Callable[[Seeder], None]) -> None:
    store(seed_sales)
    span = ("--account", "shop", "--from", "2026-03-01", "--to", "2026-04-30")

    as_json = report("commission", *span, "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert (data["base_currency"], data["by"], data["from"], data["to"]) == (
        "EUR",
        "month",
        "2026-03-01",
        "2026-04-30",
    )
    assert [(r["storefront"], r["period"], r["commission"]) for r in data["rows"]] == [
        ("cz", "2026-03", 4563),
        ("cz", "2026-04", 0),
        ("de", "2026-03", 3453),
        ("de", "2026-04", 750),
    ]
    assert data["total"]["commission"] == 4384 and data["total"]["lines"] == 5

    as_csv = report("commission", *span, "--by", "month", "--csv")
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.stdout.splitlines()[0].startswith("storefront,period,start,end,currency,lines")
    rows = csv_rows(as_csv.stdout)
    assert [(r["storefront"], r["period"]) for r in rows] == [
        ("cz", "2026-03"),
        ("cz", "2026-04"),
        ("de", "2026-03"),
        ("de", "2026-04"),
        ("cz", "total"),
        ("de", "total"),
        ("all", "total"),
    ]
    de_march = rows[2]
    assert (de_march["commission"], de_march["commission_percent"]) == ("3453", "15.35")
    assert (de_march["refunded"], de_march["returned_commission"]) == ("500", "300")
    assert (rows[0]["currency"], rows[0]["currency_rate"], rows[0]["base_commission"]) == (
        "CZK",
        "25.2",
        "181",
    )
    assert rows[-1]["base_commission"] == "4384" and rows[-1]["currency"] == ""

    table = report("commission", *span)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    de_row = next(line for line in lines if "│ de " in line and "2026-03" in line)
    for cell in ("224.90", "190.37", "159.98", "34.53", "15.35 %", "5.00"):
        assert cell in de_row
    assert "Total in EUR: 5 lines, sales 288.83, commission 43.84 (15.18 %)" in table.stdout


def test_an_account_must_be_named_when_there_are_several(
    store: Callable[[Seeder], None],
) -> None:
    store(seed_sales)  # accounts "shop" and "other"
    unnamed = report("commission")
    assert unnamed.exit_code == 1 and "several accounts (other, shop)" in unnamed.stderr
    unknown = report("performance", "--account", "nobody")
    assert unknown.exit_code == 1 and "no account named 'nobody'" in unknown.stderr


def test_bad_arguments_exit_with_2(store: Callable[[Seeder], None]) -> None:
    store(seed_sales)
    both = report("commission", "--account", "shop", "--json", "--csv")
    assert both.exit_code == 2 and "choose one of --json and --csv" in both.stderr
    bad_date = report("commission", "--account", "shop", "--from", "March")
    assert bad_date.exit_code == 2 and "ISO date" in bad_date.stderr
    reversed_range = report(
        "performance", "--account", "shop", "--from", "2026-04-01", "--to", "2026-03-01"
    )
    assert reversed_range.exit_code == 2 and "is after --to" in reversed_range.stderr
    bad_by = report("commission", "--account", "shop", "--by", "year")
    assert bad_by.exit_code == 2
    bad_storefront = report("fees", "--account", "shop", "--storefront", "xx")
    assert bad_storefront.exit_code == 2 and "unknown storefront" in bad_storefront.stderr


def test_performance_as_json_csv_and_table(store: Callable[[Seeder], None]) -> None:
    store(test_performance.seed)
    span = ("--account", "shop", "--from", "2026-03-01", "--to", "2026-03-31")

    as_json = report("performance", *span, "--storefront", "de", "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    (row,) = data["rows"]
    assert (row["storefront"], row["period"], row["lines"]) == ("de", "2026-03", 8)
    assert row["late_shipment_rate"] == {"numerator": 1, "denominator": 3, "percent": 33.33}
    assert row["valid_tracking_rate"] == {"numerator": 1, "denominator": 2, "percent": 50.0}
    assert row["tracking_unknown"] == 2 and row["open_tickets"] == 3
    assert data["unmatched_return_units"] == {"de": 1}

    as_csv = report("performance", *span, "--by", "week", "--csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = csv_rows(as_csv.stdout)
    totals = {r["storefront"]: r for r in rows if r["period"] == "total"}
    assert set(totals) == {"cz", "de", "all"}
    assert (
        totals["all"]["seller_cancellation_rate_numerator"],
        totals["all"]["seller_cancellation_rate_denominator"],
        totals["all"]["seller_cancellation_rate_percent"],
    ) == ("1", "9", "11.11")
    assert totals["all"]["average_handling_hours"] == "39.0"
    assert totals["cz"]["late"] == "1" and totals["de"]["returns"] == "2"
    weeks = [r["period"] for r in rows if r["storefront"] == "de" and r["period"] != "total"]
    assert weeks == ["2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"]

    # A storefront the account does not sell on could only report zeros: refused.
    for kind in ("performance", "commission"):
        not_sold = report(kind, "--account", "shop", "--storefront", "pl")
        assert not_sold.exit_code == 1 and "does not sell on storefront 'pl'" in not_sold.stderr

    table = report("performance", *span)
    assert table.exit_code == 0, table.output
    de_row = next(line for line in table.stdout.splitlines() if "│ de " in line)
    for cell in ("1/3 (33.33 %)", "1/8 (12.50 %)", "1/2 (50.00 %)", "40.00", "2/4 (50.00 %)"):
        assert cell in de_row
    assert "1 return units match no imported order line" in table.stdout
    assert "1 open tickets have no known storefront" in table.stdout


def test_fees_as_json_csv_and_table(store: Callable[[Seeder], None]) -> None:
    store(test_fees.seed)

    as_json = report("fees", "--json")  # the only account: no --account needed
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["counts"]["ok"] == 2 and len(data["rows"]) == 12

    as_csv = report("fees", "--storefront", "de", "--sku", "SPADE-1", "--sku", "NOCAT", "--csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = csv_rows(as_csv.stdout)
    assert [(r["sku"], r["status"], r["price"], r["fee"], r["revenue"]) for r in rows] == [
        ("NOCAT", "no_category", "1999", "", ""),
        ("SPADE-1", "ok", "1999", "280", "1719"),
    ]
    assert (rows[1]["variable_fee"], rows[1]["fixed_fee"], rows[1]["id_category"]) == (
        "10.5",
        "0.7",
        "100",
    )

    table = report("fees", "--storefront", "cz")
    assert table.exit_code == 0, table.output
    spade = next(line for line in table.stdout.splitlines() if "SPADE-1" in line)
    for cell in ("504.00", "65.48", "438.52", "12", "5.00", "ok"):
        assert cell in spade
    assert "6 rows: ok 1, no_category 1, unmapped 3" in table.stdout

    not_sold = report("fees", "--storefront", "pl")
    assert not_sold.exit_code == 1 and "does not sell on storefront 'pl'" in not_sold.stderr

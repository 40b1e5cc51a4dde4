"""``kaufland-sync catalog`` on a SQLite file in tmp_path: in process, and ``export -`` as a real
process (its stdout must hold the CSV and nothing else)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli.runner import Ran, run_cli, run_process

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "examples" / "catalog-sample.csv"


def run(tmp_path: Path, *args: str) -> Ran:
    return run_cli("catalog", *args, env={"KAUFLAND_SYNC_DATA_DIR": str(tmp_path / "data")})


def test_sample_imports_lists_and_exports(tmp_path: Path) -> None:
    result = run(tmp_path, "import", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert "11 created" in result.stdout
    listed = run(tmp_path, "list", "--json", "--search", "konvice")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert [(i["sku"], i["price_minor"], i["currency"], i["stock"]) for i in items] == [
        ("KIT-KETTLE-17", 3590, "EUR", 30),
        ("KIT-KETTLE-17-B", 2990, "EUR", 2),
    ]
    data = {"KAUFLAND_SYNC_DATA_DIR": str(tmp_path / "data")}
    exported = run_process("catalog", "export", "-", env=data, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(exported.stdout.splitlines()))
    assert len(rows) == 12
    assert {(r["sku"], r["warehouse"], r["stock"]) for r in rows if r["sku"] == "GRD-SPADE-01"} == {
        ("GRD-SPADE-01", "default", "12"),
        ("GRD-SPADE-01", "prague", "5"),
    }


def test_bad_rows_exit_1_and_keep_the_good_ones(tmp_path: Path) -> None:
    lines = ["sku;ean;title;price;currency;stock"]
    lines += [f"BAD-{i};4006381333932;Bad {i};1;EUR;1" for i in range(25)]
    lines += ["GOOD;4006381333931;Good;1,50;EUR;2"]
    source = tmp_path / "in.csv"
    source.write_text("\n".join(lines) + "\n", encoding="cp1250")
    errors = tmp_path / "errors.csv"
    result = run(tmp_path, "import", str(source), "--errors-csv", str(errors))
    assert result.returncode == 1, result.stderr
    assert "wrong check digit" in result.stdout
    assert "… and 5 more" in result.stdout
    with errors.open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [r["row"] for r in written] == [str(n) for n in range(2, 27)]
    listed = json.loads(run(tmp_path, "list", "--json").stdout)
    assert [i["sku"] for i in listed] == ["GOOD"]


def test_a_missing_column_exits_2_with_the_columns_found(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("sku,ean,title\n", encoding="utf-8")
    result = run(tmp_path, "import", str(source))
    assert result.returncode == 2
    assert "missing required column(s): price, currency, stock" in result.stderr
    assert "The header has: sku, ean, title" in result.stderr

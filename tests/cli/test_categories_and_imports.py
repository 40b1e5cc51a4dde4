"""``kaufland-sync categories``, ``product-data`` and ``import offers`` in process against a
sandbox over loopback HTTP (demo seed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import run_cli


def test_import_offers_reports_units_without_local_product(env: dict[str, str]) -> None:
    result = run_cli("import", "offers", "--account", "shop", "--json", env=env)
    assert result.returncode == 0, result.stderr
    [report] = json.loads(result.stdout)
    assert report["storefront"] == "de" and report["units"] > 0
    assert len(report["unmatched"]) == report["units"] and report["created"] == []

    result = run_cli(
        "accounts", "set", "shop", "--storefront", "de", "--direction", "offers=both", env=env
    )
    if result.returncode != 0:  # the option name is the accounts CLI's business
        pytest.fail(result.stderr)
    result = run_cli("import", "offers", "--account", "shop", "--storefront", "de", env=env)
    assert result.returncode == 0, result.stderr
    assert f"{report['units']} products created" in result.stdout
    listed = json.loads(run_cli("catalog", "list", "--json", env=env).stdout)
    assert len(listed) == report["units"]

    result = run_cli("import", "offers", "--account", "nobody", env=env)
    assert result.returncode == 1 and "no account named 'nobody'" in result.stderr


def test_categories_suggest_map_and_list(env: dict[str, str], tmp_path: Path) -> None:
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text(
        "sku,ean,title,price,currency,stock,brand,category\n"
        "P-1,4006381333931,Samsung Galaxy Smartphone,199.00,EUR,3,Samsung,Phones\n"
        "P-2,4012345678901,Sony In-Ear Headset Kopfhörer,89.90,EUR,1,Sony,Tools\n",
        encoding="utf-8",
    )
    assert run_cli("catalog", "import", str(csv_file), env=env).returncode == 0
    refresh = run_cli("categories", "refresh", "--account", "shop", "--storefront", "de", env=env)
    assert refresh.returncode == 0 and "categories cached for de" in refresh.stderr
    result = run_cli(
        "categories", "suggest", "--account", "shop", "--storefront", "de", "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    found = {s["local_category"]: s for s in json.loads(result.stdout)}
    assert found["Phones"]["source"] == "suggested" and found["Phones"]["id_category"] == 10011
    assert found["Tools"]["id_category"] is not None

    assert (
        run_cli("categories", "map", "Tools", "100", "--storefront", "de", env=env).returncode == 1
    )
    mapped = run_cli("categories", "map", "Tools", "10011", "--storefront", "de", env=env)
    assert mapped.returncode == 0, mapped.stderr
    listed = json.loads(run_cli("categories", "list", "--json", env=env).stdout)
    tools = next(m for m in listed if m["local_category"] == "Tools")
    assert (tools["source"], tools["id_category"], tools["name"]) == (
        "manual",
        10011,
        "Smartphones",
    )

    push = run_cli(
        "product-data",
        "push",
        "--account",
        "shop",
        "--storefront",
        "de",
        "--sku",
        "P-1",
        "--json",
        env=env,
    )
    assert push.returncode == 0, push.stderr
    [outcome] = json.loads(push.stdout)
    assert outcome["action"] == "sent"
    status = run_cli("product-data", "status", "--account", "shop", "--storefront", "de", env=env)
    assert status.returncode == 1 and "colour" in status.stdout

    # Fields that come from the catalogue are refused by name (quotes intact).
    refused = run_cli("product-data", "set", "P-1", "description", "Nice", env=env)
    assert refused.returncode == 1
    assert "'description' comes from the product itself" in refused.stderr
    missing = run_cli("product-data", "set", "NOPE", "colour", "red", env=env)
    assert missing.returncode == 1 and "no product with SKU 'NOPE'" in missing.stderr

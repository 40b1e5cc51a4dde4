"""Layers point one way: sellerapi stands alone; the sandbox uses only sellerapi's pure parts."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "kaufland_sync"


def imported_modules(package: str) -> dict[str, set[str]]:
    """``{file: {imported kaufland_sync module, ...}}`` for every file of a package."""
    found: dict[str, set[str]] = {}
    for path in sorted((SRC / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(SRC))] = {n for n in names if n.startswith("kaufland_sync")}
    return found


def test_sellerapi_imports_nothing_else_of_the_project() -> None:
    offenders = {
        file: sorted(m for m in mods if not m.startswith("kaufland_sync.sellerapi"))
        for file, mods in imported_modules("sellerapi").items()
    }
    assert {f: m for f, m in offenders.items() if m} == {}


def test_sandbox_uses_only_pure_parts_of_sellerapi() -> None:
    allowed = {"kaufland_sync.sellerapi._signing", "kaufland_sync.sellerapi.storefronts"}
    offenders = {
        file: sorted(
            m for m in mods if not m.startswith("kaufland_sync.sandbox") and m not in allowed
        )
        for file, mods in imported_modules("sandbox").items()
    }
    assert {f: m for f, m in offenders.items() if m} == {}


def _reaching_into(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    offenders = {
        # A package or anything inside it ("kaufland_sync.cli" is not "kaufland_sync.clients").
        file: sorted(
            m for m in mods if m in forbidden or m.startswith(tuple(f + "." for f in forbidden))
        )
        for file, mods in imported_modules(package).items()
    }
    return {f: m for f, m in offenders.items() if m}


def test_the_store_knows_nothing_of_what_uses_it() -> None:
    """Models and migrations describe data; engines, commands and reports build on them."""
    users = (
        "kaufland_sync.sync",
        "kaufland_sync.cli",
        "kaufland_sync.reports",
        "kaufland_sync.jobs",
        "kaufland_sync.web",
    )
    assert _reaching_into("store", (*users, "kaufland_sync.backoffice")) == {}


def test_engines_and_reports_do_not_depend_on_the_command_line() -> None:
    assert _reaching_into("sync", ("kaufland_sync.cli",)) == {}
    assert _reaching_into("backoffice", ("kaufland_sync.cli", "kaufland_sync.sync")) == {}


def test_the_service_does_not_depend_on_the_command_line() -> None:
    """Jobs and the web app run without the CLI (workers, the web process); the CLI starts
    them, never the other way round. Jobs know nothing of the web app either."""
    assert _reaching_into("jobs", ("kaufland_sync.cli", "kaufland_sync.web")) == {}
    assert _reaching_into("web", ("kaufland_sync.cli",)) == {}


def test_reports_read_the_store_only() -> None:
    """Reports are pure reads of local data: no engine, no command line, no network client."""
    forbidden = ("kaufland_sync.sync", "kaufland_sync.cli", "kaufland_sync.sellerapi.client")
    assert imported_modules("reports")  # the package exists and is scanned
    assert _reaching_into("reports", forbidden) == {}

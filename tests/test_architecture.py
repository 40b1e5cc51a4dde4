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

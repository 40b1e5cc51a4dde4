"""Docs that list facts of the code stay true: the operations table and the README commands."""

from __future__ import annotations

import re
from pathlib import Path

from kaufland_sync.sandbox.app import load_routes

ROOT = Path(__file__).resolve().parents[1]


def sandbox_operations() -> set[tuple[str, str]]:
    return {(m, re.sub(r":[a-z]+}", "}", p)) for m, p, _ in load_routes()}


def test_operations_table_sandbox_column_matches_the_routes() -> None:
    text = (ROOT / "docs" / "api-operations.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \|.*\| (yes|no) \|$", text, re.M
    )
    assert len(rows) == 100  # the spec's 99 operations plus the playground one
    documented = {(method, path) for method, path, served in rows if served == "yes"}
    assert documented == sandbox_operations()


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme
    assert "make test" in readme

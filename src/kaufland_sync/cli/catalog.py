"""``kaufland-sync catalog import|export|list``: the built-in catalogue from the command line.

Exit codes: 0 success; 1 some rows of an import failed (the good rows are kept); 2 the file
could not be imported at all (missing column, unreadable encoding) or bad arguments.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from kaufland_sync.backoffice.csv_import import ImportReport

app = typer.Typer(
    name="catalog",
    help="The built-in catalogue: import and export CSV files, list products.",
    no_args_is_help=True,
)

err = Console(stderr=True, highlight=False)
ERRORS_SHOWN = 20


#: Engines opened by ``open_store`` during this command; the root command disposes them when
#: it ends (``close_stores``), so no pooled connection is left to the garbage collector.
_OPEN_ENGINES: list[Engine] = []


def open_store() -> sessionmaker[Session]:
    """Sessions on the configured database, migrated to the newest schema first; the engine is
    disposed when the running command ends (``close_stores``)."""
    from kaufland_sync.config import load_settings
    from kaufland_sync.store.db import create_db_engine, session_factory
    from kaufland_sync.store.migrate import upgrade

    engine = create_db_engine(load_settings().resolved_database_url)
    _OPEN_ENGINES.append(engine)
    upgrade(engine)
    return session_factory(engine)


def close_stores() -> None:
    """Dispose every engine ``open_store`` opened (called when the command ends)."""
    while _OPEN_ENGINES:
        _OPEN_ENGINES.pop().dispose()


def _error_table(report: ImportReport) -> Table:
    table = Table(title="Rows not imported", title_justify="left")
    for column in ("row", "column", "SKU", "reason"):
        table.add_column(column, overflow="fold")
    for error in report.errors[:ERRORS_SHOWN]:
        table.add_row(str(error.row), error.column or "", error.sku or "", error.message)
    return table


def _write_errors(report: ImportReport, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "column", "sku", "message"])
        for error in report.errors:
            writer.writerow([error.row, error.column or "", error.sku or "", error.message])


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV file (UTF-8, cp1250 or cp1252; , or ;).")],
    encoding: Annotated[
        str | None, typer.Option(help="utf-8, cp1250 or cp1252 (default: detected).")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="',' or ';' (default: sniffed from the header).")
    ] = None,
    errors_csv: Annotated[
        Path | None, typer.Option("--errors-csv", help="Write every row error to this CSV file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import products and stock from a CSV file (see docs/catalog.md for the columns)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from kaufland_sync.backoffice.csv_import import CatalogFileError, import_csv

    if not file.is_file():
        err.print(f"[red]No such file: {file}[/red]", soft_wrap=True)
        raise typer.Exit(2)
    factory = open_store()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task(f"Importing {file.name}", total=file.stat().st_size)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = import_csv(
                file, factory, encoding=encoding, delimiter=delimiter, progress=progress
            )
        except CatalogFileError as error:
            err.print(f"[red]Cannot import {file}: {error}[/red]", soft_wrap=True)
            raise typer.Exit(2) from None
    if errors_csv is not None:
        _write_errors(report, errors_csv)
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        summary = Table(title=f"Imported {file.name}", title_justify="left", show_header=False)
        summary.add_row(
            "rows read", f"{report.rows_read} ({report.encoding}, '{report.delimiter}')"
        )
        summary.add_row("rows failed", str(report.rows_failed))
        summary.add_row(
            "products",
            f"{report.products_created} created, {report.products_updated} updated, "
            f"{report.products_unchanged} unchanged",
        )
        summary.add_row(
            "stock levels",
            f"{report.stock_levels_written} written, {report.stock_levels_unchanged} unchanged",
        )
        out = Console(highlight=False)
        out.print(summary)
        for warning in report.warnings:
            err.print(f"[yellow]warning: {warning}[/yellow]")
        if report.errors:
            out.print(_error_table(report))
            hidden = len(report.errors) - ERRORS_SHOWN
            if hidden > 0:
                more = f"… and {hidden} more"
                hint = f" (all in {errors_csv})" if errors_csv else " (--errors-csv FILE lists all)"
                out.print(more + hint)
    if report.errors:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    file: Annotated[str, typer.Argument(help="Output CSV file, or - for stdout.")] = "-",
) -> None:
    """Write the catalogue as CSV (UTF-8, comma), one row per product and warehouse."""
    from kaufland_sync.backoffice.csv_import import export_csv

    factory = open_store()
    if file == "-":
        sys.stdout.reconfigure(newline="")  # type: ignore[union-attr]
        export_csv(factory, sys.stdout)
        sys.stdout.flush()
        return
    with Path(file).open("w", encoding="utf-8", newline="") as out:
        rows = export_csv(factory, out)
    err.print(f"{rows} rows written to {file}")


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N products.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Only products whose SKU, EAN or title contains TEXT.")
    ] = None,
) -> None:
    """List the catalogue's products with their total stock on hand."""
    from kaufland_sync.backoffice._fields import format_price
    from kaufland_sync.backoffice.catalog import BuiltinCatalog

    found = BuiltinCatalog(open_store()).search(search, limit=limit)
    if as_json:
        items = [
            {
                "sku": p.sku,
                "ean": p.ean,
                "title": p.title,
                "price_minor": p.price_minor,
                "currency": p.currency.value,
                "condition": p.condition.value,
                "vat_indicator": p.vat_indicator.value if p.vat_indicator else None,
                "brand": p.brand,
                "category": p.category,
                "image_urls": list(p.image_urls),
                "weight_grams": p.weight_grams,
                "handling_time": p.handling_time,
                "active": p.active,
                "stock": stock,
                "updated_at": p.updated_at.isoformat() if p.updated_at else None,
            }
            for p, stock in found
        ]
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"{len(found)} products", title_justify="left")
    for column in ("SKU", "EAN", "title", "price", "stock", "active"):
        table.add_column(column, overflow="fold")
    for p, stock in found:
        table.add_row(
            p.sku,
            p.ean,
            p.title,
            f"{format_price(p.price_minor)} {p.currency.value}",
            str(stock),
            "yes" if p.active else "no",
        )
    Console(highlight=False).print(table)

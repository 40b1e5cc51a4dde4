"""Catalogue files: ``import_csv`` streams a seller's CSV into the built-in catalogue,
``export_csv`` writes the catalogue back in the same format (see docs/catalog.md).

The import never holds the file in memory: rows are parsed one by one and written in batches
(default 1,000 rows, one transaction each) with dialect-native upserts (``INSERT … ON CONFLICT``
on SQLite and PostgreSQL). A bad row is reported with its row number (the header is row 1), the
column and the reason, and every other row still imports. A file that cannot be read as a
catalogue at all (missing required column, undecodable bytes) raises
:class:`CatalogFileError` before or while reading; the batches committed so far stay.

Encoding detection (``encoding=None``): the whole file is scanned once before importing (a
non-seekable stream is first spooled to a temporary file, never to memory).

1. A UTF-8 byte-order mark, or bytes that decode as UTF-8 from start to end: UTF-8.
2. Otherwise a Windows code page. Counted over the file: bytes that are common Central European
   letters in cp1250 but symbols or rare letters in cp1252 (``ě ř ą ł ż ś ź ť ď ň ľ Š Ž``: bytes
   ``8A 8C 8D 8E 8F 9A 9C 9D 9E 9F A3 A5 AF B3 B9 BC BE BF CC D8 EC F8``) against bytes that are
   Western letters in cp1252 but rare letters in cp1250 (``à æ ñ å ã õ û``). More Central European
   bytes: cp1250; otherwise cp1252. German ``ä ö ü ß é`` are the same byte in both, so a German
   file decodes correctly either way. ``encoding=`` overrides the guess.

Delimiter (``delimiter=None``): ``;`` when the header line has more semicolons than commas,
otherwise ``,``.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import IO, Any, BinaryIO, TextIO, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice._fields import (
    FieldError,
    format_price,
    normalise_ean,
    parse_active,
    parse_condition,
    parse_currency,
    parse_image_urls,
    parse_non_negative_int,
    parse_price,
    parse_vat_indicator,
)
from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.backoffice.protocol import StockLevel
from kaufland_sync.store.base import utc_now
from kaufland_sync.store.db import transaction
from kaufland_sync.store.models.catalog import (
    CONTENT_FIELDS,
    DEFAULT_WAREHOUSE,
    Product,
    Warehouse,
    content_hash,
)
from kaufland_sync.store.models.catalog import StockLevel as StockRow

__all__ = [
    "COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "CatalogFileError",
    "ImportReport",
    "RowError",
    "detect_encoding",
    "export_csv",
    "import_csv",
    "sniff_delimiter",
]

REQUIRED_COLUMNS = ("sku", "ean", "title", "price", "currency", "stock")
OPTIONAL_COLUMNS = (
    "warehouse",
    "description",
    "brand",
    "category",
    "condition",
    "vat",
    "image_urls",
    "handling_time",
    "weight_grams",
    "active",
)
#: Every column, in the order ``export_csv`` writes them.
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_MAX_LENGTHS = {
    "sku": 255,
    "title": 500,
    "brand": 255,
    "category": 1000,
    "warehouse": 64,
}

_CE_BYTES = bytes.fromhex("8A8C8D8E8F9A9C9D9E9FA3A5AFB3B9BCBEBFCCD8ECF8")
_WESTERN_BYTES = bytes.fromhex("E0C0E6C6F1D1E5C5E3C3F5D5FBDB")
_ALL_BYTES = bytes(range(256))
_NOT_CE = bytes(b for b in _ALL_BYTES if b not in _CE_BYTES)
_NOT_WESTERN = bytes(b for b in _ALL_BYTES if b not in _WESTERN_BYTES)
_CHUNK = 1 << 20

Progress = Callable[[int, int | None], None]


class CatalogFileError(Exception):
    """The file as a whole cannot be imported (nothing, or nothing more, is read from it)."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem with one row: ``row`` as in the file (header = 1), the column when one field is
    to blame, the row's SKU when it has one."""

    row: int
    column: str | None
    sku: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}{f' (SKU {self.sku})' if self.sku else ''}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    """What an import did. Products are counted once per batch they appear in (a SKU repeated on
    adjacent rows, as in an export with several warehouses, is counted once)."""

    encoding: str = ""
    delimiter: str = ""
    rows_read: int = 0
    rows_failed: int = 0
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    stock_levels_written: int = 0
    stock_levels_unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row imported."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def __str__(self) -> str:
        lines = [
            f"{self.rows_read} rows read ({self.encoding}, delimiter {self.delimiter!r}), "
            f"{self.rows_failed} failed",
            f"products: {self.products_created} created, {self.products_updated} updated, "
            f"{self.products_unchanged} unchanged",
            f"stock levels: {self.stock_levels_written} written, "
            f"{self.stock_levels_unchanged} unchanged",
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [str(e) for e in self.errors]
        return "\n".join(lines)


# --- reading ------------------------------------------------------------------------------------


def detect_encoding(stream: IO[bytes]) -> str:
    """Guess the encoding of a seekable binary stream (module docstring); the position is restored.

    Returns ``utf-8-sig`` (which also reads UTF-8 without a BOM), ``cp1250`` or ``cp1252``.
    """
    start = stream.tell()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    central = western = 0
    try:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            central += len(chunk.translate(None, _NOT_CE))
            western += len(chunk.translate(None, _NOT_WESTERN))
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    finally:
        stream.seek(start)
    if utf8:
        return "utf-8-sig"
    return "cp1250" if central > western else "cp1252"


def sniff_delimiter(header_line: str) -> str:
    """``;`` when the header has more semicolons than commas, else ``,``."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


class _CountingReader(io.RawIOBase):
    """A raw reader that reports bytes read so far to a progress callback."""

    def __init__(self, inner: IO[bytes], total: int | None, progress: Progress | None) -> None:
        super().__init__()
        self._inner = inner
        self._total = total
        self._progress = progress
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if self._progress is not None:
            self._progress(self.count, self._total)
        return size


def _size(stream: IO[bytes]) -> int | None:
    try:
        position = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(position)
        return end - position
    except (OSError, ValueError):
        return None


@dataclass(slots=True)
class _Row:
    number: int
    sku: str
    ean: str
    warehouse: str
    stock: int
    values: dict[str, Any]


class _RowParser:
    """Turns one CSV record into a :class:`_Row` or a list of :class:`RowError`."""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.index = {name: i for i, name in enumerate(header)}

    def parse(self, number: int, record: list[str]) -> _Row | list[RowError]:
        if len(record) > len(self.header) and any(v.strip() for v in record[len(self.header) :]):
            return [
                RowError(
                    number,
                    None,
                    None,
                    f"{len(record)} fields but the header has {len(self.header)} "
                    "(a delimiter inside a value needs quotes)",
                )
            ]
        text = {
            name: (record[i].strip() if i < len(record) else "") for name, i in self.index.items()
        }
        sku = text["sku"] or None
        errors: list[RowError] = []
        values: dict[str, Any] = {}

        def field_value(column: str, parse: Callable[[str], Any], *, required: bool) -> Any:
            raw = text.get(column, "")
            if not raw and required:
                errors.append(RowError(number, column, sku, "required value is empty"))
                return None
            limit = _MAX_LENGTHS.get(column)
            if limit is not None and len(raw) > limit:
                errors.append(RowError(number, column, sku, f"longer than {limit} characters"))
                return None
            try:
                return parse(raw)
            except FieldError as error:
                errors.append(RowError(number, column, sku, str(error)))
                return None

        def optional_text(raw: str) -> str | None:
            return raw or None

        field_value("sku", str, required=True)
        ean = field_value("ean", normalise_ean, required=True)
        values["ean"] = ean
        values["title"] = field_value("title", str, required=True)
        values["description"] = field_value("description", optional_text, required=False)
        values["brand"] = field_value("brand", optional_text, required=False)
        values["category"] = field_value("category", optional_text, required=False)
        values["image_urls"] = field_value("image_urls", parse_image_urls, required=False)
        values["price_minor"] = field_value("price", parse_price, required=True)
        values["currency"] = field_value("currency", parse_currency, required=True)
        values["condition"] = field_value("condition", parse_condition, required=False)
        values["vat_indicator"] = field_value("vat", parse_vat_indicator, required=False)
        values["weight_grams"] = field_value(
            "weight_grams", lambda s: parse_non_negative_int(s) if s else None, required=False
        )
        values["handling_time"] = field_value(
            "handling_time",
            lambda s: parse_non_negative_int(s, maximum=100) if s else None,
            required=False,
        )
        values["active"] = field_value("active", parse_active, required=False)
        stock = field_value("stock", parse_non_negative_int, required=True)
        warehouse = field_value("warehouse", str, required=False) or DEFAULT_WAREHOUSE
        if errors:
            return errors
        assert sku is not None and ean is not None and stock is not None
        return _Row(number, sku, ean, warehouse, stock, values)


def _read_header(lines: Iterator[str], delimiter: str | None) -> tuple[list[str], str]:
    first = next(lines, None)
    if first is None:
        raise CatalogFileError("the file is empty: it needs a header row")
    chosen = delimiter or sniff_delimiter(first)
    header = [
        h.strip().lstrip("\ufeff").strip().lower()
        for h in next(csv.reader([first], delimiter=chosen))
    ]
    return header, chosen


def _check_header(header: list[str], report: ImportReport) -> None:
    duplicates = sorted({h for h in header if h and header.count(h) > 1})
    if duplicates:
        raise CatalogFileError(f"column(s) named twice in the header: {', '.join(duplicates)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        found = ", ".join(h for h in header if h) or "(none)"
        raise CatalogFileError(
            f"missing required column(s): {', '.join(missing)}. The header has: {found}. "
            f"Required: {', '.join(REQUIRED_COLUMNS)} (names are case-insensitive)."
        )
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        report.warnings.append(f"unknown column(s) ignored: {', '.join(unknown)}")


# --- writing ------------------------------------------------------------------------------------


def _insert(session: Session, table: Table) -> Any:
    """The dialect's ``INSERT`` that supports ``ON CONFLICT`` (typed loosely: two classes)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise CatalogFileError(f"unsupported database {name!r}: use SQLite or PostgreSQL")


class _Writer:
    """Writes batches of parsed rows; keeps the warehouse ids it has seen."""

    def __init__(self, factory: sessionmaker[Session], report: ImportReport) -> None:
        self.factory = factory
        self.report = report
        self.warehouse_ids: dict[str, int] = {}

    def write(self, batch: list[_Row]) -> None:
        report = self.report
        products = cast(Table, Product.__table__)
        stock_table = cast(Table, StockRow.__table__)
        with transaction(self.factory) as session:
            skus = list(dict.fromkeys(row.sku for row in batch))
            existing = {
                sku: (ean, digest)
                for sku, ean, digest in session.execute(
                    select(products.c.sku, products.c.ean, products.c.content_hash).where(
                        products.c.sku.in_(skus)
                    )
                )
            }
            latest: dict[str, dict[str, Any]] = {}
            stock: dict[tuple[str, str], int] = {}
            for row in batch:
                known = latest[row.sku]["ean"] if row.sku in latest else None
                if known is None and row.sku in existing:
                    known = existing[row.sku][0]
                if known is not None and known != row.ean:
                    report.rows_failed += 1
                    report.errors.append(
                        RowError(
                            row.number,
                            "ean",
                            row.sku,
                            f"SKU {row.sku} already has EAN {known}; one SKU maps to one EAN "
                            "(use a new SKU for a different product)",
                        )
                    )
                    continue
                latest[row.sku] = row.values  # last row wins for product data
                stock[(row.sku, row.warehouse)] = row.stock

            now = utc_now()
            to_write = []
            for sku, values in latest.items():
                digest = content_hash(values)
                if sku not in existing:
                    report.products_created += 1
                elif existing[sku][1] == digest:
                    report.products_unchanged += 1
                    continue
                else:
                    report.products_updated += 1
                to_write.append(
                    {
                        "sku": sku,
                        **values,
                        "content_hash": digest,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            if to_write:
                upsert = _insert(session, products)
                changing = [*CONTENT_FIELDS, "content_hash", "updated_at"]
                upsert = upsert.on_conflict_do_update(
                    index_elements=[products.c.sku],
                    set_={name: upsert.excluded[name] for name in changing},
                    # Never rewrite an unchanged product (keeps updated_at exact), never change
                    # an SKU's EAN even if another writer raced us to it.
                    where=(products.c.content_hash != upsert.excluded.content_hash)
                    & (products.c.ean == upsert.excluded.ean),
                )
                session.execute(upsert, to_write)
            if stock:
                self._write_stock(session, stock_table, stock, now)

    def _warehouses(self, session: Session, codes: set[str]) -> dict[str, int]:
        missing = codes - self.warehouse_ids.keys()
        if missing:
            table = cast(Table, Warehouse.__table__)
            now = utc_now()
            insert = _insert(session, table).on_conflict_do_nothing(index_elements=[table.c.code])
            session.execute(
                insert,
                [
                    {"code": c, "name": c, "created_at": now, "updated_at": now}
                    for c in sorted(missing)
                ],
            )
            for code, id_ in session.execute(
                select(table.c.code, table.c.id).where(table.c.code.in_(missing))
            ):
                self.warehouse_ids[code] = id_
        return self.warehouse_ids

    def _write_stock(
        self, session: Session, table: Table, stock: dict[tuple[str, str], int], now: Any
    ) -> None:
        products = cast(Table, Product.__table__)
        product_ids: dict[str, int] = {
            sku: id_
            for sku, id_ in session.execute(
                select(products.c.sku, products.c.id).where(
                    products.c.sku.in_({sku for sku, _ in stock})
                )
            )
        }
        warehouse_ids = self._warehouses(session, {code for _, code in stock})
        current = {
            (pid, wid): qty
            for pid, wid, qty in session.execute(
                select(table.c.product_id, table.c.warehouse_id, table.c.quantity).where(
                    table.c.product_id.in_(product_ids.values())
                )
            )
        }
        rows = []
        for (sku, code), quantity in stock.items():
            key = (product_ids[sku], warehouse_ids[code])
            if current.get(key) == quantity:
                self.report.stock_levels_unchanged += 1
                continue
            self.report.stock_levels_written += 1
            rows.append(
                {
                    "product_id": key[0],
                    "warehouse_id": key[1],
                    "quantity": quantity,
                    "updated_at": now,
                }
            )
        if rows:
            upsert = _insert(session, table)
            upsert = upsert.on_conflict_do_update(
                index_elements=[table.c.product_id, table.c.warehouse_id],
                set_={
                    "quantity": upsert.excluded.quantity,
                    "updated_at": upsert.excluded.updated_at,
                },
                where=table.c.quantity != upsert.excluded.quantity,
            )
            session.execute(upsert, rows)


# --- entry points -------------------------------------------------------------------------------


def import_csv(
    source: str | os.PathLike[str] | BinaryIO,
    session_factory: sessionmaker[Session],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: Progress | None = None,
    batch_size: int = 1000,
) -> ImportReport:
    """Import a catalogue CSV (a path or a binary stream) into the store; see the module docstring.

    ``progress(bytes_read, total_bytes)`` is called as the file is read (``total_bytes`` is None
    when unknown). Raises :class:`CatalogFileError` when the file cannot be imported at all.
    """
    if delimiter is not None and delimiter not in (",", ";", "\t"):
        raise CatalogFileError(f"delimiter must be ',' or ';' (got {delimiter!r})")
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise CatalogFileError(f"unknown encoding {encoding!r}") from None
        if encoding == "utf-8":
            encoding = "utf-8-sig"  # a BOM is never part of the first column's name
    report = ImportReport()
    with ExitStack() as stack:
        if isinstance(source, (str, os.PathLike)):
            raw: IO[bytes] = stack.enter_context(open(source, "rb"))
        else:
            raw = source
        if not raw.seekable() and encoding is None:
            spool = stack.enter_context(tempfile.TemporaryFile())
            shutil.copyfileobj(raw, spool, _CHUNK)
            spool.seek(0)
            raw = spool
        report.encoding = encoding or detect_encoding(raw)
        counting = _CountingReader(raw, _size(raw) if raw.seekable() else None, progress)
        text = io.TextIOWrapper(
            io.BufferedReader(counting, buffer_size=1 << 16), encoding=report.encoding, newline=""
        )
        stack.callback(text.detach)  # the caller's stream stays open
        try:
            _import_rows(text, session_factory, report, delimiter, batch_size)
        except UnicodeDecodeError as error:
            raise CatalogFileError(
                f"the file is not valid {report.encoding} near byte {counting.count}: "
                f"{error.reason}; give the right encoding (utf-8, cp1250 or cp1252)"
            ) from None
    report.errors.sort(key=lambda e: e.row)
    return report


def _import_rows(
    text: TextIO,
    factory: sessionmaker[Session],
    report: ImportReport,
    delimiter: str | None,
    batch_size: int,
) -> None:
    lines = iter(text)
    header, report.delimiter = _read_header(lines, delimiter)
    _check_header(header, report)
    parser = _RowParser(header)
    writer = _Writer(factory, report)
    batch: list[_Row] = []
    records = csv.reader(itertools.chain(lines), delimiter=report.delimiter)
    for number, record in enumerate(records, start=2):
        if not any(value.strip() for value in record):
            continue  # blank lines are not rows to report
        report.rows_read += 1
        parsed = parser.parse(number, record)
        if isinstance(parsed, list):
            report.rows_failed += 1
            report.errors.extend(parsed)
            continue
        # Flush only between SKUs, so the rows of one product (one per warehouse) share a batch.
        if len(batch) >= batch_size and parsed.sku != batch[-1].sku:
            writer.write(batch)
            batch = []
        batch.append(parsed)
    if batch:
        writer.write(batch)


def export_csv(session_factory: sessionmaker[Session], stream: TextIO) -> int:
    """Write the catalogue as CSV (UTF-8 text, ``,``, the columns of :data:`COLUMNS`): one row per
    product and warehouse, or one row with stock 0 in ``default`` for a product without stock.
    Importing the result reproduces the catalogue. Returns the number of data rows written."""
    catalog = BuiltinCatalog(session_factory)
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    written = 0
    page: list[Any] = []

    def flush() -> int:
        levels = catalog.stock_levels(p.sku for p in page)
        count = 0
        for product in page:
            common = {
                "sku": product.sku,
                "ean": product.ean,
                "title": product.title,
                "price": format_price(product.price_minor),
                "currency": product.currency.value,
                "description": product.description or "",
                "brand": product.brand or "",
                "category": product.category or "",
                "condition": product.condition.value,
                "vat": product.vat_indicator.value if product.vat_indicator else "",
                "image_urls": "|".join(product.image_urls),
                "handling_time": "" if product.handling_time is None else product.handling_time,
                "weight_grams": "" if product.weight_grams is None else product.weight_grams,
                "active": "1" if product.active else "0",
            }
            stock: list[StockLevel | None] = [*levels[product.sku]] or [None]
            for level in stock:
                row = {
                    **common,
                    "stock": level.quantity if level else 0,
                    "warehouse": level.warehouse if level else DEFAULT_WAREHOUSE,
                }
                writer.writerow([row[c] for c in COLUMNS])
                count += 1
        return count

    for product in catalog.iter_products():
        page.append(product)
        if len(page) >= 1000:
            written += flush()
            page = []
    if page:
        written += flush()
    return written

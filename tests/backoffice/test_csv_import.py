"""CSV import and export of the built-in catalogue, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kaufland_sync.backoffice.catalog import BuiltinCatalog
from kaufland_sync.backoffice.csv_import import (
    CatalogFileError,
    RowError,
    detect_encoding,
    export_csv,
    import_csv,
)
from kaufland_sync.store.models.catalog import Condition, Currency, Product, VatIndicator

HEADER = "sku,ean,title,price,currency,stock"


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def products(factory: sessionmaker[Session]) -> dict[str, Product]:
    with factory() as session:
        return {p.sku: p for p in session.scalars(select(Product))}


def test_good_and_bad_rows_report_row_column_and_reason(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = write(
        tmp_path,
        "SKU , EAN,Title,PRICE,currency,stock,Colour\n"
        "A1,4006381333931,Pen,1.50,EUR,3,red\n"
        "A2,4006381333932,Bad EAN,2,EUR,1,\n"
        "A3,5901234123457,No price,,EUR,1,\n"
        "\n"
        "A4,73513537,Bad currency,2,USD,-1,\n"
        '"A5","0036000291452","Quoted, with comma",3,eur,0,\n',
    )
    report = import_csv(path, factory)
    assert report.rows_read == 5
    assert report.rows_failed == 3
    assert report.errors == [
        RowError(3, "ean", "A2", "'4006381333932': wrong check digit"),
        RowError(4, "price", "A3", "required value is empty"),
        RowError(6, "currency", "A4", "'USD': currency must be EUR, CZK or PLN"),
        RowError(6, "stock", "A4", "'-1' is not a whole number ≥ 0"),
    ]
    assert report.warnings == ["unknown column(s) ignored: colour"]
    assert (report.products_created, report.stock_levels_written) == (2, 2)
    stored = products(factory)
    assert sorted(stored) == ["A1", "A5"]
    assert stored["A1"].price_minor == 150
    assert stored["A5"].title == "Quoted, with comma"
    assert stored["A5"].currency == Currency.EUR
    assert stored["A5"].ean == "0036000291452"
    assert not report.ok
    assert report.to_dict()["errors"][0] == {
        "row": 3,
        "column": "ean",
        "sku": "A2",
        "message": "'4006381333932': wrong check digit",
    }
    assert "row 3, column ean (SKU A2): '4006381333932': wrong check digit" in str(report)


def test_optional_columns_are_stored(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    path = write(
        tmp_path,
        "sku;ean;title;price;currency;stock;description;brand;category;condition;vat;"
        "image_urls;warehouse;handling_time;weight_grams;active\n"
        "B1;4006381333931;Spade;1 299,90;CZK;7;Steel spade;Fiskars;Garden > Tools;used - good;"
        "reduced_rate_1;https://img.example/1.jpg|https://img.example/2.jpg;brno;3;1500;0\n",
    )
    report = import_csv(path, factory)
    assert report.ok, report
    assert report.delimiter == ";"
    product = products(factory)["B1"]
    assert product.price_minor == 129990
    assert product.currency == Currency.CZK
    assert product.condition == Condition.USED_GOOD
    assert product.vat_indicator == VatIndicator.REDUCED_RATE_1
    assert product.image_urls == ["https://img.example/1.jpg", "https://img.example/2.jpg"]
    assert (product.brand, product.category, product.description) == (
        "Fiskars",
        "Garden > Tools",
        "Steel spade",
    )
    assert (product.handling_time, product.weight_grams, product.active) == (3, 1500, False)
    levels = BuiltinCatalog(factory).stock_levels(["B1"])["B1"]
    assert [(level.warehouse, level.quantity) for level in levels] == [("brno", 7)]


CZECH_POLISH = (
    "sku;ean;title;price;currency;stock;brand\n"
    "CZ1;4006381333931;Příliš žluťoučký kůň;1 234,50;CZK;5;Čokoládovna Ústí\n"
    "PL1;5901234123457;Zażółć gęślą jaźń;99,99;PLN;2;Łódź\n"
)
GERMAN_FRENCH = (
    "sku,ean,title,price,currency,stock,brand\n"
    "DE1,4006381333931,Größe Übergröße Straße,19.99,EUR,5,Müller\n"
    "FR1,5901234123457,Crème brûlée à la française,9.50,EUR,2,Garçon & Cœur\n"
)


@pytest.mark.parametrize(
    ("text", "encoding", "detected"),
    [
        (CZECH_POLISH, "cp1250", "cp1250"),
        (GERMAN_FRENCH, "cp1252", "cp1252"),
        (CZECH_POLISH, "utf-8", "utf-8-sig"),
        (GERMAN_FRENCH, "utf-8-sig", "utf-8-sig"),  # with a byte-order mark
    ],
)
def test_encodings_are_detected(
    tmp_path: Path, factory: sessionmaker[Session], text: str, encoding: str, detected: str
) -> None:
    path = write(tmp_path, text, encoding)
    report = import_csv(path, factory)
    assert report.ok, report
    assert report.encoding == detected
    titles = {p.title for p in products(factory).values()}
    brands = {p.brand for p in products(factory).values()}
    expected = [line.split(report.delimiter) for line in text.splitlines()[1:]]
    assert titles == {row[2] for row in expected}
    assert brands == {row[6] for row in expected}


def test_detection_looks_at_the_whole_file() -> None:
    # 2 MB of ASCII before the first Czech letter: a prefix sample would call this UTF-8.
    data = b"x" * (2 << 20) + "řeřicha".encode("cp1250")
    assert detect_encoding(io.BytesIO(data)) == "cp1250"
    assert detect_encoding(io.BytesIO("Kühlschrank à côté".encode("cp1252"))) == "cp1252"


def test_encoding_override_and_undecodable_file(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    polish = CZECH_POLISH.split("\n", 2)
    path = write(tmp_path, f"{polish[0]}\n{polish[2]}", "cp1250")
    report = import_csv(path, factory, encoding="cp1252")  # the seller's word wins
    assert report.encoding == "cp1252"
    assert products(factory)["PL1"].title == "Za¿ó³æ gêœl¹ jaŸñ"
    czech = write(tmp_path, CZECH_POLISH, "cp1250", name="cz.csv")
    with pytest.raises(CatalogFileError, match="not valid cp1252 near byte"):
        import_csv(czech, factory, encoding="windows-1252")
    with pytest.raises(CatalogFileError, match="not valid utf-8-sig"):
        import_csv(czech, factory, encoding="utf-8")


def test_missing_required_column_fails_the_whole_import(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = write(tmp_path, "SKU;EAN;Name;Price;Stock\nA;4006381333931;x;1;1\n")
    with pytest.raises(CatalogFileError) as raised:
        import_csv(path, factory)
    message = str(raised.value)
    assert "missing required column(s): title, currency" in message
    assert "The header has: sku, ean, name, price, stock" in message
    assert products(factory) == {}


def test_delimiter_override(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    # The sniffer would pick ',' (the title has commas); the option says ';'.
    path = write(tmp_path, "sku;ean;title,with,commas;price;currency;stock\n")
    with pytest.raises(CatalogFileError, match="missing required column"):
        import_csv(path, factory)
    path = write(
        tmp_path, "sku;ean;title;price;currency;stock;x,y,z,w\nA;4006381333931;T;1,5;EUR;1;\n"
    )
    report = import_csv(path, factory, delimiter=";")
    assert report.ok, report
    assert products(factory)["A"].price_minor == 150


def test_one_sku_one_ean(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    first = write(tmp_path, f"{HEADER}\nS1,4006381333931,Pen,1,EUR,1\n", name="1.csv")
    assert import_csv(first, factory).ok
    second = write(
        tmp_path,
        f"{HEADER}\n"
        "S1,5901234123457,Pen v2,1,EUR,1\n"  # the DB says S1 is 4006381333931
        "S2,5901234123457,Mug,2,EUR,1\n"
        "S2,0036000291452,Mug,2,EUR,1\n"  # earlier in this file S2 was 5901234123457
        "S3,4006381333931,Pen used,1,EUR,1\n",  # another SKU on S1's EAN: allowed
        name="2.csv",
    )
    report = import_csv(second, factory)
    assert [(e.row, e.column, e.sku) for e in report.errors] == [
        (2, "ean", "S1"),
        (4, "ean", "S2"),
    ]
    assert "SKU S1 already has EAN 4006381333931" in report.errors[0].message
    stored = products(factory)
    assert {sku: p.ean for sku, p in stored.items()} == {
        "S1": "4006381333931",
        "S2": "5901234123457",
        "S3": "4006381333931",
    }
    assert stored["S1"].title == "Pen"


def test_same_sku_twice_last_row_wins_and_warehouses_accumulate(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = write(
        tmp_path,
        f"{HEADER},warehouse\n"
        "S1,4006381333931,Old title,1,EUR,5,prague\n"
        "S1,4006381333931,New title,2,EUR,7,brno\n"
        "S1,4006381333931,New title,2,EUR,9,prague\n",
    )
    report = import_csv(path, factory)
    assert report.ok
    assert report.products_created == 1
    assert products(factory)["S1"].title == "New title"
    levels = BuiltinCatalog(factory).stock_levels(["S1"])["S1"]
    assert [(level.warehouse, level.quantity) for level in levels] == [("brno", 7), ("prague", 9)]


def test_reimport_is_idempotent_and_counts_changes(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    rows = [f"S{i},{ean},T{i},{i}.00,EUR,{i}" for i, ean in enumerate(EANS)]
    path = write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n", name="1.csv")
    first = import_csv(path, factory, batch_size=2)
    assert (first.products_created, first.stock_levels_written) == (len(EANS), len(EANS))
    before = {sku: p.updated_at for sku, p in products(factory).items()}
    again = import_csv(path, factory, batch_size=2)
    assert (again.products_created, again.products_updated) == (0, 0)
    assert (again.products_unchanged, again.stock_levels_unchanged) == (len(EANS), len(EANS))
    assert {sku: p.updated_at for sku, p in products(factory).items()} == before
    rows[1] = rows[1].replace(",1.00,", ",1.50,")
    rows[2] = rows[2].rsplit(",", 1)[0] + ",99"
    changed = write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n", name="2.csv")
    report = import_csv(changed, factory, batch_size=2)
    assert (report.products_updated, report.products_unchanged) == (1, len(EANS) - 1)
    assert report.stock_levels_written == 1
    after = products(factory)
    assert after["S1"].updated_at > before["S1"]
    assert after["S2"].updated_at == before["S2"]  # stock is not product data


EANS = [
    "4006381333931",
    "5901234123457",
    "0036000291452",
    "0000073513537",
    "4012345678901",
    "9780201379624",
]


def test_export_import_round_trip(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    source = write(
        tmp_path,
        "sku;ean;title;price;currency;stock;warehouse;description;brand;category;condition;vat;"
        "image_urls;handling_time;weight_grams;active\n"
        'R1;4006381333931;"Pen; blue";1,50;EUR;3;default;"Two\nlines";Stabilo;Office;NEW;'
        "standard_rate;https://i.example/1.jpg https://i.example/2.jpg;1;20;1\n"
        'R1;4006381333931;"Pen; blue";1,50;EUR;4;brno;"Two\nlines";Stabilo;Office;NEW;'
        "standard_rate;https://i.example/1.jpg https://i.example/2.jpg;1;20;1\n"
        "R2;5901234123457;Žluťoučký kůň;1 000;CZK;0;brno;;;;used - good;;;;;0\n"
        "R3;0036000291452;No stock rows;2;PLN;0;;;;;;;;;;\n",
    )
    first = import_csv(source, factory)
    assert first.ok, first
    exported = io.StringIO()
    assert export_csv(factory, exported) == 4
    catalog = BuiltinCatalog(factory)
    records_before = list(catalog.iter_products())
    stock_before = catalog.stock_levels(r.sku for r in records_before)

    target = tmp_path / "round.csv"
    target.write_text(exported.getvalue(), encoding="utf-8", newline="")
    report = import_csv(target, factory)
    assert report.ok, report
    assert report.products_unchanged == 3
    assert report.products_created == report.products_updated == 0
    assert list(catalog.iter_products()) == records_before
    assert catalog.stock_levels(r.sku for r in records_before) == stock_before
    assert records_before[0].description == "Two\nlines"


def test_a_non_seekable_stream_is_read(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    pipe = io.BufferedReader(Pipe(CZECH_POLISH.encode("cp1250")))
    report = import_csv(pipe, factory)
    assert report.ok and report.encoding == "cp1250"
    assert not pipe.closed


def test_ten_thousand_rows_stream_in_batches(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    path = tmp_path / "big.csv"
    count = 10_000
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + ",warehouse\n")
        for i in range(count):
            # EAN-13 with a valid check digit, computed the GS1 way.
            body = f"200{i:09d}"
            total = sum(int(d) * (3 if n % 2 else 1) for n, d in enumerate(body))
            ean = body + str((10 - total % 10) % 10)
            out.write(
                f"SKU-{i:05d},{ean},Product {i},{i % 500}.{i % 100:02d},EUR,{i % 7},w{i % 3}\n"
            )
    seen: list[int] = []
    report = import_csv(path, factory, progress=lambda done, total: seen.append(done))
    assert report.ok, report.errors[:3]
    assert report.rows_read == report.products_created == count
    assert report.stock_levels_written == count
    assert seen == sorted(seen) and len(seen) > 5  # read piece by piece, not at once
    assert seen[-1] == path.stat().st_size
    catalog = BuiltinCatalog(factory)
    assert sum(1 for _ in catalog.iter_products()) == count
    assert [w.code for w in catalog.warehouses()] == ["w0", "w1", "w2"]

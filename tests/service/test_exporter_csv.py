"""CSV exports: every field quoted, no cell that starts a formula for a reader splitting at
either separator (English-locale Excel opens a `;` file splitting at commas), and our importer
reads the exports back to the values it wrote."""

import csv
import io
import re
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from services import exporter
from services.errors import ValidationFailed
from services.exporter import FORMULA_STARTS, neutralise_csv, to_csv
from services.ikm import IkmFilter, create_ikm
from services.imports import dry_run
from services.regions import load_regions

SEPARATORS = (";", ",")
READERS = (";", ",", "\t")
# A negative number we wrote starts with "-": a number to a spreadsheet, not a formula. Read
# with the other separator, the first field of a line runs on with our separator and a quote
# ('-5;"x"'), which no spreadsheet reads as a formula either.
NUMBER = re.compile(r'-\d+(?:[.,]\d+)?(?:e[-+]\d+)?(?:[;,]".*)?', re.S)


def cells(data: bytes, delimiter: str) -> list[list[str]]:
    """The rows Python's csv module reads from our bytes with this delimiter."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                           delimiter=delimiter))


def formula_cells(data: bytes, delimiter: str) -> list[str]:
    return [cell for row in cells(data, delimiter) for cell in row
            if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)]


def restore(cell: str, sep: str = ";") -> str:
    """A neutralised text as written: the leading apostrophe off (as the importer does), and
    one apostrophe off after each separator or line break where neutralise_csv put one."""
    splits = re.escape("".join(c for c in ",;\t" if c != sep) + "\r\n")
    cell = re.sub(f"(?<=[{splits}])'(?='*\"?[=+\\-@\t\r])", "", cell)
    return cell[1:] if re.match(r"'[=+\-@\t\r]", cell) else cell


FRAME = pd.DataFrame({"NIB (Business ID)": ["3529010000001", "3529010000002"],
                      "Nama usaha (Business name)": ["Toko UJIX12,=2+5", "a;=1+1"],
                      "Alamat (Address)": ['Jl. "Raya",\n=HYPERLINK("http://x")', "-"],
                      "Jumlah": [-5, 2.5]}, dtype=object)


@pytest.mark.parametrize("sep", SEPARATORS)
def test_every_field_is_quoted(sep):
    text = to_csv(FRAME, sep=sep).decode("utf-8-sig")
    field = r'"(?:[^"]|"")*"'  # a line break, a separator or a doubled quote inside is fine
    assert re.fullmatch(f"(?:{field}(?:{sep}{field})*\n)+", text)
    assert text.startswith(sep.join(f'"{c}"' for c in FRAME.columns) + "\n")


@pytest.mark.parametrize("sep", SEPARATORS)
@pytest.mark.parametrize("reader", READERS)
def test_no_reader_sees_a_cell_starting_a_formula(sep, reader):
    data = to_csv(FRAME, sep=sep)
    assert formula_cells(data, reader) == []


def test_a_comma_reader_of_a_semicolon_file_splits_before_an_apostrophe():
    data = to_csv(FRAME)
    row = cells(data, ",")[1]
    assert row[1].startswith("'=2+5")  # the split cell starts with the apostrophe, not "="
    assert cells(data, ";")[1] == ["3529010000001", "Toko UJIX12,'=2+5",
                                   "Jl. \"Raya\",\n'=HYPERLINK(\"http://x\")", "-5"]
    assert cells(data, ";")[2] == ["3529010000002", "a;=1+1", "'-", "2,5"]  # ";" stays inside


@pytest.mark.parametrize("text,sep,written", [
    ("Toko UJIX12,=2+5", ";", "Toko UJIX12,'=2+5"),
    ("Toko UJIX12,=2+5", ",", "Toko UJIX12,=2+5"),  # inside quotes for every reader
    ("a;=1+1", ";", "a;=1+1"), ("a;=1+1", ",", "a;'=1+1"),
    ("Rp 15.000,-", ";", "Rp 15.000,'-"), ("a, =1", ";", "a, =1"),
    ('a,"=1', ";", "a,'\"=1"), ("a,'=1", ";", "a,''=1"), ("=1,+2", ";", "'=1,'+2"),
    ("x\t@y", ";", "x\t'@y"), ("x\n-y", ",", "x\n'-y"),
])
def test_neutralise_csv(text, sep, written):
    assert neutralise_csv(text, sep) == written
    assert restore(written, sep) == text


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
VALUE = st.one_of(TEXT, st.sampled_from(["=1+1", "a,=b", "x;-y", "q,\"@r", "t\t+u", "n\r\n=m",
                                         "'=z", "a,''-b"]),
                  st.none(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                  st.dates(), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(VALUE, min_size=3, max_size=3), min_size=1, max_size=5),
       st.sampled_from(SEPARATORS))
def test_no_cell_starts_a_formula_and_our_separator_reads_back_every_field(rows, sep):
    frame = pd.DataFrame(rows, columns=["a", "b,=c", "d"], dtype=object)
    data = to_csv(frame, sep=sep)
    for reader in READERS:
        assert formula_cells(data, reader) == [], reader
    read = cells(data, sep)
    assert read[0] == ["a", neutralise_csv("b,=c", sep), "d"]
    assert len(read) == len(rows) + 1
    for written, values in zip(read[1:], rows, strict=True):
        for cell, value in zip(written, values, strict=True):
            if isinstance(value, str) and not re.match(r"'+[=+\-@\t\r]", value):
                assert restore(cell, sep) == value  # nothing lost but what the importer drops
            elif value is None:
                assert cell == ""


# --- our importer reads our CSV back ------------------------------------------------------------

@pytest.mark.db
def test_every_kind_of_demo_export_comes_back_unchanged_from_csv(session, admin_actor):
    from db.demo import seed_demo

    seed_demo(session, ikm_per_kabupaten=10)
    session.commit()
    checked = set()
    for kind, export in exporter.EXPORTS.items():
        frame = export(session)
        if frame.empty:
            continue  # a kind the small demo has no record of
        checked.add(kind)
        data = to_csv(frame)
        report = dry_run(session, actor=admin_actor, filename=f"{kind}.csv", data=data)
        assert report.errors == [], kind
        (sheet,) = report.sheets
        assert sheet.kind == kind
        assert (sheet.updated, sheet.rejected) == (0, 0), kind
        assert sheet.unchanged > 0, kind
    assert {"cohort", "ikm", "product", "certification", "coaching"} <= checked


# Text as a form stores it (services.validation.clean_text): printable, single spaces, trimmed.
STORED = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
                 min_size=1, max_size=60).map(lambda s: " ".join(s.split())).filter(bool)
INNER = re.compile(r"[,\t\r\n]'*\"?[=+\-@\t\r]")  # neutralise_csv puts an apostrophe there


def kecamatan(session) -> str:
    return next(iter(load_regions(session).kecamatan_of("35.29")))


@pytest.mark.db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(STORED, st.sampled_from(["=SUM(1)", "-", "+62 812", "@x", "a;=b"])),
       owner=STORED, address=STORED)
def test_the_importer_reads_a_csv_export_back_to_the_same_ikm(session, admin_actor, name,
                                                             owner, address):
    # a stored text that itself starts with an apostrophe and a formula start ("'=x") loses
    # that apostrophe on the way back (the export's own mark cannot be told from it)
    assume(not any(re.match(r"'+[=+\-@]", t) for t in (name, owner, address)))
    nested = session.begin_nested()
    try:
        try:
            create_ikm(session, actor=admin_actor, data={
                "nib": "3529019999991", "name": name, "owner_name": owner, "address": address,
                "kabupaten_code": "35.29", "kecamatan_code": kecamatan(session)})
        except ValidationFailed:
            reject()  # a form would not store it either
        data = to_csv(exporter.export_ikm(session, filters=IkmFilter(search="3529019999991")))
        report = dry_run(session, actor=admin_actor, filename="ikm.csv", data=data)
        assert report.errors == []
        assert (report.new, report.updated, report.unchanged) == (0, 0, 1)
    finally:
        nested.rollback()


@pytest.mark.db
def test_a_formula_start_after_a_comma_comes_back_unchanged(session, admin_actor):
    create_ikm(session, actor=admin_actor, data={
        "nib": "3529019999992", "name": "Toko UJIX12,=2+5", "kabupaten_code": "35.29",
        "kecamatan_code": kecamatan(session)})
    data = to_csv(exporter.export_ikm(session, filters=IkmFilter(search="3529019999992")))
    report = dry_run(session, actor=admin_actor, filename="ikm.csv", data=data)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 1)


def test_dates_and_numbers_are_written_as_before():
    frame = pd.DataFrame({"d": [date(2024, 3, 15)], "n": [-2.5], "i": [7]}, dtype=object)
    assert cells(to_csv(frame), ";")[1] == ["2024-03-15", "-2,5", "7"]
    assert cells(to_csv(frame, sep=","), ",")[1] == ["2024-03-15", "-2.5", "7"]

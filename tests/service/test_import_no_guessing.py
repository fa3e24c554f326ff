"""Imports never guess: one corpus file per class of result that used to be silently wrong (and
per misleading refusal), each read correctly, asked about, or refused with a message that says
what to fix. See tests/fixtures/imports/README.md, "Never guessed"."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from models import Cohort, ExportRecord, Ikm, Product
from models.enums import Role
from services import ikm as ikm_svc
from services import records
from services.imports import ImportRefused, commit, dry_run, message
from services.permissions import Actor

pytestmark = pytest.mark.db

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
ADMIN = Actor("admin", Role.admin)
STAFF = Actor("staf", Role.staff, "35.29")
COLLEAGUE = Actor("rina", Role.staff, "35.29")
NIB = "3529090000001"


def corpus(name: str) -> bytes:
    from tests.service.test_importer import NEVER_GUESSED

    assert name in NEVER_GUESSED or name.endswith(".py"), name  # listed with the corpus
    return (CORPUS / name).read_bytes()


def notes(report) -> list[str]:
    return [message(n.key, n.params, lang="id") for n in report.notes]


def errors(report) -> list[tuple[int, str, str]]:
    return [(e.row, e.key, message(e.key, e.params, lang="id")) for e in report.errors]


@pytest.fixture
def siti(session):
    """The IKM (and its product) that the files linking by NIB point at."""
    row = ikm_svc.create_ikm(session, actor=ADMIN, data={
        "name": "Keripik Bu Siti", "nib": NIB, "owner_name": "Siti", "phone": "081211112222",
        "kabupaten_code": "Sumenep", "kecamatan_code": "Guluk-Guluk",
        "address": "Jl. Lama 1", "employees": "4", "employees_female": "3",
        "legal_form": "perorangan", "founded_year": "2015"})
    records.create_product(session, actor=ADMIN, ikm_id=row.id, data={
        "name": "Keripik tempe", "category_code": "Olahan pangan: keripik"})
    session.commit()
    return row


# --- dates: one order per column, never per cell ---------------------------------------------

def test_month_first_dates_are_read_month_first_across_the_file(session):
    report = commit(session, actor=ADMIN, filename="dates_month_first.csv",
                    data=corpus("dates_month_first.csv"))
    cohorts = {c.name: c for c in session.exec(select(Cohort))}
    assert (cohorts["Angkatan Maret"].start_on, cohorts["Angkatan Maret"].end_on) == \
        (date(2024, 3, 4), date(2024, 8, 17))
    assert cohorts["Angkatan Desember"].start_on == date(2023, 12, 1)
    assert any("bulan/hari/tahun" in n and "08/17/2024" in n for n in notes(report))


def test_a_column_mixing_both_orders_refuses_the_dates_it_cannot_tell(session):
    report = dry_run(session, actor=ADMIN, filename="dates_mixed_order.csv",
                     data=corpus("dates_mixed_order.csv"))
    assert [(row, key) for row, key, _t in errors(report)] == [(4, "imp.date_order_conflict")]
    assert "'17/08/2024'" in errors(report)[0][2] and "'08/18/2024'" in errors(report)[0][2]
    assert report.new == 2  # 17/08 and 08/18 can each be read one way only


def test_without_evidence_dates_are_day_first_and_the_dry_run_says_so(session):
    report = commit(session, actor=ADMIN, filename="dates_default_order.csv",
                    data=corpus("dates_default_order.csv"))
    cohort = session.exec(select(Cohort)).one()
    assert (cohort.start_on, cohort.end_on) == (date(2024, 4, 3), date(2024, 6, 5))
    assert any("hari/bulan/tahun (bawaan" in n for n in notes(report))


# --- numbers: one rule for money and decimals --------------------------------------------------

def test_a_lone_thousands_comma_in_usd_is_asked_about_not_read_as_decimals(session, siti):
    report = dry_run(session, actor=ADMIN, filename="usd_ambiguous.csv",
                     data=corpus("usd_ambiguous.csv"))
    assert [(row, key) for row, key, _t in errors(report)] == \
        [(2, "v.ambiguous_number"), (3, "v.ambiguous_number")]
    assert "bisa berarti 1.250 atau 1,250" in errors(report)[0][2]
    with pytest.raises(ImportRefused):
        commit(session, actor=ADMIN, filename="usd_ambiguous.csv",
               data=corpus("usd_ambiguous.csv"))
    session.rollback()
    assert session.exec(select(ExportRecord)).all() == []


def test_a_column_written_the_english_way_reads_its_thousands_comma(session, siti):
    report = commit(session, actor=ADMIN, filename="usd_english.csv",
                    data=corpus("usd_english.csv"))
    values = sorted(r.value_usd for r in session.exec(select(ExportRecord)))
    assert values == [1250.0, 2500.75]
    assert any("Inggris" in n and "2,500.75" in n for n in notes(report))


def test_rupiah_with_a_lone_comma_is_refused_everywhere(session, siti):
    product = session.exec(select(Product)).one()
    with pytest.raises(Exception) as err:
        records.update_product(session, actor=ADMIN, product_id=product.id,
                               expected_version=product.version, changes={"price_rp": "1,250"})
    assert "price_rp" in str(getattr(err.value, "errors", {}))
    data = ("NIB IKM;Nama produk;Kategori;Harga (Rp)\r\n"
            f"{NIB};Keripik tempe;Olahan pangan: keripik;Rp 1,250\r\n").encode()
    report = dry_run(session, actor=ADMIN, filename="harga.csv", data=data)
    assert [key for _r, key, _t in errors(report)] == ["v.ambiguous_number"]


# --- updates: a blank cell leaves the stored value ---------------------------------------------

def test_correcting_one_phone_changes_only_the_phone_and_says_so(session, siti):
    other = ikm_svc.create_ikm(session, actor=ADMIN, data={
        "name": "Petis Pak Hasan", "nib": "3529090000002", "kabupaten_code": "Sumenep",
        "kecamatan_code": "Guluk-Guluk", "address": "Jl. Pasar 2", "owner_name": "Hasan"})
    session.commit()
    before = {c: getattr(siti, c) for c in ("name", "owner_name", "address", "employees",
                                             "legal_form", "founded_year", "cohort_id")}
    report = dry_run(session, actor=STAFF, filename="update_one_field.xlsx",
                     data=corpus("update_one_field.xlsx"))
    assert report.errors == [] and report.updated == 2
    changes = {(c.record, c.column): (c.before, c.after, c.cleared) for c in report.changes}
    assert changes == {("Keripik Bu Siti", "Telepon"): ("081211112222", "081900001111", False),
                       ("Petis Pak Hasan", "Alamat"): ("Jl. Pasar 2", None, True)}
    commit(session, actor=STAFF, filename="update_one_field.xlsx",
           data=corpus("update_one_field.xlsx"))
    session.commit()
    session.expire_all()
    stored = session.get(Ikm, siti.id)
    assert stored.phone == "081900001111"
    assert {c: getattr(stored, c) for c in before} == before
    assert session.get(Ikm, other.id).address is None
    assert session.get(Ikm, other.id).owner_name == "Hasan"


# --- encodings ----------------------------------------------------------------------------------

def test_mac_roman_is_read_as_mac_roman_with_samples_shown(session):
    report = commit(session, actor=ADMIN, filename="mac_roman.csv", data=corpus("mac_roman.csv"))
    stored = session.exec(select(Ikm)).one()
    assert (stored.name, stored.owner_name) == ("Kopi Andé Señora", "José")
    assert any("Mac Roman" in n and "'Kopi Andé Señora'" in n for n in notes(report))


def test_an_encoding_that_cannot_be_told_is_refused_with_what_to_save_as(session):
    with pytest.raises(ImportRefused) as err:
        dry_run(session, actor=ADMIN, filename="encoding_unsure.csv",
                data=corpus("encoding_unsure.csv"))
    text = message(err.value.key, err.value.params, lang="id")
    assert err.value.key == "imp.encoding_unsure" and "CSV UTF-8" in text and "'Kopi Aé'" in text


# --- exports: the ID is the first key, and an old row never reverts a newer edit --------------

def test_a_row_older_than_its_record_is_refused_naming_who_changed_what(session, siti):
    assert siti.id == 1
    ikm_svc.update_ikm(session, actor=COLLEAGUE, ikm_id=siti.id, expected_version=1,
                       changes={"owner_name": "Siti Baru", "phone": "081233334444"})
    session.commit()
    report = dry_run(session, actor=STAFF, filename="stale_export.csv",
                     data=corpus("stale_export.csv"))
    [(row, key, text)] = errors(report)
    assert (row, key) == (2, "imp.changed_since_export")
    assert "rina" in text and "Nama pemilik" in text
    [conflict] = report.conflicts
    assert (conflict.record, conflict.version, conflict.changed_by) == ("Keripik Bu Siti", 2,
                                                                        "rina")
    assert ("Nama pemilik", "Siti Baru", "Siti Lama") in conflict.overwrites
    with pytest.raises(ImportRefused):
        commit(session, actor=STAFF, filename="stale_export.csv", data=corpus("stale_export.csv"))
    session.rollback()
    # the user saw the conflict and chose to overwrite exactly that version
    commit(session, actor=STAFF, filename="stale_export.csv", data=corpus("stale_export.csv"),
           overwrite={(conflict.sheet, conflict.row): conflict.version})
    session.commit()
    session.expire_all()
    assert session.get(Ikm, siti.id).owner_name == "Siti Lama"


def test_an_overwrite_seen_at_one_version_does_not_cover_a_later_change(session, siti):
    ikm_svc.update_ikm(session, actor=COLLEAGUE, ikm_id=siti.id, expected_version=1,
                       changes={"owner_name": "Siti Baru"})
    session.commit()
    [conflict] = dry_run(session, actor=STAFF, filename="stale_export.csv",
                         data=corpus("stale_export.csv")).conflicts
    ikm_svc.update_ikm(session, actor=COLLEAGUE, ikm_id=siti.id, expected_version=2,
                       changes={"owner_name": "Siti Terbaru"})
    session.commit()
    with pytest.raises(ImportRefused):
        commit(session, actor=STAFF, filename="stale_export.csv", data=corpus("stale_export.csv"),
               overwrite={(conflict.sheet, conflict.row): conflict.version})
    session.rollback()
    session.expire_all()
    assert session.get(Ikm, siti.id).owner_name == "Siti Terbaru"


def test_an_ikm_without_an_nib_is_matched_by_its_id_and_never_duplicated(session):
    lonely = ikm_svc.create_ikm(session, actor=ADMIN, data={
        "name": "Tanpa NIB", "kabupaten_code": "Sumenep", "kecamatan_code": "Guluk-Guluk"})
    session.commit()
    assert lonely.id == 1
    for _round in range(2):
        report = commit(session, actor=STAFF, filename="nibless_export.csv",
                        data=corpus("nibless_export.csv"))
        session.commit()
        assert (report.new, report.unchanged) == (0, 1)
    assert len(session.exec(select(Ikm)).all()) == 1


# --- invisible characters and placeholders -----------------------------------------------------

def test_invisible_characters_and_a_lone_dash_never_reach_the_record(session):
    commit(session, actor=ADMIN, filename="invisible_chars.csv",
           data=corpus("invisible_chars.csv"))
    stored = session.exec(select(Ikm)).one()
    assert (stored.nib, stored.name, stored.address) == (NIB, "Keripik Bu Siti", None)


def test_a_trunk_zero_after_the_country_code_is_dropped(session):
    commit(session, actor=ADMIN, filename="phone_trunk_prefix.csv",
           data=corpus("phone_trunk_prefix.csv"))
    assert session.exec(select(Ikm)).one().phone == "081234567000"


# --- refusals that used to mislead ----------------------------------------------------------------

@pytest.mark.parametrize(("name", "title_note"), [
    ("title_rows.xlsx", "Baris 1–2 di atas judul kolom dilewati"),
    ("title_rows.csv", "Baris 1 di atas judul kolom dilewati"),
    ("two_level_header.xlsx", "Baris 1 di atas judul kolom dilewati"),
    ("renamed_sheet.xlsx", None),
    ("sep_line.csv", None),
])
def test_title_rows_merged_headers_renamed_sheets_and_sep_lines_are_read(session, name,
                                                                          title_note):
    report = commit(session, actor=ADMIN, filename=name, data=corpus(name))
    assert report.errors == [] and report.new == 1
    stored = session.exec(select(Ikm)).one()
    assert (stored.nib, stored.name, stored.phone) == (NIB, "Keripik Bu Siti", "081234567890")
    if title_note:
        assert any(title_note in n for n in notes(report)), notes(report)


def test_a_cohort_typed_as_a_number_is_a_name_never_an_internal_id(session):
    from services.cohorts import create_cohort

    bangkalan = create_cohort(session, actor=ADMIN, data={
        "name": "Angkatan 1 Bangkalan", "kabupaten_code": "35.26", "year": 2024})
    second = create_cohort(session, actor=ADMIN, data={
        "name": "Angkatan 2 Sumenep", "kabupaten_code": "35.29", "year": 2024})
    session.commit()
    assert bangkalan.id == 1 and second.id == 2  # "2" is the id of the Sumenep cohort ...
    report = dry_run(session, actor=ADMIN, filename="cohort_number.csv",
                     data=corpus("cohort_number.csv"))
    [(row, key, text)] = errors(report)  # ... and still never read as one
    assert key == "imp.unknown_cohort_suggest" and "'Angkatan 2 Sumenep'" in text


def test_a_twelve_digit_nib_says_excel_dropped_the_zero(session):
    report = dry_run(session, actor=ADMIN, filename="nib_twelve_digits.csv",
                     data=corpus("nib_twelve_digits.csv"))
    [(row, key, text)] = errors(report)
    assert key == "v.nib_lost_zero" and "Teks" in text


def test_categories_match_in_any_case_and_unknown_ones_list_the_choices(session, siti):
    report = dry_run(session, actor=ADMIN, filename="category_case.csv",
                     data=corpus("category_case.csv"))
    [(row, key, text)] = errors(report)
    assert (row, key) == (3, "v.unknown_category")
    assert "Pilihan:" in text and "Olahan pangan: keripik" in text
    assert report.new == 1


def test_the_same_bytes_under_another_name_show_that_name(session):
    data = corpus("phone_trunk_prefix.csv")
    first = dry_run(session, actor=ADMIN, filename="senin.csv", data=data)
    second = dry_run(session, actor=ADMIN, filename="rabu.csv", data=data)
    assert (first.sheets[0].sheet, second.sheets[0].sheet) == ("senin.csv", "rabu.csv")
    assert second.filename == "rabu.csv"


def test_money_rounds_half_up_as_the_docs_say():
    from services.imports import __doc__ as doc
    from services.validation import parse_money

    assert parse_money("1.500.000,50") == 1_500_001 and "half up" in doc
    assert parse_money(Decimal("2.5")) == 3


def test_an_exported_decimal_with_three_places_comes_back_as_stored(session, siti):
    from services import exporter

    product = session.exec(select(Product)).one()
    records.update_product(session, actor=ADMIN, product_id=product.id,
                           expected_version=product.version,
                           changes={"net_content": Decimal("1.125"), "unit": "kg"})
    session.commit()
    frame = exporter.export_products(session)
    for sep in (";", ","):
        report = dry_run(session, actor=ADMIN, filename=f"produk{sep}.csv",
                         data=exporter.to_csv(frame, sep=sep))
        assert (report.errors, report.updated, report.unchanged) == ([], 0, 1), sep

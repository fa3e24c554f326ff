"""Quick entry on Data IKM in Chromium (issue 9): one form and one submit for an IKM with its
place and first product, errors where the eye is, a save bar above the grid, filters and the
open tab that survive a page change, a save and a language switch.

One demo server of this module's own. `staf` is staff scoped to Sumenep (35.29), `admin` sees
everything. The database is read with sqlite3, read-only.
"""

import csv
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    _RUN_COUNTERS,
    ROOT,
    assert_no_traceback,
    goto,
    login,
    settle,
    shot,
    wait_for_run,
    watch_runs,
)
from tests.e2e.test_staff_entry import edit_cell  # noqa: E402  (a grid cell, typed)

pytestmark = pytest.mark.e2e

SUMENEP = "35.29"
VIEWPORT_H = 768


@pytest.fixture(scope="module")
def server(server_factory):
    return server_factory()


def query(server, sql: str, *params) -> list[tuple]:
    uri = f"file:{Path(server.db_path).as_posix()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql, params).fetchall()


def rerun(page, action) -> None:
    watch_runs(page)
    action()
    wait_for_run(page)


def open_as(new_page, server, username: str, viewport: dict | None = None):
    page = new_page()
    if viewport:
        page.set_viewport_size(viewport)
    goto(page, server)
    assert login(page, username)
    rerun(page, page.get_by_role("link", name="Data IKM", exact=True).click)
    return page


def open_tab(page, name: str) -> None:
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        rerun(page, tab.click)
    expect(page.get_by_role("tab", name=name, exact=True)).to_have_attribute(
        "aria-selected", "true")


def pick(page, box, typed: str, option: str) -> None:
    """Choose in a select box of a form: type to filter, click the option (no rerun in a form)."""
    box.click()
    page.keyboard.type(typed)
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


def runs(page) -> int:
    return _RUN_COUNTERS[page].finished


def a_sumenep_desa() -> tuple[str, str, str, str]:
    """(desa code, desa name, kecamatan code, kecamatan name) of a Sumenep desa whose name is
    unique in Sumenep (read from the reference data the app ships)."""
    with open(ROOT / "db" / "reference" / "madura_wilayah.csv", encoding="utf-8") as f:
        kecs = {r["kecamatan_code"]: r["kecamatan"] for r in csv.DictReader(f)
                if r["kabupaten_code"] == SUMENEP}
    with open(ROOT / "db" / "reference" / "madura_desa.csv", encoding="utf-8") as f:
        desas = [r for r in csv.DictReader(f) if r["kecamatan_code"] in kecs]
    names = [d["desa"] for d in desas]
    d = next(d for d in desas if names.count(d["desa"]) == 1 and len(d["desa"]) > 5)
    return d["desa_code"], d["desa"], d["kecamatan_code"], kecs[d["kecamatan_code"]]


def in_viewport(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT_H


def test_an_ikm_with_its_place_and_first_product_in_one_submit(server, new_page):
    page = open_as(new_page, server, "staf")
    log_from = len(server.log_text())
    open_tab(page, "Tambah IKM")
    form = page.get_by_role("tabpanel", name="Tambah IKM")
    desa_code, desa, kec_code, kec = a_sumenep_desa()
    category = query(server, "SELECT code, name_id FROM productcategory ORDER BY name_id")[0]
    before = runs(page)
    # Only the desa is chosen: its kecamatan and the regency follow. Nothing reruns meanwhile.
    pick(page, form.get_by_role("combobox", name="Desa/kelurahan", exact=True), desa,
         f"{desa} — {kec}")
    form.get_by_role("textbox", name="Nama usaha *", exact=True).fill("Jamu Sehat Bu Lastri")
    form.get_by_role("textbox", name="Telepon", exact=True).fill("0812 3300 4411")
    form.get_by_role("textbox", name="Nama produk · Produk pertama (boleh dikosongkan)",
                     exact=True).fill("Jamu Kunyit Asam")
    pick(page, form.get_by_role("combobox", name="Kategori produk", exact=True), category[1],
         category[1])
    assert runs(page) == before, "a select in the add form waited on a rerun"
    shot(page, "quick_entry_filled")
    rerun(page, form.get_by_role("button", name="Simpan", exact=True).click)
    expect(page.get_by_text("IKM «Jamu Sehat Bu Lastri» disimpan bersama produk "
                            "«Jamu Kunyit Asam».")).to_be_visible()
    assert runs(page) <= before + 2, "one submit: the save, then the form drawn empty"
    saved = query(server, "SELECT i.kabupaten_code, i.kecamatan_code, i.desa_code, i.phone, "
                          "p.name, p.category_code FROM ikm i JOIN product p ON p.ikm_id = i.id "
                          "WHERE i.name = 'Jamu Sehat Bu Lastri'")
    assert saved == [(SUMENEP, kec_code, desa_code, "081233004411", "Jamu Kunyit Asam",
                      category[0])], saved
    # the same tab stays open, drawn empty for the next IKM
    expect(page.get_by_role("tab", name="Tambah IKM", exact=True)).to_have_attribute(
        "aria-selected", "true")
    expect(form.get_by_role("textbox", name="Nama usaha *", exact=True)).to_have_value("")
    assert_no_traceback(page, server, log_from)


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768},
                                      {"width": 1280, "height": 720}])
def test_validation_errors_are_in_view_at_the_top_and_on_each_field(server, new_page,
                                                                      viewport):
    page = open_as(new_page, server, "staf", viewport)
    open_tab(page, "Tambah IKM")
    form = page.get_by_role("tabpanel", name="Tambah IKM")
    form.get_by_role("textbox", name="NIB", exact=True).fill("12345")
    form.get_by_role("textbox", name="Pekerja", exact=True).fill("dua")
    before = query(server, "SELECT count(*) FROM ikm")[0][0]
    button = form.get_by_role("button", name="Simpan", exact=True)
    button.scroll_into_view_if_needed()
    rerun(page, button.click)
    summary = page.locator('[data-testid="stAlertContentError"]').filter(
        has_text="isian perlu diperbaiki")
    expect(summary).to_be_visible()
    settle(page)
    height = viewport["height"]
    box = summary.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (box, viewport)
    marks = page.locator(".ikm-field-error")
    expect(marks).to_have_count(4)  # name, kecamatan, NIB, employees
    nib_mark = form.locator('[data-testid="stColumn"]').filter(
        has=page.get_by_role("textbox", name="NIB", exact=True)).locator(".ikm-field-error")
    expect(nib_mark).to_have_text("⚠ NIB harus 13 digit angka.")
    mark_box = nib_mark.bounding_box()
    assert mark_box["y"] >= 0 and mark_box["y"] + mark_box["height"] <= height, mark_box
    expect(form.get_by_role("textbox", name="NIB", exact=True)).to_have_value("12345")  # kept
    assert query(server, "SELECT count(*) FROM ikm")[0][0] == before
    shot(page, f"quick_entry_errors_{viewport['width']}")


def test_filters_and_tab_survive_a_page_change_and_a_language_switch(server, new_page):
    page = open_as(new_page, server, "admin")
    word = "Batik" if query(server, "SELECT count(*) FROM ikm WHERE name LIKE '%batik%'")[0][0] \
        else query(server, "SELECT name FROM ikm ORDER BY id LIMIT 1")[0][0].split()[0]
    hits = query(server, "SELECT count(*) FROM ikm WHERE deleted_at IS NULL AND "
                         "(lower(name) LIKE ? OR lower(owner_name) LIKE ? OR nib LIKE ?)",
                 f"%{word.lower()}%", f"%{word.lower()}%", f"%{word}%")[0][0]
    assert 0 < hits < 480
    search = page.get_by_role("textbox", name="Cari", exact=True)
    search.fill(word)
    rerun(page, lambda: search.press("Enter"))
    expect(page.get_by_text(f"{hits} IKM · halaman 1 dari", exact=False)).to_be_visible()
    # away to the overview and back: the search and its rows are still there
    rerun(page, page.get_by_role("link", name="Ringkasan", exact=True).click)
    rerun(page, page.get_by_role("link", name="Data IKM", exact=True).click)
    expect(page.get_by_role("textbox", name="Cari", exact=True)).to_have_value(word)
    expect(page.get_by_text(f"{hits} IKM · halaman 1 dari", exact=False)).to_be_visible()
    # the Detail tab open, then English: the same tab stays open, the filters speak English
    open_tab(page, "Detail")
    rerun(page, page.locator('[data-testid="stSidebar"]').get_by_text("EN", exact=True).click)
    settle(page)
    expect(page.get_by_role("tab", name="Detail", exact=True)).to_have_attribute(
        "aria-selected", "true")
    open_tab(page, "List and edit")
    kab = page.get_by_role("combobox", name="Regency", exact=True)
    expect(kab).to_have_value("All")
    expect(page.get_by_role("textbox", name="Search", exact=True)).to_have_value(word)
    expect(page.get_by_text(f"{hits} IKM · page 1 of", exact=False)).to_be_visible()
    assert "Semua" not in page.locator('[data-testid="stMain"]').inner_text()
    shot(page, "quick_entry_english_list")
    # back to Indonesian: the choice is stored with the account, and other tests log in as admin
    rerun(page, page.locator('[data-testid="stSidebar"]').get_by_text("ID", exact=True).click)
    expect(page.get_by_role("tab", name="Daftar dan ubah", exact=True)).to_have_attribute(
        "aria-selected", "true")


def test_the_grid_save_is_in_view_and_a_save_keeps_the_page(server, new_page):
    page = open_as(new_page, server, "admin")
    rerun(page, page.get_by_role("button", name="›").click)
    expect(page.get_by_text("halaman 2 dari", exact=False)).to_be_visible()
    save = page.get_by_role("button", name="Simpan perubahan tabel")
    assert in_viewport(save), save.bounding_box()
    assert in_viewport(page.get_by_role("button", name="Muat ulang data"))
    shot(page, "quick_entry_grid_bar")
    first_id = query(server, "SELECT id FROM ikm WHERE deleted_at IS NULL ORDER BY id DESC "
                             "LIMIT 1 OFFSET 50")[0][0]  # row 0 of page 2 (newest first)
    edit_cell(page, 0, 1, "Pemilik Halaman Dua")
    rerun(page, save.click)
    expect(page.get_by_text("1 baris disimpan.")).to_be_visible()
    expect(page.get_by_text("halaman 2 dari", exact=False)).to_be_visible()  # still page 2
    assert query(server, "SELECT owner_name FROM ikm WHERE id = ?", first_id) == [
        ("Pemilik Halaman Dua",)]


def test_the_detail_search_finds_any_ikm_not_only_this_page(server, new_page):
    page = open_as(new_page, server, "kepala")
    oldest_id, oldest = query(server, "SELECT id, name FROM ikm WHERE deleted_at IS NULL "
                                      "ORDER BY id LIMIT 1")[0]  # the list's last page
    open_tab(page, "Detail")
    box = page.get_by_role("textbox", name="Cari IKM", exact=True)
    box.fill(oldest)
    rerun(page, lambda: box.press("Enter"))
    picker = page.get_by_role("combobox", name="IKM", exact=True)
    picker.click()
    option = page.get_by_role("option").filter(has_text=f"(#{oldest_id})")
    expect(option).to_have_count(1)
    rerun(page, option.click)
    detail = page.get_by_role("tabpanel", name="Detail")
    expect(detail.locator('[data-testid="stHeading"]').first).to_have_text(oldest)
    shot(page, "quick_entry_detail_search")

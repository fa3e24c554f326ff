"""Issue 8 ("No silent wrong data") in the browser: a double click on Simpan writes one IKM and
leaves an empty form; a stale save refused in one browser while another saved, then "Muat
ulang data terbaru" shows the stored values in every field and the next save keeps the
colleague's change; the grid after the user's own save, with its reload button and the other
regencies read-only; a cohort move of a trained IKM that asks first. Screenshots of the changed
screens go to test-artifacts/look/ (1366×768).

One demo server of this module's own. `staf` is staff scoped to Sumenep (35.29)."""

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import expect

from services import clock
from tests.e2e.conftest import (
    ROOT,
    assert_no_traceback,
    goto,
    login,
    settle,
    wait_for_run,
    watch_runs,
)

pytestmark = pytest.mark.e2e

LOOK = ROOT / "test-artifacts" / "look"
TIMEOUT = 20_000
SUMENEP = "35.29"


@pytest.fixture(scope="module")
def server(server_factory):
    """This module's own demo server (its writes must not move other modules' counts)."""
    return server_factory()


def query(server, sql: str, *params) -> list[tuple]:
    uri = f"file:{Path(server.db_path).as_posix()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql, params).fetchall()


def look(page, name: str) -> None:
    """A screenshot of a changed screen, to look at: test-artifacts/look/<name>.png."""
    LOOK.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(LOOK / f"{name}.png"))


def rerun(page, action) -> None:
    watch_runs(page)
    action()
    wait_for_run(page)


def into_view(locator) -> None:
    locator.evaluate("e => e.scrollIntoView({block: 'center'})")
    locator.page.wait_for_timeout(200)


def open_as(new_page, server, username: str, nav: str):
    page = new_page()
    goto(page, server)
    assert login(page, username)
    rerun(page, page.get_by_role("link", name=nav, exact=True).click)
    return page


def open_tab(page, name: str, within=None) -> None:
    tab = (within or page).get_by_role("tab", name=name, exact=True)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    settle(page)


def choose(page, box, option: str) -> None:
    """Pick the option with this text in a select box, retried while its list opens."""
    for _attempt in range(3):
        settle(page)
        box.click()
        page.keyboard.type(option)
        item = page.get_by_role("option").filter(has_text=option).first
        try:
            item.wait_for(state="visible", timeout=5_000)
        except Exception:  # noqa: BLE001 - the list did not open; try again
            page.keyboard.press("Escape")
            continue
        rerun(page, item.click)
        return
    raise AssertionError(f"could not choose {option!r}")


# --- the add form: a double click writes one IKM ----------------------------------------------

def test_a_double_click_on_simpan_writes_one_ikm(server, new_page):
    name = "Kerupuk Dobel Klik Bu Marni"  # no NIB: nothing unique would refuse a copy
    page = open_as(new_page, server, "staf", "Data IKM")
    log_from = len(server.log_text())
    open_tab(page, "Tambah IKM")
    form = page.get_by_role("tabpanel", name="Tambah IKM")
    form.get_by_role("textbox", name="Nama usaha *", exact=True).fill(name)
    form.get_by_role("textbox", name="Pemilik", exact=True).fill("Marni")
    form.get_by_role("textbox", name="Telepon", exact=True).fill("081233221100")
    form.get_by_role("combobox", name="Kecamatan *", exact=True).click()
    page.keyboard.type("Lenteng")
    page.get_by_role("option", name="Lenteng — Sumenep", exact=True).click()
    before = query(server, "SELECT count(*) FROM ikm")[0][0]
    rerun(page, form.get_by_role("button", name="Simpan", exact=True).dblclick)
    settle(page)
    expect(page.get_by_text(f"IKM «{name}» disimpan.")).to_be_visible(timeout=TIMEOUT)
    assert query(server, "SELECT count(*) FROM ikm WHERE name = ?", name) == [(1,)]
    assert query(server, "SELECT count(*) FROM ikm")[0][0] == before + 1
    # the form is drawn again empty, in the browser too (its widgets are new)
    form = page.get_by_role("tabpanel", name="Tambah IKM")
    for label in ("Nama usaha *", "Pemilik", "Telepon"):
        expect(form.get_by_role("textbox", name=label, exact=True)).to_have_value("")
    look(page, "add_form_after_save")
    # pressing Simpan again on the empty form writes nothing and says what is missing
    rerun(page, form.get_by_role("button", name="Simpan", exact=True).click)
    expect(page.get_by_text("Wajib diisi.").first).to_be_visible()
    assert query(server, "SELECT count(*) FROM ikm")[0][0] == before + 1
    assert_no_traceback(page, server, log_from)


# --- the reload path, in two browsers ---------------------------------------------------------

def edit_form(page):
    """The 'Ubah data IKM' expander of the detail view, opened."""
    box = page.locator('[data-testid="stExpander"]').filter(has_text="Ubah data IKM").first
    summary = box.locator("summary")
    if box.get_by_role("button", name="Simpan perubahan").count() == 0 or \
            not box.get_by_role("button", name="Simpan perubahan").is_visible():
        summary.click()
    expect(box.get_by_role("button", name="Simpan perubahan")).to_be_visible()
    return box


def open_detail(new_page, server, username: str, nib: str, ikm_name: str):
    page = open_as(new_page, server, username, "Data IKM")
    page.get_by_role("textbox", name="Cari", exact=True).fill(nib)
    rerun(page, lambda: page.keyboard.press("Enter"))
    expect(page.get_by_text("1 IKM · halaman 1 dari 1")).to_be_visible()
    open_tab(page, "Detail")
    expect(page.get_by_role("heading", name=ikm_name)).to_be_visible()
    return page


def field(box, label: str):
    return box.get_by_role("textbox", name=label, exact=True)


def test_reload_after_a_refused_stale_save_shows_what_is_stored(server, new_page):
    ikm_id, name, nib, owner, address, phone = query(
        server, "SELECT id, name, nib, owner_name, address, phone FROM ikm WHERE kabupaten_code "
                "= ? AND deleted_at IS NULL AND owner_name IS NOT NULL AND nib IS NOT NULL "
                "ORDER BY id DESC LIMIT 1", SUMENEP)[0]
    mine = open_detail(new_page, server, "staf", nib, name)  # the user opens the form ...
    log_from = len(server.log_text())
    my_form = edit_form(mine)
    expect(field(my_form, "Nama pemilik")).to_have_value(owner)

    theirs = open_detail(new_page, server, "admin", nib, name)  # ... a colleague saves meanwhile
    their_form = edit_form(theirs)
    field(their_form, "Nama pemilik").fill("Pemilik Dari Kolega")
    field(their_form, "Alamat").fill("Jl. Kolega 7")
    rerun(theirs, their_form.get_by_role("button", name="Simpan perubahan").click)
    expect(theirs.get_by_text("Perubahan disimpan.")).to_be_visible(timeout=TIMEOUT)
    assert query(server, "SELECT owner_name, address FROM ikm WHERE id = ?", ikm_id) == \
        [("Pemilik Dari Kolega", "Jl. Kolega 7")]

    field(my_form, "Nama pemilik").fill("Pemilik Versi Saya")  # the user saves on top: refused
    field(my_form, "Alamat").fill("Jl. Saya 1")
    rerun(mine, my_form.get_by_role("button", name="Simpan perubahan").click)
    expect(mine.get_by_text("Data telah diubah oleh orang lain — muat ulang.").first
           ).to_be_visible(timeout=TIMEOUT)
    assert query(server, "SELECT owner_name FROM ikm WHERE id = ?", ikm_id) == \
        [("Pemilik Dari Kolega",)]

    reload = mine.get_by_role("button", name="Muat ulang data terbaru")
    rerun(mine, reload.click)
    my_form = edit_form(mine)
    stored = query(server, "SELECT name, owner_name, address, phone, employees FROM ikm "
                           "WHERE id = ?", ikm_id)[0]
    for label, value in zip(("Nama usaha *", "Nama pemilik", "Alamat", "Telepon",
                             "Jumlah pekerja"), stored, strict=True):
        expect(field(my_form, label)).to_have_value("" if value is None else str(value))
    into_view(field(my_form, "Nama pemilik"))
    look(mine, "detail_edit_after_reload")

    field(my_form, "Telepon").fill("081277665544")  # change one field only, and save
    rerun(mine, my_form.get_by_role("button", name="Simpan perubahan").click)
    expect(mine.get_by_text("Perubahan disimpan.")).to_be_visible(timeout=TIMEOUT)
    assert query(server, "SELECT owner_name, address, phone FROM ikm WHERE id = ?", ikm_id) == \
        [("Pemilik Dari Kolega", "Jl. Kolega 7", "081277665544")]
    assert phone != "081277665544" and address != "Jl. Kolega 7"
    assert_no_traceback(mine, server, log_from)


# --- the grid: read-only rows of other regencies, a reload button ------------------------------

def test_the_grid_shows_other_regencies_read_only_with_a_reload_button(server, new_page):
    page = open_as(new_page, server, "staf", "Data IKM")
    log_from = len(server.log_text())
    choose(page, page.get_by_role("combobox", name="Kabupaten", exact=True), "Bangkalan")
    expect(page.get_by_text("120 IKM · halaman 1 dari 3")).to_be_visible()
    expect(page.get_by_text("di luar wilayah Anda (Bangkalan)", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name="Simpan perubahan tabel")).to_have_count(0)
    expect(page.get_by_role("button", name="Muat ulang data")).to_be_visible()
    # the read-only table shows a cell's text on a double click, but it cannot be typed into
    table = page.locator('[data-testid="stDataFrame"]').first
    box = table.bounding_box()
    page.mouse.dblclick(box["x"] + 60, box["y"] + 35 + 17)
    overlay = page.locator("#portal textarea.gdg-input")
    for _ in range(overlay.count()):
        assert overlay.first.evaluate("e => e.readOnly"), "a read-only cell opened an editor"
    page.keyboard.press("Escape")
    look(page, "grid_other_regency_read_only")

    # a page mixing regencies: own rows in the grid, the others read-only below it
    choose(page, page.get_by_role("combobox", name="Kabupaten", exact=True), "Semua")
    listed = [r[0] for r in query(server, "SELECT kabupaten_code FROM ikm WHERE deleted_at IS "
                                          "NULL ORDER BY id DESC")]
    mixed = next(n for n in range(len(listed) // 50 + 1)
                 if SUMENEP in listed[n * 50:n * 50 + 50]
                 and set(listed[n * 50:n * 50 + 50]) != {SUMENEP})
    for _ in range(mixed):
        rerun(page, page.get_by_role("button", name="›").click)
    expect(page.get_by_text("Ubah sel langsung di tabel")).to_be_visible()
    expect(page.get_by_text("di luar wilayah Anda", exact=False)).to_be_visible()
    into_view(page.get_by_role("button", name="Simpan perubahan tabel"))
    look(page, "grid_mixed_page_read_only_rows")
    into_view(page.get_by_role("button", name="Muat ulang data"))
    look(page, "grid_reload_button")
    assert_no_traceback(page, server, log_from)


def metric(page, label: str):
    """The value of the metric tile with this label."""
    return page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    ).locator('[data-testid="stMetricValue"]')


# --- a cohort move of a trained IKM asks first --------------------------------------------------

def test_moving_a_trained_ikm_into_another_cohort_asks_first(server, new_page):
    # one count of "dilatih" on the overview and the cohort page (leavers not counted)
    expected = query(server, "SELECT count(*) FROM ikm i JOIN cohort c ON c.id = i.cohort_id "
                             "WHERE i.deleted_at IS NULL AND c.deleted_at IS NULL AND c.end_on "
                             "<= ? AND NOT (i.status = 'keluar' AND (i.left_on IS NULL OR "
                             "i.left_on <= ?))", *[clock.today().isoformat()] * 2)[0][0]
    page = open_as(new_page, server, "staf", "Ringkasan")
    log_from = len(server.log_text())
    expect(metric(page, "IKM dilatih")).to_have_text(f"{expected:,}".replace(",", "."))
    rerun(page, page.get_by_role("link", name="Angkatan", exact=True).click)
    expect(metric(page, "Dilatih (angkatan selesai)")).to_have_text(
        f"{expected:,}".replace(",", "."))
    look(page, "cohort_progress_trained_and_left")
    open_tab(page, "Anggota")
    picked = page.get_by_role("combobox", name="Pilih angkatan", exact=True).input_value()
    [(target_id,)] = query(server, "SELECT id FROM cohort WHERE kabupaten_code = ? AND name = ? "
                                   "AND deleted_at IS NULL", SUMENEP, picked.rsplit(" · ", 1)[0])
    # a member of a Sumenep cohort whose training has ended, by the day the server sees
    ikm_id, nib, old_id = query(
        server, "SELECT i.id, i.nib, c.id FROM ikm i JOIN cohort c ON c.id = i.cohort_id "
                "WHERE c.kabupaten_code = ? AND c.id != ? AND c.end_on <= ? AND c.deleted_at "
                "IS NULL AND i.nib IS NOT NULL AND i.deleted_at IS NULL ORDER BY i.id LIMIT 1",
        SUMENEP, target_id, clock.today().isoformat())[0]
    panel = page.get_by_role("tabpanel", name="Anggota")
    panel.get_by_role("textbox", name="Nama usaha atau NIB, satu per baris").fill(nib)
    rerun(page, panel.get_by_role("button", name="Cocokkan dan tambahkan").click)
    expect(page.get_by_text("1 IKM sudah dilatih di angkatan yang telah selesai",
                            exact=False)).to_be_visible(timeout=TIMEOUT)
    confirm = page.get_by_role("button", name="Ya, pindahkan 1 IKM ini juga")
    expect(confirm).to_be_visible()
    into_view(confirm)
    look(page, "cohort_move_confirmation")
    assert query(server, "SELECT cohort_id FROM ikm WHERE id = ?", ikm_id) == [(old_id,)]
    rerun(page, confirm.click)
    expect(page.get_by_text("1 IKM ditambahkan ke angkatan.")).to_be_visible(timeout=TIMEOUT)
    assert query(server, "SELECT cohort_id FROM ikm WHERE id = ?", ikm_id) == [(target_id,)]
    assert_no_traceback(page, server, log_from)

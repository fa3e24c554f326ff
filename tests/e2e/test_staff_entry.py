"""Staff data entry end to end: form, grid, Excel round trip, Overview count, regency scope.

One demo server of this module's own (the counts asserted here must not move under other
modules). `staf` is staff scoped to Sumenep (35.29). The database is opened read-only with sqlite3.
"""

import csv
import io
import sqlite3
from contextlib import closing
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.e2e.conftest import (
    ROOT,
    assert_no_traceback,
    goto,
    login,
    settle,
    shot,
    wait_for_run,
    watch_runs,
)
from tests.workbooks import IKM_HEADERS, type_under_example

pytestmark = pytest.mark.e2e

USER = "staf"
SUMENEP, BANGKALAN = "35.29", "35.26"
SEEDED = 480
SUMENEP_SEEDED = 120
ROW_PX = 35  # glide grid: header and rows are 35 px high
TIMEOUT = 20_000

FORM_IKM = {"name": "Keripik Singkong Bu Rahma E2E", "nib": "3529123456780",
            "phone": "0812 3456 7801", "owner": "Rahmawati"}
IMPORT_NIBS = ("3529765432101", "3529765432102")


@pytest.fixture(scope="module")
def server(server_factory):
    """This module's own demo server (480 IKM)."""
    return server_factory()


# --- helpers -------------------------------------------------------------------------------------

def query(server, sql: str, *params) -> list[tuple]:
    """Rows from the server's SQLite database, opened read-only."""
    uri = f"file:{Path(server.db_path).as_posix()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql, params).fetchall()


def ikm_count(server) -> int:
    return query(server, "SELECT count(*) FROM ikm WHERE deleted_at IS NULL")[0][0]


def ikm_audit_rows(server) -> int:
    return query(server, "SELECT count(*) FROM auditlog WHERE table_name = 'ikm'")[0][0]


def sumenep_kecamatan() -> list[str]:
    with open(ROOT / "db" / "reference" / "madura_wilayah.csv", encoding="utf-8") as f:
        return [r["kecamatan"] for r in csv.DictReader(f) if r["kabupaten_code"] == SUMENEP]


def finish_run(page) -> None:
    """Wait for the run started since `watch_runs`, then settle. The run counter can miss a
    run so quick that its start and end reach the page together; then settling is enough, and
    the caller checks what the run must have shown."""
    try:
        wait_for_run(page, timeout=8_000)
    except PlaywrightTimeout:
        settle(page)


def rerun(page, action) -> None:
    """Do something that reruns the script and wait until that run has finished."""
    watch_runs(page)
    action()
    finish_run(page)


def nav(page, label: str) -> None:
    rerun(page, page.get_by_role("link", name=label, exact=True).click)


def metric_value(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True))
    expect(tile).to_have_count(1)
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def registered(page) -> int:
    expect(page.get_by_role("heading", name="Ringkasan program")).to_be_visible()
    return int(metric_value(page, "IKM terdaftar").replace(".", ""))


def choose(page, label: str, option: str) -> None:
    """Pick an option of a select box (typed to filter, then clicked) and wait for the rerun;
    retried when the click did not take (the list can still be opening)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    for _attempt in range(3):
        settle(page)
        box.click()
        page.keyboard.type(option)
        item = page.get_by_role("option", name=option, exact=True)
        item.wait_for(state="visible")
        watch_runs(page)
        item.click()
        try:
            expect(box).to_have_value(option, timeout=3_000)
        except AssertionError:
            page.keyboard.press("Escape")
            continue
        finish_run(page)
        return
    raise AssertionError(f"could not choose {option!r} in {label!r}: {box.input_value()!r}")


def into_view(locator) -> None:
    """Scroll so that the element is in the middle of the screen (for a screenshot)."""
    locator.evaluate("e => e.scrollIntoView({block: 'center'})")
    locator.page.wait_for_timeout(200)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    expect(page.get_by_role("tab", name=name, exact=True)).to_have_attribute(
        "aria-selected", "true")
    settle(page)


def grid_rows(page) -> list[list[str]]:
    """The cell texts of the first data grid, row by row (from glide's accessible table)."""
    table = page.locator('[data-testid="stDataFrame"]').first
    return [[c.strip() for c in row.locator('[role="gridcell"]').all_inner_texts()]
            for row in table.locator('tbody [role="row"]').all()]


def first_cell(page):
    """The top-left cell of the first data grid (its accessible copy)."""
    return page.locator('[data-testid="stDataFrame"]').first.locator("#glide-cell-0-0")


def edit_cell(page, row: int, right: int, text: str) -> None:
    """Replace the text of one cell of the first data grid (a canvas): click the row's first
    cell, move `right` columns with the arrow keys, open glide's editor with Enter, fill it,
    commit with Enter. Each step is checked and the whole is retried, because a rerun that
    redraws the grid closes an open editor."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    cell = grid.locator(f"#glide-cell-{right}-{row}")
    editor = page.locator("#portal textarea.gdg-input")
    for _attempt in range(4):
        settle(page)
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 24, box["y"] + ROW_PX * (row + 1) + ROW_PX / 2)
        try:
            expect(grid.locator(f"#glide-cell-0-{row}")).to_have_attribute(
                "aria-selected", "true", timeout=2_000)
            for _ in range(right):
                page.keyboard.press("ArrowRight")
            expect(cell).to_have_attribute("aria-selected", "true", timeout=2_000)
            page.keyboard.press("Enter")
            editor.wait_for(state="visible", timeout=3_000)
            editor.fill(text)
            expect(editor).to_have_value(text, timeout=1_000)
            editor.press("Enter")
            expect(cell).to_have_text(text, timeout=3_000)
        except (AssertionError, PlaywrightError):
            page.keyboard.press("Escape")
            continue
        settle(page)
        return
    raise AssertionError(f"could not edit grid cell ({row}, {right}): {cell.inner_text()!r}")


def record_alerts(page) -> None:
    """Keep the text of every alert shown from now on, however briefly (see `alerts_seen`)."""
    page.evaluate("""() => {
      window.__ikmAlerts = [];
      const note = () => document.querySelectorAll('[data-testid="stAlert"]').forEach(e => {
        const text = e.innerText.trim();
        if (text && !window.__ikmAlerts.includes(text)) window.__ikmAlerts.push(text);
      });
      if (window.__ikmAlertObserver) window.__ikmAlertObserver.disconnect();
      window.__ikmAlertObserver = new MutationObserver(note);
      window.__ikmAlertObserver.observe(document.body, {childList: true, subtree: true,
                                                        characterData: true});
    }""")


def alerts_seen(page) -> list[str]:
    return page.evaluate("() => window.__ikmAlerts")


def table_after(page, alert_text: str) -> list[list[str]]:
    """The rows of the data grid drawn right after the alert with this text."""
    container = page.locator('[data-testid="stElementContainer"]')
    alert = container.filter(has=page.locator('[data-testid="stAlert"]', has_text=alert_text))
    expect(alert).to_have_count(1)
    table = alert.locator('xpath=following-sibling::div[@data-testid="stElementContainer"][1]')
    expect(table.locator('[data-testid="stDataFrame"]')).to_be_visible()
    return [[c.strip() for c in row.locator('[role="gridcell"]').all_inner_texts()]
            for row in table.locator('tbody [role="row"]').all()]


def upload(page, name: str, data: bytes) -> None:
    files = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    rerun(page, lambda: files.set_input_files({
        "name": name, "buffer": data,
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}))
    expect(page.get_by_text("belum ada yang disimpan").first).to_be_visible(timeout=TIMEOUT)


# --- the flow ------------------------------------------------------------------------------------

def test_staff_adds_edits_and_imports(server, new_page):
    page = new_page()
    goto(page, server)
    assert login(page, USER)
    log_from = len(server.log_text())

    # 1. Overview: the seeded count.
    assert registered(page) == SEEDED
    shot(page, "staff_overview_before")

    # 2. Data IKM -> Tambah IKM: only Sumenep's kecamatan are offered; pick one, type, save.
    nav(page, "Data IKM")
    open_tab(page, "Tambah IKM")
    form = page.get_by_role("tabpanel", name="Tambah IKM")
    kec = form.get_by_role("combobox", name="Kecamatan *", exact=True)
    kec.click()
    offered = page.get_by_role("option").all_inner_texts()
    assert offered[1:] and all(o.endswith(" — Sumenep") for o in offered[1:]), offered
    page.keyboard.type("Lenteng")
    page.get_by_role("option", name="Lenteng — Sumenep", exact=True).click()
    expect(kec).to_have_value("Lenteng — Sumenep")
    form.get_by_role("textbox", name="Nama usaha *", exact=True).fill(FORM_IKM["name"])
    form.get_by_role("textbox", name="Pemilik", exact=True).fill(FORM_IKM["owner"])
    form.get_by_role("textbox", name="NIB", exact=True).fill(FORM_IKM["nib"])
    form.get_by_role("textbox", name="Telepon", exact=True).fill(FORM_IKM["phone"])
    shot(page, "staff_add_form")
    rerun(page, form.get_by_role("button", name="Simpan", exact=True).click)
    expect(page.get_by_text(f"IKM «{FORM_IKM['name']}» disimpan.")).to_be_visible(
        timeout=TIMEOUT)
    shot(page, "staff_add_saved")
    saved = query(server, "SELECT kabupaten_code, kecamatan_code, phone, created_by FROM ikm "
                          "WHERE nib = ?", FORM_IKM["nib"])
    assert saved == [(SUMENEP, "35.29.07", "081234567801", USER)], saved
    assert ikm_count(server) == SEEDED + 1

    # 3. Daftar dan ubah: Sumenep's list, newest first; change two owners in the grid, save.
    open_tab(page, "Daftar dan ubah")
    choose(page, "Kabupaten", "Sumenep")
    expect(page.get_by_text(f"{SUMENEP_SEEDED + 1} IKM · halaman 1 dari 3")).to_be_visible()
    newest = query(server, "SELECT id, name, owner_name, version FROM ikm WHERE kabupaten_code "
                           "= ? AND deleted_at IS NULL ORDER BY id DESC LIMIT 3", SUMENEP)
    expect(first_cell(page)).to_have_text(FORM_IKM["name"])
    rows = grid_rows(page)
    assert [r[0] for r in rows[:3]] == [n[1] for n in newest], (rows[:3], newest)
    new_owners = {newest[1][0]: "Moh. Hasan Basri", newest[2][0]: "Siti Nurhaliza Putri"}
    for ikm_id, _name, owner, _version in newest[1:]:
        assert owner != new_owners[ikm_id]
    edit_cell(page, 1, 1, new_owners[newest[1][0]])
    expect(page.get_by_text("1 baris diubah.")).to_be_visible()
    edit_cell(page, 2, 1, new_owners[newest[2][0]])
    expect(page.get_by_text("2 baris diubah.")).to_be_visible()
    shot(page, "staff_grid_edited")
    record_alerts(page)
    rerun(page, page.get_by_role("button", name="Simpan perubahan tabel").click)
    expect(page.get_by_text("0 baris diubah.")).to_be_visible(timeout=TIMEOUT)
    assert "2 baris disimpan." in alerts_seen(page), alerts_seen(page)
    expect(page.get_by_text("2 baris disimpan."),
           "the message was shown, then wiped by another rerun").to_be_visible()
    shot(page, "staff_grid_saved")
    for ikm_id, owner in new_owners.items():
        got = query(server, "SELECT owner_name, updated_by FROM ikm WHERE id = ?", ikm_id)
        assert got == [(owner, USER)], (ikm_id, got)

    # 4. Impor / Ekspor: template, filled with one bad NIB; dry run shows it; fix; commit.
    nav(page, "Impor / Ekspor")
    expect(page.get_by_role("heading", name="Impor dan ekspor data")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Unduh templat (XLSX)").click()
    assert download.value.suggested_filename == "templat_impor_ikm.xlsx"
    template = Path(download.value.path()).read_bytes()
    settle(page)
    shot(page, "staff_import_page")
    lists = openpyxl.load_workbook(io.BytesIO(template))["Daftar"]
    offered = {c.value for col in lists.iter_cols() if col[0].value == "kecamatan_code"
               for c in col[1:]}
    kecamatan = [k for k in sumenep_kecamatan() if k in offered][:2]
    assert len(kecamatan) == 2, offered
    rows_in = [
        {"nib": IMPORT_NIBS[0], "name": "Dodol Ketan Pak Salim E2E", "owner_name": "Salim",
         "owner_gender": "L", "phone": "081334455601", "legal_form": "perorangan",
         "kabupaten_code": "Sumenep", "kecamatan_code": kecamatan[0], "founded_year": 2016,
         "employees": 5, "employees_female": 3},
        {"nib": "12345", "name": "Batik Tulis Bu Laila E2E", "owner_name": "Laila",
         "owner_gender": "P", "phone": "081334455602", "legal_form": "perorangan",
         "kabupaten_code": "Sumenep", "kecamatan_code": kecamatan[1], "founded_year": 2019,
         "employees": 3, "employees_female": 3},
    ]
    upload(page, "ikm_sumenep.xlsx", type_under_example(template, rows_in))
    expect(page.get_by_text("1 baris ditolak karena 1 isian bermasalah")).to_be_visible()
    assert metric_value(page, "Ditolak") == "1"
    assert metric_value(page, "Baru") == "1"
    errors = table_after(page, "1 baris ditolak")
    assert errors == [["IKM", "4", IKM_HEADERS["nib"], "12345", "NIB harus 13 digit angka."]], \
        errors
    commit = page.get_by_role("button", name="Simpan 1 baris")
    expect(commit).to_be_disabled()
    expect(page.get_by_role("checkbox", name="Simpan hanya baris yang valid", exact=False)
           ).to_be_visible()
    into_view(page.get_by_text("1 baris ditolak karena 1 isian bermasalah"))
    shot(page, "staff_import_rejected")
    assert ikm_count(server) == SEEDED + 1

    rows_in[1]["nib"] = IMPORT_NIBS[1]
    upload(page, "ikm_sumenep_diperbaiki.xlsx", type_under_example(template, rows_in))
    expect(page.get_by_text("Semua baris valid.")).to_be_visible()
    assert metric_value(page, "Ditolak") == "0"
    assert metric_value(page, "Baru") == "2"
    into_view(page.get_by_text("Semua baris valid."))
    shot(page, "staff_import_valid")
    rerun(page, page.get_by_role("button", name="Simpan 2 baris").click)
    expect(page.get_by_text("tersimpan: 2 baru, 0 diperbarui")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(f"IKM terdaftar di Ringkasan: {SEEDED + 1} → {SEEDED + 3}.")
           ).to_be_visible()
    shot(page, "staff_import_saved")
    got = query(server, "SELECT nib, kabupaten_code, created_by FROM ikm WHERE nib IN (?, ?) "
                        "ORDER BY nib", *IMPORT_NIBS)
    assert got == [(IMPORT_NIBS[0], SUMENEP, USER), (IMPORT_NIBS[1], SUMENEP, USER)], got

    # 5. Overview: 480 + 1 (form) + 2 (import).
    nav(page, "Ringkasan")
    assert registered(page) == SEEDED + 3
    assert ikm_count(server) == SEEDED + 3
    by_regency = {r[0]: r for r in grid_rows(page)}
    assert by_regency["Sumenep"][2] == str(SUMENEP_SEEDED + 3), by_regency  # "Terdaftar"
    shot(page, "staff_overview_after")
    assert_no_traceback(page, server, log_from)


def test_scoped_staff_cannot_edit_another_regency(server, new_page):
    """Rows outside the staff member's regency are shown read-only, never offered for editing
    (Streamlit's grid cannot lock single rows, so they are not in the grid at all)."""
    page = new_page()
    goto(page, server)
    assert login(page, USER)
    log_from = len(server.log_text())
    nav(page, "Data IKM")
    choose(page, "Kabupaten", "Bangkalan")
    expect(page.get_by_text("120 IKM · halaman 1 dari 3")).to_be_visible()
    newest = query(server, "SELECT id, name, owner_name, version, updated_by FROM ikm "
                           "WHERE kabupaten_code = ? AND deleted_at IS NULL "
                           "ORDER BY id DESC LIMIT 1", BANGKALAN)
    audit_before = ikm_audit_rows(server)
    expect(page.get_by_text("di luar wilayah Anda (Bangkalan)", exact=False)).to_be_visible()
    expect(first_cell(page)).to_have_text(newest[0][1])
    rows = grid_rows(page)
    assert rows[0][0] == newest[0][1], (rows[0], newest)
    assert all(r[4] == "Bangkalan" for r in rows), rows
    expect(page.get_by_role("button", name="Simpan perubahan tabel")).to_have_count(0)
    # a cell opens at most a read-only view of its text: nothing can be typed into it
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.dblclick(box["x"] + 24 + 150, box["y"] + ROW_PX + ROW_PX / 2)
    overlay = page.locator("#portal textarea.gdg-input")
    for _ in range(overlay.count()):
        assert overlay.first.evaluate("e => e.readOnly")
    page.keyboard.press("Escape")
    shot(page, "staff_scope_read_only")
    assert query(server, "SELECT id, name, owner_name, version, updated_by FROM ikm "
                         "WHERE id = ?", newest[0][0]) == newest
    assert ikm_audit_rows(server) == audit_before
    assert_no_traceback(page, server, log_from)

"""Issue 8 on Impor / Ekspor in the browser: staff upload an old export whose record a colleague
changed since; the dry run says how the file was read, lists every change and the conflict with
the colleague's name; staff confirm the overwrite and save. An admin then undoes that import
from "Riwayat impor", and the colleague's value is back. Screenshots (1366×768) of the dry run
and of the history go to test-artifacts/look/.

One demo server of this module's own. `staf` is staff scoped to Sumenep (35.29)."""

import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect
from sqlmodel import Session

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
TIMEOUT = 30_000
COLLEAGUE_OWNER = "Bu Rina (baru)"


@pytest.fixture(scope="module")
def server(server_factory):
    """This module's own demo server."""
    return server_factory()


def query(server, sql: str, *params) -> list[tuple]:
    uri = f"file:{Path(server.db_path).as_posix()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql, params).fetchall()


def look(page, name: str, top=None) -> Path:
    """A screenshot of the viewport (1366×768) to look at: test-artifacts/look/<name>.png;
    with `top`, that element scrolled to the top of the view first."""
    if top is not None:
        top.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
    LOOK.mkdir(parents=True, exist_ok=True)
    path = LOOK / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def rerun(page, action) -> None:
    watch_runs(page)
    action()
    wait_for_run(page)


def open_as(new_page, server, username: str):
    page = new_page()
    goto(page, server)
    assert login(page, username)
    rerun(page, page.get_by_role("link", name="Impor / Ekspor", exact=True).click)
    return page


def choose(page, box, option: str) -> None:
    """Pick the option with this text in a select box, retried while its list opens."""
    for _attempt in range(3):
        settle(page)
        box.click()
        item = page.get_by_role("option").filter(has_text=option).first
        try:
            item.wait_for(state="visible", timeout=5_000)
        except Exception:  # noqa: BLE001 - the list did not open; try again
            page.keyboard.press("Escape")
            continue
        rerun(page, item.click)
        return
    raise AssertionError(f"could not choose {option!r}")


def server_session(server):
    from db.engine import make_engine

    return Session(make_engine(f"sqlite:///{server.db_path}"), expire_on_commit=False)


def prepare(server) -> tuple[dict, dict, bytes]:
    """In the server's database: the colleague Rina; an export of two Sumenep IKM (X and Y)
    edited by staf (Y: another phone, its address emptied with #KOSONG, an owner with an
    accent, an export commitment date 03/04/2025) and saved as Windows-1252; then Rina changes
    X's owner. Returns X and Y as they were, and the file."""
    from sqlalchemy import select

    from models import Ikm, User
    from models.enums import Role
    from services import exporter
    from services.ikm import IkmFilter, update_ikm
    from services.permissions import Actor

    with server_session(server) as s:
        s.add(User(username="rina", display_name="Rina Wati", role="staff",
                   kabupaten_code="35.29", password_hash="x"))
        s.commit()
        x, y = s.execute(select(Ikm).where(
            Ikm.kabupaten_code == "35.29", Ikm.deleted_at.is_(None), Ikm.nib.is_not(None),
            Ikm.phone.is_not(None), Ikm.address.is_not(None), Ikm.owner_name.is_not(None))
            .order_by(Ikm.id).limit(2)).scalars().all()
        frames = [exporter.export_ikm(s, filters=IkmFilter(search=i.nib)) for i in (x, y)]
        frame = pd.concat(frames, ignore_index=True)
        headers = dict(zip((c.name for c in exporter.IKM_LAYOUT.columns),
                           exporter.IKM_LAYOUT.headers, strict=True))
        frame.loc[1, headers["phone"]] = "081955554444"
        frame.loc[1, headers["address"]] = "#KOSONG"
        frame.loc[1, headers["owner_name"]] = "Moh. José"
        frame.loc[1, headers["export_commitment_on"]] = "03/04/2025"
        text = exporter.to_csv(frame).decode("utf-8-sig")
        data = text.encode("cp1252")
        before = [{"id": i.id, "name": i.name, "owner": i.owner_name, "phone": i.phone,
                   "address": i.address} for i in (x, y)]
        update_ikm(s, actor=Actor("rina", Role.staff, "35.29"), ikm_id=x.id,
                   expected_version=x.version, changes={"owner_name": COLLEAGUE_OWNER})
        s.commit()
    return before[0], before[1], data


def stored(server, ikm_id: int) -> tuple:
    return query(server, "SELECT owner_name, phone, address FROM ikm WHERE id = ?", ikm_id)[0]


def test_staff_overwrite_a_conflict_and_an_admin_undoes_the_import(server, new_page):
    staff = open_as(new_page, server, "staf")  # the first page seeds the demo database
    log_from = len(server.log_text())
    x, y, data = prepare(server)

    files = staff.locator('[data-testid="stFileUploader"] input[type="file"]')
    rerun(staff, lambda: files.set_input_files({"name": "ekspor_ikm_lama.csv",
                                                "mimeType": "text/csv", "buffer": data}))
    expect(staff.get_by_text("Hasil pemeriksaan")).to_be_visible(timeout=TIMEOUT)
    settle(staff)
    # how the file was read
    expect(staff.get_by_text("Cara file dibaca")).to_be_visible()
    expect(staff.get_by_text("Windows-1252", exact=False).first).to_be_visible()
    # the changes, the emptied address marked
    expect(staff.get_by_text("Perubahan", exact=True)).to_be_visible()
    expect(staff.get_by_text("isian dikosongkan dengan #KOSONG", exact=False)).to_be_visible()
    # the conflict, with the colleague's name, refused unless confirmed
    conflicts = staff.get_by_text("Konflik", exact=True)
    expect(conflicts).to_be_visible()
    expect(staff.get_by_text("Rina Wati (rina)", exact=False).first).to_be_visible()
    expect(staff.get_by_text(f"baris 2: {x['name']}", exact=False)).to_be_visible()
    expect(staff.get_by_role("cell", name=COLLEAGUE_OWNER)).to_be_visible()
    look(staff, "import_dry_run_1_counts_notes", top=staff.get_by_text("Hasil pemeriksaan"))
    look(staff, "import_dry_run_2_changes",
         top=staff.get_by_text("Perubahan", exact=True).first)
    look(staff, "import_dry_run_3_conflict", top=conflicts)
    save = staff.get_by_role("button", name="Simpan 1 baris")
    expect(save).to_be_disabled()  # only Y is valid; X waits for the yes

    rerun(staff, staff.get_by_text("Timpa perubahan Rina Wati (rina)", exact=False).click)
    save = staff.get_by_role("button", name="Simpan 2 baris")
    expect(save).to_be_enabled()
    save.scroll_into_view_if_needed()
    look(staff, "import_dry_run_4_confirmed")
    rerun(staff, save.click)
    expect(staff.get_by_text("tersimpan: 0 baru, 2 diperbarui", exact=False)).to_be_visible(
        timeout=TIMEOUT)
    assert stored(server, x["id"]) == (x["owner"], x["phone"], x["address"])
    assert stored(server, y["id"]) == ("Moh. José", "081955554444", None)
    [(batch_id,)] = query(server, "SELECT max(id) FROM importbatch")
    assert_no_traceback(staff, server, log_from)

    admin = open_as(new_page, server, "admin")
    tab = admin.get_by_role("tab", name="Riwayat impor", exact=True)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    settle(admin)
    panel = admin.get_by_role("tabpanel", name="Riwayat impor")
    expect(panel.get_by_text("Staf Sumenep (demo) (staf)", exact=False).first).to_be_attached()
    choose(admin, panel.get_by_role("combobox").first, f"#{batch_id} · ekspor_ikm_lama.csv")
    expect(panel.get_by_text(f"Impor #{batch_id}: ekspor_ikm_lama.csv")).to_be_visible()
    look(admin, "import_history_1_list", top=tab)
    look(admin, "import_history_2_batch", top=admin.get_by_text("Buka impor", exact=True))
    undo = admin.get_by_role("button", name=f"Batalkan impor #{batch_id}")
    expect(undo).to_be_disabled()
    rerun(admin, admin.get_by_text(f"Ya, batalkan impor #{batch_id}").click)
    rerun(admin, undo.click)
    expect(admin.get_by_text(f"Impor #{batch_id} dibatalkan: 0 data baru dihapus, 2 data",
                             exact=False)).to_be_visible(timeout=TIMEOUT)
    # the colleague's value is back, and Y as it was before the import
    assert stored(server, x["id"]) == (COLLEAGUE_OWNER, x["phone"], x["address"])
    assert stored(server, y["id"]) == (y["owner"], y["phone"], y["address"])
    assert query(server, "SELECT undone_by FROM importbatch WHERE id = ?", batch_id) == \
        [("admin",)]
    look(admin, "import_history_3_undone", top=tab)
    assert_no_traceback(admin, server, log_from)

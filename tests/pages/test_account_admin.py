"""Login form, logout, account and admin pages driven through AppTest on a real demo database."""

import subprocess
import sys

import pytest
from sqlmodel import Session, select

from db.engine import get_engine
from models import AuditLog, Ikm, User
from models.enums import Role
from services.auth import DEMO_PASSWORD, verify_password
from tests.conftest import ROOT
from tests.pages.conftest import make_app, shown


def _user(username: str) -> User:
    with Session(get_engine()) as s:
        return s.exec(select(User).where(User.username == username)).one()


def test_real_login_form_logs_in_and_wrong_password_does_not(demo_db):
    at = make_app(None)
    at.run()
    at.text_input[0].input("kepala")
    at.text_input[1].input("wrong password!")
    at.button[0].click().run()
    assert "Nama pengguna atau kata sandi salah." in [e.value for e in at.error]
    at.text_input[0].input("kepala")
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[0].click().run()
    at.run()  # the browser's cookie component would trigger this rerun
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert at.title[0].value == "Ringkasan program"


def test_logout_ends_the_session_and_revokes_server_side(demo_db):
    before = _user("staf").sessions_valid_after
    at = make_app("staf")
    at.run()
    at.sidebar.button(key="logout_btn").click().run()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["Nama pengguna", "Kata sandi"]
    assert _user("staf").sessions_valid_after > before


def test_deactivated_user_is_thrown_out_on_the_next_rerun(demo_db):
    at = make_app("tamu")
    at.run()
    assert at.title[0].value == "Ringkasan program"
    with Session(get_engine()) as s:
        user = s.exec(select(User).where(User.username == "tamu")).one()
        user.active = False
        s.add(user)
        s.commit()
    at.run()
    assert [w.label for w in at.text_input] == ["Nama pengguna", "Kata sandi"]
    assert any("berakhir" in w.value for w in at.warning)


def test_account_password_change_rejects_weak_and_accepts_strong(demo_db):
    at = make_app("penilai")
    at.run()
    at.switch_page("app_pages/account.py").run()
    at.text_input[0].input(DEMO_PASSWORD)
    at.text_input[1].input("short")
    at.text_input[2].input("short")
    at.button[0].click().run()
    assert at.error and "Kata sandi minimal 12 karakter." in [c.value.split(": ", 1)[-1]
                                                              for c in at.caption]
    assert verify_password(DEMO_PASSWORD, _user("penilai").password_hash)
    at.text_input[0].input(DEMO_PASSWORD)
    at.text_input[1].input("rengginang-lorjuk-2026")
    at.text_input[2].input("rengginang-lorjuk-2026")
    at.button[0].click().run()
    assert not at.exception and at.success
    assert verify_password("rengginang-lorjuk-2026", _user("penilai").password_hash)
    at.run()  # this session survives its own password change
    assert at.session_state["authentication_status"] is True


def new_user_token(at) -> str:
    """The submission token of the admin's new-user form drawn now."""
    return at.session_state["form_tokens"]["admin_new"]


def test_admin_creates_a_scoped_staff_user_and_it_is_audited(demo_db):
    at = make_app("admin")
    at.run()
    at.switch_page("app_pages/admin.py").run()
    assert at.title[0].value == "Administrasi"
    token = new_user_token(at)
    at.text_input(key=f"admin_new_username_{token}").input("budi.bangkalan")
    at.text_input(key=f"admin_new_name_{token}").input("Budi Santoso")
    at.text_input(key=f"admin_new_password_{token}").input("garam-kalianget-2026")
    at.selectbox(key=f"admin_new_role_{token}").set_value("staff")
    at.selectbox(key=f"admin_new_scope_{token}").set_value("35.26")
    at.button(key=f"admin_create_{token}").click().run()
    assert not at.exception
    assert "budi.bangkalan" in shown(at.success[0].value)
    fresh = new_user_token(at)  # drawn again empty: no password is left in the form
    assert fresh != token and at.text_input(key=f"admin_new_password_{fresh}").value == ""
    user = _user("budi.bangkalan")
    assert (user.role, user.kabupaten_code) == ("staff", "35.26")
    with Session(get_engine()) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.table_name == "user",
                                              AuditLog.row_id == str(user.id))).one()
    assert entry.action == "create" and entry.username == "admin"


def test_admin_bad_input_gets_messages_and_nothing_is_written(demo_db):
    at = make_app("admin")
    at.run()
    at.switch_page("app_pages/admin.py").run()
    token = new_user_token(at)
    at.text_input(key=f"admin_new_username_{token}").input("Bad Name!")
    at.text_input(key=f"admin_new_password_{token}").input("123")
    at.button(key=f"admin_create_{token}").click().run()
    assert at.error
    with Session(get_engine()) as s:
        assert s.exec(select(User).where(User.display_name == "")).first() is None
        assert len(s.exec(select(User)).all()) == 5


def test_admin_backup_needs_a_strong_passphrase_and_is_made_only_on_click(demo_db):
    # The archive itself is tested in tests/service/test_backup.py and, downloaded through the
    # browser, in tests/e2e/test_backup_download.py.
    at = make_app("admin")
    at.run()
    at.switch_page("app_pages/admin.py").run()
    for passphrase, confirm, reason in [
            ("pendek", "pendek", "minimal 16 karakter"),
            ("garam-kalianget-sumenep", "garam-kalianget-sumenap", "Kedua frasa sandi berbeda")]:
        at.text_input(key="admin_backup_passphrase").input(passphrase)
        at.text_input(key="admin_backup_confirm").input(confirm)
        at.button(key="admin_backup").click().run()
        assert not at.exception
        assert any(reason in c.value for c in at.caption), [c.value for c in at.caption]
        assert not at.get("download_button")
    at.text_input(key="admin_backup_passphrase").input("garam-kalianget-sumenep")
    at.text_input(key="admin_backup_confirm").input("garam-kalianget-sumenep")
    at.button(key="admin_backup").click().run()
    assert not at.exception and not at.error
    downloads = at.get("download_button")
    assert len(downloads) == 1 and downloads[0].proto.label == "Unduh cadangan terenkripsi"
    assert downloads[0].proto.deferred_file_id and not downloads[0].proto.url
    with Session(get_engine()) as s:  # nothing is made (nor audited) before the click
        assert s.exec(select(AuditLog).where(AuditLog.action == "backup")).first() is None


def test_admin_restores_an_ikm_from_the_trash(demo_db):
    from models.enums import Role
    from services.ikm import delete_ikm
    from services.permissions import Actor

    with Session(get_engine()) as s:
        row = s.exec(select(Ikm).where(Ikm.kabupaten_code == "35.29")).first()
        delete_ikm(s, actor=Actor("staf", Role.staff, "35.29"), ikm_id=row.id,
                   expected_version=row.version)
        s.commit()
        ikm_id = row.id
    at = make_app("admin")
    at.run()
    at.switch_page("app_pages/admin.py").run()
    assert at.selectbox(key="admin_trash_pick").value == ("ikm", ikm_id)
    at.button(key="admin_trash_restore").click().run()
    assert not at.exception
    assert "Dipulihkan." in [s.value for s in at.success]
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm_id).deleted_at is None


def test_admin_sees_the_system_health_and_checks_integrity(demo_db):
    at = make_app("admin")
    at.run()
    at.switch_page("app_pages/admin.py").run()
    text = " ".join(shown(m.value) for m in at.markdown)
    assert "**Basis data**: sqlite" in text and "**Cadangan terakhir**: belum pernah" in text
    assert "**Pemeriksaan integritas**: —" in text and "**Ruang disk bebas**" in text
    assert any("lebih dari 7 hari" in w.value for w in at.warning)
    at.button(key="admin_health_check").click().run()
    text = " ".join(shown(m.value) for m in at.markdown)
    assert "**Pemeriksaan integritas**: baik" in text
    # a backup from the command line counts as well (it is audited)
    done = subprocess.run([sys.executable, "-m", "db", "backup", str(demo_db.parent / "b.db")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    at.run()
    text = " ".join(shown(m.value) for m in at.markdown)
    assert "oleh cli (cli, sqlite)" in text
    assert not any("lebih dari 7 hari" in w.value for w in at.warning)


def test_only_admins_read_the_system_health(demo_db):
    from db.engine import get_engine, read_session
    from services.errors import PermissionDenied
    from services.health import system_health
    from services.permissions import Actor

    with read_session(get_engine()) as session, pytest.raises(PermissionDenied):
        system_health(session, actor=Actor("kepala", Role.head), engine=get_engine(),
                      data_folder=demo_db.parent)

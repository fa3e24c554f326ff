"""Security as the pages show it (AppTest on a real demo database): production refuses demo
leftovers, unclear modes and weak keys on one screen; the lock message tells when it lifts;
the admin sees failed logins."""

import re

import streamlit as st
from streamlit.testing.v1 import AppTest

from db.engine import get_engine, write_session
from services import auth
from services.config import AuthSettings
from tests.pages.conftest import ROOT, make_app

STRONG = "89S6RIRZ0GdAX662k_4l2DOlxLe4Na3GLmoIn-BrNKzdn1uPlUl3dmjqCOlQToqU"


def fresh_app(**secrets) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in secrets.items():
        at.secrets[key] = value
    return at


def refused(at: AppTest) -> str:
    """The one refusal the app shows instead of starting (no login form, no traceback)."""
    assert not at.exception
    assert not at.text_input, "the app started although it should have refused"
    assert len(at.error) == 1
    return at.error[0].value


def test_production_refuses_a_database_with_demo_accounts_and_names_the_command(demo_db):
    at = fresh_app(demo=False, auth={"cookie_key": STRONG})
    at.run()
    message = refused(at)
    assert "python -m db disable-demo-accounts" in message
    assert "Mode produksi menolak" in message and "Production mode refuses" in message
    assert "admin" in message and "madura-demo-2024" not in message
    # Once an admin has run the command, the same configuration starts, without demo accounts.
    with write_session(get_engine()) as session:
        assert auth.disable_demo_accounts(session, actor=None)
    at = fresh_app(demo=False, auth={"cookie_key": STRONG})
    at.run()
    assert not at.exception and not at.error
    assert [w.label for w in at.text_input] == ["Nama pengguna", "Kata sandi"]
    at.text_input[0].input("admin")
    at.text_input[1].input(auth.DEMO_PASSWORD)
    at.button[0].click().run()
    assert at.session_state["authentication_status"] is not True


def test_production_refuses_any_active_account_with_the_demo_password(demo_db):
    with write_session(get_engine()) as session:
        auth.disable_demo_accounts(session, actor=None)
        user = auth.create_user(session, actor=None, username="siti", display_name="Siti",
                                role="admin", password="petis-pamekasan-2026")
        user.password_hash = auth.hash_password(auth.DEMO_PASSWORD)  # set behind the policy
    at = fresh_app(demo=False, auth={"cookie_key": STRONG})
    at.run()
    assert "(siti)" in refused(at)


def test_a_secrets_file_without_a_mode_is_refused(demo_db):
    at = fresh_app(auth={"cookie_key": STRONG})
    at.run()
    message = refused(at)
    assert "demo = false" in message and "demo = true" in message


def test_a_low_entropy_key_is_refused_with_how_to_generate_one(demo_db):
    at = fresh_app(demo=False, auth={"cookie_key": "some_key" * 4})
    at.run()
    message = refused(at)
    assert "kurang acak" in message and "not random enough" in message
    assert "secrets.token_urlsafe(48)" in message


def test_the_lock_message_says_when_to_try_again(demo_db):
    at = make_app(None)
    at.run()
    for attempt in range(6):
        at.text_input[0].input("kepala")
        at.text_input[1].input(f"bukan-sandinya-{attempt}")
        at.button[0].click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    match = re.fullmatch(r"Terlalu banyak percobaan gagal\. Coba lagi dalam (\d+) menit "
                         r"\(pukul (\d\d):(\d\d) WIB\)\.", errors[0])
    assert match, errors
    assert 14 <= int(match.group(1)) <= 15  # the window is 15 minutes and just started


def test_admin_sees_failed_logins_in_the_audit_tab(demo_db):
    settings = AuthSettings(demo=True, cookie_key="k" * 48)
    with write_session(get_engine()) as session:
        auth.check_login(session, username="hantu", password="tebakan-saja-1", ip="192.0.2.9",
                         settings=settings)
    at = make_app("admin")
    at.run()
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception
    assert "Percobaan masuk gagal" in [h.value for h in at.subheader]
    tables = [df.value for df in at.dataframe if "Alamat" in df.value.columns]
    assert len(tables) == 1
    row = tables[0].iloc[0]
    assert (row["Nama pengguna"], row["Alamat"], row["Alasan"]) == \
        ("hantu", "192.0.2.9", "Nama pengguna atau kata sandi salah")
    assert re.fullmatch(r"\d\d-\d\d-\d{4} \d\d:\d\d", row["Waktu"])

"""Demo and production modes as a visitor sees them on the login page."""

import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import ROOT


def fresh_app(**secrets) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in secrets.items():
        at.secrets[key] = value
    return at


def test_demo_login_page_lists_accounts_and_badge(demo_db):
    at = fresh_app(demo=True)
    at.run()
    assert not at.exception
    assert "madura-demo-2024" in " ".join(m.value for m in at.markdown)
    assert len(at.dataframe) == 1


def test_production_with_a_strong_key_shows_no_demo_accounts(demo_db):
    from db.engine import get_engine, write_session
    from services.auth import disable_demo_accounts

    with write_session(get_engine()) as session:  # production refuses active demo accounts
        disable_demo_accounts(session, actor=None)
    at = fresh_app(demo=False, auth={"cookie_key": "89S6RIRZ0GdAX662k_4l2DOlxLe4Na3GLmoIn-"
                                                   "BrNKzdn1uPlUl3dmjqCOlQToqU"})
    at.run()
    assert not at.exception
    assert [w.label for w in at.text_input] == ["Nama pengguna", "Kata sandi"]
    assert "madura-demo-2024" not in " ".join(m.value for m in at.markdown)
    assert len(at.dataframe) == 0


def test_production_with_a_short_key_refuses_to_start_with_a_message(demo_db):
    at = fresh_app(demo=False, auth={"cookie_key": "too-short"})
    at.run()
    assert not at.exception
    assert "shorter than 32 bytes" in at.error[0].value
    assert not at.text_input  # no login form: the app did not start

"""AppTest helpers: run the real app.py as a given demo user on a private demo database."""

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
DEMO_USERS = {"admin": "admin", "kepala": "head", "staf": "staff", "penilai": "assessor",
              "tamu": "viewer"}


def shown(markdown: str) -> str:
    """What a reader sees of Markdown whose user text went through ui.format.md: the backslash
    escapes and invisible word joiners gone, the page's own markup (**bold**) left."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def make_app(username: str | None, *, lang: str = "id") -> AppTest:
    """An AppTest of app.py, logged in as `username` by injecting what the library would set."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["demo"] = True
    if username:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
        at.session_state["name"] = username
        at.session_state["email"] = ""
        at.session_state["roles"] = [DEMO_USERS[username]]
        at.session_state["logout"] = None
    at.session_state["lang"] = lang
    return at


@pytest.fixture
def app_as(demo_db):
    """Factory: an AppTest logged in as a demo user (None: not logged in), already run once."""

    def _make(username: str | None, **kwargs) -> AppTest:
        at = make_app(username, **kwargs)
        at.run()
        return at

    return _make

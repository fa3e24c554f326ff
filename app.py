"""IKM Madura dashboard: page config, authentication gate, role -> pages, shared sidebar."""

import logging

import streamlit as st

from services.config import ConfigError
from services.permissions import pages_for
from ui import auth as ui_auth
from ui import chrome
from ui.context import app_context
from ui.theme import apply_theme

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

st.set_page_config(page_title="IKM Madura", page_icon=":material/storefront:", layout="wide")
apply_theme()
st.session_state.setdefault("lang", "id")

try:
    ctx = app_context()
except ConfigError as exc:
    st.error(str(exc))
    st.stop()

g = ui_auth.gate(ctx)
if g.user is not None:
    if not st.session_state.get("_lang_loaded"):
        # The saved language applies unless the visitor switched on the login page.
        if not st.session_state.get("_lang_touched"):
            st.session_state["lang"] = g.user.language
        st.session_state["_lang_loaded"] = True
    sidebar = st.sidebar.empty()
    with sidebar.container():
        pressed_logout = chrome.sidebar(ctx, g.user)
    if pressed_logout:
        ui_auth.logout(g, ctx)  # no rerun here: the cookie deletion must reach the browser
        sidebar.empty()
        g.user = None

if g.user is None:
    # Logged out, only the login screen exists: no page of the app can be reached by URL.
    login = st.Page(lambda: ui_auth.login_screen(g, ctx), title=chrome.t("login.title"),
                    icon=":material/login:", url_path="login", default=True)
    st.navigation([login], position="hidden").run()
    st.stop()

st.navigation([chrome.page(spec) for spec in pages_for(g.user.role)]).run()

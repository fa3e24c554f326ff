"""IKM Madura dashboard: page config, authentication gate, role -> pages, shared sidebar."""

import logging

import streamlit as st

from services.config import ConfigError
from services.permissions import pages_for
from ui import auth as ui_auth
from ui import chrome
from ui.context import app_context
from ui.faults import show_fault
from ui.lang_css import apply_lang_css
from ui.theme import apply_theme

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

st.set_page_config(page_title="IKM Madura", page_icon=":material/storefront:", layout="wide")
apply_theme()
st.session_state.setdefault("lang", "id")


def main() -> None:
    """One run: context, login gate, sidebar, then the page the user may open."""
    try:
        ctx = app_context()
    except ConfigError as exc:  # one screen, both languages, no traceback
        st.error(exc.bilingual(), icon=":material/block:")
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
    apply_lang_css(st.session_state["lang"])  # once this run's language is settled

    if g.user is None:
        # Logged out, only the login screen exists: no page of the app can be reached by URL.
        login = st.Page(lambda: ui_auth.login_screen(g, ctx), title=chrome.t("login.title"),
                        icon=":material/login:", url_path="login", default=True)
        st.navigation([login], position="hidden").run()
        st.stop()

    pages = pages_for(g.user.role)
    refused = ui_auth.refused_page({spec.key for spec in pages})
    if refused is not None:
        # A page of another role (or none at all) asked for by URL: say why this page opened
        # instead, without saying whether the page exists.
        st.warning(chrome.t("app.page_refused", page=refused) if refused
                   else chrome.t("app.page_refused_any"), icon=":material/block:")
    st.navigation([chrome.page(spec) for spec in pages]).run()


try:
    main()
except Exception as exc:  # noqa: BLE001  (a database or disk fault, or a bug: explained, logged)
    show_fault(exc)

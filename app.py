"""IKM Madura dashboard: page config, authentication gate, role -> pages, shared sidebar."""

import logging

import pandas as pd
import streamlit as st

from services.auth import DEMO_ACCOUNTS, DEMO_PASSWORD
from services.config import ConfigError
from services.permissions import pages_for
from ui import auth as ui_auth
from ui import chrome
from ui.context import app_context
from ui.i18n import t
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
if (flash := st.session_state.pop("_flash", None)) is not None:
    st.warning(t(flash))

if g.user is None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.title(t("app.title"))
        st.caption(t("app.subtitle"))
        chrome.demo_badge(ctx.settings.demo)
        ui_auth.login_form(g, ctx)
        chrome.language_switch(ctx, None)
    if ctx.settings.demo:
        with right:
            st.subheader(t("login.demo_accounts"))
            st.markdown(t("login.demo_help", password=DEMO_PASSWORD))
            st.dataframe(pd.DataFrame(
                [{t("login.col_user"): u, t("login.col_role"): t(f"role.{r}"),
                  t("login.col_scope"): scope or "—"} for u, _, r, scope in DEMO_ACCOUNTS]),
                hide_index=True, width="stretch")
    st.stop()

user = g.user
if not st.session_state.get("_lang_loaded"):
    # The saved language applies unless the visitor switched on the login page.
    if not st.session_state.get("_lang_touched"):
        st.session_state["lang"] = user.language
    st.session_state["_lang_loaded"] = True
if chrome.sidebar(ctx, user):
    ui_auth.logout(g, ctx)
    st.rerun()
navigation = st.navigation([chrome.page(spec) for spec in pages_for(user.role)])
navigation.run()

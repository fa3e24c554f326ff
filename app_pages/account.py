"""Akun: the user's profile and password change."""

import streamlit as st

from db import run_write
from services import auth
from services.errors import ServiceError
from ui.data import show_service_error
from ui.i18n import t
from ui.session import context, current_user

ctx = context()
user = current_user()

st.title(t("account.title"))
st.subheader(t("account.profile"))
st.markdown(f"**{t('admin.username')}:** `{user.username}`  \n"
            f"**{t('admin.role')}:** {t('role.' + user.role)}  \n"
            f"**{t('admin.scope')}:** {user.kabupaten_code or t('app.scope_all')}")

st.subheader(t("account.change_password"))
form_column, _ = st.columns([3, 2])
with form_column, st.form("account_password", clear_on_submit=True, enter_to_submit=False):
    current = st.text_input(t("account.current"), type="password")
    new = st.text_input(t("account.new"), type="password", help=t("account.policy"))
    repeat = st.text_input(t("account.repeat"), type="password")
    submitted = st.form_submit_button(t("account.save"), type="primary")
if submitted:
    if new != repeat:
        st.error(t("account.mismatch"))
    else:
        try:
            cut_off = run_write(ctx.engine, lambda s: auth.change_own_password(
                s, actor=auth.actor_of(user), current=current, new=new))
        except ServiceError as exc:
            show_service_error(exc)
        else:
            st.session_state["auth_at"] = cut_off  # this session stays, all others end
            st.success(t("account.changed"))

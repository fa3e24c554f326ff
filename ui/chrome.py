"""The shared chrome: page header, sidebar with user, language switch and logout."""

import streamlit as st

from db import run_write
from models import User
from services import auth
from services.permissions import PageSpec
from ui.context import AppContext
from ui.format import md
from ui.i18n import LANGUAGES, t

__all__ = ["demo_badge", "language_switch", "page", "sidebar", "t"]


def page(spec: PageSpec) -> st.Page:
    """The st.Page of a declared page, labelled in the session's language."""
    return st.Page(spec.path, title=t(spec.title_key), icon=spec.icon, url_path=spec.key,
                   default=spec.default)


def demo_badge(demo: bool) -> None:
    """A visible DEMO badge (and note) when the app runs on synthetic data."""
    if demo:
        st.badge(t("app.demo_badge"), color="orange", icon=":material/science:")
        st.caption(t("app.demo_note"))


def language_switch(ctx: AppContext, user: User | None, key: str = "lang_switch") -> None:
    """Bahasa Indonesia / English; a logged-in user's choice is remembered. The choice is taken
    in the widget's callback, before the run the click starts: one run, already in the new
    language."""
    current = st.session_state.get("lang", "id")

    def chosen() -> None:
        choice = st.session_state.get(key)
        if not choice or choice == st.session_state.get("lang", "id"):
            return
        st.session_state["lang"] = choice
        st.session_state["_lang_touched"] = True
        if user is not None:
            run_write(ctx.engine, lambda s: auth.set_language(
                s, actor=auth.actor_of(user), language=choice))

    st.segmented_control(t("app.language"), options=list(LANGUAGES),
                         format_func=lambda code: code.upper(), default=current,
                         key=key, selection_mode="single", on_change=chosen)


def sidebar(ctx: AppContext, user: User) -> bool:
    """The sidebar for a logged-in user; returns True when they pressed logout."""
    with st.sidebar:
        st.markdown(f"### {t('app.title')}")
        demo_badge(ctx.settings.demo)
        st.markdown(t("app.signed_in_as", name=md(user.display_name),
                      role=t(f"role.{user.role}")))
        from services.reference import kabupaten_options
        from ui.data import cached

        scope = md(cached(ctx, kabupaten_options).get(user.kabupaten_code)) or t("app.scope_all")
        st.caption(t("app.scope", scope=scope))
        language_switch(ctx, user)
        return st.button(t("app.logout"), icon=":material/logout:", key="logout_btn",
                         width="stretch")

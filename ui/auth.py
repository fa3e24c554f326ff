"""Authentication glue: one streamlit-authenticator per run, hardened as SECURITY.md asks."""

import logging
from dataclasses import dataclass

import pandas as pd
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from db import read_session, write_session
from models import User, utcnow
from services import auth
from ui.context import AppContext
from ui.i18n import t

log = logging.getLogger(__name__)


@dataclass
class Gate:
    # What app.py needs after the gate: the authenticator of this run and, if logged in, the user.
    authenticator: stauth.Authenticate
    user: User | None


def client_ip(trust_proxy_headers: bool = False) -> str:
    """The client's address: the proxy's X-Forwarded-For / X-Real-IP when trusted, else the
    socket's; 'local' for loopback (Streamlit reports none there), 'unknown' without a request."""
    try:
        if trust_proxy_headers:
            headers = st.context.headers
            forwarded = headers.get("X-Forwarded-For") or headers.get("X-Real-Ip") or ""
            first = forwarded.split(",")[0].strip() if isinstance(forwarded, str) else ""
            if first:
                return first
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001  (no request context, as in AppTest)
        return "unknown"
    if ip is None:
        return "local"
    return ip if isinstance(ip, str) and ip else "unknown"


def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # noqa: BLE001
        return None
    return value if isinstance(value, str) else None


def _end_session(authenticator: stauth.Authenticate) -> None:
    # Clear what the authenticator set; the browser's cookie is deleted and is revoked anyway.
    if st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")
    st.session_state.pop("auth_at", None)


def gate(ctx: AppContext) -> Gate:
    """Log the visitor in (form or remembered cookie) and return the current user, if any."""
    settings = ctx.settings
    ss = st.session_state
    if not ss.get("authentication_status"):
        # Check the cookie ourselves first: forged, malformed, expired and revoked cookies are
        # hidden from the library (which would raise on some and honour the others).
        raw = _cookie(settings.cookie_name)
        ss.pop("_cookie_auth_at", None)
        if raw:
            with read_session(ctx.engine) as session:
                username = auth.token_username(session, token=raw, settings=settings)
            if username is None:
                ss["logout"] = True
            else:
                ss["_cookie_auth_at"] = utcnow()
    with read_session(ctx.engine) as session:
        creds = auth.credentials(session)
    authenticator = stauth.Authenticate(
        creds, settings.cookie_name, settings.cookie_key, settings.cookie_expiry_days,
        auto_hash=False, login_sleep_time=0)

    def check_credentials(username: str, password: str) -> bool:
        ss.pop("_flash", None)  # a new attempt replaces the "session ended" notice
        with write_session(ctx.engine) as session:
            result = auth.check_login(session, username=username, password=password,
                                      ip=client_ip(settings.trust_proxy_headers),
                                      settings=settings)
        ss["_login_reason"] = result.reason
        if result.ok:
            ss["auth_at"] = utcnow()
        return result.ok

    # Our check replaces the library's: limiter, equal timing, audit, fresh hashes.
    authenticator.authentication_controller.authentication_model.check_credentials = \
        check_credentials
    if not ss.get("authentication_status"):
        try:
            authenticator.login(location="unrendered")  # honours a valid remembered cookie
        except LoginError:
            ss["authentication_status"] = None
        if ss.get("authentication_status") and "auth_at" not in ss:
            ss["auth_at"] = ss.pop("_cookie_auth_at", utcnow())
            with write_session(ctx.engine) as session:  # a remembered login is a login too
                auth.record_cookie_login(session, username=ss["username"],
                                         ip=client_ip(settings.trust_proxy_headers))
    user = None
    if ss.get("authentication_status") and ss.get("username"):
        ss.setdefault("auth_at", utcnow())  # sessions injected by tests
        with read_session(ctx.engine) as session:
            user = auth.session_user(session, username=ss["username"],
                                     authenticated_at=ss["auth_at"])
        if user is None:
            _end_session(authenticator)
            ss["_flash"] = "app.session_ended"
        else:
            ss.pop("_flash", None)
    return Gate(authenticator=authenticator, user=user)


def login_screen(g: Gate, ctx: AppContext) -> None:
    """Title, DEMO badge, the login form, the language switch and (in demo mode) the accounts."""
    from ui import chrome  # chrome imports this module's neighbours; import late

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.title(t("app.title"))
        st.caption(t("app.subtitle"))
        chrome.demo_badge(ctx.settings.demo)
        if flash := st.session_state.get("_flash"):
            st.warning(t(flash))
        login_form(g, ctx)
        chrome.language_switch(ctx, None, key="lang_switch_login")
    if ctx.settings.demo:
        from services.reference import kabupaten_options
        from ui.data import cached

        regencies = cached(ctx, kabupaten_options)
        with right:
            st.subheader(t("login.demo_accounts"))
            st.markdown(t("login.demo_help", password=auth.DEMO_PASSWORD))
            st.dataframe(pd.DataFrame(
                [{t("login.col_user"): u, t("login.col_role"): t(f"role.{r}"),
                  t("login.col_scope"): regencies.get(scope, t("app.scope_all"))}
                 for u, _, r, scope in auth.DEMO_ACCOUNTS]),
                hide_index=True, width="stretch")


def login_form(g: Gate, ctx: AppContext) -> None:
    """The login form (streamlit-authenticator's), with our messages below it."""
    ss = st.session_state
    try:
        g.authenticator.login(location="main", key="login", fields={
            "Form name": t("login.title"), "Username": t("login.username"),
            "Password": t("login.password"), "Login": t("login.submit")})
    except LoginError:
        ss["authentication_status"] = False
    if ss.get("authentication_status") is False:
        if ss.get("_login_reason") == "locked":
            minutes = max(1, -(-ctx.settings.login_window_seconds // 60))
            st.error(t("login.locked", minutes=minutes))
        else:
            st.error(t("login.failed"))


def logout(g: Gate, ctx: AppContext) -> None:
    """Log out here and revoke every remembered session of the user server-side."""
    username = st.session_state.get("username")
    if username:
        with write_session(ctx.engine) as session:
            auth.revoke_sessions(session, username=username, reason="logout")
    _end_session(g.authenticator)

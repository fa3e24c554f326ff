"""Authentication glue: one streamlit-authenticator per run, hardened as SECURITY.md asks."""

import functools
import logging
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from db import read_session, write_session
from models import User, utcnow
from services import auth
from services.proxies import client_address
from ui.context import AppContext
from ui.format import WIB
from ui.i18n import t

log = logging.getLogger(__name__)


@dataclass
class Gate:
    # What app.py needs after the gate: the authenticator of this run and, if logged in, the user.
    authenticator: stauth.Authenticate
    user: User | None


def client_ip(trusted_proxies: tuple = ()) -> str:
    """The client's address for the login limiter: the socket's peer, or, when the peer is a
    trusted proxy, the first untrusted hop of X-Forwarded-For read from the right
    (services.proxies holds the rule); 'unknown' without a request."""
    try:
        peer = st.context.ip_address  # None on loopback
        forwarded = ", ".join(st.context.headers.get_all("X-Forwarded-For")) \
            if trusted_proxies else None
    except Exception:  # noqa: BLE001  (no request context)
        return "unknown"
    return client_address(peer, forwarded, trusted_proxies)


def _https() -> bool:
    try:
        return str(st.context.url or "").startswith("https://")
    except Exception:  # noqa: BLE001
        return False


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
        # bcrypt runs between a read and a short write, never inside a write transaction.
        result = auth.attempt_login(read=lambda: read_session(ctx.engine),
                                    write=lambda: write_session(ctx.engine),
                                    username=username, password=password,
                                    ip=client_ip(settings.trusted_proxies), settings=settings)
        ss["_login_reason"] = result.reason
        ss["_login_lock"] = result.lock
        if result.ok:
            ss["auth_at"] = utcnow()
        return result.ok

    # Our check replaces the library's: limiter, equal timing, audit, fresh hashes.
    authenticator.authentication_controller.authentication_model.check_credentials = \
        check_credentials
    if _https():
        # The library leaves out Secure; over HTTPS the cookie must never travel in clear.
        manager = authenticator.cookie_controller.cookie_model.cookie_manager
        manager.set = functools.partial(manager.set, secure=True)
    if not ss.get("authentication_status"):
        try:
            authenticator.login(location="unrendered")  # honours a valid remembered cookie
        except LoginError:
            ss["authentication_status"] = None
        if ss.get("authentication_status") and "auth_at" not in ss:
            ss["auth_at"] = ss.pop("_cookie_auth_at", utcnow())
            with write_session(ctx.engine) as session:  # a remembered login is a login too
                auth.record_cookie_login(session, username=ss["username"],
                                         ip=client_ip(settings.trusted_proxies))
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
                hide_index=True, width="stretch", placeholder="—")


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
            lock = ss.get("_login_lock")
            until = lock.until if lock is not None else \
                utcnow() + timedelta(seconds=ctx.settings.login_window_seconds)
            minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
            st.error(t("login.locked_until", minutes=minutes,
                       time=until.astimezone(WIB).strftime("%H:%M")))
        else:
            st.error(t("login.failed"))


def logout(g: Gate, ctx: AppContext) -> None:
    """Log out here and revoke every remembered session of the user server-side."""
    username = st.session_state.get("username")
    if username:
        with write_session(ctx.engine) as session:
            auth.revoke_sessions(session, username=username, reason="logout")
    _end_session(g.authenticator)


_SLUG = re.compile(r"[A-Za-z0-9_-]{1,40}")
_NOT_PAGES = {"login", "_stcore", "component", "media"}  # not pages: never refused


def _asked_page() -> str | None:
    # The first path segment of the browser's URL below the base path ("" for the root).
    try:
        url = st.context.url
        base = str(st.get_option("server.baseUrlPath") or "")
    except Exception:  # noqa: BLE001  (no request context)
        return None
    if not url:
        return None
    parts = [part for part in urlsplit(url).path.split("/") if part]
    prefix = [part for part in base.split("/") if part]
    if prefix and parts[:len(prefix)] == prefix:
        parts = parts[len(prefix):]
    return parts[0] if parts else ""


def refused_page(allowed: set[str]) -> str | None:
    """The page the browser's URL asked for that the user's role has not: its name (when it
    is a plain word) or "" (when it is not); None when nothing was refused.

    Streamlit opens the default page instead and puts the root in the address bar, so the
    refusal is kept for the runs of the page it landed on, until the user goes elsewhere.
    """
    ss = st.session_state
    asked = _asked_page()
    if asked and asked not in allowed and asked not in _NOT_PAGES:
        ss["_refused_page"] = asked if _SLUG.fullmatch(asked) else ""
        _land_on_default_page()
    elif asked:  # another page of the role: the notice has done its work
        ss.pop("_refused_page", None)
    return ss.get("_refused_page")


def _land_on_default_page() -> None:
    # Without this, st.navigation finds no page for the URL and Streamlit shows its own English
    # "Page not found ... does not seem to exist" dialog over our notice. Clearing the run's
    # page intent makes it open the default page plainly. Streamlit internals (1.67): when they
    # change, the dialog simply comes back.
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        run = get_script_run_ctx()
        if run is not None and run.pages_manager.intended_page_script_hash in (None, ""):
            run.pages_manager.set_script_intent("", "")
    except Exception:  # noqa: BLE001
        log.debug("could not clear the page intent", exc_info=True)

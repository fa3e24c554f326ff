"""Security in the real browser: deep-link refusal, cookie revocation and forgery, login limiter.

See design/SECURITY.md (weaknesses 1-4 of streamlit-authenticator and what the app adds).
"""

import sqlite3
import time
import warnings

import jwt
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    COOKIE_NAME,
    DEMO_NAV,
    DEMO_PASSWORD,
    VIEWPORT,
    assert_no_traceback,
    error_texts,
    goto,
    logged_in,
    login,
    login_form,
    logout_button,
    nav_labels,
    settle,
    shot,
    wait_for_run,
    watch_runs,
)

pytestmark = pytest.mark.e2e

DAY = 86400
FAILED = "Nama pengguna atau kata sandi salah."
LOCKED = "Terlalu banyak percobaan gagal"
LOCK_WINDOW = 12  # seconds: IKM_LOGIN_WINDOW_SECONDS of the lockout server
ALG_NONE_ADMIN = ("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                  "eyJ1c2VybmFtZSI6ImFkbWluIiwiZXhwX2RhdGUiOjk5OTk5OTk5OTl9.")


def auth_cookie(page) -> str:
    """The value of the remember-me cookie the browser holds."""
    values = [c["value"] for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    assert values, f"no {COOKIE_NAME} cookie in {page.context.cookies()}"
    return values[0]


def with_cookie(new_page, server, value: str):
    """A page in a fresh context holding only this remember-me cookie."""
    page = new_page()
    page.context.add_cookies([{"name": COOKIE_NAME, "value": value, "url": server.base_url}])
    return page


def assert_login_form(page, *, check_nav: bool = True) -> None:
    """The page shows the login form and stays logged out (after any late rerun)."""
    page.wait_for_timeout(1000)
    settle(page)
    expect(login_form(page)).to_be_visible()
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    expect(logout_button(page)).to_have_count(0)
    if check_nav:
        assert nav_labels(page) == []


def sign(payload: dict, key: str) -> str:
    return jwt.encode(payload, key, algorithm="HS256")


@pytest.fixture(scope="module")
def cookie_key(server, browser) -> str:
    """The server's demo cookie key (written when it serves its first page)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        goto(page, server)
    finally:
        context.close()
    return server.cookie_key()


# --- deep link on a fresh server ---------------------------------------------------------------

def test_fresh_server_refuses_admin_deep_link(server_factory, new_page):
    fresh = server_factory()  # its own server: this is the first page it ever serves
    try:
        page = new_page()
        goto(page, fresh, "/admin")
        assert_login_form(page)
        expect(page.get_by_role("heading", name="Dasbor IKM Madura")).to_be_visible()
        expect(page.get_by_role("heading", name="Administrasi")).to_have_count(0)
        expect(page.get_by_text("Administrasi")).to_have_count(0)
        expect(page.get_by_role("heading", name="Pengguna", exact=True)).to_have_count(0)
        expect(page.get_by_role("columnheader", name="Pengguna", exact=True)).to_have_count(0)
        assert_no_traceback(page, fresh)
        shot(page, "deep_link_admin_fresh")
    finally:
        fresh.stop()


# --- remembered cookies ------------------------------------------------------------------------

def test_copied_cookie_works_until_logout(server, new_page):
    first = new_page()
    goto(first, server)
    assert login(first, "staf")
    token = auth_cookie(first)

    copy = with_cookie(new_page, server, token)
    goto(copy, server)
    assert logged_in(copy), "a copied cookie should log a fresh browser in"
    assert nav_labels(copy) == DEMO_NAV["staf"]

    watch_runs(first)
    logout_button(first).click()
    wait_for_run(first)
    assert_login_form(first)

    # Logout revoked every remembered session of the user: the copied cookie is dead ...
    later = with_cookie(new_page, server, token)
    goto(later, server)
    assert_login_form(later)
    assert_no_traceback(later)
    # ... in the first browser too (it may still hold the cookie) ...
    goto(first, server)
    assert_login_form(first)
    # ... and the live session the copy opened ends on its next rerun.
    watch_runs(copy)
    copy.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Akun").click()
    wait_for_run(copy)
    expect(login_form(copy)).to_be_visible()
    expect(logout_button(copy)).to_have_count(0)
    assert_no_traceback(copy)


def _forged(key: str) -> str:
    with warnings.catch_warnings():  # PyJWT warns that the library's default key is short
        warnings.simplefilter("ignore")
        return sign({"username": "admin", "exp_date": time.time() + DAY}, "some_key")


def _expired(key: str) -> str:
    return sign({"username": "admin", "exp_date": time.time() - 60}, key)


def _unknown_user(key: str) -> str:
    return sign({"username": "hantu", "exp_date": time.time() + DAY}, key)


def _bad_exp_date(key: str) -> str:
    return sign({"username": "admin", "exp_date": "besok"}, key)


def _no_exp_date(key: str) -> str:
    return sign({"username": "admin"}, key)


BAD_COOKIES = {
    "forged_some_key": _forged,
    "alg_none": lambda key: ALG_NONE_ADMIN,
    "garbage": lambda key: "garbage.not-a-jwt",
    "expired": _expired,
    "unknown_user": _unknown_user,
    "exp_date_not_a_number": _bad_exp_date,
    "no_exp_date": _no_exp_date,
}


@pytest.mark.parametrize("kind", list(BAD_COOKIES))
def test_bad_cookie_shows_login_form_without_traceback(server, cookie_key, new_page, kind):
    log_from = len(server.log_text())
    page = with_cookie(new_page, server, BAD_COOKIES[kind](cookie_key))
    goto(page, server)
    assert_login_form(page)
    assert_no_traceback(page, server, log_from)
    # The login form still works with the bad cookie present.
    if kind == "alg_none":
        assert login(page, "tamu")
        assert nav_labels(page) == DEMO_NAV["tamu"]


def test_correctly_signed_fresh_token_logs_in(server, cookie_key, new_page):
    # The positive control: the cookie check is not merely refusing everything.
    token = sign({"username": "admin", "exp_date": time.time() + DAY}, cookie_key)
    page = with_cookie(new_page, server, token)
    goto(page, server)
    expect(logout_button(page)).to_be_visible()
    assert nav_labels(page) == DEMO_NAV["admin"]
    assert_no_traceback(page)


# --- what the user sees on logout and revocation ------------------------------------------------

def test_logout_clears_sidebar_navigation_and_deletes_the_cookie(server, new_page):
    page = new_page()
    goto(page, server)
    assert login(page, "admin")
    watch_runs(page)
    logout_button(page).click()
    wait_for_run(page)
    assert_login_form(page)
    page.wait_for_timeout(1500)  # the cookie component deletes the cookie in the browser
    assert COOKIE_NAME not in {c["name"] for c in page.context.cookies()}


def test_revoked_live_session_explains_why(server, new_page):
    first = new_page()
    goto(first, server)
    assert login(first, "kepala")
    copy = with_cookie(new_page, server, auth_cookie(first))
    goto(copy, server)
    assert logged_in(copy)
    watch_runs(first)
    logout_button(first).click()
    wait_for_run(first)
    watch_runs(copy)
    copy.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Akun").click()
    wait_for_run(copy)
    copy.wait_for_timeout(1000)
    expect(copy.get_by_text("Sesi Anda telah berakhir")).to_be_visible(timeout=1000)


# --- login limiter -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lockout_server(server_factory):
    """A server whose failed-login window is short enough to wait out in a test."""
    return server_factory(IKM_LOGIN_WINDOW_SECONDS=str(LOCK_WINDOW))


def failed_attempts(server, username: str) -> list[tuple[str, str]]:
    """(ip, reason) of the failed login attempts recorded for a username."""
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT ip, reason FROM loginattempt WHERE username = ? AND NOT ok "
                          "ORDER BY id", (username,)).fetchall()


def test_wrong_passwords_lock_username_then_release(lockout_server, new_page):
    page = new_page()
    goto(page, lockout_server)
    started = time.monotonic()
    for attempt in range(1, 6):
        assert not login(page, "penilai", f"bukan-sandinya-{attempt}")
        assert error_texts(page) == [FAILED], f"attempt {attempt}"
    rows = failed_attempts(lockout_server, "penilai")
    assert len(rows) == 5 and {reason for _, reason in rows} == {"bad_credentials"}, rows
    assert len({ip for ip, _ in rows}) == 1, rows  # one browser, one address

    # The sixth attempt is refused even with the right password.
    assert not login(page, "penilai", DEMO_PASSWORD)
    locked_at = time.monotonic()
    assert len(error_texts(page)) == 1 and error_texts(page)[0].startswith(LOCKED), \
        f"{error_texts(page)} after {locked_at - started:.1f} s (window {LOCK_WINDOW} s)"
    assert_no_traceback(page)
    shot(page, "login_locked")

    # The lock is per username and address: another user from the same address gets in.
    other = new_page()
    goto(other, lockout_server)
    assert login(other, "kepala")
    assert nav_labels(other) == DEMO_NAV["kepala"]

    # Once the window has passed, the right password works again.
    page.wait_for_timeout(max(0.0, locked_at + LOCK_WINDOW + 1 - time.monotonic()) * 1000)
    assert login(page, "penilai", DEMO_PASSWORD), error_texts(page)
    assert nav_labels(page) == DEMO_NAV["penilai"]
    assert_no_traceback(page, lockout_server)


# --- issue 12: odd cookies, cookie attributes, refused deep links, spoofed proxy headers ---------

def _odd(payload_of):
    return lambda key: sign(payload_of(time.time() + 3600), key)


# Validly signed (the real key) but not in the library's shape: each must mean "no cookie"
# (before, "ADMIN" and a text exp_date made the library trip further on).
ODD_COOKIES = {
    "username_upper_case": _odd(lambda exp: {"username": "ADMIN", "exp_date": exp}),
    "exp_date_numeric_text": _odd(lambda exp: {"username": "admin", "exp_date": str(int(exp))}),
    "exp_date_nan_text": _odd(lambda exp: {"username": "admin", "exp_date": "NaN"}),
    "exp_date_huge": _odd(lambda exp: {"username": "admin", "exp_date": 10 ** 30}),
    "exp_date_bool": _odd(lambda exp: {"username": "admin", "exp_date": True}),
    "username_list": _odd(lambda exp: {"username": ["admin"], "exp_date": exp}),
    "username_dict": _odd(lambda exp: {"username": {"admin": 1}, "exp_date": exp}),
    "no_username": _odd(lambda exp: {"exp_date": exp}),
    "extra_field": _odd(lambda exp: {"username": "admin", "exp_date": exp, "role": "admin"}),
}


@pytest.mark.parametrize("kind", list(ODD_COOKIES))
def test_validly_signed_odd_cookie_shows_login_form_without_traceback(server, cookie_key,
                                                                      new_page, kind):
    log_from = len(server.log_text())
    page = with_cookie(new_page, server, ODD_COOKIES[kind](cookie_key))
    goto(page, server)
    assert_login_form(page)
    assert_no_traceback(page, server, log_from)


def test_the_remember_me_cookie_is_samesite_strict_and_not_httponly(server, new_page):
    # What README's security section says, read from the browser: the library sets the cookie
    # from the page (so it cannot be HttpOnly) with SameSite=Strict; over plain HTTP no Secure.
    page = new_page()
    goto(page, server)
    assert login(page, "tamu")
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE_NAME)
    assert cookie["sameSite"] == "Strict"
    assert cookie["httpOnly"] is False
    assert cookie["secure"] is False
    assert 0 < cookie["expires"] - time.time() <= DAY + 60  # one day at most


@pytest.mark.parametrize("path", ["/admin", "/halaman-rahasia"])
def test_a_page_of_another_role_asked_by_url_says_why(server, new_page, path):
    first = new_page()
    goto(first, server)
    assert login(first, "tamu")
    page = with_cookie(new_page, server, auth_cookie(first))
    goto(page, server, path)
    assert logged_in(page)
    page.wait_for_timeout(1000)
    settle(page)
    name = path.strip("/")
    notice = page.locator('[data-testid="stAlertContentWarning"]')
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(f"Halaman '{name}' tidak tersedia untuk peran Anda.")
    # It landed on Ringkasan, and the notice says nothing else (not whether the page exists).
    expect(page.get_by_role("heading", name="Ringkasan program")).to_be_visible()
    expect(page.get_by_role("heading", name="Administrasi")).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)  # not Streamlit's "Page not found"
    assert nav_labels(page) == DEMO_NAV["tamu"]
    assert_no_traceback(page, server)
    shot(page, f"refused_{name}")
    # Going on to another page of the role, the notice has done its work.
    watch_runs(page)
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Akun").click()
    wait_for_run(page)
    expect(notice).to_have_count(0)


@pytest.fixture(scope="module")
def direct_server(server_factory):
    """No trusted proxy; FORWARDED_ALLOW_IPS="" stops uvicorn (under Streamlit) from reading
    X-Forwarded-For itself, so the app's own rule is what the test sees."""
    return server_factory(FORWARDED_ALLOW_IPS="")


@pytest.fixture(scope="module")
def proxied_server(server_factory):
    """The browser stands in for nginx on this host: 127.0.0.1 is a trusted proxy."""
    return server_factory(FORWARDED_ALLOW_IPS="", IKM_TRUSTED_PROXIES="127.0.0.1")


def attempts(server, username: str) -> list[tuple[str, str]]:
    """(ip, reason) of every login attempt recorded for a username, in order."""
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT ip, reason FROM loginattempt WHERE username = ? ORDER BY id",
                          (username,)).fetchall()


def login_via(new_page, server, forwarded: str, username: str, password: str):
    """A fresh browser whose requests carry this X-Forwarded-For; True when logged in."""
    page = new_page(extra_http_headers={"X-Forwarded-For": forwarded})
    goto(page, server)
    return login(page, username, password), page


def test_spoofed_forwarded_for_is_ignored_without_a_trusted_proxy(direct_server, new_page):
    # Before: with proxy headers trusted, every attempt with another X-Forwarded-For was a new
    # client, and 8 wrong passwords for kepala were never locked.
    for n in range(1, 6):
        ok, page = login_via(new_page, direct_server, f"6.6.6.{n}", "kepala", f"salah-{n}-xx")
        assert not ok and error_texts(page) == [FAILED]
    ok, page = login_via(new_page, direct_server, "6.6.6.99", "kepala", DEMO_PASSWORD)
    assert not ok and error_texts(page)[0].startswith(LOCKED), error_texts(page)
    assert "Coba lagi dalam" in error_texts(page)[0] and "WIB" in error_texts(page)[0]
    assert {ip for ip, _ in attempts(direct_server, "kepala")} == {"127.0.0.1"}


def test_a_trusted_proxy_is_read_right_to_left(proxied_server, new_page):
    # nginx appends the address it saw; whatever the client wrote stays on the left.
    for n in range(1, 6):
        ok, _ = login_via(new_page, proxied_server, f"6.6.6.{n}, 198.51.100.7", "kepala",
                          f"salah-{n}-xx")
        assert not ok
    ok, page = login_via(new_page, proxied_server, "6.6.6.99, 198.51.100.7", "kepala",
                         DEMO_PASSWORD)
    assert not ok and error_texts(page)[0].startswith(LOCKED), error_texts(page)
    assert {ip for ip, _ in attempts(proxied_server, "kepala")} == {"198.51.100.7"}
    # Another user behind the same proxy from another address is not affected.
    ok, _ = login_via(new_page, proxied_server, "198.51.100.8", "kepala", DEMO_PASSWORD)
    assert ok


def test_a_username_flooded_from_many_addresses_locks_new_addresses_only(proxied_server,
                                                                         new_page):
    # penilai works from 192.0.2.50; then wrong passwords arrive from ten other addresses.
    ok, _ = login_via(new_page, proxied_server, "192.0.2.50", "penilai", DEMO_PASSWORD)
    assert ok
    page = new_page()
    for n in range(1, 11):
        page.set_extra_http_headers({"X-Forwarded-For": f"203.0.113.{n}"})
        goto(page, proxied_server)
        assert not login(page, "penilai", f"salah-{n}-xx")
        assert error_texts(page) == [FAILED], n
    ok, page = login_via(new_page, proxied_server, "203.0.113.200", "penilai", DEMO_PASSWORD)
    assert not ok and error_texts(page)[0].startswith(LOCKED)
    ok, _ = login_via(new_page, proxied_server, "192.0.2.50", "penilai", DEMO_PASSWORD)
    assert ok, "the attacker locked penilai out of the address she works from"

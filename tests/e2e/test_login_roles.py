"""Login through the real form for every demo role; navigation and pages per role."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DEMO_NAV,
    assert_no_traceback,
    goto,
    login,
    login_form,
    nav_labels,
    settle,
    shot,
)

pytestmark = pytest.mark.e2e

KABUPATEN = ["Bangkalan", "Sampang", "Pamekasan", "Sumenep"]


def grid_cells(page) -> list[str]:
    """The texts of every data-grid cell on the page (st.dataframe keeps an accessible table)."""
    return [text.strip() for text in
            page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_inner_texts()]


def metric_value(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    expect(tile).to_have_count(1)
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_login_page_lists_demo_accounts(server, new_page):
    page = new_page()
    goto(page, server)
    expect(page.get_by_role("heading", name="Dasbor IKM Madura")).to_be_visible()
    expect(page.get_by_label("Nama pengguna")).to_be_visible()
    expect(login_form(page)).to_be_visible()
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    expect(page.get_by_role("heading", name="Akun demo")).to_be_visible()
    cells = grid_cells(page)
    for username in DEMO_NAV:
        assert username in cells, cells
    assert page.locator('[data-testid="stSidebarNavLink"]').count() == 0
    assert_no_traceback(page)
    shot(page, "login")


@pytest.mark.parametrize("username", list(DEMO_NAV))
def test_demo_user_logs_in_and_sees_role_pages(server, new_page, username):
    page = new_page()
    goto(page, server)
    assert login(page, username), f"{username} was not logged in"
    assert nav_labels(page) == DEMO_NAV[username]
    expect(page.get_by_role("heading", name="Ringkasan program")).to_be_visible()
    assert metric_value(page, "IKM terdaftar") == "480"
    cells = grid_cells(page)
    for name in KABUPATEN:
        assert name in cells, cells
    assert_no_traceback(page)
    if username == "admin":
        shot(page, f"overview_{username}")

    # A deep link to the admin page, in a new session that logs in from the cookie.
    goto(page, server, "/admin")
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    if username == "admin":
        expect(page.get_by_role("heading", name="Administrasi")).to_be_visible()
        assert "penilai" in grid_cells(page)
        shot(page, "admin")
    else:
        settle(page)
        expect(page.get_by_role("heading", name="Administrasi")).to_have_count(0)
        expect(page.get_by_text("Administrasi")).to_have_count(0)
        assert nav_labels(page) == DEMO_NAV[username]
    assert_no_traceback(page)

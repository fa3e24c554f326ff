"""Names typed by users show as typed in the real browser: an IKM named with Markdown, LaTeX,
a link and HTML, owned by someone named with Streamlit's colours, icons, shortcodes, a heading
and an arrow, is opened in its detail view. The heading and the identity line read exactly as
typed, and nothing of it became bold text, a link, a formula, a colour or an icon.

ui.format.md breaks the patterns Streamlit rewrites after parsing (http://, :smile:, ->) with an
invisible word joiner (U+2060); the text read from the page drops it, as a reader never sees it.
"""

import pytest
from playwright.sync_api import expect

from db import write_session
from db.engine import make_engine
from models.enums import Role
from services import ikm
from services.permissions import Actor
from services.regions import load_regions
from tests.e2e.conftest import (
    assert_no_traceback,
    goto,
    login,
    settle,
    shot,
    wait_for_run,
    watch_runs,
)

pytestmark = pytest.mark.e2e

NAME = "**tebal** $x^2$ [tautan](http://example.com) <b>b</b>"
OWNER = ":red[merah] :material/warning: :smile: # judul -> panah"
NIB = "3529000000555"
# What Markdown would have made of the text (a heading's own "#anchor" link aside).
MARKUP = ("strong, em, a:not([href^='#']), b, code, del, img, li, blockquote, h1, .katex, "
          "[role=img], .stMarkdownColoredText, .stMarkdownColoredBackground")


def visible(locator) -> str:
    return locator.inner_text().replace("\u2060", "")


def test_an_ikm_named_with_markdown_shows_its_name_as_typed(server, new_page):
    page = new_page()
    goto(page, server)  # the server has prepared its database now
    engine = make_engine(f"sqlite:///{server.db_path}")
    try:
        with write_session(engine) as session:
            kecamatan = next(iter(load_regions(session).kecamatan_of("35.29")))
            ikm.create_ikm(session, actor=Actor("admin", Role.admin), data={
                "name": NAME, "owner_name": OWNER, "nib": NIB, "kabupaten_code": "35.29",
                "kecamatan_code": kecamatan})
    finally:
        engine.dispose()
    assert login(page, "staf")
    log_from = len(server.log_text())
    watch_runs(page)
    page.get_by_role("link", name="Data IKM", exact=True).click()
    wait_for_run(page)
    search = page.get_by_role("textbox", name="Cari")
    search.fill(NIB)
    watch_runs(page)
    search.press("Enter")
    wait_for_run(page)
    page.get_by_role("tab", name="Detail", exact=True).click()
    settle(page)

    detail = page.get_by_role("tabpanel", name="Detail")
    heading = detail.locator('[data-testid="stHeading"]').first
    expect(heading).to_be_visible()
    assert visible(heading) == NAME
    identity = detail.locator('[data-testid="stMarkdownContainer"]').filter(has_text="merah")
    assert OWNER in visible(identity.first)
    assert NAME in visible(page.locator('[data-testid="stMain"]'))
    assert heading.locator(MARKUP).evaluate_all("els => els.map(e => e.outerHTML)") == []
    assert identity.first.locator(MARKUP.replace("strong, ", "")).count() == 0  # labels are bold
    assert identity.first.locator("strong").all_inner_texts() == ["NIB", "Pemilik",
                                                                  "Telepon"]
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('a[href^="http://example.com"], .katex').count() == 0
    shot(page, "detail_hostile_name")
    assert_no_traceback(page, server, log_from)

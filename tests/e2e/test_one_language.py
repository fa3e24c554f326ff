"""One language on screen (issue 9): none of Streamlit's own English in the Indonesian interface.

Every demo role logs in (Bahasa Indonesia, 1366×768) and opens every page it may open
(services/permissions.PAGES); on each page every tab is opened in turn, every expander is opened
and every selectbox and multiselect of the page is dropped down once. What is collected there:

- `document.body.innerText` (what is on screen as text, display:none left out);
- the title, aria-label, placeholder and alt attributes of every visible element;
- the CSS `::before` / `::after` content inside file uploaders and the grid's column menu (ui/
  lang_css.py puts our words there);
- the tooltips of the grid toolbar, hovered button by button, if a grid shows its toolbar;
- what the data grids draw: glide-data-grid paints cells on a canvas, so an init script records
  every `fillText` on the page's canvases (the newest text at each place), and the grid's
  `placeholder` for empty cells, read from the protobuf messages the server sends on the
  websocket (it reaches the browser as the `Dataframe.placeholder` field), must be "—". The
  canvas record shows what is drawn where the demo data has empty cells; the protobuf check
  covers grids whose rows happen to have none.

The protobuf messages are also read for every selectbox and multiselect sent to the page, drawn
or not: each needs a placeholder of ours (else Streamlit shows "Choose an option"), and every
multiselect `select_all=False` (else "Select all").

The test fails when a known English Streamlit string appears as a whole word (case-sensitive:
Material icon names such as "upload" are lower case and are not words on screen), and names
page, role, where it was found and the string. In English, the same pages must show none of
our Indonesian filler words ("Semua", "Pilih…", "Pilih file", …). Strings Streamlit 1.67 keeps
in English and that are not checked here are listed in README ("Teks Streamlit yang tersisa").
"""

import contextlib
import csv
import io
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from services.auth import DEMO_ACCOUNTS
from services.permissions import pages_for
from tests.e2e.conftest import (
    SETTLE_TIMEOUT_MS,
    VIEWPORT,
    assert_no_traceback,
    goto,
    login,
    settle,
    shot,
    track_runs,
    wait_for_run,
    watch_runs,
)
from ui.catalogue import CATALOGUE

pytestmark = pytest.mark.e2e

# Streamlit 1.67's own English, as read in its frontend (static/js): placeholders, dropdown
# texts, the file uploader, the grid toolbar and its search box, the column menu, input hints.
STREAMLIT_ENGLISH = [
    "None", "Select all", r"Select \d+ matches", "Choose an option", "Choose options",
    "Choose or add an option", "Add an option", "No results", "No options to select",
    "Clear all", "Upload", "Upload directories", "Drag and drop", "Browse files", "per file",
    "Add files", "Download as CSV", "Search", "Type to search", "Fullscreen",
    "Close fullscreen", "Show/hide columns", "Sort ascending", "Sort descending", "Autosize",
    "Pin column", "Unpin column", "Hide column", "Statistics", "Copy column name",
    "Press Enter to apply", "Press Enter to submit form", r"Press \S+\+Enter to apply",
]
# Our Indonesian words where Streamlit's English was: never in the English interface.
INDONESIAN_FILLERS = ["Semua", "Pilih", "Pilih file", "Lepaskan file di sini", "Jenis file",
                      "Urutkan naik", "Urutkan turun", "Sesuaikan lebar", "Unduh", "Cari"]
GRID_PLACEHOLDER = "—"

ROLE_PAGES = [(user, spec.key) for user, _name, role, _scope in DEMO_ACCOUNTS
              for spec in pages_for(role)]
ADMIN_PAGES = [spec.key for spec in pages_for("admin")]

# Records what the canvases draw: per canvas, the newest text at each place (CSS pixels).
CANVAS_HOOK = """(() => {
  const proto = CanvasRenderingContext2D.prototype;
  if (proto.__langFillText) return;
  proto.__langFillText = proto.fillText;
  proto.fillText = function (text, x, y, ...rest) {
    const canvas = this.canvas;
    if (canvas instanceof HTMLCanvasElement) {
      const m = this.getTransform(), dpr = devicePixelRatio || 1;
      const px = (m.e + m.a * x) / dpr, py = (m.f + m.d * y) / dpr;
      (canvas.__langTexts || (canvas.__langTexts = new Map()))
        .set(`${Math.round(px)},${Math.round(py)}`, {text: String(text), x: px, y: py});
    }
    return proto.__langFillText.call(this, text, x, y, ...rest);
  };
})();"""

# Every text a person (or a screen reader's name for a control) meets on the page now.
COLLECT = """() => {
  const out = [];
  const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const whose = (el) => {
    const widget = el.closest('[data-testid^="st"]');
    const label = el.getAttribute('aria-label');
    return (widget ? widget.dataset.testid : el.tagName.toLowerCase()) +
      (label && el.hasAttribute('placeholder') ? ` '${label}'` : '');
  };
  out.push({where: 'text', text: document.body.innerText});
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [alt]')) {
    if (!shown(el)) continue;
    for (const name of ['title', 'aria-label', 'placeholder', 'alt']) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push({where: `${name} of ${whose(el)}`, text: value});
    }
  }
  const styled = '[data-testid="stFileUploader"], [data-testid="stFileUploader"] *, ' +
                 '[data-testid="stDataFrameColumnMenu"] *';
  for (const el of document.querySelectorAll(styled)) {
    if (!shown(el)) continue;
    for (const pseudo of ['::before', '::after']) {
      const content = getComputedStyle(el, pseudo).content;
      if (content && content.startsWith('"')) out.push({where: 'css ' + pseudo, text: content});
    }
  }
  for (const grid of document.querySelectorAll('[data-testid="stDataFrame"]')) {
    if (!shown(grid)) continue;
    for (const canvas of grid.querySelectorAll('canvas')) {
      for (const d of (canvas.__langTexts || new Map()).values()) {
        out.push({where: 'grid cell', text: d.text});
      }
    }
  }
  return out;
}"""

# The header texts of a grid's header canvas, left to right (x relative to the canvas).
HEADERS = """(grid) => {
  for (const canvas of grid.querySelectorAll('canvas')) {
    if (canvas.dataset.testid === 'data-grid-canvas' || !canvas.__langTexts) continue;
    const box = canvas.getBoundingClientRect();
    return [...canvas.__langTexts.values()].filter((d) => d.text.trim())
      .sort((a, b) => a.x - b.x).map((d) => ({text: d.text, x: box.x + d.x, y: box.y + d.y}));
  }
  return [];
}"""

# What the column menu shows: per visible item, our CSS word where the English is sized to 0.
MENU_LABELS = """() => {
  const menu = document.querySelector('[data-testid="stDataFrameColumnMenu"] [role="menu"]');
  if (!menu) return null;
  const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  return [...menu.children].filter(shown).map((item) => {
    const after = getComputedStyle(item, '::after').content;
    if (parseFloat(getComputedStyle(item).fontSize) === 0 && after.startsWith('"')) {
      return JSON.parse(after);
    }
    return [...item.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent)
      .join('').trim();
  }).filter((text) => text);
}"""


def words(strings: list[str]) -> list[tuple[str, re.Pattern]]:
    """Whole-word, case-sensitive patterns (a string given as a regex stays one)."""
    return [(s, re.compile(r"(?<![\w/])" + (s if "\\" in s else re.escape(s)) + r"(?![\w/])"))
            for s in strings]


ENGLISH_PATTERNS = words(STREAMLIT_ENGLISH)
FILLER_PATTERNS = words(INDONESIAN_FILLERS)


# --- what the server sends (protobuf on the websocket) ----------------------------------------

class Sent:
    """The grids, selectboxes and multiselects the server sent to one page since `clear()`."""

    def __init__(self, page) -> None:
        self.grids: list[dict] = []
        self.selects: list[dict] = []
        self._by_hash: dict[str, object] = {}
        self._current = None
        page.on("websocket", self._on_socket)

    def clear(self) -> None:
        self.grids.clear()
        self.selects.clear()

    def _on_socket(self, socket) -> None:
        if socket.url.endswith("/_stcore/stream"):  # the app's socket, not a component's
            self._current = socket  # a new page load: frames late from the old one don't count
            socket.on("framereceived", lambda payload: self._on_frame(socket, payload))

    def _on_frame(self, socket, payload) -> None:
        from google.protobuf.message import DecodeError
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, str) or socket is not self._current:
            return
        try:
            msg = ForwardMsg.FromString(payload)
        except DecodeError:
            return
        if msg.hash:
            self._by_hash[msg.hash] = msg
        if msg.WhichOneof("type") == "ref_hash":  # a message the browser has cached already
            msg = self._by_hash.get(msg.ref_hash, msg)
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        if kind == "dataframe":
            grid = element.dataframe
            self.grids.append({
                "placeholder": grid.placeholder if grid.HasField("placeholder") else None,
                "columns": _columns(grid.arrow_data.data)})
        elif kind in ("selectbox", "multiselect"):
            widget = getattr(element, kind)
            self.selects.append({"kind": kind, "label": widget.label,
                                 "placeholder": widget.placeholder,
                                 "select_all": getattr(widget, "select_all", None)})


def _columns(data: bytes) -> list[str]:
    try:
        import pyarrow as pa

        return list(pa.ipc.open_stream(data).schema.names)[:6]
    except Exception:  # noqa: BLE001  (only for the failure message)
        return []


# --- sessions and pages --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def session_of(browser, server) -> Iterator:
    """One logged-in page per demo user for the module (logging in once each): (page, Sent)."""
    opened: dict[str, tuple] = {}

    def get(username: str):
        if username not in opened:
            context = browser.new_context(viewport=VIEWPORT, locale="id-ID")
            context.set_default_timeout(SETTLE_TIMEOUT_MS)
            context.add_init_script(CANVAS_HOOK)
            page = context.new_page()
            track_runs(page)
            sent = Sent(page)
            goto(page, server)
            assert login(page, username), f"{username} was not logged in"
            opened[username] = (page, sent)
        return opened[username]

    yield get
    for page, _sent in opened.values():
        page.context.close()


def set_language(page, code: str) -> None:
    """Press the sidebar's ID / EN switch (saved for the user: every new page load keeps it)."""
    button = page.locator('[data-testid="stSidebar"] [data-testid="stButtonGroup"] button',
                          has_text=code.upper())
    if button.get_attribute("aria-checked") == "true":
        return
    watch_runs(page)
    button.click()
    wait_for_run(page)


def open_app_page(page, sent: Sent, server, key: str, lang: str = "id") -> None:
    """Open a page by its URL (a new session: logged in again from the cookie, in the language
    saved for the user) and wait until it is drawn."""
    sent.clear()
    page.goto(server.url("/" if key == "overview" else f"/{key}"))
    settle(page)
    expect(page.get_by_role("button", name=CATALOGUE[lang]["app.logout"])).to_be_visible()
    settle(page)
    page.wait_for_timeout(400)  # the grids paint their canvases after the run


def toolbar_tooltips(page) -> list[dict]:
    """Hover every visible grid; where its toolbar shows, hover each button for its tooltip."""
    found = []
    for grid in page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').all():
        if not grid.is_visible():
            continue
        grid.scroll_into_view_if_needed()
        grid.hover()
        page.wait_for_timeout(150)
        for button in grid.locator('[data-testid="stElementToolbarButton"] button').all():
            if not button.is_visible():
                continue
            button.hover()
            tip = page.locator('[data-testid="stTooltipContent"]')
            with contextlib.suppress(PlaywrightTimeout):  # no tooltip: aria-label collected
                tip.first.wait_for(state="visible", timeout=2000)
                found.append({"where": "toolbar tooltip", "text": tip.first.inner_text()})
            found.append({"where": "toolbar button", "text": button.get_attribute("aria-label")
                          or button.inner_text()})
        page.mouse.move(1, 1)
    return found


def dropdown_texts(page) -> list[dict]:
    """Drop every visible selectbox and multiselect of the page down once and read it (its
    options, and a "Select all" or "No results" of Streamlit's if one is there)."""
    found = []
    boxes = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"] [role="combobox"], '
                         '[data-testid="stMain"] [data-testid="stMultiSelect"] [role="combobox"]')
    for i in range(boxes.count()):
        box = boxes.nth(i)
        if not box.is_visible() or box.is_disabled():
            continue
        box.scroll_into_view_if_needed()
        box.click()
        with contextlib.suppress(PlaywrightTimeout):  # nothing to list: collected as it is
            page.locator('[role="listbox"]').first.wait_for(state="visible", timeout=3000)
        found += [dict(item, where=f"open dropdown, {item['where']}")
                  for item in page.evaluate(COLLECT)]
        page.keyboard.press("Escape")
        page.locator('[role="listbox"]').first.wait_for(state="hidden", timeout=3000)
    return found


def everything(page) -> list[dict]:
    """The page as shown, then each tab in turn with its expanders opened, toolbars hovered and
    dropdowns dropped down."""
    found = page.evaluate(COLLECT) + toolbar_tooltips(page) + dropdown_texts(page)
    tabs = page.locator('[data-testid="stMain"] [data-baseweb="tab-list"] [role="tab"]')
    for i in range(tabs.count()):
        tab = tabs.nth(i)
        if tab.is_visible() and tab.get_attribute("aria-selected") != "true":
            tab.click()
            settle(page)  # some tabs rerun the page (Data IKM's)
        for summary in page.locator('[data-testid="stMain"] [data-testid="stExpander"] '
                                    'details:not([open]) > summary').all():
            if summary.is_visible():
                summary.click()
        page.wait_for_timeout(300)
        found += page.evaluate(COLLECT) + toolbar_tooltips(page) + dropdown_texts(page)
    return found


def matches(found: list[dict], patterns) -> list[str]:
    hits = set()
    for item in found:
        for word, pattern in patterns:
            for m in pattern.finditer(item["text"]):
                around = item["text"][max(0, m.start() - 30):m.end() + 30].replace("\n", " ⏎ ")
                hits.add(f"{word!r} in {item['where']}: …{around}…")
    return sorted(hits)


def widget_problems(sent: Sent) -> list[str]:
    """Grids without our placeholder, selectboxes and multiselects left to Streamlit's English."""
    problems = []
    for grid in sent.grids:
        if grid["placeholder"] != GRID_PLACEHOLDER:
            problems.append(f"grid {grid['columns']} sent with placeholder "
                            f"{grid['placeholder']!r} (empty cells show "
                            f"{'None' if grid['placeholder'] is None else grid['placeholder']!r})")
    for widget in sent.selects:
        if not widget["placeholder"]:
            problems.append(f"{widget['kind']} {widget['label']!r} without placeholder "
                            f"(Streamlit shows 'Choose an option'/'Choose options')")
        if widget["kind"] == "multiselect" and widget["select_all"] != 0:
            problems.append(f"multiselect {widget['label']!r} offers 'Select all' "
                            f"(select_all={widget['select_all']})")
    return sorted(set(problems))


# --- the tests -----------------------------------------------------------------------------------

def test_login_page_in_one_language(server, new_page):
    page = new_page()
    page.context.add_init_script(CANVAS_HOOK)
    sent = Sent(page)
    goto(page, server)
    settle(page)
    found = everything(page)
    assert_no_traceback(page)
    problems = matches(found, ENGLISH_PATTERNS) + widget_problems(sent)
    assert not problems, "login page (not logged in), Indonesian:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(("username", "key"), ROLE_PAGES,
                         ids=[f"{user}-{key}" for user, key in ROLE_PAGES])
def test_page_shows_no_streamlit_english(server, session_of, username, key):
    page, sent = session_of(username)
    open_app_page(page, sent, server, key)
    found = everything(page)
    assert_no_traceback(page)
    assert len(found) > 3, "nothing collected: is the page drawn?"
    problems = matches(found, ENGLISH_PATTERNS) + widget_problems(sent)
    assert not problems, (f"Streamlit's English on page {key!r} for {username!r} (Bahasa "
                          f"Indonesia):\n  " + "\n  ".join(problems))
    if key in ("overview", "cohorts"):
        assert sent.grids, f"no grid reached the browser on {key}"
        assert any(item["where"] == "grid cell" for item in found), "no grid text recorded"


@pytest.mark.parametrize("key", ADMIN_PAGES)
def test_in_english_no_indonesian_fillers(server, session_of, key):
    page, sent = session_of("admin")
    set_language(page, "en")
    try:
        open_app_page(page, sent, server, key, "en")
        found = everything(page)
        assert_no_traceback(page)
        problems = matches([item for item in found if item["where"] != "grid cell"],  # data
                           FILLER_PATTERNS)
        problems += [f"'None' drawn in a grid cell: {item['text']!r}" for item in found
                     if item["where"] == "grid cell" and item["text"] == "None"]
        problems += widget_problems(sent)
    finally:
        set_language(page, "id")  # the choice is saved for the user
    assert not problems, (f"Indonesian filler or Streamlit default on page {key!r} in "
                          f"English:\n  " + "\n  ".join(problems))


def test_uploader_speaks_the_session_language(server, session_of):
    """The upload button and the caption under it in Bahasa Indonesia; no '5MB per file'."""
    page, sent = session_of("staf")
    open_app_page(page, sent, server, "import_export")
    uploader = page.locator('[data-testid="stFileUploader"]')
    expect(uploader).to_be_visible()
    button = uploader.get_by_role("button", name=CATALOGUE["id"]["lang.css.upload"])
    expect(button).to_be_visible()
    expect(uploader.get_by_text("Upload", exact=True)).to_be_hidden()
    expect(uploader.locator('[data-testid="stFileUploaderDropzoneInstructions"]')).to_be_hidden()
    expect(page.get_by_text("Jenis file: XLSX, XLS, CSV, TXT.")).to_be_visible()
    expect(page.get_by_text("Maksimal 5 MB")).to_be_visible()
    # while a file is dragged over it
    page.evaluate("""() => {
      const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
      const data = new DataTransfer();
      data.items.add(new File(['a;b'], 'a.csv', {type: 'text/csv'}));
      zone.dispatchEvent(new DragEvent('dragenter', {bubbles: true, dataTransfer: data}));
    }""")
    page.wait_for_timeout(300)
    found = page.evaluate(COLLECT)
    assert not matches(found, ENGLISH_PATTERNS), matches(found, ENGLISH_PATTERNS)
    assert any(item["text"] == '"Lepaskan file di sini"' for item in found), found[-5:]
    shot(page, "lang_uploader_drag")
    page.evaluate("""() => document.querySelector('[data-testid="stFileUploaderDropzone"]')
      .dispatchEvent(new DragEvent('dragleave', {bubbles: true}))""")


def test_grid_column_menu_and_own_download(server, session_of):
    """The grid shows no toolbar; its column menu offers our three words only; the table's
    data comes from our own download button instead."""
    page, sent = session_of("admin")
    open_app_page(page, sent, server, "cohorts")
    grid = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').first
    grid.hover()
    expect(grid.locator('[data-testid="stElementToolbar"]')).to_be_hidden()
    headers = page.evaluate(HEADERS, grid.element_handle())
    assert len(headers) >= 2, headers
    first, second = headers[0], headers[1]
    page.mouse.move(first["x"] + 5, first["y"])
    page.wait_for_timeout(200)
    page.mouse.click(second["x"] - 8 - 15, first["y"])  # the ⋮ at the first column's right
    menu = page.locator('[data-testid="stDataFrameColumnMenu"]')
    expect(menu).to_be_visible()
    labels = page.evaluate(MENU_LABELS)
    assert labels == [CATALOGUE["id"][f"lang.css.{k}"] for k in ("sort_asc", "sort_desc",
                                                                   "autosize")], labels
    shot(page, "lang_column_menu")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    with page.expect_download() as done:
        page.get_by_role("button", name=CATALOGUE["id"]["lang.download_csv"]).first.click()
    text = done.value.path().read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(text), delimiter=";"))
    assert header[:2] == [CATALOGUE["id"]["cohp.col.name"], CATALOGUE["id"]["cohp.col.kabupaten"]]
    assert "None" not in text

"""One language on screen (issue 9): CSS for the English texts Streamlit 1.67 draws itself and
offers no option for.

What a widget option can replace is replaced in the pages (`placeholder=` on selectboxes,
multiselects and grids, `select_all=False`). What is left is hidden here, by the stable
`data-testid` attributes of Streamlit 1.67 (checked in its rendered DOM; glide-data-grid's own
`gdg-search-bar` class for the grid's search box), or given our words through CSS `content`:

- the grid toolbar of every st.dataframe / st.data_editor (its "Show/hide columns", "Download
  as CSV", "Search", "Fullscreen" buttons and their tooltips) and the grid's Ctrl+F search box
  ("Type to search"): hidden for everyone. The pages offer their own XLSX/CSV downloads where
  a table is worth downloading (`table_downloads` below). Hiding is not access control: what
  a grid shows is in the browser already; what a role may not see must never be sent.
- the grid's column menu (the ⋮ of a column header): "Sort ascending", "Sort descending" and
  "Autosize" get our words; its header (column type, "Copy column name"), "Statistics",
  "Format", "Pin column" and "Hide column" are hidden (without the toolbar a hidden column
  could not be shown again). The English words stay in the DOM at font size 0, so a screen
  reader may still read them (README, "Streamlit strings that remain").
- the file uploader's "Upload" button: its English label hidden, ours shown instead; "Drag and
  drop a file here" (while a file is dragged over it) likewise; "5MB per file • XLSX, …"
  hidden: the import page says what it accepts in a caption of its own.
- the hint under text inputs ("Press Enter to apply", "Press Ctrl+Enter to apply"): hidden
  (with the character counter it shares a line with; `max_chars` still applies).
"""

import pandas as pd
import streamlit as st

from services import exporter
from ui.catalogue import CATALOGUE, DEFAULT
from ui.i18n import t

# The file uploader's button: its icon stays, its English label is replaced.
_UPLOAD_BUTTON = ('[data-testid="stFileUploaderDropzone"] '
                  '[data-testid="stBaseButton-secondary"] span[data-has-shortcut]')
# The text shown while a file is dragged over the dropzone: a <span> in the dropzone's only
# <div> child without a test id (the instructions have one, the button sits in a <span>; once a
# file is chosen, the file chips' <div> holds a `stFileChips` <div>, no <span>).
_DROP_BOX = '[data-testid="stFileUploaderDropzone"] > div:not([data-testid]):has(> span)'

# The grid's column menu (portal): its items are direct children of role=menu. Sort ascending and
# descending come first when the column can be sorted; Statistics and Format are submenus
# (aria-haspopup, or wrapped in role=presentation); the last three plain items are always
# Autosize, Pin (or Unpin) column and Hide column.
_MENU = '[data-testid="stDataFrameColumnMenu"] [role="menu"]'
_PLAIN = '[role="menuitem"]:not([aria-haspopup])'
_MENU_ITEMS = {"sort_asc": 5, "sort_desc": 4, "autosize": 3}  # position from the end

_FIXED = f"""
[data-testid="stDataFrame"] [data-testid="stElementToolbar"],
[data-testid="stDataFrame"] .gdg-search-bar,
{_MENU} > div:first-child,
{_MENU} > [role="presentation"],
{_MENU} > [role="menuitem"][aria-haspopup],
{_MENU} > [role="menuitem"]:nth-last-child(-n+2 of {_PLAIN}),
[data-testid="stFileUploaderDropzoneInstructions"],
[data-testid="InputInstructions"] {{ display: none !important; }}
{_UPLOAD_BUTTON} [data-testid="stMarkdownContainer"] {{ display: none !important; }}
{_DROP_BOX} > span {{ display: none !important; }}
"""


def css_string(text: str) -> str:
    """A text as a CSS string literal (for `content:`): quotes, backslashes and line breaks
    escaped, so no catalogue text can end the rule."""
    escaped = "".join(f"\\{ord(ch):06x}" if ch in '"\\\n\r\f' or ord(ch) < 32 else ch
                      for ch in text)
    return f'"{escaped}"'


def lang_css(lang: str) -> str:
    """The whole <style> block for one language (no Streamlit call: tested directly)."""
    words = CATALOGUE.get(lang, CATALOGUE[DEFAULT])
    upload = css_string(words["lang.css.upload"])
    drop = css_string(words["lang.css.drop"])
    menu = "".join(
        f"{_MENU} > :nth-last-child({n} of {_PLAIN}) {{ font-size: 0 !important; }}\n"
        f"{_MENU} > :nth-last-child({n} of {_PLAIN}) > span {{ font-size: 0.875rem; }}\n"
        f"{_MENU} > :nth-last-child({n} of {_PLAIN})::after "
        f"{{ content: {css_string(words['lang.css.' + item])}; font-size: 0.875rem; }}\n"
        for item, n in _MENU_ITEMS.items())
    return f"""<style>{_FIXED}
{_UPLOAD_BUTTON}::after {{ content: {upload}; }}
{_DROP_BOX}::after {{ content: {drop}; }}
{menu}</style>"""


def apply_lang_css(lang: str) -> None:
    """Inject the CSS for the session's language (call on every run, once the language of the
    run is known: app.py does, after the login gate)."""
    st.html(lang_css(lang))


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_downloads(frame: pd.DataFrame, *, stem: str, sheet: str, key: str) -> None:
    """Our own XLSX and CSV download of a table, for the grid's hidden "Download as CSV": the
    columns as the table names them in the session's language, the files built only when a
    button is pressed (services.exporter: formula-like text neutralised, Excel-ready CSV)."""
    row = st.container(horizontal=True, gap="small")
    row.download_button(t("lang.download_xlsx"), key=f"{key}_xlsx", mime=XLSX_MIME,
                        file_name=f"{stem}.xlsx", icon=":material/download:", on_click="ignore",
                        data=lambda: exporter.to_xlsx(frame, sheet=sheet))
    row.download_button(t("lang.download_csv"), key=f"{key}_csv", mime="text/csv",
                        file_name=f"{stem}.csv", icon=":material/download:", on_click="ignore",
                        data=lambda: exporter.to_csv(frame))

"""Helpers for page tests of the IKM detail view (Data IKM -> Detail)."""

import re
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import make_app
from ui.catalogue import CATALOGUE


def open_detail(username: str, choose: Callable[[list[int]], int]) -> tuple[AppTest, int]:
    """Data IKM -> Detail as `username`, on the IKM `choose` picks from the ids the picker
    lists (it may change data first); returns the app and that id."""
    at = make_app(username)
    at.session_state["ikm_tab_id"] = "detail"  # the tab to open, where the page keeps it
    at.run()
    at.switch_page("app_pages/data_ikm.py").run()
    assert not at.exception, at.exception
    picker = at.selectbox(key="ikm_detail_pick")
    listed = [int(re.search(r"#(\d+)\)$", label).group(1)) for label in picker.options]
    chosen = choose(listed)  # may change the data: the view is drawn again in any case
    picker.set_value(chosen).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="ikm_detail_pick").value == chosen
    return at, chosen


def detail_tab(at: AppTest):
    """The page's Detail tab (the detail view and its picker)."""
    label = CATALOGUE["id"]["ikm.tab_detail"]
    found = [tab for tab in at.tabs if tab.label == label]
    assert len(found) == 1, [tab.label for tab in at.tabs]
    return found[0]


def sent(node) -> str:
    """Everything the server sends the browser for a part of the page, as text: every element's
    message (text, widget values and options, tables as their Arrow bytes) under `node`."""
    parts = [str(getattr(node, "proto", "") or "")]
    for child in getattr(node, "children", {}).values():
        parts.append(sent(child))
    return "\n".join(parts)


def detail_tables(at: AppTest) -> dict[str, object]:
    """The detail view's tables (AppTest Dataframe elements), by the header of their first
    column."""
    tab = detail_tab(at)
    found = {}

    def walk(node) -> None:
        if getattr(node, "type", None) == "dataframe":
            found[str(node.value.columns[0])] = node
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(tab)
    return found

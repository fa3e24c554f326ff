"""What the user chose survives reruns, saves, page changes and a language switch.

Streamlit's browser side keeps a select's choice, and a tab bar's open tab, by its *label*.
After a language switch the labels change, so a keyed widget would show the old language's
label (or fall back to its first option) until the page is visited again. Widgets whose labels
are translated are therefore keyed per language (`lang_key`), carrying the choice made under
the other language's key, and tabs are tracked by a stable id (`kept_tabs`)."""

from collections.abc import Mapping

import streamlit as st

from ui.i18n import LANGUAGES, current_language


def lang_key(base: str) -> str:
    """The widget key for this language (Indonesian keeps the plain key), holding the value
    chosen under the other language's key: after a switch the widget is drawn afresh, with
    labels in the new language and the same choice. Give such a widget no `index`/`value`
    when its key is already in st.session_state (Streamlit warns about both)."""
    lang = current_language()
    key = base if lang == "id" else f"{base}_{lang}"
    if key not in st.session_state:
        for code in LANGUAGES:
            other = base if code == "id" else f"{base}_{code}"
            if other != key and other in st.session_state:
                st.session_state[key] = st.session_state[other]
                break
    return key


def kept_tabs(slot: str, labels: Mapping[str, str]) -> dict:
    """st.tabs whose open tab is kept by id (a key of `labels`) in st.session_state[slot]:
    after a save (st.rerun), a visit to another page or a language switch the same tab is
    open. Returns id -> tab container. st.session_state[f"{slot}_opened"] holds the ids opened
    so far in the session, for pages that draw a tab's content only once it was opened."""
    ids = list(labels)
    if st.session_state.get(slot) not in ids:
        st.session_state[slot] = ids[0]
    key = f"{slot}_tabs_{current_language()}"

    def changed() -> None:
        label = st.session_state.get(key)
        st.session_state[slot] = next((i for i, text in labels.items() if text == label),
                                      ids[0])

    containers = st.tabs([labels[i] for i in ids], key=key, on_change=changed,
                         default=labels[st.session_state[slot]])
    st.session_state.setdefault(f"{slot}_opened", {ids[0]}).add(st.session_state[slot])
    return dict(zip(ids, containers, strict=True))

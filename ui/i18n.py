"""Translation for the running session: t(key) in the language the user chose."""

import streamlit as st

from ui.catalogue import CATALOGUE, DEFAULT, LANGUAGES

__all__ = ["CATALOGUE", "DEFAULT", "LANGUAGES", "current_language", "t"]


def current_language() -> str:
    """The language of this session (Bahasa Indonesia unless the user chose English)."""
    lang = st.session_state.get("lang", DEFAULT)
    return lang if lang in CATALOGUE else DEFAULT


def t(key: str, **params) -> str:
    """The text for a key in the session's language, with {params} filled in."""
    text = CATALOGUE[current_language()].get(key) or CATALOGUE[DEFAULT].get(key) or key
    return text.format(**params) if params else text

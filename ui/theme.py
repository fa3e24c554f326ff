"""Small CSS touches on top of the theme in .streamlit/config.toml (no user text in here)."""

import streamlit as st

CSS = """
<style>
[data-testid="stMetricValue"] { font-size: 2rem; }
[data-testid="stMetric"] { background: #f6f8f7; border-radius: 0.5rem; padding: 0.6rem 0.8rem; }
.block-container { padding-top: 2.2rem; }
</style>
"""


def apply_theme() -> None:
    """Inject the app's fixed CSS."""
    st.html(CSS)

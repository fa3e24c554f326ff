"""Shared Streamlit pieces: i18n, theme, authentication glue, widgets."""

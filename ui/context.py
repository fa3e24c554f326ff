"""The app's process-wide context: configuration, engine and a prepared database."""

from dataclasses import dataclass

import streamlit as st
from sqlalchemy import Engine

from db import data_dir, database_url, get_engine
from db.setup import prepare_database
from services.config import AuthSettings, resolve_settings
from ui.i18n import t


@dataclass(frozen=True)
class AppContext:
    url: str
    engine: Engine
    settings: AuthSettings


def secrets_dict() -> dict:
    """st.secrets as a plain dict ({} when no secrets file exists)."""
    try:
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001  (no secrets file is a normal demo set-up)
        return {}


@st.cache_resource(show_spinner=False)
def _prepared_engine(url: str, demo: bool) -> Engine:
    engine = get_engine(url)
    prepare_database(engine, demo=demo)
    return engine


def app_context() -> AppContext:
    """Resolve settings, then the engine of a migrated (and in demo mode, seeded) database."""
    secrets = secrets_dict()
    settings = resolve_settings(secrets, data_dir())
    url = database_url(secrets.get("database", {}).get("url"))
    with st.spinner(t("app.starting")):
        engine = _prepared_engine(url, settings.demo)
    return AppContext(url=url, engine=engine, settings=settings)

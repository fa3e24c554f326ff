"""The app's process-wide context: configuration, engine and a prepared database."""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine

from db import data_dir, database_url, get_engine
from db.setup import prepare_database
from services.config import AuthSettings, ConfigError, resolve_settings
from ui.i18n import t


@dataclass(frozen=True)
class AppContext:
    url: str
    engine: Engine
    settings: AuthSettings


def secrets_dict() -> dict | None:
    """st.secrets as a plain dict; None when no secrets file exists (the plain demo set-up).

    A secrets file that exists but cannot be read is a ConfigError, never a silent demo mode.
    """
    try:
        return st.secrets.to_dict()
    except Exception as exc:  # noqa: BLE001  (StreamlitSecretNotFoundError: missing or broken)
        paths = [Path(p).expanduser() for p in st.get_option("secrets.files") or []]
        broken = [p for p in paths if p.is_file()]
        if broken:
            raise ConfigError(f"{broken[0]} cannot be read: {exc}",
                              f"{broken[0]} tidak dapat dibaca: {exc}") from None
        return None


@st.cache_resource(show_spinner=False)
def _prepared_engine(url: str, demo: bool) -> Engine:
    engine = get_engine(url)
    prepare_database(engine, demo=demo)
    return engine


def app_context() -> AppContext:
    """Resolve settings, then the engine of a migrated (and in demo mode, seeded) database."""
    secrets = secrets_dict()
    settings = resolve_settings(secrets, data_dir())
    url = database_url((secrets or {}).get("database", {}).get("url"))
    with st.spinner(t("app.starting")):
        engine = _prepared_engine(url, settings.demo)
    return AppContext(url=url, engine=engine, settings=settings)

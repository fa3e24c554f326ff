"""Cached reads: service results keyed by database, data version and arguments."""

import importlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from db import get_engine, read_session
from services.audit import data_version
from ui.context import AppContext


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _run(url: str, version: int, target: str, kwargs: tuple) -> Any:
    module, name = target.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), name)
    with read_session(get_engine(url)) as session:
        return fn(session, **dict(kwargs))


def cached(ctx: AppContext, fn: Callable, **kwargs) -> Any:
    """Call a read service through the cache; any write (new data version) makes it stale."""
    with read_session(ctx.engine) as session:
        version = data_version(session)
    return _run(ctx.url, version, f"{fn.__module__}.{fn.__qualname__}",
                tuple(sorted(kwargs.items())))


def show_service_error(exc: Exception, label: Callable[[str], str] | None = None) -> None:
    """Render a ServiceError and each field's problem (with its parameters) in the user's
    language; `label` names a field (default: the `field.*` messages). Parameters (a typed
    value, a name) are shown as typed, never as Markdown."""
    from services.errors import ServiceError, ValidationFailed
    from ui.format import md_params
    from ui.i18n import t

    if not isinstance(exc, ServiceError):
        raise exc
    params = {k: v for k, v in exc.params.items() if k != "details"}
    st.error(t(exc.key, **md_params(params)))
    if isinstance(exc, ValidationFailed):
        label = label or (lambda field: t("field." + field))
        details = exc.params.get("details") or {f: (keys[0], {}) for f, keys in exc.errors.items()}
        for field, (key, key_params) in details.items():
            st.caption(f"**{label(field)}**: {t(key, **md_params(key_params))}")

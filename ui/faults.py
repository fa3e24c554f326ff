"""What the page shows when the database or the disk fails: a short message in the user's
language (services.faults says which), a code to find the details in the log, and a retry;
never Streamlit's English error page."""

import streamlit as st

from services.faults import explain, report
from ui.format import md_params
from ui.i18n import t


def database_url_or_none() -> str | None:
    """The configured database URL, if it can be worked out at all."""
    try:
        from db import database_url
        from ui.context import secrets_dict

        return database_url((secrets_dict() or {}).get("database", {}).get("url"))
    except Exception:  # noqa: BLE001  (only for the message's "where")
        return None


def show_fault(exc: Exception) -> None:
    """Explain an exception that reached the top of a page run, and stop the run there."""
    fault = explain(exc, url=database_url_or_none())
    ref = report(fault, exc)
    if fault is None:
        st.error(t("fault.unexpected", ref=ref), icon=":material/error:")
    else:
        st.error(f"**{t('fault.title')}**  \n" + t(fault.key, **md_params(fault.params)),
                 icon=":material/cloud_off:")
        st.caption(t("fault.ref", ref=ref))
    st.button(t("fault.retry"), icon=":material/refresh:", key="fault_retry")
    st.stop()

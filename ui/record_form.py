"""One form builder for every kind of record, driven by its column declaration
(services.ikm.Column): choices become selects, *_on fields date pickers, the rest text.
Values go to the services raw; they parse and validate them. And the submission token that
lets every add form write at most once.

Why widget keys carry a token or a revision: Streamlit (1.67) identifies a keyed widget by its
key alone, so a form redrawn under the same keys keeps, in the browser, whatever the user had
typed, whatever the server now sends as its value or deletes from st.session_state. A form that
must show something else (empty after a save, the stored record after a reload) is drawn under
new keys."""

import re
import secrets
from collections.abc import Callable, Mapping
from decimal import Decimal

import streamlit as st

from services.ikm import Column
from ui.i18n import current_language, t


def column_label(column: Column) -> str:
    """The column's header in the session's language, starred when required."""
    text = column.header_id if current_language() == "id" else column.header_en
    return text + (" *" if column.required else "")


def as_text(value, *, money: bool = False) -> str:
    """A stored value as a form shows it, so that saving it unchanged reads back the same:
    whole numbers without decimals, fractions with a decimal comma (2.5 is "2,5", never "2.5"),
    and rupiah grouped the Indonesian way (1.250.000). Exactly three decimals get a fourth
    zero: "2,125" could be 2125 written the English way, and the number rules ask about it,
    "2,1250" they read as 2.125."""
    if value is None:
        return ""
    if money and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = f"{Decimal(repr(value)):f}"
        if re.fullmatch(r"-?[1-9]\d{0,2}\.\d{3}", text):
            text += "0"
        return text.replace(".", ",")
    return str(value)


def record_form(key: str, columns: tuple[Column, ...], *,
                options: Mapping[str, Mapping] | None = None, initial: Mapping | None = None,
                submit: str | None = None, per_row: int = 3) -> dict | None:
    """Draw a form; return the raw values when submitted, else None.

    `options[name]` maps stored value -> label for a select (e.g. product id -> name).
    """
    options = options or {}
    initial = initial or {}
    with st.form(key, clear_on_submit=False, enter_to_submit=False):
        values: dict = {}
        for start in range(0, len(columns), per_row):
            cells = st.columns(per_row)
            for cell, column in zip(cells, columns[start:start + per_row], strict=False):
                name, label = column.name, column_label(column)
                current = initial.get(name)
                choices = options.get(name) or ({c: c for c in column.choices}
                                                if column.choices else None)
                if choices is not None:
                    keys = list(choices)
                    if not column.required:
                        keys = [None, *keys]
                    index = keys.index(current) if current in keys else 0
                    values[name] = cell.selectbox(label, keys, index=index,
                                                  key=f"{key}_{name}",
                                                  placeholder=t("lang.choose"),
                                                  format_func=lambda v, c=choices:
                                                  "—" if v is None else str(c[v]))
                elif name.endswith("_on"):
                    values[name] = cell.date_input(label, value=current, key=f"{key}_{name}",
                                                   format="DD-MM-YYYY", min_value=None)
                else:
                    values[name] = cell.text_input(
                        label, value=as_text(current, money=name.endswith("_rp")),
                        key=f"{key}_{name}")
        pressed = st.form_submit_button(submit or t("ikm.save"), type="primary")
    return values if pressed else None


def labeller(columns: tuple[Column, ...]) -> Callable[[str], str]:
    """A field-name -> label function for error messages of these columns."""
    by_name = {c.name: c for c in columns}
    return lambda name: column_label(by_name[name]).rstrip(" *") if name in by_name else name


# --- submission tokens -------------------------------------------------------------------------

_TOKENS = "form_tokens"  # session key: form slot -> the token of the form drawn there now
_USED = "form_tokens_used"  # session key: token -> the message its first save showed
_USED_KEPT = 64  # used tokens remembered per session (a double click needs only the last)


def form_token(slot: str) -> str:
    """The submission token of the add form drawn under `slot`: a random id kept in the session
    while that form is on screen. Its widget keys carry it, so a new token draws an empty form
    with widgets the browser has not seen (see the module's docstring)."""
    tokens = st.session_state.setdefault(_TOKENS, {})
    if slot not in tokens:
        tokens[slot] = secrets.token_hex(8)
    return tokens[slot]


def first_result(token: str) -> str | None:
    """What the first successful save with this token showed, or None while it is unused. A
    second submit with a used token (a double click arrives as two reruns of the session) must
    write nothing and show this instead."""
    return st.session_state.get(_USED, {}).get(token)


def mark_saved(slot: str, token: str, result: str) -> None:
    """Record that the save with `token` succeeded and what it showed, and give the slot a fresh
    token, so the form is drawn again empty. Call it right after the commit, before anything is
    drawn: drawing is where Streamlit may stop a run to start the next one."""
    used = st.session_state.setdefault(_USED, {})
    used[token] = result
    while len(used) > _USED_KEPT:
        used.pop(next(iter(used)))
    st.session_state.setdefault(_TOKENS, {})[slot] = secrets.token_hex(8)

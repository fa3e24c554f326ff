"""One form builder for every kind of record, driven by its column declaration
(services.ikm.Column): choices become selects, *_on fields date pickers, the rest text.
Values go to the services raw; they parse and validate them."""

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
    whole numbers without decimals, fractions with a decimal comma (2.125 is "2,125", never
    "2.125", which the number rules read as two thousand one hundred and twenty-five), and
    rupiah grouped the Indonesian way (1.250.000)."""
    if value is None:
        return ""
    if money and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{Decimal(repr(value)):f}".replace(".", ",")
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

"""The detail view of one IKM: identity, products, certificates, listings, exports, coaching,
financials with size class, and history; for a user who may write, forms to add, change and
delete each kind of record (changes are checked against the version the user opened)."""

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from db import run_write
from services import records
from services.errors import ServiceError, StaleRecord
from services.ikm import IKM_COLUMNS, Column, delete_ikm, update_ikm
from services.permissions import can
from services.privacy import mask_detail, sees_personal
from services.products import PRODUCT_COLUMNS
from services.records import ikm_detail
from services.reference import (
    category_options,
    cert_type_options,
    cohort_options,
    retailer_options,
)
from services.regions import load_regions
from ui.data import cached, show_service_error
from ui.format import WIB, fmt_date, md
from ui.i18n import current_language, t
from ui.record_form import (
    as_text,
    first_result,
    form_token,
    labeller,
    mark_saved,
    record_form,
)

WARN = {"expired": "🔴", "soon": "🟠", None: ""}


def _known(prefix: str, code) -> str:
    """The text of a code (an audit action, a table) in the session's language, else the code."""
    key = f"{prefix}.{code}"
    text = t(key)
    return str(code) if text == key else text


# How a detail table shows a column, by the field's name: dates day-month-year, times in WIB,
# rupiah grouped the Indonesian way (1.250.000), decimals with a comma, whole numbers plain.
DATE_FORMAT = "DD-MM-YYYY"  # momentJS, as ui.format.fmt_date
TIME_FORMAT = "DD-MM-YYYY HH:mm"  # as ui.format.fmt_datetime, in WIB
EMPTY = "—"  # an empty cell (st.dataframe's placeholder), not the grid's grey "None"
_NUMBER_KINDS = {"value_usd": "decimal", "capacity_per_month": "whole", "year": "year"}


def _kind(name: str) -> str:
    if name.endswith("_on"):
        return "date"
    if name.endswith("_rp"):
        return "money"
    if name == "at":
        return "time"
    return _NUMBER_KINDS.get(name, "text")


def _empty(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _values(kind: str, values: list) -> pd.Series:
    """One column, typed: dates and times as datetimes, amounts as numbers, text as text, every
    empty cell missing (None/NaN/NaT). A column never mixes a type with a dash: Arrow refuses
    such a column, and Streamlit then logs a traceback and converts it again on every draw."""
    if kind == "date":
        return pd.Series(pd.to_datetime([None if _empty(v) else v for v in values]))
    if kind == "time":
        stamps = pd.to_datetime([None if _empty(v) else v for v in values], utc=True)
        return pd.Series(stamps).dt.tz_convert(WIB)
    if kind in ("money", "whole", "year"):
        return pd.Series([None if _empty(v) else int(v) for v in values], dtype="Int64")
    if kind == "decimal":
        return pd.Series([math.nan if _empty(v) else float(v) for v in values],
                         dtype="float64")
    return pd.Series([None if _empty(v) or v == "" else str(v) for v in values], dtype=object)


def _column(kind: str, label: str):
    if kind == "date":
        return st.column_config.DateColumn(label, format=DATE_FORMAT)
    if kind == "time":
        return st.column_config.DatetimeColumn(label, format=TIME_FORMAT)
    if kind == "year":
        return st.column_config.NumberColumn(label, format="%d")
    if kind in ("money", "decimal", "whole"):
        # No format here: the Styler's text (Indonesian grouping, decimal comma) is shown, which
        # no NumberColumn format can write ("%,d" groups with commas: 1,250 reads as 1.25).
        return st.column_config.NumberColumn(label)
    return st.column_config.TextColumn(label)


def _number_text(kind: str):
    def show(value) -> str:
        if hasattr(value, "item"):  # a numpy scalar
            value = value.item()
        return as_text(value, money=kind == "money")
    return show


def _typed_frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    """The rows as a table with one typed column per field (`columns`: field -> header)."""
    return pd.DataFrame({label: _values(_kind(name), [row.get(name) for row in rows])
                         for name, label in columns.items()})


def _table(rows: list[dict], columns: dict[str, str], empty_key: str) -> None:
    if not rows:
        st.caption(t(empty_key))
        return
    frame = _typed_frame(rows, columns)
    kinds = {label: _kind(name) for name, label in columns.items()}
    numbers = {label: _number_text(kind) for label, kind in kinds.items()
               if kind in ("money", "decimal", "whole")}
    data = frame.style.format(numbers, na_rep=EMPTY) if numbers else frame
    st.dataframe(data, hide_index=True, width="stretch", placeholder=EMPTY,
                 column_config={label: _column(kind, label) for label, kind in kinds.items()})


@dataclass(frozen=True)
class Kind:
    # One tab's kind of child record: how it is added, named in a picker, changed and deleted.
    columns: tuple[Column, ...]
    create: Callable  # (session, *, actor, ikm_id, data)
    update: Callable  # (session, actor, opened record, form values)
    delete: Callable  # (session, actor, opened record)
    label: Callable[[dict], str]
    edit_columns: tuple[Column, ...] | None = None  # default: `columns`
    soft: bool = False  # deleted into the trash (an admin can restore it)


def _versioned(update: Callable, delete: Callable, id_name: str) -> tuple[Callable, Callable]:
    """Save and delete through a versioned service, with the version the record was opened at."""

    def save(session, actor, opened: dict, values: dict) -> None:
        update(session, actor=actor, expected_version=opened["version"], changes=values,
               **{id_name: opened["id"]})

    def remove(session, actor, opened: dict) -> None:
        delete(session, actor=actor, expected_version=opened["version"],
               **{id_name: opened["id"]})

    return save, remove


def _save_year(session, actor, opened: dict, values: dict) -> None:
    # A year of figures has no version: the amounts it was opened with stand in for one.
    records.upsert_financials(session, actor=actor, ikm_id=opened["ikm_id"],
                              data={**values, "year": opened["year"]}, expected=opened)


def _delete_year(session, actor, opened: dict) -> None:
    records.delete_financials(session, actor=actor, ikm_id=opened["ikm_id"],
                              year=opened["year"], expected=opened)


def _joined(*parts) -> str:
    return " · ".join(str(p) for p in parts if p not in (None, ""))


KINDS: dict[int, Kind] = {
    # tab index -> the kind of record shown there
    0: Kind(PRODUCT_COLUMNS, records.create_product,
            *_versioned(records.update_product, records.delete_product, "product_id"),
            label=lambda r: _joined(r["name"], r.get("brand")), soft=True),
    1: Kind(records.CERT_COLUMNS, records.create_certification,
            *_versioned(records.update_certification, records.delete_certification,
                        "certification_id"),
            label=lambda r: _joined(r.get("cert_type_name"), r.get("product_name"),
                                    r.get("number"), r.get("status"))),
    2: Kind(records.LISTING_COLUMNS, records.create_listing,
            *_versioned(records.update_listing, records.delete_listing, "listing_id"),
            label=lambda r: _joined(r.get("retailer_name"), r.get("product_name"),
                                    fmt_date(r.get("listed_on")))),
    3: Kind(records.EXPORT_COLUMNS, records.create_export,
            *_versioned(records.update_export, records.delete_export, "export_id"),
            label=lambda r: _joined(fmt_date(r.get("shipped_on")), r.get("product_name"),
                                    r.get("country_name_en" if current_language() == "en"
                                          else "country_name"), r.get("buyer"))),
    4: Kind(records.COACHING_COLUMNS, records.create_coaching,
            *_versioned(records.update_coaching, records.delete_coaching, "coaching_id"),
            label=lambda r: _joined(_short(r.get("text")), r.get("owner"),
                                    fmt_date(r.get("due_on")) if r.get("due_on") else None)),
    5: Kind(records.FINANCIAL_COLUMNS, records.upsert_financials, _save_year, _delete_year,
            label=lambda r: str(r["year"]),
            edit_columns=tuple(c for c in records.FINANCIAL_COLUMNS if c.name != "year")),
}


def _short(text: str | None, limit: int = 60) -> str | None:
    return text if not text or len(text) <= limit else text[:limit - 1] + "…"


def _options(ctx, detail: dict) -> dict[str, dict]:
    """The choices of the record forms: reference lists and this IKM's products."""
    options = {"category_code": cached(ctx, category_options),
               "cert_type_code": cached(ctx, cert_type_options),
               "retailer_id": cached(ctx, retailer_options),
               "country": {code: names[0] for code, names in records.COUNTRIES.items()}}
    products = {p["id"]: p["name"] for p in detail["products"]}
    if products:
        options["product_id"] = products
    return options


def keep_pick(key: str, labels: dict) -> None:
    """Call before drawing a keyed dropdown whose labels can change (a record just saved
    under a new name or number): the browser holds the choice by its old label and would drop
    it on the next rerun, so the choice is set again and the browser is sent the new label."""
    value = st.session_state.get(key)
    seen = st.session_state.get(f"{key}_seen")
    if value in labels and seen is not None and seen != (value, labels[value]):
        st.session_state[key] = value
    st.session_state[f"{key}_seen"] = (value, labels[value]) if value in labels else None


def _forget(prefix: str) -> None:
    """Drop the session values under a prefix (a form's widgets), so it is drawn afresh."""
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def _opened(slot: str, base: str, record: dict) -> tuple[dict, str]:
    """The record as the user opened it, and the key of the form that shows it. The record is
    taken when its form is first drawn (or drawn afresh after a save, a reload or a visit
    elsewhere) and kept while the form stays on screen, so the values shown and the version a
    save is checked against always belong together. Each snapshot gets a form key of its own
    (`base` and a random suffix): the browser keeps what was typed into a keyed widget whatever
    the server sends, so only new keys make every field show the stored record."""
    held = st.session_state.get(slot)
    drawn = held is not None and any(str(k).startswith(held["form"] + "_")
                                     for k in st.session_state)
    if held is None or held["record"]["id"] != record["id"] or not drawn:
        held = st.session_state[slot] = {"record": dict(record),
                                         "form": f"{base}_{secrets.token_hex(4)}"}
        st.session_state.pop(slot + "_stale", None)
    return held["record"], held["form"]


def _written(ctx, write: Callable, *, slot: str, label=None) -> bool:
    """Run one write in its own transaction; True when it was written. A refusal is shown;
    a stale version is remembered in the session so the reload offer stays on screen, and a
    move out of a finished cohort so the confirmation is offered."""
    try:
        run_write(ctx.engine, write)
    except StaleRecord:
        st.session_state[slot + "_stale"] = True
    except ServiceError as exc:
        show_service_error(exc, label=label)
        if getattr(exc, "errors", {}).get("cohort_id") == ["v.trained_move"]:
            st.session_state[slot + "_ask_move"] = True
    else:
        return True
    return False


def _stale_notice(slot: str, form: str) -> None:
    """After a refused stale save: say so, and offer to reload the record (dropping the edits:
    the form is drawn again under new keys, every field showing what is stored)."""
    if not st.session_state.get(slot + "_stale"):
        return
    show_service_error(StaleRecord())
    if st.button(t("det.reload"), key=f"{slot}_reload", icon=":material/refresh:"):
        st.session_state.pop(slot, None)
        st.session_state.pop(slot + "_stale", None)
        _forget(form + "_")
        st.rerun()


def _entry_form(ctx, actor, detail: dict, index: int) -> None:
    """The 'add' form of one tab, writing through its service in one transaction."""
    kind = KINDS[index]
    info = detail["ikm"]
    slot = f"det_add_{index}_{info['id']}"
    token = form_token(slot)  # in the form's key: a saved form is drawn again empty
    with st.expander(t("det.add"), icon=":material/add:"):
        values = record_form(f"{slot}_{token}", kind.columns, options=_options(ctx, detail),
                             submit=t("det.add_save"))
        if values is None:
            return
        if (done := first_result(token)) is not None:
            st.success(done)  # saved already (a double click): show that, write nothing
            return
        try:
            run_write(ctx.engine, lambda s: kind.create(s, actor=actor, ikm_id=info["id"],
                                                        data=values))
        except ServiceError as exc:
            show_service_error(exc, label=labeller(kind.columns))
        else:
            mark_saved(slot, token, t("det.added"))
            st.session_state["ikm_flash"] = t("det.added")
            st.rerun()


def _edit_records(ctx, actor, detail: dict, index: int, rows: list[dict]) -> None:
    """Pick one record of a tab, change it in a prefilled form or delete it (confirmed);
    both are checked against the version the record was opened at."""
    kind = KINDS[index]
    if not rows:
        return
    slot = f"det_rec_{index}_{detail['ikm']['id']}"
    by_id = {r["id"]: r for r in rows}
    labels = {i: kind.label(r) for i, r in by_id.items()}
    with st.expander(t("rec.ed.title"), icon=":material/edit:"):
        keep_pick(f"{slot}_pick", labels)
        chosen = st.selectbox(t("rec.ed.pick"), list(by_id), index=None, key=f"{slot}_pick",
                              format_func=labels.get, placeholder=t("rec.ed.pick_hint"))
        if chosen is None or chosen not in by_id:
            return
        opened, form = _opened(slot, f"{slot}_r{chosen}", by_id[chosen])
        columns = kind.edit_columns or kind.columns
        if kind.edit_columns is not None:
            st.caption(t("rec.ed.year_fixed"))
        values = record_form(form, columns, options=_options(ctx, detail), initial=opened,
                             submit=t("det.edit_save"))
        if values is not None and _written(
                ctx, lambda s: kind.update(s, actor, opened, values), slot=slot,
                label=labeller(kind.columns)):
            st.session_state.pop(slot, None)
            _forget(form + "_")
            st.session_state["ikm_flash"] = t("det.edited")
            st.rerun()
        _stale_notice(slot, form)
        row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
        sure = row.checkbox(t("rec.ed.trash_confirm" if kind.soft else "rec.ed.delete_confirm"),
                            key=f"{form}_del_ok",
                            help=t("rec.ed.trash_note") if kind.soft else None)
        if row.button(t("det.delete"), key=f"{form}_del", disabled=not sure,
                      icon=":material/delete:") and _written(
                ctx, lambda s: kind.delete(s, actor, opened), slot=slot):
            st.session_state.pop(slot, None)
            _forget(form + "_")
            st.session_state.pop(f"{slot}_pick", None)
            st.session_state["ikm_flash"] = (t("rec.ed.trashed", name=md(opened.get("name")))
                                             if kind.soft else t("rec.ed.deleted"))
            st.rerun()


EDITABLE = tuple(c for c in IKM_COLUMNS if c.name != "kabupaten_code")


def _edit_ikm(ctx, actor, info: dict) -> None:
    """Edit the IKM itself (version-checked) or move it to the trash."""
    regions = cached(ctx, load_regions)
    slot = f"det_ikm_{info['id']}"
    # The IKM as the user opened the form; someone else's later save makes ours stale.
    opened, form = _opened(slot, f"det_edit_{info['id']}", info)
    options = {"kecamatan_code": regions.kecamatan_of(opened["kabupaten_code"]),
               "desa_code": regions.desa_of(opened["kecamatan_code"]),
               "cohort_id": cached(ctx, cohort_options,
                                   kabupaten_code=opened["kabupaten_code"])}
    move_key = f"{form}_move_trained"
    with st.expander(t("det.edit"), icon=":material/edit:"):
        values = record_form(form, EDITABLE, options=options, initial=opened,
                             submit=t("det.edit_save"))
        if values is not None and _written(
                ctx, lambda s: update_ikm(s, actor=actor, ikm_id=info["id"],
                                          expected_version=opened["version"], changes=values,
                                          move_trained=st.session_state.get(move_key, False)),
                slot=slot, label=labeller(IKM_COLUMNS)):
            st.session_state.pop(slot + "_ask_move", None)
            st.session_state.pop(slot, None)
            _forget(form + "_")
            st.session_state["ikm_flash"] = t("det.edited")
            st.rerun()
        _stale_notice(slot, form)
        if st.session_state.get(slot + "_ask_move"):
            st.checkbox(t("det.move_trained_confirm"), key=move_key)
        sure = st.checkbox(t("det.delete_confirm"), key=f"{form}_del_ok")
        if st.button(t("det.delete"), key=f"det_del_{info['id']}", disabled=not sure,
                     icon=":material/delete:") and _written(
                ctx, lambda s: delete_ikm(s, actor=actor, ikm_id=info["id"],
                                          expected_version=opened["version"]), slot=slot):
            st.session_state["ikm_flash"] = t("det.deleted", name=md(info["name"]))
            st.rerun()


def render(ctx, ikm_id: int, actor=None) -> None:
    """Draw everything known about one IKM; with an actor who may write, the forms to add,
    change and delete its records too."""
    # Phone, NIB and address come masked for a reader without "personal.read" (services.privacy):
    # the full values never reach this page, nor its cache entry, for a viewer or an assessor.
    detail = cached(ctx, ikm_detail, ikm_id=ikm_id, actor=actor) if actor is not None \
        else mask_detail(cached(ctx, ikm_detail, ikm_id=ikm_id), None)
    info = detail["ikm"]
    writable = actor is not None and can(actor, "programme.write") \
        and actor.kabupaten_code in (None, info["kabupaten_code"])
    st.subheader(md(info["name"]))
    place = ", ".join(md(x) for x in (info.get("desa"), info.get("kecamatan"),
                                      info.get("kabupaten")) if x)
    st.caption(f"{place} · {t('ikm.col.cohort')}: {md(info.get('cohort')) or '—'}")
    # Names and numbers that can be long go in a line of text; the tiles hold short figures
    # (a 13-digit NIB or an owner's full name was cut off in a tile at 1366 px).
    st.markdown(" · ".join(f"**{t(key)}** {md(info.get(name)) or '—'}" for key, name in (
        ("ikm.col.nib", "nib"), ("ikm.col.owner_name", "owner_name"), ("ikm.col.phone", "phone"))))
    if not sees_personal(actor):
        st.caption(t("det.personal_hidden"), help=t("det.personal_hidden_help"))
    c = st.columns(4)
    c[0].metric(t("ikm.col.employees"), info.get("employees") if info.get("employees")
                is not None else "—")
    size = info.get("size_class")
    c[1].metric(t("det.size_class"), t(f"det.size.{size}") if size else "—",
                help=t("det.size_help"))
    c[2].metric(t("det.products"), len(detail["products"]))
    c[3].metric(t("det.certs"), len(detail["certifications"]))
    if writable:
        _edit_ikm(ctx, actor, info)
    tabs = st.tabs([t("det.products"), t("det.certs"), t("det.listings"), t("det.exports"),
                    t("det.coaching"), t("det.financials"), t("det.history")])
    with tabs[0]:
        if writable:
            _entry_form(ctx, actor, detail, 0)
            _edit_records(ctx, actor, detail, 0, detail["products"])
        _table(detail["products"], {"name": t("det.product"), "category": t("ikm.category"),
                                    "brand": t("det.brand"), "price_rp": t("det.price"),
                                    "capacity_per_month": t("det.capacity"),
                                    "gtin": "GTIN", "packaging_upgraded_on": t("det.upgraded")},
               "det.none")
    with tabs[1]:
        if writable:
            _entry_form(ctx, actor, detail, 1)
            _edit_records(ctx, actor, detail, 1, detail["certifications"])
        certs = [{**c, "warn": WARN[c["expiry_warning"]] + " "
                  + t(f"det.warn.{c['expiry_warning']}") if c.get("expiry_warning") else None}
                 for c in detail["certifications"]]
        _table(certs, {"cert_type_name": t("det.cert"), "product_name": t("det.product"),
                       "status": t("ikm.col.status"), "number": t("det.number"),
                       "issued_on": t("det.issued"), "expires_on": t("det.expires"),
                       "warn": t("det.warning")}, "det.none")
    with tabs[2]:
        if writable:
            _entry_form(ctx, actor, detail, 2)
            _edit_records(ctx, actor, detail, 2, detail["retail_listings"])
        _table(detail["retail_listings"], {"retailer_name": t("det.retailer"),
                                           "product_name": t("det.product"),
                                           "status": t("ikm.col.status"),
                                           "listed_on": t("det.listed_on"),
                                           "delisted_on": t("det.delisted_on")}, "det.none")
    with tabs[3]:
        if writable:
            _entry_form(ctx, actor, detail, 3)
            _edit_records(ctx, actor, detail, 3, detail["exports"])
        _table(detail["exports"], {"shipped_on": t("det.shipped_on"),
                                   "product_name": t("det.product"),
                                   "country_name": t("det.country"), "buyer": t("det.buyer"),
                                   "value_usd": "USD", "route": t("det.route")}, "det.none")
    with tabs[4]:
        if writable:
            _entry_form(ctx, actor, detail, 4)
            _edit_records(ctx, actor, detail, 4, detail["coaching"])
        _table(detail["coaching"], {"text": t("det.action"), "owner": t("det.owner"),
                                    "due_on": t("det.due_on"), "done_on": t("det.done_on")},
               "det.none")
    with tabs[5]:
        if writable:
            _entry_form(ctx, actor, detail, 5)
            _edit_records(ctx, actor, detail, 5, detail["financials"])
        fins = [{**f, "size": t(f"det.size.{f['size_class']}") if f.get("size_class") else None}
                for f in detail["financials"]]
        _table(fins, {"year": t("det.year"), "capital_rp": t("det.capital"),
                      "revenue_rp": t("det.revenue"), "export_revenue_rp": t("det.export_rev"),
                      "size": t("det.size_class")}, "det.none")
    with tabs[6]:
        history = [{"at": h["at"], "username": h["username"],
                    "action": _known("det.action", h["action"]),
                    "what": f"{_known('det.table', h['table'])} {h.get('label') or ''}".strip(),
                    "changes": "; ".join(
                        ([t("det.from_import", file=h["source"])] if h.get("source") else [])
                        + [f"{c['field']}: {c['before']} → {c['after']}"
                           for c in h["changes"]])}
                   for h in detail["history"]]
        _table(history, {"at": t("det.when"), "username": t("det.who"),
                         "action": t("det.what"), "what": t("det.record"),
                         "changes": t("det.changes")}, "det.none")

"""The detail view of one IKM: identity, products, certificates, listings, exports, coaching,
financials with size class, and history. Read-only; edits go through the forms."""

import pandas as pd
import streamlit as st

from db import write_session
from services import records
from services.errors import ServiceError
from services.ikm import IKM_COLUMNS, delete_ikm, update_ikm
from services.permissions import can
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
from ui.format import fmt_date, fmt_datetime
from ui.i18n import t
from ui.record_form import labeller, record_form

WARN = {"expired": "🔴", "soon": "🟠", None: ""}


def _table(rows: list[dict], columns: dict[str, str], empty_key: str) -> None:
    if not rows:
        st.caption(t(empty_key))
        return
    frame = pd.DataFrame(rows)
    for name in columns:
        if name not in frame:
            frame[name] = None
    st.dataframe(frame[list(columns)].rename(columns=columns), hide_index=True, width="stretch")


ENTRY = {
    # tab index -> (columns, create service, id keyword, message on success)
    0: (PRODUCT_COLUMNS, records.create_product),
    1: (records.CERT_COLUMNS, records.create_certification),
    2: (records.LISTING_COLUMNS, records.create_listing),
    3: (records.EXPORT_COLUMNS, records.create_export),
    4: (records.COACHING_COLUMNS, records.create_coaching),
    5: (records.FINANCIAL_COLUMNS, records.upsert_financials),
}


def _entry_form(ctx, actor, detail: dict, index: int) -> None:
    """The 'add' form of one tab, writing through its service in one transaction."""
    columns, create = ENTRY[index]
    info = detail["ikm"]
    products = {p["id"]: p["name"] for p in detail["products"]}
    options = {"category_code": cached(ctx, category_options),
               "cert_type_code": cached(ctx, cert_type_options),
               "retailer_id": cached(ctx, retailer_options),
               "country": {code: names[0] for code, names in records.COUNTRIES.items()}}
    if products:
        options["product_id"] = products
    with st.expander(t("det.add"), icon=":material/add:"):
        values = record_form(f"det_add_{index}_{info['id']}", columns, options=options,
                             submit=t("det.add_save"))
        if values is None:
            return
        try:
            with write_session(ctx.engine) as session:
                create(session, actor=actor, ikm_id=info["id"], data=values)
        except ServiceError as exc:
            show_service_error(exc, label=labeller(columns))
        else:
            st.session_state["ikm_flash"] = t("det.added")
            st.rerun()


EDITABLE = tuple(c for c in IKM_COLUMNS if c.name != "kabupaten_code")


def _edit_ikm(ctx, actor, info: dict) -> None:
    """Edit the IKM itself (version-checked) or move it to the trash."""
    regions = cached(ctx, load_regions)
    options = {"kecamatan_code": regions.kecamatan_of(info["kabupaten_code"]),
               "desa_code": regions.desa_of(info["kecamatan_code"]),
               "cohort_id": cached(ctx, cohort_options, kabupaten_code=info["kabupaten_code"])}
    # The version the user opened the form on; someone else's later save makes ours stale.
    opened = st.session_state.setdefault(f"det_ver_{info['id']}", info["version"])
    with st.expander(t("det.edit"), icon=":material/edit:"):
        values = record_form(f"det_edit_{info['id']}", EDITABLE, options=options,
                             initial=info, submit=t("det.edit_save"))
        if values is not None:
            try:
                with write_session(ctx.engine) as session:
                    update_ikm(session, actor=actor, ikm_id=info["id"],
                               expected_version=opened, changes=values)
            except ServiceError as exc:
                show_service_error(exc, label=labeller(IKM_COLUMNS))
                if exc.key == "err.stale" and st.button(t("det.reload"), key="det_reload"):
                    st.session_state.pop(f"det_ver_{info['id']}", None)
                    for key in [k for k in st.session_state
                                if str(k).startswith(f"det_edit_{info['id']}")]:
                        del st.session_state[key]
                    st.rerun()
            else:
                st.session_state.pop(f"det_ver_{info['id']}", None)
                for key in [k for k in st.session_state
                            if str(k).startswith(f"det_edit_{info['id']}")]:
                    del st.session_state[key]
                st.session_state["ikm_flash"] = t("det.edited")
                st.rerun()
        sure = st.checkbox(t("det.delete_confirm"), key=f"det_del_ok_{info['id']}")
        if st.button(t("det.delete"), key=f"det_del_{info['id']}", disabled=not sure,
                     icon=":material/delete:"):
            try:
                with write_session(ctx.engine) as session:
                    delete_ikm(session, actor=actor, ikm_id=info["id"], expected_version=opened)
            except ServiceError as exc:
                show_service_error(exc)
            else:
                st.session_state["ikm_flash"] = t("det.deleted", name=info["name"])
                st.rerun()


def render(ctx, ikm_id: int, actor=None) -> None:
    """Draw everything known about one IKM; with an actor who may write, the add forms too."""
    detail = cached(ctx, ikm_detail, ikm_id=ikm_id)
    info = detail["ikm"]
    writable = actor is not None and can(actor, "programme.write") \
        and actor.kabupaten_code in (None, info["kabupaten_code"])
    st.subheader(info["name"])
    place = ", ".join(x for x in (info.get("desa"), info.get("kecamatan"), info.get("kabupaten"))
                      if x)
    st.caption(f"{place} · {t('ikm.col.cohort')}: {info.get('cohort') or '—'}")
    c = st.columns(4)
    c[0].metric(t("ikm.col.nib"), info.get("nib") or "—")
    c[1].metric(t("ikm.col.owner_name"), info.get("owner_name") or "—")
    c[2].metric(t("ikm.col.employees"), info.get("employees") if info.get("employees")
                is not None else "—")
    size = info.get("size_class")
    c[3].metric(t("det.size_class"), t(f"det.size.{size}") if size else "—",
                help=t("det.size_help"))
    if writable:
        _edit_ikm(ctx, actor, info)
    tabs = st.tabs([t("det.products"), t("det.certs"), t("det.listings"), t("det.exports"),
                    t("det.coaching"), t("det.financials"), t("det.history")])
    with tabs[0]:
        if writable:
            _entry_form(ctx, actor, detail, 0)
        _table(detail["products"], {"name": t("det.product"), "category": t("ikm.category"),
                                    "brand": t("det.brand"), "price_rp": t("det.price"),
                                    "capacity_per_month": t("det.capacity"),
                                    "gtin": "GTIN", "packaging_upgraded_on": t("det.upgraded")},
               "det.none")
    with tabs[1]:
        if writable:
            _entry_form(ctx, actor, detail, 1)
        certs = [{**c, "warn": WARN[c.get("expiry_warning")] + " " + (
            t(f"det.warn.{c['expiry_warning']}") if c.get("expiry_warning") else ""),
            "issued": fmt_date(c.get("issued_on")), "expires": fmt_date(c.get("expires_on"))}
            for c in detail["certifications"]]
        _table(certs, {"cert_type_name": t("det.cert"), "product_name": t("det.product"),
                       "status": t("ikm.col.status"), "number": t("det.number"),
                       "issued": t("det.issued"), "expires": t("det.expires"),
                       "warn": t("det.warning")}, "det.none")
    with tabs[2]:
        if writable:
            _entry_form(ctx, actor, detail, 2)
        _table(detail["retail_listings"], {"retailer_name": t("det.retailer"),
                                           "product_name": t("det.product"),
                                           "status": t("ikm.col.status"),
                                           "listed_on": t("det.listed_on"),
                                           "delisted_on": t("det.delisted_on")}, "det.none")
    with tabs[3]:
        if writable:
            _entry_form(ctx, actor, detail, 3)
        _table(detail["exports"], {"shipped_on": t("det.shipped_on"),
                                   "product_name": t("det.product"),
                                   "country_name": t("det.country"), "buyer": t("det.buyer"),
                                   "value_usd": "USD", "route": t("det.route")}, "det.none")
    with tabs[4]:
        if writable:
            _entry_form(ctx, actor, detail, 4)
        _table(detail["coaching"], {"text": t("det.action"), "owner": t("det.owner"),
                                    "due_on": t("det.due_on"), "done_on": t("det.done_on")},
               "det.none")
    with tabs[5]:
        if writable:
            _entry_form(ctx, actor, detail, 5)
        fins = [{**f, "size": t(f"det.size.{f['size_class']}") if f.get("size_class") else "—"}
                for f in detail["financials"]]
        _table(fins, {"year": t("det.year"), "capital_rp": t("det.capital"),
                      "revenue_rp": t("det.revenue"), "export_revenue_rp": t("det.export_rev"),
                      "size": t("det.size_class")}, "det.none")
    with tabs[6]:
        history = [{"at": fmt_datetime(h["at"]), "username": h["username"],
                    "action": h["action"], "what": f"{h['table']} {h.get('label') or ''}",
                    "changes": "; ".join(f"{c['field']}: {c['before']} → {c['after']}"
                                         for c in h["changes"])}
                   for h in detail["history"]]
        _table(history, {"at": t("det.when"), "username": t("det.who"),
                         "action": t("det.what"), "what": t("det.record"),
                         "changes": t("det.changes")}, "det.none")

"""The detail view of one IKM: identity, products, certificates, listings, exports, coaching,
financials with size class, and history. Read-only; edits go through the forms."""

import pandas as pd
import streamlit as st

from services.records import ikm_detail
from ui.data import cached
from ui.format import fmt_date, fmt_datetime
from ui.i18n import t

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


def render(ctx, ikm_id: int) -> None:
    """Draw everything known about one IKM."""
    detail = cached(ctx, ikm_detail, ikm_id=ikm_id)
    info = detail["ikm"]
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
    tabs = st.tabs([t("det.products"), t("det.certs"), t("det.listings"), t("det.exports"),
                    t("det.coaching"), t("det.financials"), t("det.history")])
    with tabs[0]:
        _table(detail["products"], {"name": t("det.product"), "category": t("ikm.category"),
                                    "brand": t("det.brand"), "price_rp": t("det.price"),
                                    "capacity_per_month": t("det.capacity"),
                                    "gtin": "GTIN", "packaging_upgraded_on": t("det.upgraded")},
               "det.none")
    with tabs[1]:
        certs = [{**c, "warn": WARN[c.get("expiry_warning")] + " " + (
            t(f"det.warn.{c['expiry_warning']}") if c.get("expiry_warning") else ""),
            "issued": fmt_date(c.get("issued_on")), "expires": fmt_date(c.get("expires_on"))}
            for c in detail["certifications"]]
        _table(certs, {"cert_type_name": t("det.cert"), "product_name": t("det.product"),
                       "status": t("ikm.col.status"), "number": t("det.number"),
                       "issued": t("det.issued"), "expires": t("det.expires"),
                       "warn": t("det.warning")}, "det.none")
    with tabs[2]:
        _table(detail["retail_listings"], {"retailer_name": t("det.retailer"),
                                           "product_name": t("det.product"),
                                           "status": t("ikm.col.status"),
                                           "listed_on": t("det.listed_on"),
                                           "delisted_on": t("det.delisted_on")}, "det.none")
    with tabs[3]:
        _table(detail["exports"], {"shipped_on": t("det.shipped_on"),
                                   "product_name": t("det.product"),
                                   "country_name": t("det.country"), "buyer": t("det.buyer"),
                                   "value_usd": "USD", "route": t("det.route")}, "det.none")
    with tabs[4]:
        _table(detail["coaching"], {"text": t("det.action"), "owner": t("det.owner"),
                                    "due_on": t("det.due_on"), "done_on": t("det.done_on")},
               "det.none")
    with tabs[5]:
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

"""Data IKM: search and filter the list, edit rows in a grid, add an IKM with a form."""

import pandas as pd
import streamlit as st

from db import write_session
from services import exporter
from services import ikm as svc
from services.errors import ServiceError
from services.overview import STAGE_COLUMNS
from services.permissions import can
from services.reference import category_options, cohort_options
from services.regions import load_regions
from ui import ikm_detail
from ui.data import cached, show_service_error
from ui.i18n import t
from ui.session import context, current_actor

ctx = context()
actor = current_actor()
may_write = can(actor, "programme.write")
regions = cached(ctx, load_regions)
categories = cached(ctx, category_options)

st.title(t("page.data_ikm"))
flash_box = st.empty()  # always present, so the tabs below keep their place after a save
if flash := st.session_state.pop("ikm_flash", None):
    flash_box.success(flash)


def header(name: str) -> str:
    return t(f"ikm.col.{name}")


def pick_all(where, label: str, options: dict, key: str, **kwargs):
    """A filter dropdown whose first choice, None, means "all" (and says so even when reset)."""
    return where.selectbox(label, [None, *options], key=key, placeholder=t("ikm.all"),
                           format_func=lambda v: t("ikm.all") if v is None else options[v],
                           **kwargs)


if may_write:
    list_tab, detail_tab, add_tab = st.tabs([t("ikm.tab_list"), t("ikm.tab_detail"),
                                             t("ikm.tab_add")])
else:
    (list_tab, detail_tab), add_tab = st.tabs([t("ikm.tab_list"), t("ikm.tab_detail")]), None

# --- list, filters, grid ----------------------------------------------------------------------
with list_tab:
    c = st.columns([3, 2, 2, 2])
    search = c[0].text_input(t("ikm.search"), key="ikm_search",
                             placeholder=t("ikm.search_hint"))
    kab = pick_all(c[1], t("col.kabupaten"), regions.kabupaten, "ikm_f_kab")
    kec = pick_all(c[2], t("ikm.col.kecamatan"), regions.kecamatan_of(kab) if kab else {},
                   "ikm_f_kec", disabled=not kab)
    cohort = pick_all(c[3], t("ikm.col.cohort"),
                      cached(ctx, cohort_options, kabupaten_code=kab), "ikm_f_cohort")
    c = st.columns([2, 2, 2, 2])
    category = pick_all(c[0], t("ikm.category"), categories, "ikm_f_cat")
    stage = pick_all(c[1], t("ikm.stage"),
                     {s: t(f"col.{s}") for s in STAGE_COLUMNS if s != "registered"},
                     "ikm_f_stage")
    status = pick_all(c[2], t("ikm.col.status"), {s: t(f"ikm.{s}") for s in svc.STATUSES},
                      "ikm_f_status")
    page_size = c[3].selectbox(t("ikm.page_size"), [25, 50, 100], index=1, key="ikm_page_size")
    filters = svc.IkmFilter(search=search or None, kabupaten_code=kab, kecamatan_code=kec,
                            cohort_id=cohort, category_code=category, stage=stage, status=status)
    if st.session_state.get("ikm_last_filters") != filters:
        st.session_state["ikm_last_filters"] = filters
        st.session_state["ikm_page"] = 1
    total = cached(ctx, svc.list_ikm, filters=filters, page=1, page_size=1)[1]
    pages = max(1, -(-total // page_size))
    page = min(st.session_state.get("ikm_page", 1), pages)
    rows, total = cached(ctx, svc.list_ikm, filters=filters, page=page, page_size=page_size)

    # The count on the left, compact paging on the right, centred on one line; a gap below
    # keeps the "›" button clear of the grid's toolbar (shown above the grid on hover).
    paging = st.container(horizontal=True, vertical_alignment="center", gap="small")
    paging.caption(t("ikm.count", total=f"{total:,}".replace(",", "."), page=page, pages=pages),
                   width="content")
    paging.space("stretch")
    if paging.button("‹", key="ikm_prev", disabled=page <= 1, help=t("ikm.page_prev")):
        st.session_state["ikm_page"] = page - 1
        st.rerun()
    paging.caption(f"{page} / {pages}", width="content")
    if paging.button("›", key="ikm_next", disabled=page >= pages, help=t("ikm.page_next")):
        st.session_state["ikm_page"] = page + 1
        st.rerun()
    st.space("xsmall")

    shown = ["name", "owner_name", "nib", "phone", "kabupaten", "kecamatan", "desa", "cohort",
             "products", "owner_gender", "legal_form", "founded_year", "employees",
             "employees_female", "status"]
    frame = pd.DataFrame(rows, columns=["id", "version", "kabupaten_code", *shown])
    texts = ["name", "owner_name", "nib", "phone", "kabupaten", "kecamatan", "desa", "cohort"]
    frame[texts] = frame[texts].astype(object).where(frame[texts].notna(), "")  # not "None"
    editable = set(svc.GRID_COLUMNS) if may_write else set()
    config = {name: st.column_config.Column(header(name), disabled=name not in editable)
              for name in shown}
    config["owner_gender"] = st.column_config.SelectboxColumn(
        header("owner_gender"), options=["L", "P"], disabled="owner_gender" not in editable)
    config["legal_form"] = st.column_config.SelectboxColumn(
        header("legal_form"), options=list(svc.LEGAL_FORMS), disabled="legal_form" not in editable)
    config["status"] = st.column_config.SelectboxColumn(
        header("status"), options=list(svc.STATUSES), disabled="status" not in editable)
    for name in ("founded_year", "employees", "employees_female", "products"):
        config[name] = st.column_config.NumberColumn(header(name), format="%d",
                                                     disabled=name not in editable)
    # A new grid (and so no stale cell edits) for every page and filter combination.
    view = (page, page_size, filters)
    if st.session_state.get("ikm_grid_view") != view:
        st.session_state["ikm_grid_view"] = view
        st.session_state["ikm_grid_gen"] = st.session_state.get("ikm_grid_gen", 0) + 1
    editor_key = f"ikm_grid_{st.session_state['ikm_grid_gen']}"
    st.session_state["ikm_grid_key"] = editor_key
    # The versions the user is looking at: a save is checked against these, not against rows
    # re-read when they press save, so someone else's change in between is never overwritten.
    seen = st.session_state.setdefault(f"{editor_key}_versions",
                                       {int(r["id"]): int(r["version"]) for r in rows})
    st.data_editor(frame[shown], key=editor_key, column_config=config, hide_index=True,
                   width="stretch", num_rows="fixed", height=min(38 + 35 * max(len(frame), 1), 560))

    with st.expander(t("ikm.export"), icon=":material/download:"):
        st.caption(t("ikm.export_help", total=f"{total:,}".replace(",", ".")))
        if st.button(t("ikm.export_prepare"), key="ikm_export_prepare"):
            frame_out = cached(ctx, exporter.export_ikm, filters=filters)
            st.session_state["ikm_export"] = (filters, exporter.to_xlsx(frame_out, sheet="IKM"),
                                              exporter.to_csv(frame_out))
        prepared = st.session_state.get("ikm_export")
        if prepared and prepared[0] == filters:
            d1, d2, _ = st.columns([1, 1, 2])
            d1.download_button("XLSX", prepared[1], file_name="data-ikm.xlsx",
                               icon=":material/table:", on_click="ignore", width="stretch",
                               mime="application/vnd.openxmlformats-officedocument."
                                    "spreadsheetml.sheet")
            d2.download_button("CSV", prepared[2], file_name="data-ikm.csv", mime="text/csv",
                               icon=":material/description:", on_click="ignore",
                               width="stretch")

    if may_write:
        edited = st.session_state.get(editor_key, {}).get("edited_rows", {})
        st.caption(t("ikm.grid_hint", count=len(edited)))
        if st.button(t("ikm.grid_save"), type="primary", disabled=not edited, key="ikm_grid_save"):
            edits = [{"row": int(i) + 1, "id": int(frame.iloc[int(i)]["id"]),
                      "version": seen.get(int(frame.iloc[int(i)]["id"]),
                                          int(frame.iloc[int(i)]["version"])),
                      "changes": {k: (None if pd.isna(v) else v) for k, v in changes.items()}}
                     for i, changes in edited.items()]
            try:
                with write_session(ctx.engine) as session:
                    saved = svc.update_many(session, actor=actor, edits=edits)
            except svc.CellErrors as exc:
                # Name each refused row's IKM as listed (a row number alone is easy to misread).
                listed = {int(i) + 1: frame.iloc[int(i)]["name"] for i in edited}
                st.error(t("err.cells", count=len(exc.cells)))
                st.dataframe(pd.DataFrame([{
                    t("ikm.err_row"): cell.row, t("ikm.err_ikm"): listed.get(cell.row) or "—",
                    t("ikm.err_column"): header(cell.column) if cell.column else "—",
                    t("ikm.err_value"): "" if cell.value is None else str(cell.value),
                    t("ikm.err_reason"): t(cell.key, **cell.params)} for cell in exc.cells]),
                    hide_index=True, width="stretch")
            except ServiceError as exc:
                show_service_error(exc)
            else:
                st.session_state.pop(editor_key, None)
                st.session_state["ikm_grid_view"] = None  # a fresh grid with fresh versions
                st.session_state["ikm_flash"] = t("ikm.grid_saved", count=saved)
                st.rerun()

# --- detail of one IKM -------------------------------------------------------------------------
with detail_tab:
    names = {int(r["id"]): f"{r['name']} · {r['kecamatan']} (#{r['id']})" for r in rows}
    if names:
        ikm_detail.keep_pick("ikm_detail_pick", names)  # keeps the IKM chosen after a rename
        chosen = st.selectbox(t("ikm.pick"), list(names), format_func=names.get,
                              key="ikm_detail_pick")
        ikm_detail.render(ctx, chosen, actor=actor)
    else:
        st.caption(t("det.none"))

# --- add form -----------------------------------------------------------------------------------
if add_tab is not None:
    with add_tab:
        kept = st.session_state.setdefault("ikm_form_keep", {})
        st.caption(t("ikm.required_note"))
        c = st.columns(3)
        kab_choices = [k for k in regions.kabupaten
                       if actor.kabupaten_code in (None, k)]
        f_kab = c[0].selectbox(header("kabupaten_code") + " *", kab_choices, key="ikm_new_kab",
                               format_func=lambda k: regions.kabupaten[k],
                               index=kab_choices.index(kept["kab"]) if kept.get("kab")
                               in kab_choices else 0)
        kecs = regions.kecamatan_of(f_kab)
        f_kec = c[1].selectbox(header("kecamatan_code") + " *", list(kecs), key="ikm_new_kec",
                               format_func=lambda k: kecs[k])
        desas = regions.desa_of(f_kec)
        f_desa = c[2].selectbox(header("desa_code"), [None, *desas], key="ikm_new_desa",
                                format_func=lambda k: "—" if k is None else desas[k])
        with st.form("ikm_new", clear_on_submit=False, border=False, enter_to_submit=False):
            c = st.columns(3)
            values = {
                "name": c[0].text_input(header("name") + " *", key="ikm_new_name"),
                "owner_name": c[1].text_input(header("owner_name"), key="ikm_new_owner"),
                "owner_gender": c[2].selectbox(t("ikm.gender"), [None, "L", "P"],
                                               key="ikm_new_gender",
                                               format_func=lambda g: "—" if g is None
                                               else t(f"ikm.gender_{g}")),
                "nib": c[0].text_input(header("nib"), key="ikm_new_nib", max_chars=20,
                                       help=t("ikm.nib_help")),
                "phone": c[1].text_input(header("phone"), key="ikm_new_phone"),
                "legal_form": c[2].selectbox(header("legal_form"), [None, *svc.LEGAL_FORMS],
                                             key="ikm_new_legal",
                                             format_func=lambda v: "—" if v is None else v),
                "address": st.text_input(header("address"), key="ikm_new_address"),
            }
            c = st.columns(4)
            values["founded_year"] = c[0].text_input(header("founded_year"), key="ikm_new_year")
            values["employees"] = c[1].text_input(header("employees"), key="ikm_new_emp")
            values["employees_female"] = c[2].text_input(header("employees_female"),
                                                         key="ikm_new_emp_f")
            f_cohorts = cached(ctx, cohort_options, kabupaten_code=f_kab)
            values["cohort_id"] = c[3].selectbox(header("cohort_id"), [None, *f_cohorts],
                                                 key="ikm_new_cohort",
                                                 format_func=lambda k: "—" if k is None
                                                 else f_cohorts[k])
            confirm = st.checkbox(t("ikm.save_anyway"), key="ikm_new_confirm")
            b1, b2, _ = st.columns([1, 1, 2])
            save = b1.form_submit_button(t("ikm.save"), type="primary", width="stretch",
                                         key="ikm_new_save")
            again = b2.form_submit_button(t("ikm.save_again"), width="stretch",
                                          key="ikm_new_save_again")
        if save or again:
            values.update(kabupaten_code=f_kab, kecamatan_code=f_kec, desa_code=f_desa)
            with write_session(ctx.engine) as session:
                dupes = svc.find_duplicates(session, data=values)
            if dupes and not confirm:
                st.warning(t("ikm.dupes") + "\n\n" + "\n".join(
                    f"- {d['name']} (#{d['id']}): {t(d['reason'])}" for d in dupes))
            else:
                try:
                    with write_session(ctx.engine) as session:
                        made = svc.create_ikm(session, actor=actor, data=values)
                except ServiceError as exc:
                    show_service_error(exc, label=header)
                else:
                    keep = ("ikm_new_kab", "ikm_new_kec", "ikm_new_desa", "ikm_new_cohort")
                    kept["kab"] = f_kab
                    for key in [k for k in st.session_state if str(k).startswith("ikm_new_")]:
                        if not again or key not in keep:
                            del st.session_state[key]
                    st.session_state["ikm_flash"] = t("ikm.saved", name=made.name)
                    st.rerun()

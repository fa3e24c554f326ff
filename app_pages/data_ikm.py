"""Data IKM: search and filter the list, edit rows in a grid, add an IKM with a form."""

import pandas as pd
import streamlit as st

from db import read_session, run_write
from services import exporter
from services import ikm as svc
from services.audit import data_version
from services.errors import ServiceError
from services.overview import STAGE_COLUMNS
from services.permissions import can
from services.reference import category_options, cohort_options
from services.regions import load_regions
from ui import ikm_detail
from ui.data import cached, show_service_error
from ui.format import md
from ui.i18n import t
from ui.record_form import first_result, form_token, mark_saved
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
    reload = paging.button(t("ikm.grid_reload"), key="ikm_grid_reload",
                           icon=":material/refresh:", help=t("ikm.grid_reload_help"))
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

    def table(listed: list[dict]) -> pd.DataFrame:
        frame = pd.DataFrame(listed, columns=["id", "version", "kabupaten_code", *shown])
        texts = ["name", "owner_name", "nib", "phone", "kabupaten", "kecamatan", "desa", "cohort"]
        frame[texts] = frame[texts].astype(object).where(frame[texts].notna(), "")  # no "None"
        return frame

    def columns(editable: set[str]) -> dict:
        config = {name: st.column_config.Column(header(name), disabled=name not in editable)
                  for name in shown}
        for name, options in (("owner_gender", ["L", "P"]), ("legal_form", svc.LEGAL_FORMS),
                              ("status", svc.STATUSES)):
            config[name] = st.column_config.SelectboxColumn(header(name), options=list(options),
                                                            disabled=name not in editable)
        for name in ("founded_year", "employees", "employees_female", "products"):
            config[name] = st.column_config.NumberColumn(header(name), format="%d",
                                                         disabled=name not in editable)
        return config

    # The rows and versions the grid shows are kept for its view (page and filters) and the
    # data version they were read at: a save is checked against the versions the user looked at,
    # and cell edits (held by row number) always meet the rows they were made on. Any write
    # (form, detail, grid, import, cohorts) bumps the data version, so the next run shows fresh
    # rows and versions, unless edits are pending: those keep their rows until saved, reloaded
    # or the view changes.
    with read_session(ctx.engine) as session:
        version_now = data_version(session)
    view = (page, page_size, filters)
    grid = st.session_state.get("ikm_grid")
    pending = bool(grid) and bool(st.session_state.get(grid["key"], {}).get("edited_rows"))
    if reload or grid is None or grid["view"] != view \
            or (grid["data_version"] != version_now and not pending):
        gen = st.session_state["ikm_grid_gen"] = st.session_state.get("ikm_grid_gen", 0) + 1
        if grid is not None:
            st.session_state.pop(grid["key"], None)
        grid = st.session_state["ikm_grid"] = {"key": f"ikm_grid_{gen}", "view": view,
                                                "data_version": version_now, "rows": rows}
        st.session_state[f"{grid['key']}_versions"] = {int(r["id"]): int(r["version"])
                                                       for r in rows}
    editor_key = st.session_state["ikm_grid_key"] = grid["key"]
    seen = st.session_state[f"{editor_key}_versions"]
    if pending and grid["data_version"] != version_now:
        st.info(t("ikm.grid_changed_meanwhile"), icon=":material/history:")

    # Streamlit's grid cannot lock single rows: a scoped staff member edits the rows of their
    # regency in the grid, and sees the others in a read-only table below it.
    if may_write:
        mine = [r for r in grid["rows"] if svc.editable_by(actor, r["kabupaten_code"])]
        others = [r for r in grid["rows"] if not svc.editable_by(actor, r["kabupaten_code"])]
    else:
        mine, others = grid["rows"], []  # everything shown, nothing editable
    frame = table(mine)
    if not frame.empty or not others:
        st.data_editor(frame[shown], key=editor_key,
                       column_config=columns(set(svc.GRID_COLUMNS) if may_write else set()),
                       hide_index=True, width="stretch", num_rows="fixed",
                       height=min(38 + 35 * max(len(frame), 1), 560))

    if may_write and not frame.empty:
        edited = st.session_state.get(editor_key, {}).get("edited_rows", {})
        st.caption(t("ikm.grid_hint", count=len(edited)))
        # `and edited`: a double click's second press arrives after the save, on a fresh grid
        if st.button(t("ikm.grid_save"), type="primary", disabled=not edited,
                     key="ikm_grid_save") and edited:
            edits = [{"row": int(i) + 1, "id": int(frame.iloc[int(i)]["id"]),
                      "version": seen.get(int(frame.iloc[int(i)]["id"]),
                                          int(frame.iloc[int(i)]["version"])),
                      "changes": {k: (None if pd.isna(v) else v) for k, v in changes.items()}}
                     for i, changes in edited.items()]
            try:
                saved = run_write(ctx.engine,
                                  lambda s: svc.update_many(s, actor=actor, edits=edits))
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
                st.session_state["ikm_grid"] = None  # a fresh grid with fresh versions
                st.session_state["ikm_flash"] = t("ikm.grid_saved", count=saved)
                st.rerun()

    if others:
        names = sorted({r["kabupaten"] for r in others})
        st.caption(t("ikm.grid_read_only", count=len(others),
                     kabupaten=", ".join(md(n) for n in names)))
        st.dataframe(table(others)[shown], column_config=columns(set()),
                     hide_index=True, width="stretch",
                     height=min(38 + 35 * len(others), 400))

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
        # Every widget key carries the form's submission token: after a save the form is drawn
        # under a fresh token, empty in the browser too, and a second submit of the saved form
        # (a double click) writes nothing.
        token = form_token("ikm_new")
        prefix = f"ikm_new_{token}"
        kept = st.session_state.get("ikm_form_keep", {})  # carried over to the next form

        def index_of(value, options: list) -> int:
            return options.index(value) if value in options else 0

        st.caption(t("ikm.required_note"))
        c = st.columns(3)
        kab_choices = [k for k in regions.kabupaten if svc.editable_by(actor, k)]
        f_kab = c[0].selectbox(header("kabupaten_code") + " *", kab_choices, key=f"{prefix}_kab",
                               format_func=lambda k: regions.kabupaten[k],
                               index=index_of(kept.get("kab"), kab_choices))
        kecs = regions.kecamatan_of(f_kab)
        f_kec = c[1].selectbox(header("kecamatan_code") + " *", list(kecs), key=f"{prefix}_kec",
                               format_func=lambda k: kecs[k],
                               index=index_of(kept.get("kec"), list(kecs)))
        desas = regions.desa_of(f_kec)
        f_desa = c[2].selectbox(header("desa_code"), [None, *desas], key=f"{prefix}_desa",
                                format_func=lambda k: "—" if k is None else desas[k],
                                index=index_of(kept.get("desa"), [None, *desas]))
        with st.form(prefix, clear_on_submit=False, border=False, enter_to_submit=False):
            c = st.columns(3)
            values = {
                "name": c[0].text_input(header("name") + " *", key=f"{prefix}_name"),
                "owner_name": c[1].text_input(header("owner_name"), key=f"{prefix}_owner"),
                "owner_gender": c[2].selectbox(t("ikm.gender"), [None, "L", "P"],
                                               key=f"{prefix}_gender",
                                               format_func=lambda g: "—" if g is None
                                               else t(f"ikm.gender_{g}")),
                "nib": c[0].text_input(header("nib"), key=f"{prefix}_nib", max_chars=20,
                                       help=t("ikm.nib_help")),
                "phone": c[1].text_input(header("phone"), key=f"{prefix}_phone"),
                "legal_form": c[2].selectbox(header("legal_form"), [None, *svc.LEGAL_FORMS],
                                             key=f"{prefix}_legal",
                                             format_func=lambda v: "—" if v is None else v),
                "address": st.text_input(header("address"), key=f"{prefix}_address"),
            }
            c = st.columns(4)
            values["founded_year"] = c[0].text_input(header("founded_year"), key=f"{prefix}_year")
            values["employees"] = c[1].text_input(header("employees"), key=f"{prefix}_emp")
            values["employees_female"] = c[2].text_input(header("employees_female"),
                                                         key=f"{prefix}_emp_f")
            f_cohorts = cached(ctx, cohort_options, kabupaten_code=f_kab)
            values["cohort_id"] = c[3].selectbox(header("cohort_id"), [None, *f_cohorts],
                                                 key=f"{prefix}_cohort",
                                                 index=index_of(kept.get("cohort"),
                                                                [None, *f_cohorts]),
                                                 format_func=lambda k: "—" if k is None
                                                 else f_cohorts[k])
            confirm = st.checkbox(t("ikm.save_anyway"), key=f"{prefix}_confirm")
            b1, b2, _ = st.columns([1, 1, 2])
            save = b1.form_submit_button(t("ikm.save"), type="primary", width="stretch",
                                         key=f"{prefix}_save")
            again = b2.form_submit_button(t("ikm.save_again"), width="stretch",
                                          key=f"{prefix}_save_again")
        if (save or again) and (done := first_result(token)) is not None:
            flash_box.success(done)  # this form was saved already: show that, write nothing
        elif save or again:
            values.update(kabupaten_code=f_kab, kecamatan_code=f_kec, desa_code=f_desa)
            with read_session(ctx.engine) as session:
                dupes = svc.find_duplicates(session, data=values)
            if dupes and not confirm:
                st.warning(t("ikm.dupes") + "\n\n" + "\n".join(
                    f"- {md(d['name'])} (#{d['id']}): {t(d['reason'])}" for d in dupes))
            else:
                try:
                    made = run_write(ctx.engine,
                                     lambda s: svc.create_ikm(s, actor=actor, data=values))
                    message = t("ikm.saved", name=md(made.name))
                except ServiceError as exc:
                    show_service_error(exc, label=header)
                else:
                    mark_saved("ikm_new", token, message)
                    # "Save and add another" keeps the place (and cohort) for the next IKM.
                    st.session_state["ikm_form_keep"] = {"kab": f_kab} if not again else {
                        "kab": f_kab, "kec": f_kec, "desa": f_desa,
                        "cohort": values["cohort_id"]}
                    st.session_state["ikm_flash"] = message
                    st.rerun()

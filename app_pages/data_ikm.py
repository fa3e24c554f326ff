"""Data IKM: search and filter the list, edit rows in a grid, find any IKM's detail, add an IKM
(with its first product) in one form.

What the user chose survives: the filters for the session (leaving the page and coming back,
switching the language), the open tab, the list page and the IKM open in Detail. Widgets whose
labels depend on the language are keyed per language and seeded from language-neutral values
kept in the session, so a language switch redraws them in the new language with the same
choice. Only the open tab's content is computed."""

import html

import pandas as pd
import streamlit as st

from db import read_session, run_write
from services import exporter
from services import ikm as svc
from services.audit import data_version
from services.errors import ServiceError, ValidationFailed
from services.overview import STAGE_COLUMNS
from services.permissions import can
from services.privacy import mask_rows, sees_personal
from services.quick_entry import create_ikm_with_product
from services.reference import category_options, cohort_options
from services.regions import load_regions
from ui import ikm_detail
from ui.data import cached, show_service_error
from ui.format import md
from ui.i18n import current_language, t
from ui.record_form import first_result, form_token, mark_saved
from ui.session import context, current_actor
from ui.state import kept_tabs, lang_key

ctx = context()
actor = current_actor()
may_write = can(actor, "programme.write")
regions = cached(ctx, load_regions)
categories = cached(ctx, category_options)
lang = current_language()

st.title(t("page.data_ikm"))
flash_box = st.empty()  # always present, so the tabs below keep their place after a save
if flash := st.session_state.pop("ikm_flash", None):
    flash_box.success(flash)


def header(name: str) -> str:
    return t(f"ikm.col.{name}")


def keyed(base: str) -> str:
    """A widget key for this language (Indonesian keeps the plain key): a widget whose option
    labels are translated is drawn afresh after a language switch, never with stale labels
    (Streamlit's browser side keeps a select's choice by its label)."""
    return base if lang == "id" else f"{base}_{lang}"


FILTER_DEFAULTS = {"search": "", "kab": None, "kec": None, "cohort": None, "category": None,
                   "stage": None, "status": None, "page_size": 50}
kept = st.session_state.setdefault("ikm_filters", dict(FILTER_DEFAULTS))


def pick_all(where, name: str, label: str, options: dict, **kwargs):
    """A filter dropdown whose first choice, None, means "all" (and says so even when reset);
    its choice is kept for the session under `name`."""
    choices = [None, *options]
    current = kept.get(name)
    value = where.selectbox(label, choices, key=keyed(f"ikm_f_{name}"),
                            index=choices.index(current) if current in choices else 0,
                            placeholder=t("ikm.all"),
                            format_func=lambda v: t("ikm.all") if v is None
                            else options.get(v, v), **kwargs)
    kept[name] = value
    return value


# The open tab is kept by its id (not its translated label): after a save or a language switch
# the same tab is open. A tab's content runs from the first time it is opened in the session,
# and then on every run: the first paint computes only the list, and nothing typed in a tab
# (grid edits, a form) is dropped by looking at another tab.
TABS = {"list": t("qe.tab_list_edit") if may_write else t("qe.tab_list_view"),
        "detail": t("ikm.tab_detail")}
if may_write:
    TABS["add"] = t("ikm.tab_add")
tab_of = kept_tabs("ikm_tab_id", TABS)
list_tab, detail_tab, add_tab = tab_of["list"], tab_of["detail"], tab_of.get("add")
opened = st.session_state["ikm_tab_id_opened"]


def is_open(name: str) -> bool:
    return name in tab_of and name in opened


# --- list, filters, grid ----------------------------------------------------------------------
def current_filters() -> svc.IkmFilter:
    """The list's filters as kept for the session."""
    return svc.IkmFilter(search=kept.get("search") or None, kabupaten_code=kept.get("kab"),
                         kecamatan_code=kept.get("kec"), cohort_id=kept.get("cohort"),
                         category_code=kept.get("category"), stage=kept.get("stage"),
                         status=kept.get("status"), nib_whole_only=not sees_personal(actor))


def list_page(filters: svc.IkmFilter, page_size: int) -> tuple[list[dict], int, int, int]:
    """The rows of the kept list page (back to page 1 when the filters changed), the total,
    the page and the number of pages."""
    if st.session_state.get("ikm_last_filters") != filters:
        st.session_state["ikm_last_filters"] = filters
        st.session_state["ikm_page"] = 1
    # One query for the kept page and the total; a second only when the page is past the end
    # (the list shrank since), for the last page there is.
    page = max(1, st.session_state.get("ikm_page", 1))
    rows, total = cached(ctx, svc.list_ikm, filters=filters, page=page, page_size=page_size)
    pages = max(1, -(-total // page_size))
    if page > pages:
        page = pages
        rows, total = cached(ctx, svc.list_ikm, filters=filters, page=page, page_size=page_size)
    return mask_rows(rows, actor), total, page, pages  # phone, NIB, address: need-to-know


def draw_list() -> list[dict]:
    """The list tab: filters, paging, the grid with its save bar on top, the export."""
    c = st.columns([3, 2, 2, 2])
    kept["search"] = c[0].text_input(t("ikm.search"), key=keyed("ikm_search"),
                                     value=kept.get("search") or "",
                                     placeholder=t("ikm.search_hint"))
    kab = pick_all(c[1], "kab", t("col.kabupaten"), regions.kabupaten)
    pick_all(c[2], "kec", t("ikm.col.kecamatan"), regions.kecamatan_of(kab) if kab else {},
             disabled=not kab)
    pick_all(c[3], "cohort", t("ikm.col.cohort"),
             cached(ctx, cohort_options, kabupaten_code=kab))
    c = st.columns([2, 2, 2, 2])
    pick_all(c[0], "category", t("ikm.category"), categories)
    pick_all(c[1], "stage", t("ikm.stage"),
             {s: t(f"col.{s}") for s in STAGE_COLUMNS if s != "registered"})
    pick_all(c[2], "status", t("ikm.col.status"), {s: t(f"ikm.{s}") for s in svc.STATUSES})
    sizes = [25, 50, 100]
    page_size = c[3].selectbox(t("ikm.page_size"), sizes, key=keyed("ikm_page_size"),
                               index=sizes.index(kept.get("page_size", 50))
                               if kept.get("page_size", 50) in sizes else 1,
                               placeholder=t("lang.choose"))
    kept["page_size"] = page_size
    filters = current_filters()
    rows, total, page, pages = list_page(filters, page_size)

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
    reload = st.session_state.pop("ikm_grid_reload_asked", False)
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

    # Streamlit's grid cannot lock single rows: a scoped staff member edits the rows of their
    # regency in the grid, and sees the others in a read-only table below it.
    if may_write:
        mine = [r for r in grid["rows"] if svc.editable_by(actor, r["kabupaten_code"])]
        others = [r for r in grid["rows"] if not svc.editable_by(actor, r["kabupaten_code"])]
    else:
        mine, others = grid["rows"], []  # everything shown, nothing editable
    frame = table(mine)
    edited = st.session_state.get(editor_key, {}).get("edited_rows", {}) \
        if may_write and not frame.empty else {}

    # One bar above the grid: the count and paging, and for writers the save button and the
    # reload, always in view without scrolling past a tall grid.
    bar = st.container(horizontal=True, vertical_alignment="center", gap="small")
    bar.caption(t("ikm.count", total=f"{total:,}".replace(",", "."), page=page, pages=pages),
                width="content")
    bar.space("stretch")
    save = False
    if may_write and not frame.empty:
        # `and edited`: a double click's second press arrives after the save, on a fresh grid
        save = bar.button(t("qe.grid_save_top"), type="primary", disabled=not edited,
                          key="ikm_grid_save", icon=":material/save:") and bool(edited)
    # Callbacks set the state before the run the click starts: one run per click, not two.
    bar.button(t("ikm.grid_reload"), key="ikm_grid_reload", icon=":material/refresh:",
               help=t("ikm.grid_reload_help"),
               on_click=lambda: st.session_state.update(ikm_grid_reload_asked=True))
    bar.button("‹", key="ikm_prev", disabled=page <= 1, help=t("ikm.page_prev"),
               on_click=lambda: st.session_state.update(ikm_page=page - 1))
    bar.caption(f"{page} / {pages}", width="content")
    bar.button("›", key="ikm_next", disabled=page >= pages, help=t("ikm.page_next"),
               on_click=lambda: st.session_state.update(ikm_page=page + 1))
    if may_write and not frame.empty:
        st.caption(t("ikm.grid_hint", count=len(edited)))
    if pending and grid["data_version"] != version_now:
        st.info(t("ikm.grid_changed_meanwhile"), icon=":material/history:")
    if not sees_personal(actor):
        st.caption(t("det.personal_hidden"))

    if save:
        edits = [{"row": int(i) + 1, "id": int(frame.iloc[int(i)]["id"]),
                  "version": seen.get(int(frame.iloc[int(i)]["id"]),
                                      int(frame.iloc[int(i)]["version"])),
                  "changes": {k: (None if pd.isna(v) else v) for k, v in changes.items()}}
                 for i, changes in edited.items()]
        try:
            saved = run_write(ctx.engine, lambda s: svc.update_many(s, actor=actor, edits=edits))
        except svc.CellErrors as exc:
            # Name each refused row's IKM as listed (a row number alone is easy to misread).
            listed = {int(i) + 1: frame.iloc[int(i)]["name"] for i in edited}
            st.error(t("err.cells", count=len(exc.cells)))
            st.dataframe(pd.DataFrame([{
                t("ikm.err_row"): cell.row, t("ikm.err_ikm"): listed.get(cell.row) or "—",
                t("ikm.err_column"): header(cell.column) if cell.column else "—",
                t("ikm.err_value"): "" if cell.value is None else str(cell.value),
                t("ikm.err_reason"): t(cell.key, **cell.params)} for cell in exc.cells]),
                hide_index=True, width="stretch", placeholder="—")
        except ServiceError as exc:
            show_service_error(exc)
        else:
            st.session_state.pop(editor_key, None)
            st.session_state["ikm_grid"] = None  # a fresh grid with fresh versions
            st.session_state["ikm_flash"] = t("ikm.grid_saved", count=saved)
            st.rerun()

    if not frame.empty or not others:
        st.data_editor(frame[shown], key=editor_key,
                       column_config=columns(set(svc.GRID_COLUMNS) if may_write else set()),
                       hide_index=True, width="stretch", num_rows="fixed", placeholder="—",
                       height=min(38 + 35 * max(len(frame), 1), 560))

    if others:
        names = sorted({r["kabupaten"] for r in others})
        st.caption(t("ikm.grid_read_only", count=len(others),
                     kabupaten=", ".join(md(n) for n in names)))
        st.dataframe(table(others)[shown], column_config=columns(set()),
                     hide_index=True, width="stretch", placeholder="—",
                     height=min(38 + 35 * len(others), 400))

    with st.expander(t("ikm.export"), icon=":material/download:"):
        st.caption(t("ikm.export_help", total=f"{total:,}".replace(",", ".")))
        if st.button(t("ikm.export_prepare"), key="ikm_export_prepare"):
            frame_out = cached(ctx, exporter.export_ikm, filters=filters, actor=actor)
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
    return rows


rows: list[dict] = []
if is_open("list"):
    with list_tab:
        rows = draw_list()

# --- detail of one IKM -------------------------------------------------------------------------
def detail_choices(query: str) -> tuple[dict[int, str], str | None]:
    """IKM to pick from: those matching the search among every IKM the user may see, or without
    a search the rows of the list page now open; and a line saying which."""
    def label(r: dict) -> str:
        return f"{r['name']} · {r['kecamatan']} (#{r['id']})"

    if query.strip():
        wanted = svc.IkmFilter(search=query.strip(), nib_whole_only=not sees_personal(actor))
        found, total = cached(ctx, svc.list_ikm, filters=wanted, page=1, page_size=50)
        note = t("qe.detail_found", shown=len(found), total=total) if total > len(found) \
            else (None if found else t("qe.detail_nothing", query=md(query.strip())))
        return {int(r["id"]): label(r) for r in found}, note
    listed = rows or list_page(current_filters(), kept.get("page_size", 50))[0]
    return {int(r["id"]): label(r) for r in listed}, t("qe.detail_from_page")


if is_open("detail"):
    with detail_tab:
        c = st.columns([2, 3])
        query = c[0].text_input(t("qe.detail_search"), key="ikm_detail_q",
                                placeholder=t("qe.detail_search_hint"))
        names, note = detail_choices(query or "")
        # The IKM open now stays pickable (and open) whatever the search shows.
        chosen_before = st.session_state.get("ikm_detail_pick")
        known = st.session_state.setdefault("ikm_detail_names", {})
        known.update(names)
        if chosen_before in known and chosen_before not in names:
            names = {chosen_before: known[chosen_before], **names}
        if names:
            ikm_detail.keep_pick("ikm_detail_pick", names)  # keeps the IKM chosen after a rename
            chosen = c[1].selectbox(t("qe.detail_pick"), list(names), format_func=names.get,
                                    key="ikm_detail_pick", placeholder=t("lang.choose"))
            if note:
                st.caption(note)
            ikm_detail.render(ctx, chosen, actor=actor)
        else:
            st.caption(note or t("det.none"))

# --- add form -----------------------------------------------------------------------------------
FIELD_ORDER = ("name", "owner_name", "owner_gender", "kecamatan_code", "desa_code", "cohort_id",
               "nib", "phone", "legal_form", "address", "founded_year", "employees",
               "employees_female", "product_name", "product_category_code")


def field_label(name: str) -> str:
    return {"kabupaten_code": header("kabupaten_code"),
            "kecamatan_code": t("qe.kecamatan").rstrip(" *"), "desa_code": t("qe.desa"),
            "cohort_id": t("qe.cohort"), "owner_gender": t("ikm.gender"),
            "product_name": t("qe.product_name"),
            "product_category_code": t("qe.product_category")}.get(name) or header(name)


def mark(where, name: str, problems: dict) -> None:
    """The field's problem right under it, in a dark red that reads at 4.5:1 and more."""
    if name in problems:
        key, params = problems[name]
        text = html.escape(t(key, **params))
        where.html(f'<div role="alert" class="ikm-field-error" style="color:#9b1c1c;'
                   f'font-size:0.875rem;line-height:1.2;margin:-0.75rem 0 -0.25rem;">'
                   f'⚠ {text}</div>')


def draw_add_form() -> None:
    # Every widget key carries the form's submission token: after a save the form is drawn
    # under a fresh token, empty in the browser too, and a second submit of the saved form
    # (a double click) writes nothing.
    token = form_token("ikm_new")
    prefix = f"ikm_new_{token}"
    keep = st.session_state.get("ikm_form_keep", {})  # carried over to the next form
    problems: dict = st.session_state.get(f"{prefix}_problems", {})
    dupes = st.session_state.get(f"{prefix}_dupes")

    # Every place the user may write to, in one searchable list each: the kecamatan names its
    # regency and the desa its kecamatan, so no dropdown waits on another (no rerun between).
    kabs = [k for k in regions.kabupaten if svc.editable_by(actor, k)]
    kecs = {code: f"{name} — {regions.kabupaten[kab]}" for kab in kabs
            for code, name in regions.kecamatan_of(kab).items()}
    desas = {code: f"{name} — {regions.kecamatan[kec][1]}" for kec in kecs
             for code, name in regions.desa_of(kec).items()}
    cohorts = {cid: f"{name} — {regions.kabupaten[kab]}" for kab in kabs
               for cid, name in cached(ctx, cohort_options, kabupaten_code=kab).items()}

    def select(where, label: str, options: dict, name: str, kept_value=None,
               translated: bool = False):
        # Nothing chosen shows "—" (a placeholder, so the clear button appears only on a choice).
        choices = list(options)
        key = lang_key(f"{prefix}_{name}") if translated else f"{prefix}_{name}"
        start = {} if key in st.session_state else {
            "index": choices.index(kept_value) if kept_value in choices else None}
        value = where.selectbox(label, choices, key=key, **start,
                                format_func=lambda v: options.get(v, v),
                                placeholder=t("qe.none"))
        mark(where, name, problems)
        return value

    def text(where, name: str, label: str, **kwargs) -> str:
        value = where.text_input(label, key=f"{prefix}_{name}", **kwargs)
        mark(where, name, problems)
        return value

    st.caption(t("qe.required_note"))
    with st.form(prefix, clear_on_submit=False, border=False, enter_to_submit=False):
        summary = st.empty()
        c = st.columns(3)
        values = {"name": text(c[0], "name", header("name") + " *"),
                  "owner_name": text(c[1], "owner_name", header("owner_name"))}
        genders = {"L": t("ikm.gender_L"), "P": t("ikm.gender_P")}
        values["owner_gender"] = select(c[2], t("ikm.gender"), genders, "owner_gender",
                                       translated=True)
        c = st.columns(3)
        values["kecamatan_code"] = select(c[0], t("qe.kecamatan"), kecs, "kecamatan_code",
                                          keep.get("kec"))
        values["desa_code"] = select(c[1], t("qe.desa"), desas, "desa_code", keep.get("desa"))
        values["cohort_id"] = select(c[2], t("qe.cohort"), cohorts, "cohort_id",
                                     keep.get("cohort"))
        c = st.columns(3)
        values["nib"] = text(c[0], "nib", header("nib"), max_chars=20, help=t("ikm.nib_help"))
        values["phone"] = text(c[1], "phone", header("phone"))
        values["legal_form"] = select(c[2], header("legal_form"),
                                      {v: v for v in svc.LEGAL_FORMS}, "legal_form")
        c = st.columns([3, 1, 1, 1])
        values["address"] = text(c[0], "address", header("address"))
        values["founded_year"] = text(c[1], "founded_year", header("founded_year"))
        values["employees"] = text(c[2], "employees", header("employees"))
        values["employees_female"] = text(c[3], "employees_female", header("employees_female"))
        c = st.columns([3, 3])
        product = {"product_name": text(c[0], "product_name",
                                        f"{t('qe.product_name')} · {t('qe.product_part')}"),
                   "product_category_code": select(c[1], t("qe.product_category"), categories,
                                                   "product_category_code")}
        confirm = st.checkbox(t("ikm.save_anyway"), key=f"{prefix}_confirm") if dupes else False
        b1, b2, b3 = st.columns([1, 1, 2], vertical_alignment="center")
        save = b1.form_submit_button(t("ikm.save"), type="primary", width="stretch",
                                     key=f"{prefix}_save")
        again = b2.form_submit_button(t("ikm.save_again"), width="stretch",
                                      key=f"{prefix}_save_again")
        near_button = b3.empty()
    # What was wrong last time stays shown until the next submit (the typed values stay too).
    if problems:
        # One line at the top (the fields named), each message under its field.
        names = ", ".join(md(field_label(f)) for f in sorted(
            problems, key=lambda f: FIELD_ORDER.index(f) if f in FIELD_ORDER else 99))
        summary.error(f"{t('qe.errors', count=len(problems))} {names}.",
                      icon=":material/error:")
        near_button.html(f'<div role="status" style="color:#9b1c1c;font-weight:600;">'
                         f'{html.escape(t("qe.errors_short", count=len(problems)))}</div>')
    elif dupes:
        summary.warning(t("ikm.dupes") + "\n\n" + "\n".join(
            f"- {md(d['name'])} (#{d['id']}): {t(d['reason'])}" for d in dupes))

    if not (save or again):
        return
    if (done := first_result(token)) is not None:
        flash_box.success(done)  # this form was saved already: show that, write nothing
        return
    st.session_state.pop(f"{prefix}_problems", None)
    with read_session(ctx.engine) as session:
        found = svc.find_duplicates(session, data=values)
    if found and not confirm:
        st.session_state[f"{prefix}_dupes"] = found
        st.rerun()
    try:
        made, made_product = run_write(ctx.engine, lambda s: create_ikm_with_product(
            s, actor=actor, data=values, product=product))
    except ValidationFailed as exc:
        st.session_state[f"{prefix}_problems"] = exc.params.get("details") or {
            f: (keys[0], {}) for f, keys in exc.errors.items()}
        st.rerun()
    except ServiceError as exc:
        show_service_error(exc, label=field_label)
        return
    message = t("qe.saved_with_product", name=md(made.name), product=md(made_product.name)) \
        if made_product is not None else t("ikm.saved", name=md(made.name))
    mark_saved("ikm_new", token, message)
    # "Save and add another" keeps the place (and cohort) for the next IKM.
    st.session_state["ikm_form_keep"] = {} if not again else {
        "kec": made.kecamatan_code, "desa": made.desa_code, "cohort": made.cohort_id}
    st.session_state["ikm_flash"] = message
    st.rerun()


if is_open("add"):
    with add_tab:
        draw_add_form()

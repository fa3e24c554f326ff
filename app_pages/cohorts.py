"""Angkatan (cohorts): progress against the target, members chosen or pasted from Excel, new
cohorts, edits and deletes. Reads through `cached`, writes through services/cohorts.py only."""

from datetime import date

import pandas as pd
import streamlit as st

from db import run_write
from services import cohorts as svc
from services.errors import ServiceError, StaleRecord, ValidationFailed
from services.ikm import IkmFilter, list_ikm
from services.permissions import can
from services.reference import kabupaten_options
from ui.data import cached, show_service_error
from ui.format import fmt_date, md, md_params, today_wib
from ui.i18n import t
from ui.lang_css import table_downloads
from ui.record_form import first_result, form_token, mark_saved
from ui.session import context, current_actor
from ui.state import kept_tabs, lang_key

DEFAULT_PARTNERS = "BPWS, INOPAK, GIZ"
MEMBERS_SHOWN = 1000  # members listed per cohort (targets are at most 1000)
CANDIDATES_SHOWN = 500  # IKM offered in the "add by choosing" list

ctx = context()
actor = current_actor()
today = today_wib()
kabupaten = cached(ctx, kabupaten_options)
# Regencies where this user may create and change cohorts (the services check it again).
own = [k for k in kabupaten if actor.kabupaten_code in (None, k)] \
    if can(actor, "programme.write") else []
cohorts = {c["id"]: c for c in cached(ctx, svc.list_cohorts)}
# Cohorts whose training has ended: their members count as trained (services.overview.trained).
finished = {r["id"] for r in cached(ctx, svc.cohort_progress, today=today) if r["finished"]}
# Own regency first, then by regency, newest first.
cohort_ids = sorted(cohorts, key=lambda i: (cohorts[i]["kabupaten_code"] not in own,
                                            cohorts[i]["kabupaten_code"], -cohorts[i]["year"],
                                            cohorts[i]["name"]))


def field_label(name: str) -> str:
    return t(f"cohp.f.{name}")


def cohort_label(cid: int) -> str:
    c = cohorts[cid]
    return t("cohp.pick_label", name=c["name"], kabupaten=c["kabupaten"])


def show_error(exc: ServiceError) -> None:
    """A refusal in the user's language; a single-message refusal without repeated captions."""
    if isinstance(exc, ValidationFailed) and not exc.params.get("details") and all(
            keys == [exc.key] for keys in exc.errors.values()):
        st.error(t(exc.key, **md_params(exc.params)))
    else:
        show_service_error(exc, label=field_label)


def flash(kind: str, text: str) -> None:
    st.session_state["coh_flash"] = (kind, text)
    st.rerun()


def state_of(row: dict) -> str:
    """finished, undated, planned or running (a cohort_progress row, as of today in WIB)."""
    if row["finished"]:
        return "finished"
    if row["start_on"] is None:
        return "undated"
    return "planned" if row["start_on"] > today else "running"


def cohort_fields(prefix: str, values: dict, choices: list[str]) -> dict:
    """The fields of a cohort (inside a form); returns what was typed, for the service."""
    c = st.columns([2, 4, 1.4])
    kab = values.get("kabupaten_code")
    out = {"kabupaten_code": c[0].selectbox(
        field_label("kabupaten_code") + " *", choices, key=f"{prefix}_kab",
        index=choices.index(kab) if kab in choices else 0, format_func=kabupaten.get,
        placeholder=t("lang.choose"))}
    out["name"] = c[1].text_input(field_label("name") + " *", value=values.get("name") or "",
                                  key=f"{prefix}_name", max_chars=120,
                                  placeholder=t("cohp.name_hint"))
    out["year"] = c[2].number_input(field_label("year"), value=values.get("year"), step=1,
                                    format="%d", key=f"{prefix}_year",
                                    placeholder=t("cohp.year_auto"), help=t("cohp.year_help"))
    c = st.columns([1.2, 1.2, 2.4, 1.2])
    dates = {"min_value": date(1990, 1, 1), "max_value": date(today.year + 10, 12, 31),
             "format": "DD-MM-YYYY", "help": t("cohp.date_help")}
    out["start_on"] = c[0].date_input(field_label("start_on"), value=values.get("start_on"),
                                      key=f"{prefix}_start", **dates)
    out["end_on"] = c[1].date_input(field_label("end_on"), value=values.get("end_on"),
                                    key=f"{prefix}_end", **dates)
    out["partners"] = c[2].text_input(field_label("partners"), key=f"{prefix}_partners",
                                      value=values.get("partners") or "", max_chars=200)
    out["target_participants"] = c[3].number_input(
        field_label("target_participants"), key=f"{prefix}_target", min_value=1, max_value=1000,
        step=1, value=values.get("target_participants") or svc.DEFAULT_TARGET)
    out["notes"] = st.text_area(field_label("notes"), value=values.get("notes") or "",
                                key=f"{prefix}_notes", height=68, max_chars=2000)
    return out


def clear_keys(prefix: str) -> None:
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


st.title(t("cohp.title"))
st.caption(t("cohp.intro"))
if message := st.session_state.pop("coh_flash", None):
    getattr(st, message[0])(message[1])

# The open tab is kept by id: after a save or a language switch the same tab is open.
names = {"progress": t("cohp.tab_progress"), "members": t("cohp.tab_members")}
if own:
    names |= {"new": t("cohp.tab_new"), "edit": t("cohp.tab_edit")}
tabs = list(kept_tabs("coh_tab", names).values())
progress_tab, members_tab = tabs[0], tabs[1]

# --- progress -----------------------------------------------------------------------------------
with progress_tab:
    c = st.columns([1, 3])
    f_kab = c[0].selectbox(t("cohp.col.kabupaten"), ["", *kabupaten], key=lang_key("coh_f_kab"),
                           format_func=lambda k: kabupaten.get(k) or t("cohp.all"),
                           placeholder=t("cohp.all"))
    progress = cached(ctx, svc.cohort_progress, kabupaten_code=f_kab or None, today=today)
    if not progress:
        st.info(t("cohp.none"))
    else:
        members = sum(r["members"] for r in progress)
        target = sum(r["target"] or 0 for r in progress)
        m = st.columns(4)
        m[0].metric(t("cohp.m_cohorts"), len(progress))
        m[1].metric(t("cohp.m_members"), f"{members:,}".replace(",", "."),
                    delta=t("cohp.m_of_target", target=f"{target:,}".replace(",", ".")),
                    delta_color="off", delta_arrow="off")
        m[2].metric(t("cohp.m_trained"), f"{sum(r['trained'] for r in progress):,}"
                    .replace(",", "."), help=t("pipeline.trained_help"))
        m[3].metric(t("cohp.m_running"), sum(1 for r in progress if state_of(r) == "running"))
        frame = pd.DataFrame([{
            "name": r["name"], "kabupaten": r["kabupaten"],
            "state": t(f"cohp.state.{state_of(r)}"),
            "start_on": r["start_on"], "end_on": r["end_on"],
            "members": r["members"], "target": r["target"], "percent": r["percent"],
            "trained": r["trained"], "left": r["left"],
            "partners": cohorts.get(r["id"], {}).get("partners") or "—",
        } for r in progress])
        config = {name: st.column_config.Column(t(f"cohp.col.{name}")) for name in frame.columns}
        for name in ("start_on", "end_on"):
            config[name] = st.column_config.DateColumn(t(f"cohp.col.{name}"),
                                                       format="DD-MM-YYYY")
        config["percent"] = st.column_config.ProgressColumn(
            t("cohp.col.percent"), help=t("cohp.help.percent"), format="%.0f%%", min_value=0,
            max_value=100, width="small")
        config["trained"] = st.column_config.NumberColumn(t("cohp.col.trained"), format="%d",
                                                          help=t("pipeline.trained_help"))
        config["left"] = st.column_config.NumberColumn(t("cohp.col.left"), format="%d",
                                                       help=t("cohp.help.left"))
        st.dataframe(frame, column_config=config, hide_index=True, width="stretch",
                     height=min(38 + 35 * len(frame), 600), key="coh_progress_table",
                     placeholder="—")
        table_downloads(frame.replace("—", "")  # blank cells in the files, not the dash
                        .rename(columns={n: t(f"cohp.col.{n}") for n in frame.columns}),
                        stem=f"angkatan_{f_kab or 'madura'}_{today.isoformat()}",
                        sheet=t("cohp.progress_sheet"), key="coh_progress_dl")

# --- members ------------------------------------------------------------------------------------


def show_result(result: svc.MembersResult) -> None:
    """What add_members did: added, already members, and every line it could not add."""
    st.markdown(f"**{t('cohp.result_title')}**")
    if result.matched:
        st.success(t("coh.result.matched", count=len(result.matched)))
        moved = [md(m["name"]) for m in result.matched if m.get("from_cohort_id")]
        if moved:
            shown = ", ".join(moved[:10]) + (" …" if len(moved) > 10 else "")
            st.caption(t("coh.result.moved", name=shown))
    if result.over_target:
        st.warning(t("cohp.over_target", members=result.members, target=result.target),
                   icon=":material/group:")
    if result.kept:
        shown = ", ".join(md(k["name"]) for k in result.kept[:10])
        st.info(t("cohp.kept", count=len(result.kept),
                  names=shown + (" …" if len(result.kept) > 10 else "")))
    if result.already:
        st.info(t("coh.result.already", count=len(result.already)))
    problems = []
    for kind in ("not_found", "ambiguous", "other_regency", "duplicates"):
        key = "coh.result.duplicate" if kind == "duplicates" else f"coh.result.{kind}"
        for e in getattr(result, kind):
            line = t("cohp.result_line_none") if e.get("line") is None else e["line"]
            text = t(key, line=line, value=e["value"], count=len(e.get("candidates", [])))
            if kind == "ambiguous":
                text += " " + "; ".join(t("cohp.result_candidate", name=c["name"],
                                          nib=c["nib"] or "—") for c in e["candidates"])
            problems.append({"line": e.get("line"), "kind": kind, "text": text})
    if problems:
        problems.sort(key=lambda p: (p["line"] is None, p["line"] or 0))
        counts = {kind: sum(1 for p in problems if p["kind"] == kind) for kind in
                  ("not_found", "ambiguous", "other_regency", "duplicates")}
        summary = " · ".join(t(f"cohp.kind.{kind}", count=n) for kind, n in counts.items() if n)
        st.warning(t("cohp.result_problems", count=len(problems)) + " " + summary)
        st.dataframe(pd.DataFrame({t("cohp.result_col_reason"): [p["text"] for p in problems]}),
                     hide_index=True, width="stretch", placeholder="—",
                     height=min(38 + 35 * len(problems), 320))
    if not (result.matched or result.already or result.kept or problems):
        st.info(t("cohp.result_nothing"))


def add_members(cid: int, how: dict, **confirmed) -> None:
    """Add the chosen or pasted IKM (`how`); an IKM already trained in a finished cohort moves
    only after the user confirmed it (`confirmed`: move_trained or keep_trained), so the service
    first refuses and the page asks."""
    try:
        result = run_write(ctx.engine, lambda s: svc.add_members(
            s, actor=actor, cohort_id=cid, **how, **confirmed))
    except svc.MoveNeedsConfirmation as exc:
        st.session_state["coh_m_confirm"] = {"cohort_id": cid, "how": how, "ikm": exc.ikm}
        st.rerun()
    except ServiceError as exc:
        show_error(exc)
        return
    st.session_state.pop("coh_m_confirm", None)
    st.session_state["coh_m_result"] = (cid, result)
    st.session_state.pop(f"coh_m_choose_{cid}", None)
    if not (result.not_found or result.ambiguous or result.other_regency):
        st.session_state.pop(f"coh_m_paste_{cid}", None)
    st.rerun()


def confirm_move(cid: int, ask: dict) -> None:
    """Ask before moving IKM that were trained in a finished cohort: name each and its cohort;
    move them only on the explicit button, or add the others without them."""
    trained = ask["ikm"]
    with st.container(border=True, key=f"coh_m_confirm_box_{cid}"):
        st.warning(t("cohp.confirm_title", count=len(trained), cohort=md(cohorts[cid]["name"])),
                   icon=":material/warning:")
        st.dataframe(pd.DataFrame([{
            t("cohp.mcol.name"): k["name"], t("cohp.mcol.nib"): k["nib"] or "—",
            t("cohp.confirm_col_cohort"): k["from_cohort"],
            t("cohp.confirm_col_end"): fmt_date(k["from_end_on"])} for k in trained]),
            hide_index=True, width="stretch", height=min(38 + 35 * len(trained), 250),
            placeholder="—")
        row = st.container(horizontal=True, gap="small")
        if row.button(t("cohp.confirm_move", count=len(trained)), key=f"coh_m_confirm_move_{cid}",
                      icon=":material/move_up:"):
            add_members(cid, ask["how"], move_trained=[k["id"] for k in trained])
        if row.button(t("cohp.confirm_keep"), key=f"coh_m_confirm_keep_{cid}", type="primary",
                      icon=":material/group_add:"):
            add_members(cid, ask["how"], keep_trained=True)
        if row.button(t("cohp.confirm_cancel"), key=f"coh_m_confirm_cancel_{cid}"):
            st.session_state.pop("coh_m_confirm", None)
            st.rerun()


with members_tab:
    if not cohort_ids:
        st.info(t("cohp.none"))
    else:
        if (picked := st.session_state.pop("coh_m_next_pick", None)) in cohort_ids:
            st.session_state["coh_m_pick"] = picked
        if st.session_state.get("coh_m_pick") not in cohort_ids:
            st.session_state.pop("coh_m_pick", None)
        c = st.columns([3, 2], vertical_alignment="bottom")
        cid = c[0].selectbox(t("cohp.pick"), cohort_ids, key="coh_m_pick",
                             format_func=cohort_label, placeholder=t("lang.choose"))
        cohort = cohorts[cid]
        kab = cohort["kabupaten_code"]
        rows, total = cached(ctx, list_ikm, filters=IkmFilter(cohort_id=cid), page=1,
                             page_size=MEMBERS_SHOWN)
        c[1].caption(t("cohp.members_of", count=total, target=cohort["target_participants"]))
        last = st.session_state.get("coh_m_result")
        if last and last[0] == cid:
            show_result(last[1])
        if rows:
            shown = ["name", "nib", "owner_name", "kecamatan", "desa", "status"]
            frame = pd.DataFrame(rows)[shown]
            frame["status"] = [t(f"ikm.{s}") if s else None for s in frame["status"]]
            frame = frame.astype(object).where(frame.notna(), "—")
            st.dataframe(frame, hide_index=True, width="stretch", placeholder="—",
                         height=min(38 + 35 * len(frame), 400), column_config={
                             n: st.column_config.Column(t(f"cohp.mcol.{n}")) for n in shown})
            table_downloads(frame.replace("—", "")
                            .rename(columns={n: t(f"cohp.mcol.{n}") for n in shown}),
                            stem=f"anggota_angkatan_{cid}", sheet=t("cohp.members_sheet"),
                            key=f"coh_members_dl_{cid}")
            if total > len(rows):
                st.caption(t("cohp.members_more", shown=len(rows), total=total))
        else:
            st.caption(t("cohp.no_members"))

        if kab not in own:
            st.caption(t("cohp.read_only"))
        else:
            member_ids = {r["id"] for r in rows}
            pick_col, paste_col = st.columns(2, gap="large")
            with pick_col.container(border=True):
                st.markdown(f"**{t('cohp.add_pick_title')}**")
                search = st.text_input(t("cohp.add_search", kabupaten=kabupaten[kab]),
                                       key=f"coh_m_search_{cid}",
                                       placeholder=t("cohp.add_search_hint"))
                found, found_total = cached(
                    ctx, list_ikm, filters=IkmFilter(kabupaten_code=kab,
                                                     search=search.strip() or None),
                    page=1, page_size=CANDIDATES_SHOWN)
                labels = st.session_state.setdefault("coh_m_labels", {})
                for r in found:
                    where = t("cohp.no_cohort") if not r["cohort"] else t(
                        "cohp.trained_in" if r["cohort_id"] in finished else "cohp.other_cohort",
                        cohort=r["cohort"])
                    labels[r["id"]] = f"{r['name']} · {r['kecamatan']} · {r['nib'] or '—'} " \
                                      f"({where})"
                choose_key = f"coh_m_choose_{cid}"
                options = [r["id"] for r in found if r["id"] not in member_ids]
                # Choices made before the search changed stay chosen.
                options += [i for i in st.session_state.get(choose_key, []) if i not in options]
                # select_all=False hides the bulk option of 1.67: one click must not move
                # hundreds of IKM between cohorts.
                chosen = st.multiselect(t("cohp.add_choose"), options, key=choose_key,
                                        format_func=lambda i: labels.get(i, f"#{i}"),
                                        help=t("cohp.add_choose_help"), select_all=False,
                                        placeholder=t("cohp.choose_placeholder"))
                if found_total > len(found):
                    st.caption(t("cohp.add_choose_more", shown=len(found), total=found_total))
                if st.button(t("cohp.add_chosen"), key=f"coh_m_add_{cid}", type="primary",
                             disabled=not chosen, icon=":material/group_add:"):
                    add_members(cid, {"ikm_ids": list(chosen)})
            with paste_col.container(border=True):
                st.markdown(f"**{t('cohp.add_paste_title')}**")
                pasted = st.text_area(t("cohp.add_paste"), key=f"coh_m_paste_{cid}", height=142,
                                      help=t("cohp.add_paste_help"),
                                      placeholder="3529010000001\nKeripik Singkong Bu Ani")
                if st.button(t("cohp.add_paste_go"), key=f"coh_m_paste_go_{cid}",
                             type="primary", icon=":material/content_paste_go:"):
                    add_members(cid, {"pasted": pasted})

            ask = st.session_state.get("coh_m_confirm")
            if ask and (ask["cohort_id"] != cid
                        or ask["how"] not in ({"ikm_ids": list(chosen)}, {"pasted": pasted})):
                ask = st.session_state["coh_m_confirm"] = None  # the choice changed: ask again
            if ask:
                confirm_move(cid, ask)

            if rows:
                st.markdown(f"**{t('cohp.remove_title')}**")
                brief = {r["id"]: f"{r['name']} · {r['nib'] or '—'}" for r in rows}
                c = st.columns([4, 1.3], vertical_alignment="bottom")
                leaving = c[0].multiselect(t("cohp.remove_choose"), list(brief),
                                           key=f"coh_m_remove_{cid}", format_func=brief.get,
                                           select_all=False,
                                           placeholder=t("cohp.choose_placeholder"))
                asked = st.session_state.get("coh_m_remove_confirm")
                if asked and (asked["cohort_id"] != cid or asked["ids"] != sorted(leaving)):
                    asked = st.session_state["coh_m_remove_confirm"] = None  # choice changed

                def remove(confirm: bool = False) -> None:
                    try:
                        gone = run_write(ctx.engine, lambda s: svc.remove_members(
                            s, actor=actor, cohort_id=cid, ikm_ids=list(leaving),
                            confirm_trained=confirm))
                    except svc.MoveNeedsConfirmation:
                        st.session_state["coh_m_remove_confirm"] = {"cohort_id": cid,
                                                                    "ids": sorted(leaving)}
                        st.rerun()
                    except ServiceError as exc:
                        show_error(exc)
                    else:
                        st.session_state.pop("coh_m_remove_confirm", None)
                        st.session_state.pop(f"coh_m_remove_{cid}", None)
                        st.session_state.pop("coh_m_result", None)
                        flash("success", t("cohp.removed", count=gone))

                if c[1].button(t("cohp.remove"), key=f"coh_m_remove_go_{cid}",
                               disabled=not leaving, icon=":material/group_remove:",
                               width="stretch"):
                    remove()
                if asked:
                    with st.container(border=True, key=f"coh_m_remove_box_{cid}"):
                        st.warning(t("cohp.remove_trained", count=len(asked["ids"]),
                                     cohort=md(cohort["name"])), icon=":material/warning:")
                        row = st.container(horizontal=True, gap="small")
                        if row.button(t("cohp.remove_trained_yes", count=len(asked["ids"])),
                                      key=f"coh_m_remove_yes_{cid}",
                                      icon=":material/group_remove:"):
                            remove(confirm=True)
                        if row.button(t("cohp.confirm_cancel"),
                                      key=f"coh_m_remove_cancel_{cid}", type="primary"):
                            st.session_state.pop("coh_m_remove_confirm", None)
                            st.rerun()

# --- new cohort ---------------------------------------------------------------------------------
if own:
    with tabs[2]:
        if actor.kabupaten_code:
            st.caption(t("cohp.scope_note", kabupaten=kabupaten[actor.kabupaten_code]))
        # The submission token is in every key: a created cohort's form is drawn again empty,
        # and a second submit of it (a double click) creates nothing.
        token = form_token("coh_new")
        with st.form(f"coh_form_new_{token}", border=False, enter_to_submit=False):
            values = cohort_fields(f"coh_new_{token}",
                                   {"partners": DEFAULT_PARTNERS,
                                    "target_participants": svc.DEFAULT_TARGET}, own)
            st.caption(t("cohp.required_note"))
            create = st.form_submit_button(t("cohp.create"), type="primary",
                                           icon=":material/add:")
        if create and (done := first_result(token)) is not None:
            st.success(done)
        elif create:
            try:
                made = run_write(ctx.engine,
                                 lambda s: svc.create_cohort(s, actor=actor, data=values))
                made_id, message = made.id, t("cohp.created", name=md(made.name))
            except ServiceError as exc:
                show_error(exc)
            else:
                mark_saved("coh_new", token, message)
                st.session_state["coh_m_next_pick"] = made_id
                flash("success", message)

# --- edit or delete -----------------------------------------------------------------------------
if own:
    with tabs[3]:
        editable = [i for i in cohort_ids if cohorts[i]["kabupaten_code"] in own]
        if not editable:
            st.info(t("cohp.none_editable"))
        else:
            if st.session_state.get("coh_e_pick") not in editable:
                st.session_state.pop("coh_e_pick", None)
            eid = st.selectbox(t("cohp.pick"), editable, key="coh_e_pick",
                               format_func=cohort_label, placeholder=t("lang.choose"))
            row = cohorts[eid]
            # The version the user started editing from: a save checks against it, so a change
            # made meanwhile by someone else is refused instead of overwritten.
            loaded = st.session_state.get("coh_e_loaded")
            if not loaded or loaded[0] != eid:
                loaded = st.session_state["coh_e_loaded"] = (eid, row["version"])
            prefix = f"coh_e_{eid}_{loaded[1]}"
            with st.form(f"coh_form_{eid}_{loaded[1]}", border=False,
                         enter_to_submit=False):
                changes = cohort_fields(prefix, row, own)
                save = st.form_submit_button(t("cohp.save"), type="primary",
                                             icon=":material/save:")
            if save:
                try:
                    saved = run_write(ctx.engine, lambda s: svc.update_cohort(
                        s, actor=actor, cohort_id=eid, expected_version=loaded[1],
                        changes=changes))
                    saved_version, saved_name = saved.version, saved.name
                except StaleRecord:
                    st.session_state["coh_e_stale"] = loaded
                except ServiceError as exc:
                    show_error(exc)
                else:
                    if saved_version == loaded[1]:
                        st.info(t("cohp.unchanged"))
                    else:
                        st.session_state.pop("coh_e_loaded", None)
                        flash("success", t("cohp.saved", name=md(saved_name)))
            if st.session_state.get("coh_e_stale") == loaded:
                st.error(t("err.stale"))
                if st.button(t("cohp.reload"), key="coh_e_reload", icon=":material/refresh:"):
                    for key in ("coh_e_stale", "coh_e_loaded"):
                        st.session_state.pop(key, None)
                    clear_keys(prefix)
                    st.rerun()

            with st.expander(t("cohp.delete_title"), icon=":material/delete:"):
                st.caption(t("cohp.delete_note"))
                if row["members"]:
                    st.caption(t("cohp.delete_members", count=row["members"]))
                c = st.columns([4, 1.3], vertical_alignment="center")
                sure = c[0].checkbox(t("cohp.delete_confirm"), key=f"{prefix}_delete_ok")
                if c[1].button(t("cohp.delete"), key=f"{prefix}_delete", disabled=not sure,
                               icon=":material/delete:", width="stretch"):
                    try:
                        run_write(ctx.engine, lambda s: svc.delete_cohort(
                            s, actor=actor, cohort_id=eid, expected_version=loaded[1]))
                    except StaleRecord:
                        st.session_state["coh_e_stale"] = loaded
                        st.rerun()
                    except ServiceError as exc:
                        show_error(exc)
                    else:
                        st.session_state.pop("coh_e_loaded", None)
                        flash("success", t("cohp.deleted", name=md(row["name"])))

"""Impor / Ekspor: template download, upload with a dry run (counts and every rejected cell),
commit with a progress bar, and exports of the filtered IKM list. Staff and admins only.

Every check and write is services.imports's; the page keeps the uploaded bytes in session state
under their SHA-256, so the commit writes exactly the file whose dry run the user saw."""

import dataclasses
import hashlib
import logging
from collections import defaultdict
from datetime import date, datetime

import pandas as pd
import streamlit as st

from db import read_session, run_write
from services import exporter, overview
from services import imports as importer
from services.audit import data_version
from services.errors import ServiceError
from services.ikm import STATUSES, IkmFilter, list_ikm
from services.imports import history
from services.permissions import can
from services.reference import kabupaten_options
from ui.data import cached, show_service_error
from ui.format import fmt_date, fmt_datetime, md, md_params, today_wib
from ui.i18n import current_language, t
from ui.session import context, current_actor
from ui.state import kept_tabs, lang_key

log = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
LIMITS = importer.LIMITS
# The uploader states and enforces the importer's size limit (Streamlit counts MB as MiB, as the
# importer does), so the dropzone and the caption never disagree.
UPLOAD_MAX_MB = max(1, -(-LIMITS.max_bytes // (1024 * 1024)))
# Long lists show their first rows (a table, never a widget per row) and offer the whole list as
# a download; conflicts get a card with its own checkbox up to CONFLICT_CARDS of them.
LIST_ROWS = 300
CONFLICT_CARDS = 20
HISTORY_BATCHES = 200
CHANGED_SINCE = "imp.changed_since_export"

ctx = context()
actor = current_actor()
lang = current_language()
importer.warm_up()  # the upload reader's worker process, ready before the first upload

st.title(t("imppg.title"))
if not can(actor, "programme.write"):  # navigation hides the page; the services check again
    st.error(t("imppg.forbidden"))
    st.stop()
st.caption(t("imppg.intro"))


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def file_size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    text = f"{size / 1024 / 1024:.1f}"
    return f"{text.replace('.', ',') if lang == 'id' else text} MB"


def refusal(exc: importer.ImportRefused) -> str:
    return importer.message(exc.key, md_params(exc.params), lang=lang)  # shown as Markdown


def registered() -> int:
    """The "IKM terdaftar" figure of the Overview page."""
    rows = cached(ctx, overview.funnel_by_kabupaten, as_of=today_wib())
    return overview.totals(rows)["registered"]


def current_version() -> int:
    with read_session(ctx.engine) as session:
        return data_version(session)


def check_upload(name: str, data: bytes, digest: str, version: int) -> dict:
    """The dry run of an upload, in a session that is never committed."""
    check = {"hash": digest, "version": version, "name": name, "size": len(data)}
    try:
        with read_session(ctx.engine) as session:
            check["report"] = importer.dry_run(session, actor=actor, filename=name, data=data)
            session.rollback()
    except importer.ImportRefused as exc:
        check["refused"] = refusal(exc)
    except ServiceError as exc:
        check["error"] = exc
    except Exception:  # an unforeseen file must still get a message, never a traceback
        log.exception("dry run of an upload failed: %s", name)
        check["refused"] = t("imppg.unexpected")
    else:
        check["data"] = data  # kept only for a file the commit may write
    return check


def error_table(report: importer.ImportReport, *, warnings: bool = False):
    if warnings:
        report = dataclasses.replace(report, errors=report.warnings)
    return importer.error_frame(report, lang=lang)


def show_counts(report: importer.ImportReport) -> None:
    names = ("new", "updated", "unchanged", "rejected", "skipped")
    filled = [s for s in report.sheets if s.total > s.skipped]
    examples = [s.sheet for s in report.sheets if s.total and s.total == s.skipped]
    if len(filled) == 1:
        st.markdown(f"**{t('imppg.sheet', sheet=md(filled[0].sheet))}**")
    source = filled[0] if len(filled) == 1 else report
    for column, name in zip(st.columns(len(names)), names, strict=True):
        column.metric(t(f"imppg.m_{name}"), number(getattr(source, name)),
                      help=t(f"imppg.help_{name}"))
    if len(filled) > 1:
        # one line per sheet: what each kind of record will do
        # the kind of record only where the sheet's own name does not say it
        kinds = any(s.sheet.casefold() != t(f"imp.kind.{s.kind}").casefold() for s in filled)
        rows = [{t("imppg.col_sheet"): s.sheet,
                 **({t("imppg.col_kind"): t(f"imp.kind.{s.kind}")} if kinds else {}),
                 **{t(f"imppg.m_{name}"): getattr(s, name) for name in names}} for s in filled]
        st.dataframe(rows, hide_index=True, width="stretch", placeholder="—")
    if examples:
        st.caption(t("imppg.only_example", sheet=", ".join(map(md, examples))))
    empty = [s.sheet for s in report.sheets if not s.total]
    if empty:
        st.caption(t("imppg.empty_sheets", sheets=", ".join(map(md, empty))))
    if report.ignored_sheets:
        st.caption(t("imppg.ignored", sheets=", ".join(map(md, report.ignored_sheets))))


def table_config() -> dict:
    # the row number narrow, the reason wide (texts as error_frame names them)
    return {importer.message("imp.report.row", lang=lang): st.column_config.NumberColumn(
                width="small", format="%d"),
            importer.message("imp.report.reason", lang=lang): st.column_config.TextColumn(
                width="large")}


def show_problems(report: importer.ImportReport, digest: str) -> None:
    # a row of an old export whose record someone changed since is a conflict, listed with
    # who and what below (and written once the user says so), not a cell to fix in the file
    errors = [e for e in report.errors if e.key != CHANGED_SINCE]
    if errors:
        rows = len({(e.sheet, e.row) for e in errors})
        st.error(t("imppg.errors", rows=number(rows), cells=number(len(errors))))
        frame = error_table(dataclasses.replace(report, errors=errors))
        st.dataframe(frame, hide_index=True, width="stretch", height=min(38 + 35 * len(frame), 420),
                     column_config=table_config(), placeholder="—")
        stem = f"laporan_galat_{digest[:8]}"
        sheet = t("imppg.report_sheet")  # the files are built in another thread: no t() there
        c1, c2, _ = st.columns([1, 1, 1])
        c1.download_button(
            t("imppg.report_xlsx"), key="imp_report_xlsx", mime=XLSX_MIME,
            file_name=f"{stem}.xlsx", icon=":material/download:", on_click="ignore",
            width="stretch", data=lambda: exporter.to_xlsx(frame, sheet=sheet))
        c2.download_button(
            t("imppg.report_csv"), key="imp_report_csv", mime=CSV_MIME,
            file_name=f"{stem}.csv", icon=":material/download:", on_click="ignore", width="stretch",
            data=lambda: exporter.to_csv(frame))
    elif not report.conflicts:
        st.success(t("imppg.all_valid"))
    if report.warnings:
        st.warning(t("imppg.warnings", count=len(report.warnings)))
        st.dataframe(error_table(report, warnings=True), hide_index=True, width="stretch",
                     column_config=table_config(), placeholder="—")


def text_of(value, empty: str = "") -> str:
    """A stored or read value as a table shows it (one text type per column)."""
    if value is None:
        return empty
    if isinstance(value, tuple):  # a record new in this upload (its id comes with the commit)
        return t("imppg.new_record")
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, date):
        return fmt_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def people(usernames) -> dict[str, str]:
    """Usernames as people know them: "Rina Wati (rina)"."""
    names = cached(ctx, history.display_names, usernames=tuple(sorted(set(usernames))))
    return {u: f"{names[u]} ({u})" if names.get(u) and names[u] != u else u
            for u in usernames}


def note_text(note) -> str:
    # a parameter naming a word of the catalogue ("imp.order.mdy") is put in words first
    params = {k: importer.message(v, lang=lang) if isinstance(v, str) and v.startswith("imp.")
              else v for k, v in note.params.items()}
    return importer.message(note.key, md_params(params), lang=lang)


def show_notes(report: importer.ImportReport) -> None:
    """How the file was read: its encoding, title rows, date orders and number formats."""
    if not report.notes:
        return
    by_sheet: dict[str, list] = defaultdict(list)
    for note in report.notes:
        by_sheet[note.sheet].append(note)
    with st.container(border=True):
        st.markdown(f"**:material/visibility: {t('imppg.notes')}**")
        for sheet, notes in by_sheet.items():
            lines = "\n".join(f"- {note_text(n)}" for n in notes)
            title = f"{t('imppg.sheet', sheet=md(sheet))}:\n\n" if len(report.sheets) > 1 else ""
            st.markdown(title + lines)
        st.caption(t("imppg.notes_help"))


def change_rows(report: importer.ImportReport, labels: dict, limit: int | None = None,
                sheets: bool = True) -> list:
    """The changes as table rows (no t() here: downloads are built in another thread)."""
    out = []
    for c in report.changes[:limit]:
        out.append({**({labels["sheet"]: c.sheet} if sheets else {}), labels["row"]: c.row,
                    labels["record"]: c.record, labels["column"]: c.column,
                    labels["before"]: text_of(c.before, "–"),
                    labels["after"]: labels["empty"] if c.cleared else text_of(c.after, "–"),
                    labels["note"]: labels["cleared"] if c.cleared else ""})
    return out


def show_changes(report: importer.ImportReport, digest: str) -> None:
    """Every field an update changes, before -> after; emptied fields marked in words and
    colour. The first LIST_ROWS on screen, the whole list as a download."""
    if not report.changes:
        return
    labels = {"sheet": t("imppg.col_sheet"), "row": t("imppg.chg_row"),
              "record": t("imppg.chg_record"), "column": t("imppg.chg_column"),
              "before": t("imppg.chg_before"), "after": t("imppg.chg_after"),
              "note": t("imppg.chg_note"), "cleared": t("imppg.chg_cleared"),
              "empty": t("imppg.empty_value")}
    st.markdown(f"#### {t('imppg.changes')}")
    records = len({(c.sheet, c.row) for c in report.changes})
    cleared = sum(c.cleared for c in report.changes)
    line = t("imppg.changes_count", fields=number(len(report.changes)), records=number(records))
    if cleared:
        line += " " + t("imppg.changes_cleared", count=number(cleared))
    st.caption(line)
    sheets = len({c.sheet for c in report.changes}) > 1  # one sheet: its name is above
    frame = pd.DataFrame(change_rows(report, labels, LIST_ROWS, sheets), dtype=object)
    note = labels["note"]
    styled = frame.style.apply(
        lambda row: ["background-color: #fdecc8; color: #5c3b00" if row[note] else ""
                     for _ in row], axis=1)
    text = st.column_config.TextColumn
    st.dataframe(styled, hide_index=True, width="stretch", key="imp_changes", placeholder="—",
                 height=min(38 + 35 * len(frame), 420),
                 column_config={labels["sheet"]: text(width=110),
                                labels["row"]: st.column_config.NumberColumn(width=55,
                                                                             format="%d"),
                                labels["record"]: text(width=170 if sheets else 190),
                                labels["column"]: text(width=170 if sheets else 200),
                                labels["before"]: text(width=150),
                                labels["after"]: text(width=150), note: text(width=100)})
    if len(report.changes) > LIST_ROWS:
        st.caption(t("imppg.changes_first", shown=number(LIST_ROWS),
                     total=number(len(report.changes))))
    sheet = t("imppg.changes_sheet")

    def whole() -> pd.DataFrame:
        return pd.DataFrame(change_rows(report, labels), dtype=object)

    c1, c2, _ = st.columns([1, 1, 1])
    c1.download_button(t("imppg.changes_xlsx"), key="imp_changes_xlsx", mime=XLSX_MIME,
                       file_name=f"perubahan_{digest[:8]}.xlsx", icon=":material/download:",
                       on_click="ignore", width="stretch",
                       data=lambda: exporter.to_xlsx(whole(), sheet=sheet))
    c2.download_button(t("imppg.changes_csv"), key="imp_changes_csv", mime=CSV_MIME,
                       file_name=f"perubahan_{digest[:8]}.csv", icon=":material/download:",
                       on_click="ignore", width="stretch", data=lambda: exporter.to_csv(whole()))


def overwrite_rows(conflict) -> list[dict]:
    return [{t("imppg.conflict_col"): column, t("imppg.conflict_now"): text_of(now, "–"),
             t("imppg.conflict_file"): text_of(new, t("imppg.empty_value"))}
            for column, now, new in conflict.overwrites]


def show_conflicts(report: importer.ImportReport, digest: str) -> dict[tuple[str, int], int]:
    """Each row of an old export whose record someone changed since: who, when, what they
    changed and what the file would put back. Returns the conflicts the user chose to
    overwrite: {(sheet, row): the record version they saw}."""
    conflicts = report.conflicts
    if not conflicts:
        return {}
    who = people([c.changed_by for c in conflicts])
    st.markdown(f"#### {t('imppg.conflicts')}")
    st.warning(t("imppg.conflicts_intro", count=number(len(conflicts))),
               icon=":material/sync_problem:")
    chosen: dict[tuple[str, int], int] = {}
    if len(conflicts) <= CONFLICT_CARDS:
        for c in conflicts:
            with st.container(border=True):
                title = t("imppg.conflict_title", sheet=md(c.sheet), row=c.row,
                          record=md(c.record))
                st.markdown(f"**{title}**")
                st.markdown(t("imppg.conflict_by", who=md(who[c.changed_by]),
                              at=fmt_datetime(c.changed_at),
                              columns=md(", ".join(c.columns) or "–")))
                if c.overwrites:
                    st.table(pd.DataFrame(overwrite_rows(c), dtype=object), hide_index=True)
                # the key names the version: a newer change needs a new yes
                if st.checkbox(t("imppg.conflict_overwrite", who=md(who[c.changed_by])),
                               key=f"imp_ow_{digest[:16]}_{c.sheet}_{c.row}_{c.version}"):
                    chosen[(c.sheet, c.row)] = c.version
        return chosen
    rows = [{t("imppg.col_sheet"): c.sheet, t("imppg.chg_row"): c.row,
             t("imppg.chg_record"): c.record, t("imppg.conflict_who"): who[c.changed_by],
             t("imppg.conflict_when"): fmt_datetime(c.changed_at),
             t("imppg.conflict_columns"): ", ".join(c.columns),
             t("imppg.conflict_writes"): "; ".join(
                 f"{col}: {text_of(now, '–')} → {text_of(new, t('imppg.empty_value'))}"
                 for col, now, new in c.overwrites)} for c in conflicts]
    frame = pd.DataFrame(rows, dtype=object)
    st.dataframe(frame.head(LIST_ROWS), hide_index=True, width="stretch", height=420,
                 placeholder="—")
    if len(frame) > LIST_ROWS:
        st.caption(t("imppg.changes_first", shown=number(LIST_ROWS), total=number(len(frame))))
    sheet = t("imppg.conflicts_sheet")
    st.download_button(t("imppg.conflicts_xlsx"), key="imp_conflicts_xlsx", mime=XLSX_MIME,
                       file_name=f"konflik_{digest[:8]}.xlsx", icon=":material/download:",
                       on_click="ignore", data=lambda: exporter.to_xlsx(frame, sheet=sheet))
    versions = "_".join(str(c.version) for c in conflicts)
    key = f"imp_ow_all_{digest[:16]}_{hashlib.sha256(versions.encode()).hexdigest()[:12]}"
    if st.checkbox(t("imppg.conflicts_all", count=number(len(conflicts))), key=key):
        chosen = {(c.sheet, c.row): c.version for c in conflicts}
    return chosen


def freed_rows(report: importer.ImportReport, chosen: dict) -> int:
    """How many rejected rows the chosen overwrites make valid: conflicts whose only problem is
    the colleague's change."""
    keys: dict[tuple[str, int], set[str]] = defaultdict(set)
    for e in report.errors:
        keys[(e.sheet, e.row)].add(e.key)
    return sum(1 for row in chosen if keys.get(row) == {CHANGED_SINCE})


def commit(check: dict, allow_partial: bool, overwrite: dict | None = None) -> None:
    """Write the checked bytes; on success remember a summary and clear the upload."""
    data = check["data"]
    if hashlib.sha256(data).hexdigest() != check["hash"]:  # never write another file
        st.error(t("imppg.unexpected"))
        return
    before = registered()
    bar = st.progress(0.0, text=t("imp.progress.checking"))

    def progress(fraction: float, key: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=t(key))

    try:
        done = run_write(ctx.engine, lambda s: importer.commit(
            s, actor=actor, filename=check["name"], data=data, allow_partial=allow_partial,
            progress=progress, overwrite=overwrite or None))
    except importer.ImportRefused as exc:
        bar.empty()
        st.error(refusal(exc))
        return
    except ServiceError as exc:
        bar.empty()
        show_service_error(exc)
        return
    except Exception:
        log.exception("import commit failed: %s", check["name"])
        bar.empty()
        st.error(t("imppg.unexpected"))
        return
    st.session_state["imp_done"] = {
        "batch": done.batch_id, "name": done.filename, "new": done.new,
        "updated": done.updated, "unchanged": done.unchanged, "rejected": done.rejected,
        "before": before, "after": registered()}
    st.session_state.pop("imp_check", None)
    st.session_state["imp_uploader_gen"] = st.session_state.get("imp_uploader_gen", 0) + 1
    st.rerun()


# The open tab is kept by id: after a save or a language switch the same tab is open.
import_tab, export_tab, history_tab = kept_tabs("imp_tab", {
    "import": t("imppg.tab_import"), "export": t("imppg.tab_export"),
    "history": t("imppg.tab_history")}).values()

# --- import: template, upload and dry run, commit -----------------------------------------------
with import_tab:
    if done := st.session_state.pop("imp_done", None):
        st.success(t("imppg.saved", batch=done["batch"], name=md(done["name"]),
                     new=number(done["new"]), updated=number(done["updated"]),
                     unchanged=number(done["unchanged"]), rejected=number(done["rejected"])))
        c1, c2 = st.columns([3, 1], vertical_alignment="center")
        c1.info(t("imppg.overview_count", before=number(done["before"]),
                  after=number(done["after"])))
        c2.page_link("app_pages/overview.py", label=t("imppg.to_overview"),
                     icon=":material/dashboard:")

    template_col, upload_col = st.columns([1, 2], gap="large")
    with template_col:
        st.subheader(t("imppg.step_template"))
        st.caption(t("imppg.template_help"))
        st.download_button(t("imppg.template_button"), key="imp_template", mime=XLSX_MIME,
                           data=cached(ctx, exporter.template_workbook, lang=lang),
                           file_name="templat_impor_ikm.xlsx", icon=":material/download:",
                           on_click="ignore", width="stretch")
    with upload_col:
        st.subheader(t("imppg.step_upload"))
        uploader_key = f"imp_file_{st.session_state.get('imp_uploader_gen', 0)}"
        types = ["xlsx", "xls", "csv", "txt"]
        uploaded = st.file_uploader(t("imppg.uploader"), type=types,
                                    key=uploader_key, max_upload_size=UPLOAD_MAX_MB,
                                    help=t("imppg.uploader_help"))
        # Streamlit's own "5MB per file • XLSX, …" is hidden (ui/lang_css.py): said here instead
        st.caption(t("imppg.accepts", types=", ".join(types).upper()) + " "
                   + t("imppg.limits", size=f"{LIMITS.max_bytes / 1024 / 1024:g}",
                       rows=number(LIMITS.max_rows)))

    check, changed_meanwhile = None, False
    if uploaded is None:
        st.session_state.pop("imp_check", None)
    else:
        data = uploaded.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        version = current_version()
        check = previous = st.session_state.get("imp_check")
        # the same file checked against the same data is not checked again
        if not check or (check["hash"], check["version"]) != (digest, version):
            with st.spinner(t("imp.progress.checking")):
                check = check_upload(uploaded.name, data, digest, version)
            st.session_state["imp_check"] = check
            # someone saved data meanwhile and the outcome of this very file differs
            changed_meanwhile = bool(previous) and previous["hash"] == digest and \
                previous.get("report") != check.get("report")

    report = check.get("report") if check else None
    if check and "refused" in check:
        st.error(check["refused"])
    elif check and "error" in check:
        show_service_error(check["error"])
    elif report is not None:
        st.subheader(t("imppg.result"))
        st.caption(t("imppg.checked", name=md(check["name"]), size=file_size(check["size"])))
        show_counts(report)
        show_notes(report)
        show_problems(report, check["hash"])
        show_changes(report, check["hash"])
        chosen = show_conflicts(report, check["hash"])

        st.subheader(t("imppg.step_save"))
        freed = freed_rows(report, chosen)
        rejected = report.rejected - freed
        to_write = report.new + report.updated + freed
        if not to_write:
            st.info(t("imppg.nothing_to_save") if not report.rejected
                    else t("imp.nothing_valid"))
        else:
            if freed:
                st.caption(t("imppg.save_plan_overwrite", new=number(report.new),
                             updated=number(report.updated), overwrite=number(freed)))
            else:
                st.caption(t("imppg.save_plan", new=number(report.new),
                             updated=number(report.updated)))
            partial = False
            if rejected:
                partial = st.checkbox(
                    t("imppg.partial", ok=number(report.ok + freed), rejected=number(rejected)),
                    key=f"imp_partial_{check['hash'][:16]}")
                if not partial:
                    st.caption(t("imppg.partial_needed"))
            if st.button(t("imppg.save", count=number(to_write)), type="primary",
                         key="imp_commit", icon=":material/save:",
                         disabled=bool(rejected) and not partial):
                if changed_meanwhile:  # the user decided on another outcome: show the new one
                    st.warning(t("imppg.rechecked"))
                else:
                    commit(check, allow_partial=partial,
                           overwrite={row: v for row, v in chosen.items()})

# --- export of the filtered IKM list --------------------------------------------------------
with export_tab:
    kabupaten = cached(ctx, kabupaten_options)
    c1, c2, _ = st.columns([1, 1, 1])
    kab = c1.selectbox(t("col.kabupaten"), [None, *kabupaten], key=lang_key("imp_x_kab"),
                       format_func=lambda k: t("ikm.all") if k is None else kabupaten[k],
                       placeholder=t("ikm.all"))
    status = c2.selectbox(t("ikm.col.status"), [None, *STATUSES], key=lang_key("imp_x_status"),
                          format_func=lambda s: t("ikm.all") if s is None else t(f"ikm.{s}"),
                          placeholder=t("ikm.all"))
    filters = IkmFilter(kabupaten_code=kab, status=status)
    total = cached(ctx, list_ikm, filters=filters, page=1, page_size=1)[1]
    st.caption(t("imppg.export_help"))
    if not total:
        st.info(t("imppg.export_empty"))
    else:
        st.markdown(t("imppg.export_count", count=number(total)))
        parts = ["ikm", kabupaten[kab].lower() if kab else None, status, today_wib().isoformat()]
        stem = "_".join(p for p in parts if p)

        # Files are built only when a button is pressed (in a thread of their own).
        def export_xlsx() -> bytes:
            with read_session(ctx.engine) as session:
                return exporter.export_workbook(session, filters=filters, actor=actor)

        def export_csv() -> bytes:
            with read_session(ctx.engine) as session:
                return exporter.to_csv(exporter.export_ikm(session, filters=filters,
                                                           actor=actor))

        c1, c2, _ = st.columns([1, 1, 1])
        c1.download_button(t("imppg.export_xlsx"), data=export_xlsx, key="imp_x_xlsx",
                           file_name=f"{stem}.xlsx", mime=XLSX_MIME, type="primary",
                           icon=":material/download:", on_click="ignore", width="stretch")
        c2.download_button(t("imppg.export_csv"), data=export_csv, key="imp_x_csv",
                           file_name=f"{stem}.csv", mime=CSV_MIME, icon=":material/download:",
                           on_click="ignore", width="stretch", help=t("imppg.export_csv_help"))

# --- import history: every batch, what it did, and its undo (admins) -----------------------------


def record_rows(records: list[dict], labels: dict, limit: int | None = None) -> list[dict]:
    """A batch's records as table rows, one per changed field of an update (no t() here:
    downloads are built in another thread)."""
    out = []
    for r in records:
        what = {labels["kind"]: labels["kinds"].get(r["kind"], r["kind"]),
                labels["record"]: r["name"], labels["action"]: labels[r["action"]]}
        for column, before, after in r["changes"] or [("", None, None)]:
            if limit is not None and len(out) >= limit:
                return out
            empty = labels["empty"] if column else ""
            out.append({**what, labels["column"]: column,
                        labels["before"]: text_of(before, empty),
                        labels["after"]: text_of(after, empty)})
    return out


def undo(batch: dict) -> None:
    """Undo a batch in one transaction; a refusal lists the records changed since."""
    try:
        done = run_write(ctx.engine,
                         lambda s: history.undo_batch(s, actor=actor, batch_id=batch["id"]))
    except history.UndoRefused as exc:
        st.error(t("imphist.changed_since", id=batch["id"], count=number(len(exc.changed))))
        who = people([c["username"] for c in exc.changed if c["username"]])
        kinds = {c["kind"] for c in exc.changed}
        names = {k: t(f"imp.kind.{k}") if k in importer.KINDS else t(f"imphist.kind_{k}")
                 for k in kinds}
        st.dataframe(pd.DataFrame([{
            t("imphist.col_kind"): names[c["kind"]], t("imphist.col_record"): c["name"],
            t("imppg.conflict_who"): who.get(c["username"], "–"),
            t("imppg.conflict_when"): fmt_datetime(c["at"]) if c["at"] else "–",
            t("imphist.col_reason"): t(f"imphist.reason_{c['reason']}")}
            for c in exc.changed], dtype=object), hide_index=True, width="stretch",
            placeholder="—")
        return
    except ServiceError as exc:
        show_service_error(exc)
        return
    st.session_state["imphist_done"] = done
    st.rerun()


def show_history() -> None:
    st.caption(t("imphist.intro"))
    if done := st.session_state.pop("imphist_done", None):
        st.success(t("imphist.undo_done", id=done["batch_id"], removed=number(done["removed"]),
                     restored=number(done["restored"])))
    batches = cached(ctx, history.batches, actor=actor, limit=HISTORY_BATCHES)
    if not batches:
        st.info(t("imphist.empty"))
        return
    who = people([b["username"] for b in batches] + [b["undone_by"] for b in batches
                                                    if b["undone_by"]])
    names = ("new", "updated", "unchanged", "rejected")
    frame = pd.DataFrame([{
        t("imphist.col_id"): b["id"], t("imphist.col_at"): fmt_datetime(b["at"]),
        t("imphist.col_by"): who[b["username"]], t("imphist.col_file"): b["filename"],
        **{t(f"imppg.m_{n}"): b[n] for n in names},
        t("imphist.col_status"): t("imphist.status_undone") if b["undone_at"]
        else t("imphist.status_done")} for b in batches])
    number_col = st.column_config.NumberColumn
    st.dataframe(frame, hide_index=True, width="stretch", height=min(38 + 35 * len(frame), 320),
                 placeholder="—", column_config={
                     t("imphist.col_id"): number_col(width=50, format="#%d"),
                     t("imphist.col_at"): st.column_config.TextColumn(width=125),
                     t("imphist.col_by"): st.column_config.TextColumn(width=175),
                     t("imphist.col_file"): st.column_config.TextColumn(width=160),
                     **{t(f"imppg.m_{n}"): number_col(width=w) for n, w in zip(
                         names, (55, 85, 105, 65), strict=True)},
                     t("imphist.col_status"): st.column_config.TextColumn(width=85)})
    by_id = {b["id"]: b for b in batches}
    choice = st.selectbox(
        t("imphist.open"), [None, *by_id], key="imphist_batch", placeholder=t("imphist.choose"),
        format_func=lambda i: t("imphist.choose") if i is None else t(
            "imphist.option", id=i, file=by_id[i]["filename"], at=fmt_datetime(by_id[i]["at"]),
            who=who[by_id[i]["username"]]))
    if choice is None:
        return
    batch = by_id[choice]
    st.markdown(f"#### {t('imphist.batch', id=batch['id'], file=md(batch['filename']))}")
    st.markdown(t("imphist.batch_by", who=md(who[batch["username"]]),
                  at=fmt_datetime(batch["at"]), **{n: number(batch[n]) for n in names}))
    records = cached(ctx, history.batch_records, batch_id=batch["id"], lang=lang)
    if not records:
        st.info(t("imphist.no_records"))
    else:
        labels = {"kind": t("imphist.col_kind"), "record": t("imphist.col_record"),
                  "action": t("imphist.col_action"), "column": t("imppg.chg_column"),
                  "before": t("imppg.chg_before"), "after": t("imppg.chg_after"),
                  "created": t("imphist.created"), "updated": t("imphist.updated"),
                  "empty": t("imppg.empty_value"),
                  "kinds": {k: t(f"imp.kind.{k}") for k in importer.KINDS}}
        shown_rows = record_rows(records, labels, LIST_ROWS)
        text = st.column_config.TextColumn
        st.dataframe(pd.DataFrame(shown_rows, dtype=object), hide_index=True, width="stretch",
                     key=f"imphist_records_{batch['id']}", placeholder="—",
                     height=min(38 + 35 * len(shown_rows), 420),
                     column_config={labels["kind"]: text(width=100),
                                    labels["record"]: text(width=200),
                                    labels["action"]: text(width=95),
                                    labels["column"]: text(width=170),
                                    labels["before"]: text(width=150),
                                    labels["after"]: text(width=150)})
        rows = sum(max(1, len(r["changes"])) for r in records)
        if rows > len(shown_rows):
            st.caption(t("imphist.records_first", shown=number(len(shown_rows)),
                         total=number(rows)))
        sheet = t("imphist.records_sheet")

        def whole() -> pd.DataFrame:
            return pd.DataFrame(record_rows(records, labels), dtype=object)

        c1, c2, _ = st.columns([1, 1, 1])
        c1.download_button(t("imphist.records_xlsx"), key="imphist_xlsx", mime=XLSX_MIME,
                           file_name=f"impor_{batch['id']}.xlsx", icon=":material/download:",
                           on_click="ignore", width="stretch",
                           data=lambda: exporter.to_xlsx(whole(), sheet=sheet))
        c2.download_button(t("imphist.records_csv"), key="imphist_csv", mime=CSV_MIME,
                           file_name=f"impor_{batch['id']}.csv", icon=":material/download:",
                           on_click="ignore", width="stretch",
                           data=lambda: exporter.to_csv(whole()))
    if batch["undone_at"]:
        st.info(t("imphist.undone", who=md(who.get(batch["undone_by"], batch["undone_by"])),
                  at=fmt_datetime(batch["undone_at"])), icon=":material/undo:")
        return
    if not records:
        return
    if not can(actor, "import.undo"):
        st.caption(t("imphist.undo_staff"))
        return
    with st.container(border=True):
        st.markdown(f"**{t('imphist.undo_title')}**")
        st.caption(t("imphist.undo_help", new=number(batch["new"]),
                     updated=number(batch["updated"])))
        sure = st.checkbox(t("imphist.undo_confirm", id=batch["id"]),
                           key=f"imphist_confirm_{batch['id']}")
        if st.button(t("imphist.undo_button", id=batch["id"]), key="imphist_undo",
                     icon=":material/undo:", disabled=not sure):
            undo(batch)


with history_tab:
    show_history()

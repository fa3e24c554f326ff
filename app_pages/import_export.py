"""Impor / Ekspor: template download, upload with a dry run (counts and every rejected cell),
commit with a progress bar, and exports of the filtered IKM list. Staff and admins only.

Every check and write is services.imports's; the page keeps the uploaded bytes in session state
under their SHA-256, so the commit writes exactly the file whose dry run the user saw."""

import dataclasses
import hashlib
import logging

import streamlit as st

from db import read_session, write_session
from services import exporter, overview
from services import imports as importer
from services.audit import data_version
from services.errors import ServiceError
from services.ikm import STATUSES, IkmFilter, list_ikm
from services.permissions import can
from services.reference import kabupaten_options
from ui.data import cached, show_service_error
from ui.format import today_wib
from ui.i18n import current_language, t
from ui.session import context, current_actor

log = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
LIMITS = importer.LIMITS
# The uploader states and enforces the importer's size limit (Streamlit counts MB as MiB, as the
# importer does), so the dropzone and the caption never disagree.
UPLOAD_MAX_MB = max(1, -(-LIMITS.max_bytes // (1024 * 1024)))

ctx = context()
actor = current_actor()
lang = current_language()

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
    return importer.message(exc.key, exc.params, lang=lang)


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
        st.markdown(f"**{t('imppg.sheet', sheet=filled[0].sheet)}**")
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
        st.dataframe(rows, hide_index=True, width="stretch")
    if examples:
        st.caption(t("imppg.only_example", sheet=", ".join(examples)))
    empty = [s.sheet for s in report.sheets if not s.total]
    if empty:
        st.caption(t("imppg.empty_sheets", sheets=", ".join(empty)))
    if report.ignored_sheets:
        st.caption(t("imppg.ignored", sheets=", ".join(report.ignored_sheets)))


def table_config() -> dict:
    # the row number narrow, the reason wide (texts as error_frame names them)
    return {importer.message("imp.report.row", lang=lang): st.column_config.NumberColumn(
                width="small", format="%d"),
            importer.message("imp.report.reason", lang=lang): st.column_config.TextColumn(
                width="large")}


def show_problems(report: importer.ImportReport, digest: str) -> None:
    if report.errors:
        st.error(t("imppg.errors", rows=number(report.rejected), cells=number(len(report.errors))))
        frame = error_table(report)
        st.dataframe(frame, hide_index=True, width="stretch", height=min(38 + 35 * len(frame), 420),
                     column_config=table_config())
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
    else:
        st.success(t("imppg.all_valid"))
    if report.warnings:
        st.warning(t("imppg.warnings", count=len(report.warnings)))
        st.dataframe(error_table(report, warnings=True), hide_index=True, width="stretch",
                     column_config=table_config())


def commit(check: dict, allow_partial: bool) -> None:
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
        with write_session(ctx.engine) as session:
            done = importer.commit(session, actor=actor, filename=check["name"], data=data,
                                   allow_partial=allow_partial, progress=progress)
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


import_tab, export_tab = st.tabs([t("imppg.tab_import"), t("imppg.tab_export")])

# --- import: template, upload and dry run, commit -----------------------------------------------
with import_tab:
    if done := st.session_state.pop("imp_done", None):
        st.success(t("imppg.saved", batch=done["batch"], name=done["name"],
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
        uploaded = st.file_uploader(t("imppg.uploader"), type=["xlsx", "xls", "csv", "txt"],
                                    key=uploader_key, max_upload_size=UPLOAD_MAX_MB,
                                    help=t("imppg.uploader_help"))
        st.caption(t("imppg.limits", size=f"{LIMITS.max_bytes / 1024 / 1024:g}",
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
        st.caption(t("imppg.checked", name=check["name"], size=file_size(check["size"])))
        show_counts(report)
        show_problems(report, check["hash"])

        st.subheader(t("imppg.step_save"))
        to_write = report.new + report.updated
        if not to_write:
            st.info(t("imppg.nothing_to_save") if not report.rejected
                    else t("imp.nothing_valid"))
        else:
            st.caption(t("imppg.save_plan", new=number(report.new),
                         updated=number(report.updated)))
            partial = False
            if report.rejected:
                partial = st.checkbox(
                    t("imppg.partial", ok=number(report.ok), rejected=number(report.rejected)),
                    key=f"imp_partial_{check['hash'][:16]}")
                if not partial:
                    st.caption(t("imppg.partial_needed"))
            if st.button(t("imppg.save", count=number(to_write)), type="primary",
                         key="imp_commit", icon=":material/save:",
                         disabled=bool(report.rejected) and not partial):
                if changed_meanwhile:  # the user decided on another outcome: show the new one
                    st.warning(t("imppg.rechecked"))
                else:
                    commit(check, allow_partial=partial)

# --- export of the filtered IKM list --------------------------------------------------------
with export_tab:
    kabupaten = cached(ctx, kabupaten_options)
    c1, c2, _ = st.columns([1, 1, 1])
    kab = c1.selectbox(t("col.kabupaten"), [None, *kabupaten], key="imp_x_kab",
                       format_func=lambda k: t("ikm.all") if k is None else kabupaten[k])
    status = c2.selectbox(t("ikm.col.status"), [None, *STATUSES], key="imp_x_status",
                          format_func=lambda s: t("ikm.all") if s is None else t(f"ikm.{s}"))
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
                return exporter.export_workbook(session, filters=filters)

        def export_csv() -> bytes:
            with read_session(ctx.engine) as session:
                return exporter.to_csv(exporter.export_ikm(session, filters=filters))

        c1, c2, _ = st.columns([1, 1, 1])
        c1.download_button(t("imppg.export_xlsx"), data=export_xlsx, key="imp_x_xlsx",
                           file_name=f"{stem}.xlsx", mime=XLSX_MIME, type="primary",
                           icon=":material/download:", on_click="ignore", width="stretch")
        c2.download_button(t("imppg.export_csv"), data=export_csv, key="imp_x_csv",
                           file_name=f"{stem}.csv", mime=CSV_MIME, icon=":material/download:",
                           on_click="ignore", width="stretch", help=t("imppg.export_csv_help"))

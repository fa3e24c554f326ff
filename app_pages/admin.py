"""Admin: users, their audit log, the trash (restore) and backups."""

import pandas as pd
import streamlit as st

from db import data_dir, read_session, run_write
from models.enums import Role
from services import auth, trash
from services.audit import user_audit
from services.errors import ServiceError
from services.health import system_health
from services.reference import kabupaten_options
from ui.backup_panel import backup_panel
from ui.data import show_service_error
from ui.format import fmt_datetime, md
from ui.i18n import CATALOGUE, t
from ui.record_form import first_result, form_token, mark_saved
from ui.session import context, current_actor
from ui.state import kept_tabs, lang_key

ctx = context()
actor = current_actor()
st.title(t("admin.title"))
if flash := st.session_state.pop("_admin_flash", None):
    st.success(flash)
st.header(t("admin.users"))

with read_session(ctx.engine) as session:
    users = auth.list_users(session)
    regencies = kabupaten_options(session)
roles = [r.value for r in Role]
scope_options = [None, *regencies]


def scope_label(code: str | None) -> str:
    return t("admin.scope_none") if code is None else f"{regencies[code]} ({code})"


st.dataframe(pd.DataFrame([{
    t("admin.col_username"): u.username, t("admin.col_name"): u.display_name,
    t("admin.col_role"): t(f"role.{u.role}"),
    t("admin.col_scope"): regencies.get(u.kabupaten_code, "—"),
    t("admin.col_active"): u.active,
    t("admin.col_last_login"): fmt_datetime(u.last_login_at)} for u in users]),
    hide_index=True, width="stretch", placeholder="—")

# The open tab is kept by id: after a save or a language switch the same tab is open.
create_tab, edit_tab, audit_tab, trash_tab, backup_tab, health_tab = kept_tabs("admin_tab", {
    "new": t("admin.new_user"), "edit": t("admin.edit_user"), "audit": t("admin.audit"),
    "trash": t("admin.trash"), "backup": t("admin.backup"), "health": t("health.title")}).values()
with create_tab:
    # The submission token is in every key: after a save the form is drawn again empty (no
    # password left in it), and a second submit of the same form (a double click) writes nothing.
    token = form_token("admin_new")
    with st.form(f"admin_new_user_{token}", clear_on_submit=False, enter_to_submit=False):
        c1, c2 = st.columns(2)
        username = c1.text_input(t("admin.username") + " *", key=f"admin_new_username_{token}")
        display_name = c2.text_input(t("admin.display_name") + " *",
                                     key=f"admin_new_name_{token}")
        email = c1.text_input(t("admin.email"), key=f"admin_new_email_{token}")
        # translated choices: keyed per language, keeping the choice (ui/state.py)
        role_key, scope_key = (lang_key(f"admin_new_role_{token}"),
                               lang_key(f"admin_new_scope_{token}"))
        role = c2.selectbox(t("admin.role"), roles, format_func=lambda r: t(f"role.{r}"),
                            key=role_key, placeholder=t("lang.choose"),
                            **({} if role_key in st.session_state
                               else {"index": roles.index("staff")}))
        scope = c1.selectbox(t("admin.scope"), scope_options, format_func=scope_label,
                             key=scope_key, placeholder=t("lang.choose"))
        password = c2.text_input(t("admin.password") + " *", type="password",
                                 help=t("account.policy"), key=f"admin_new_password_{token}")
        submitted = st.form_submit_button(t("admin.create"), type="primary",
                                          key=f"admin_create_{token}")
    if submitted and (done := first_result(token)) is not None:
        st.success(done)
    elif submitted:
        try:
            made = run_write(ctx.engine, lambda s: auth.create_user(
                s, actor=actor, username=username, display_name=display_name, role=role,
                password=password, kabupaten_code=scope, email=email))
        except ServiceError as exc:
            show_service_error(exc)
        else:
            message = t("admin.created", username=md(made.username))
            mark_saved("admin_new", token, message)
            st.session_state["_admin_flash"] = message
            st.rerun()

with edit_tab:
    by_name = {u.username: u for u in users}
    picked = st.selectbox(t("admin.pick_user"), list(by_name), key="admin_pick_user",
                          placeholder=t("lang.choose"))
    target = by_name[picked]
    with st.form(f"admin_edit_{target.id}_{target.version}", enter_to_submit=False):
        c1, c2 = st.columns(2)
        new_name = c1.text_input(t("admin.display_name"), value=target.display_name)
        new_email = c2.text_input(t("admin.email"), value=target.email or "")
        new_role = c1.selectbox(t("admin.role"), roles, index=roles.index(target.role),
                                format_func=lambda r: t(f"role.{r}"),
                                placeholder=t("lang.choose"))
        new_scope = c2.selectbox(t("admin.scope"), scope_options,
                                 index=scope_options.index(target.kabupaten_code),
                                 format_func=scope_label, placeholder=t("lang.choose"))
        new_active = st.checkbox(t("admin.active"), value=target.active)
        if st.form_submit_button(t("admin.save"), type="primary"):
            try:
                run_write(ctx.engine, lambda s: auth.update_user(
                    s, actor=actor, user_id=target.id, expected_version=target.version,
                    display_name=new_name, role=new_role, kabupaten_code=new_scope,
                    email=new_email, active=new_active))
            except ServiceError as exc:
                show_service_error(exc)
            else:
                st.session_state["_admin_flash"] = t("admin.saved", username=md(target.username))
                st.rerun()
    with st.form(f"admin_reset_{target.id}", clear_on_submit=True, enter_to_submit=False):
        st.markdown(f"**{t('admin.reset_password')}** · `{target.username}`")
        new_pw = st.text_input(t("admin.new_password"), type="password",
                               help=t("account.policy"))
        if st.form_submit_button(t("admin.reset")):
            try:
                run_write(ctx.engine, lambda s: auth.reset_password(
                    s, actor=actor, user_id=target.id, new_password=new_pw))
            except ServiceError as exc:
                show_service_error(exc)
            else:
                st.success(t("admin.reset_done", username=md(target.username)))

with trash_tab:
    with read_session(ctx.engine) as session:
        binned = trash.trash(session)
    if not binned:
        st.caption(t("admin.trash_empty"))
    else:
        st.dataframe(pd.DataFrame([{
            t("admin.trash_kind"): t(f"trash.kind.{r['kind']}"), t("admin.col_name"): r["name"],
            t("admin.trash_when"): fmt_datetime(r["deleted_at"]),
            t("admin.trash_by"): r["updated_by"] or "—"} for r in binned]),
            hide_index=True, width="stretch", placeholder="—")
        kinds = {r["kind"]: t(f"trash.kind.{r['kind']}") for r in binned}
        choices = {(r["kind"], r["id"]): f"{kinds[r['kind']]}: {r['name']}" for r in binned}
        picked_row = st.selectbox(t("admin.trash_pick"), list(choices),
                                  format_func=choices.get, key="admin_trash_pick",
                                  placeholder=t("lang.choose"))
        if st.button(t("admin.trash_restore"), key="admin_trash_restore", type="primary"):
            try:
                run_write(ctx.engine, lambda s: trash.restore(
                    s, actor=actor, kind=picked_row[0], row_id=picked_row[1]))
            except ServiceError as exc:
                show_service_error(exc)
            else:
                st.session_state["_admin_flash"] = t("trash.restored")
                st.rerun()

with backup_tab:
    st.caption(t("admin.backup_help"))
    if ctx.engine.dialect.name != "sqlite":
        st.info(t("admin.backup_pg"))
    else:  # encrypted with the admin's passphrase, made on click (ui/backup_panel.py)
        backup_panel(ctx.engine, actor)

with audit_tab:
    with read_session(ctx.engine) as session:
        entries = user_audit(session, limit=200)
        failed = auth.failed_logins(session, limit=200)
    st.dataframe(pd.DataFrame([{
        t("admin.fl_time"): fmt_datetime(e["at"]), t("admin.fl_user"): e["username"] or "",
        t("admin.audit_action"): t(f"admin.audit_action.{e['action']}")
        if f"admin.audit_action.{e['action']}" in CATALOGUE["id"] else e["action"],
        t("admin.audit_change"): e["change"]} for e in entries]),
        hide_index=True, width="stretch", key="admin_user_audit", placeholder="—")
    st.subheader(t("admin.fl_title"))
    st.caption(t("admin.fl_help"))
    if not failed:
        st.caption(t("admin.fl_none"))
    else:
        st.dataframe(pd.DataFrame([{
            t("admin.fl_time"): fmt_datetime(f["at"]), t("admin.fl_user"): f["username"],
            t("admin.fl_address"): f["ip"],
            t("admin.fl_reason"): t(f"admin.fl_reason_{f['reason']}")
            if f["reason"] in ("bad_credentials", "locked") else f["reason"]} for f in failed]),
            hide_index=True, width="stretch", key="admin_failed_logins", placeholder="—")


def size_text(size: int | None) -> str:
    """Bytes as people read them: 1,5 GB."""
    if size is None:
        return "—"
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):  # noqa: B007  (the last unit tried is kept)
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}".replace(".", ",")


with health_tab:
    check = st.button(t("health.check_now"), key="admin_health_check",
                      icon=":material/health_and_safety:")
    with read_session(ctx.engine) as session:
        health = system_health(session, actor=actor, engine=ctx.engine, data_folder=data_dir(),
                               check=check)
    if health["integrity"]:
        st.error(t("health.integrity_bad", detail=md("; ".join(health["integrity"]))))
    if health["disk_low"]:
        st.warning(t("health.warn_disk", free=size_text(health["disk_free"])))
    backup = health["backup"]
    if health["backup_old"]:
        st.warning(t("health.warn_backup"))
    if health["integrity"] is None:
        integrity = "—" if health["kind"] == "sqlite" else t("health.integrity_skip")
    else:
        integrity = t("health.integrity_ok") if not health["integrity"] \
            else t("health.integrity_bad", detail="; ".join(health["integrity"]))
    rows = [
        (t("health.kind"), f"{health['kind']} · {health['where']}"),
        (t("health.size"), size_text(health["size"])),
        (t("health.revision"), health["revision"] or "—"),
        (t("health.version"), str(health["data_version"])),
        (t("health.integrity"), integrity),
        (t("health.last_backup"), t("health.no_backup") if backup is None else t(
            "health.backup_by", when=fmt_datetime(backup["at"]), who=backup["username"] or "—",
            how=backup["how"])),
        (t("health.free_disk"), t("health.disk_of", free=size_text(health["disk_free"]),
                                  total=size_text(health["disk_total"]),
                                  folder=health["disk_folder"])),
    ]
    st.markdown("  \n".join(f"**{label}**: {md(value)}" for label, value in rows))

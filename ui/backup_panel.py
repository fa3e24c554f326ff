"""The admin's backup tab: a passphrase form, then a download of the encrypted backup.

What Streamlit 1.67 does with a download (runtime/media_file_manager.py): a callable given as
`data` is only registered for the session; a click runs it on a server thread and stores the
bytes in the in-memory media store, where anyone holding the `/media/<id>.zip` address can fetch
them, with or without a cookie. No session references that stored file. Streamlit's clean-up
(`remove_orphaned_files`, run at the end of every script run of any session) marks such a file
the first time and deletes it the second; nothing else removes it, however much time passes, and
a closed browser triggers no clean-up at all.

So a click also starts a timer that runs that clean-up a few times, `SWEEP_SECONDS` apart: the
file is gone seconds after the click, whether or not the admin's browser is still open and
whether or not anyone else uses the app. While the button is shown, a fragment reruns every
`SWEEP_SECONDS` (its runs end with the same clean-up) and, once enough runs have followed a click,
reruns the page without the button. The archive is encrypted with the admin's passphrase anyway.

The passphrase lives only in memory: in the form's run, then in the button's callable until the
button goes (the next full run of the page, the end of the sweeps) or at most `OFFER_SECONDS`.
"""

import threading
import time

import streamlit as st
from sqlalchemy import Engine

from db import read_session, write_session
from models import utcnow
from services import auth
from services.backup import check_passphrase, encrypted_backup
from services.errors import PermissionDenied, ServiceError
from services.permissions import Actor
from ui.data import show_service_error
from ui.format import today_wib
from ui.i18n import t

SWEEP_SECONDS = 3  # between clean-ups: the least time the file stays fetchable after a click
SWEEPS = 3  # clean-ups after a click (Streamlit deletes at the second; one spare)
OFFER_SECONDS = 600  # an unused button expires
_OFFER = "_admin_backup_offer"
_NOTICE = "_admin_backup_notice"


def _clean_media_soon(times: int = SWEEPS) -> None:
    """Run Streamlit's media clean-up `times` times, SWEEP_SECONDS apart, on a timer thread.

    The same call ends every script run, so this only makes happen sooner what the next runs
    of anyone's session would do (MediaFileManager.remove_orphaned_files is thread-safe)."""
    from streamlit import runtime

    def sweep() -> None:
        if runtime.exists():
            runtime.get_instance().media_file_mgr.remove_orphaned_files()
        if times > 1:
            _clean_media_soon(times - 1)

    timer = threading.Timer(SWEEP_SECONDS, sweep)
    timer.daemon = True
    timer.start()


class _Offer:
    """One shown download button: makes the archive on each click (on Streamlit's thread)."""

    def __init__(self, engine: Engine, actor: Actor, passphrase: str, name: str):
        self._engine, self._actor, self._passphrase, self.name = engine, actor, passphrase, name
        self._lock = threading.Lock()
        self.offered_at = utcnow()
        self.shown_at = time.monotonic()
        self.building = 0  # clicks being served now
        self.built = 0  # archives made so far
        self.seen = 0  # archives the sweeper has counted
        self.sweeps = 0  # sweeper runs since the last archive
        expiry = threading.Timer(OFFER_SECONDS, self.forget)  # even if the browser went away
        expiry.daemon = True
        expiry.start()

    def __call__(self) -> bytes:
        with self._lock:
            passphrase = self._passphrase
            if passphrase is None:
                raise RuntimeError("the backup download expired; make a new backup")
            self.building += 1
        try:
            # The click runs outside any script run, so outside the login gate: check again
            # that the account is active, still an admin and not logged out since.
            with read_session(self._engine) as session:
                user = auth.session_user(session, username=self._actor.username,
                                         authenticated_at=self.offered_at)
            if user is None:
                raise PermissionDenied("err.forbidden")
            # The copy is read before the session writes anything: no write lock meanwhile.
            with write_session(self._engine) as session:
                data = encrypted_backup(self._engine, session, actor=auth.actor_of(user),
                                        passphrase=passphrase, name=self.name)
        finally:
            with self._lock:
                self.building -= 1
        with self._lock:
            self.built += 1
        _clean_media_soon()  # Streamlit stores the bytes as soon as this returns
        return data

    def forget(self) -> None:
        """Drop the passphrase: a later click fails instead of making an archive."""
        with self._lock:
            self._passphrase = None

    def sweep_done(self) -> str | None:
        """Count one sweeper run; the notice to show once the button should go, else None."""
        with self._lock:
            if self.built > self.seen:  # a new archive since the last run: count again
                self.seen, self.sweeps = self.built, 0
                return None
            if self.built:
                self.sweeps += 1
                return "bk.done" if self.sweeps >= SWEEPS and not self.building else None
            expired = self._passphrase is None or time.monotonic() - self.shown_at > OFFER_SECONDS
            return "bk.expired" if expired and not self.building else None


@st.fragment(run_every=SWEEP_SECONDS)
def _sweeper(offer: _Offer) -> None:
    # Each run of this fragment ends with Streamlit's media clean-up too.
    notice = offer.sweep_done()
    if notice:
        offer.forget()
        st.session_state[_NOTICE] = notice
        st.rerun(scope="app")


def backup_panel(engine: Engine, actor: Actor) -> None:
    """The passphrase form and, after a valid submit, the one download button."""
    previous = st.session_state.pop(_OFFER, None)
    if previous is not None:  # a button from an earlier run is gone from the page now
        previous.forget()
    if notice := st.session_state.pop(_NOTICE, None):
        (st.success if notice == "bk.done" else st.info)(t(notice))
    with st.form("admin_backup_form", clear_on_submit=True, enter_to_submit=False):
        passphrase = st.text_input(t("bk.passphrase"), type="password", max_chars=128,
                                   help=t("bk.passphrase_help"), key="admin_backup_passphrase")
        confirm = st.text_input(t("bk.confirm"), type="password", max_chars=128,
                                key="admin_backup_confirm")
        submitted = st.form_submit_button(t("admin.backup_make"), type="primary",
                                          key="admin_backup")
    if not submitted:
        return
    try:
        check_passphrase(passphrase, confirm)
    except ServiceError as exc:
        show_service_error(exc)
        return
    name = f"ikm-madura-{today_wib().isoformat()}"
    offer = _Offer(engine, actor, passphrase, name)
    st.session_state[_OFFER] = offer
    st.info(t("bk.ready", minutes=OFFER_SECONDS // 60))
    st.download_button(t("admin.backup_download"), data=offer, file_name=f"{name}.zip",
                       mime="application/zip", icon=":material/download:", type="primary",
                       on_click="ignore", key="admin_backup_download")
    st.caption(t("bk.restore_hint", file=f"{name}.zip"))
    _sweeper(offer)

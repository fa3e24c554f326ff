"""Writers never deadlock each other, and what the database gives up is run again: two real
connections on PostgreSQL (the db tier runs this against the CI server), no sleeps, no timing
assertions: the tests wait until the server reports a backend waiting on a lock."""

import threading
import time

import pytest
from sqlalchemy import text

from db.engine import run_write, write_session
from models import Ikm
from models.enums import Role
from services import audit
from services import ikm as svc
from services.errors import StaleRecord
from services.permissions import Actor
from tests.conftest import PG_URL

pytestmark = [pytest.mark.db,
              pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (IKM_TEST_PG_URL)")]

STAFF = Actor("staf", Role.staff, "35.29")
OTHER = Actor("rina", Role.staff, "35.29")


def two_ikm(engine) -> list[Ikm]:
    with write_session(engine) as s:
        made = [svc.create_ikm(s, actor=STAFF, data={
            "name": name, "kabupaten_code": "Sumenep", "kecamatan_code": "Guluk-Guluk"})
            for name in ("Keripik A", "Petis B")]
    return made


def wait_for_lock_wait(engine, *, waiting: int = 1, limit: float = 30.0) -> None:
    """Return once `waiting` backends of this database wait on a lock (polled, not slept on)."""
    deadline = time.monotonic() + limit
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            count = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
            conn.commit()
            if count >= waiting:
                return
    raise AssertionError("no backend started waiting on a lock")


def in_thread(fn):
    box: dict = {}

    def run():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001  (handed to the test)
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def grid_save(engine, edits):
    # one plain transaction (no retries): the lock order alone must keep it from deadlocking
    with write_session(engine) as session:
        return svc.update_many(session, actor=STAFF, edits=edits)


def test_a_grid_save_and_a_concurrent_edit_end_in_a_clear_refusal_not_a_deadlock(engine):
    a, b = two_ikm(engine)
    edits = [{"row": 1, "id": a.id, "version": a.version, "changes": {"owner_name": "Ani"}},
             {"row": 2, "id": b.id, "version": b.version, "changes": {"owner_name": "Budi"}}]
    with write_session(engine) as colleague:  # changes row 2, not yet audited or committed
        row = colleague.get(Ikm, b.id)
        row.owner_name = "Orang Lain"
        colleague.flush()
        grid, box = in_thread(lambda: grid_save(engine, edits))
        wait_for_lock_wait(engine)  # the grid save waits ...
        # ... and the colleague's write ends by bumping the data version, as every write does:
        # with the grid holding that row and waiting for row 2, this was a deadlock
        audit.record(colleague, username=OTHER.username, action="update", table="ikm",
                     row_id=b.id, after={"owner_name": "Orang Lain"})
    grid.join(60)
    assert "result" not in box
    error = box["error"]
    assert isinstance(error, svc.CellErrors), repr(error)  # not DeadlockDetected
    assert [(c.row, c.key) for c in error.cells] == [(2, "err.stale")]
    with engine.connect() as conn:
        owners = dict(conn.execute(text("SELECT id, owner_name FROM ikm")).all())
    assert owners == {a.id: None, b.id: "Orang Lain"}  # all or nothing: row 1 not written


def test_a_transaction_the_server_gives_up_is_run_again(engine):
    a, b = two_ikm(engine)
    helper = engine.raw_connection()
    cursor = helper.cursor()
    cursor.execute("SET deadlock_timeout = '10s'")  # the write below detects it first
    cursor.execute("UPDATE ikm SET name = name WHERE id = %s", (b.id,))  # holds row B
    attempts = []

    def work(session):
        attempts.append(len(attempts) + 1)
        session.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
        session.execute(text("UPDATE ikm SET owner_name = 'Ani' WHERE id = :i"), {"i": a.id})
        if len(attempts) == 1:  # the helper now waits for row A, which this write holds ...
            thread, box = in_thread(lambda: cursor.execute(
                "UPDATE ikm SET name = name WHERE id = %s", (a.id,)))
            wait_for_lock_wait(engine)
            work.helper = (thread, box)
        # ... and this write waits for row B: a deadlock, and this write is given up
        session.execute(text("UPDATE ikm SET owner_name = 'Budi' WHERE id = :i"), {"i": b.id})
        return "written"

    def finish_helper():
        thread, box = work.helper
        thread.join(30)
        helper.commit()

    done = in_thread(lambda: run_write(engine, work))
    # the helper can commit only once the first attempt has been given up
    while not hasattr(work, "helper"):
        done[0].join(0.05)
    finish_helper()
    done[0].join(60)
    helper.close()
    assert done[1].get("result") == "written", done[1]
    assert attempts == [1, 2]
    with engine.connect() as conn:
        owners = dict(conn.execute(text("SELECT id, owner_name FROM ikm")).all())
    assert owners == {a.id: "Ani", b.id: "Budi"}


def test_a_write_still_given_up_after_its_attempts_is_a_stale_refusal(engine):
    a, b = two_ikm(engine)
    helper = engine.raw_connection()
    cursor = helper.cursor()
    cursor.execute("SET deadlock_timeout = '10s'")
    cursor.execute("UPDATE ikm SET name = name WHERE id = %s", (b.id,))
    started = []

    def work(session):
        session.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
        session.execute(text("UPDATE ikm SET owner_name = 'Ani' WHERE id = :i"), {"i": a.id})
        started.append(in_thread(lambda: cursor.execute(
            "UPDATE ikm SET name = name WHERE id = %s", (a.id,))))
        wait_for_lock_wait(engine)
        session.execute(text("UPDATE ikm SET owner_name = 'Budi' WHERE id = :i"), {"i": b.id})

    with pytest.raises(StaleRecord):
        run_write(engine, work, attempts=1)
    thread, _box = started[0]
    thread.join(30)
    helper.rollback()
    helper.close()

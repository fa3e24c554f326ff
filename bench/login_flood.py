"""Benchmark: how fast an admin's save is while browser tabs send wrong passwords.

Run: python -m bench.login_flood [--threads 0 3 8] [--saves 30] [--budget 90] [--pause 0]

A copy of the 480-IKM demo database (bench/run.py builds it into bench/results/) gets the
production bcrypt cost (IKM_BCRYPT_ROUNDS=12). For each number of flooding threads it times
`services.ikm.update_ikm` saves (one short write transaction each, as the Data IKM page does)
while every thread sends failed logins back to back, twice:

- "now": services.auth.attempt_login as the app calls it: the read, bcrypt outside any
  transaction, then a short write;
- "before": the former way, the whole check_login inside write_session (SQLite: BEGIN
  IMMEDIATE), so bcrypt ran while holding the database's only write lock.

It prints median / p95 / max save latency, the median and longest wait for the write lock
(the part bcrypt inside a transaction adds), saves that failed ("database is locked"), and the
logins per second the threads managed. A scenario stops after --saves saves or --budget
seconds, whichever comes first. --pause makes each thread wait between its attempts, as a
browser tab does (0: back to back, the worst case). Timings are never asserted anywhere.
"""

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ["IKM_BCRYPT_ROUNDS"] = "12"  # production cost, before services.auth is imported

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepared_copy(folder: Path) -> Path:
    """A private copy of the 480-IKM bench database whose accounts hash at cost 12."""
    from sqlmodel import Session, select

    from bench.run import build
    from db.engine import make_engine
    from db.migrate import upgrade
    from models import User
    from services import auth

    path = folder / "flood.db"
    shutil.copy(build(480), path)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)  # the cached bench database may predate the newest migration
    with Session(engine) as session:
        for user in session.exec(select(User)).all():
            user.password_hash = auth.hash_password(auth.DEMO_PASSWORD)
            session.add(user)
        session.commit()
    engine.dispose()
    return path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(path: Path, threads: int, saves: int, mode: str, budget: float,
        pause: float = 0.0) -> dict:
    """Time IKM saves while `threads` threads send failed logins (`mode`: now/before)."""
    from sqlmodel import select

    from db.engine import make_engine, read_session, write_session
    from models import Ikm
    from models.enums import Role
    from services import auth, ikm
    from services.config import AuthSettings
    from services.permissions import Actor

    engine = make_engine(f"sqlite:///{path}")
    settings = AuthSettings(demo=False, cookie_key="bench-only-" * 4)
    admin = Actor(username="admin", role=Role.admin)
    with read_session(engine) as session:
        ikm_id = session.exec(select(Ikm.id).order_by(Ikm.id)).first()
    auth._dummy_hash()  # made once, outside the measurement
    stop = threading.Event()
    logins = [0] * threads

    def flood(index: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            kwargs = {"username": "kepala", "password": f"tebakan-{index}-{n}",
                      "ip": f"198.18.{index}.{n % 250}", "settings": settings}
            try:
                if mode == "now":
                    auth.attempt_login(read=lambda: read_session(engine),
                                       write=lambda: write_session(engine), **kwargs)
                else:
                    with write_session(engine) as session:
                        auth.check_login(session, **kwargs)
            except Exception:  # noqa: BLE001  (a locked database: keep flooding)
                pass
            logins[index] += 1
            if pause:
                stop.wait(pause)

    workers = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(1.0 if threads else 0)  # let the flood reach its pace
    times, waits, failed = [], [], 0
    started = time.perf_counter()
    for i in range(saves):
        if time.perf_counter() - started > budget:
            break
        begun = time.perf_counter()
        try:
            with write_session(engine) as session:
                session.connection()  # BEGIN IMMEDIATE: waits while another writer holds it
                waits.append(time.perf_counter() - begun)
                row = session.get(Ikm, ikm_id)
                ikm.update_ikm(session, actor=admin, ikm_id=ikm_id, expected_version=row.version,
                               changes={"address": f"Jl. Raya Sumenep {i}"})
        except Exception as exc:  # noqa: BLE001  (sqlite3.OperationalError: database is locked)
            failed += 1
            if "locked" not in str(exc):
                raise
        times.append(time.perf_counter() - begun)
        time.sleep(0.05)  # an admin does not save back to back
    elapsed = time.perf_counter() - started
    stop.set()
    for worker in workers:
        worker.join(60)
    engine.dispose()
    return {"saves": len(times), "median": statistics.median(times),
            "p95": percentile(times, 0.95), "max": max(times),
            "wait": statistics.median(waits) if waits else float("nan"),
            "wait_max": max(waits) if waits else float("nan"), "failed": failed,
            "logins_per_s": sum(logins) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[0, 3, 8])
    parser.add_argument("--saves", type=int, default=30)
    parser.add_argument("--budget", type=float, default=90.0, help="seconds per scenario")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds each thread waits between its attempts")
    parser.add_argument("--modes", nargs="+", default=["now", "before"],
                        choices=["now", "before"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the limiter logs every refused attempt
    with tempfile.TemporaryDirectory(prefix="ikm-flood-") as folder:
        path = prepared_copy(Path(folder))
        rows = []
        for mode in args.modes:
            for threads in args.threads:
                if threads == 0 and mode != args.modes[0]:
                    continue  # no flood: both ways are the same
                result = run(path, threads, args.saves, mode, args.budget, args.pause)
                rows.append((mode if threads else "-", threads, result))
                print(f"{mode:6} {threads} threads: median {result['median'] * 1000:.0f} ms",
                      file=sys.stderr)
    from services.auth import LOGIN_CHECKS

    pace = f"{args.pause:g} s between a thread's attempts" if args.pause else "back to back"
    print(f"\nIKM save latency while threads send failed logins ({pace}; bcrypt cost 12, "
          f"{os.cpu_count()} cores, at most {LOGIN_CHECKS} bcrypt check(s) at once)\n")
    print("| login check | flooding threads | saves | median | p95 | max | write-lock wait "
          "(median / max) | failed saves | logins/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode, threads, r in rows:
        label = {"now": "outside the write (now)", "before": "inside the write (before)",
                 "-": "no flood"}[mode]
        print(f"| {label} | {threads} | {r['saves']} | {r['median'] * 1000:.0f} ms "
              f"| {r['p95'] * 1000:.0f} ms | {r['max'] * 1000:.0f} ms "
              f"| {r['wait'] * 1000:.0f} / {r['wait_max'] * 1000:.0f} ms | {r['failed']} "
              f"| {r['logins_per_s']:.1f} |")


if __name__ == "__main__":
    main()

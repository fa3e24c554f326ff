"""Benchmark: how long a save takes while 8 people save at once (issue 7).

Run: python -m bench.save_latency [--writers 8] [--saves 40] [--pg URL]
Each writer thread saves --saves times, one after another, an IKM edit as the detail form does:
it reads the IKM (its version) in a read session, then updates it through db.run_write with
services.ikm.update_ikm. The latency of a save runs from asking for the write transaction to its
commit, so it includes every wait for the write lock. Prints p50, p95 and maximum per database
(SQLite on a copy of the 480-IKM bench database; PostgreSQL when --pg or IKM_BENCH_PG_URL names
a server, on a fresh database there). Nothing is asserted: people read the table.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.run import build

os.environ.setdefault("IKM_BCRYPT_ROUNDS", "4")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def sqlite_engine(folder: Path):
    from db.engine import make_engine

    path = folder / "ikm.db"
    shutil.copy(build(480), path)
    return make_engine(f"sqlite:///{path}")


def pg_engine(url: str):
    """A fresh database on the server with the demo programme (dropped by `drop`)."""
    from sqlalchemy import create_engine, text
    from sqlmodel import Session

    from db.demo import seed_demo
    from db.engine import make_engine
    from db.setup import prepare_database

    name = f"ikm_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.rsplit("/", 1)[0] + "/" + name)
    prepare_database(engine, demo=False)
    with Session(engine) as session:
        seed_demo(session, ikm_per_kabupaten=120)
        session.commit()

    def drop():
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return engine, drop


def run(engine, writers: int, saves: int) -> dict:
    from sqlalchemy import select

    from db.engine import read_session, run_write
    from models import Ikm
    from models.enums import Role
    from services.errors import StaleRecord
    from services.ikm import update_ikm
    from services.permissions import Actor

    with read_session(engine) as session:
        ids = list(session.execute(select(Ikm.id).where(Ikm.deleted_at.is_(None))).scalars())
    latencies: list[float] = []
    refused = [0]
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def writer(number: int) -> None:
        rng = random.Random(number)
        actor = Actor(f"bench{number}", Role.admin)
        start.wait()
        for i in range(saves):
            ikm_id = rng.choice(ids)
            with read_session(engine) as session:
                version = session.get(Ikm, ikm_id).version
            began = time.perf_counter()
            try:
                run_write(engine, lambda s, ikm_id=ikm_id, version=version, i=i: update_ikm(
                    s, actor=actor, ikm_id=ikm_id, expected_version=version,
                    changes={"address": f"Jl. Bench {number}-{i}"}))
            except StaleRecord:
                with lock:
                    refused[0] += 1
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {"saves": len(latencies), "p50": statistics.median(latencies),
            "p95": percentile(latencies, 0.95), "max": max(latencies),
            "refused": refused[0], "per_second": len(latencies) / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--pg", default=os.environ.get("IKM_BENCH_PG_URL"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        engine = sqlite_engine(Path(folder))
        run(engine, 1, 5)  # warm-up
        rows.append(("SQLite", run(engine, args.writers, args.saves)))
        engine.dispose()
    if args.pg:
        engine, drop = pg_engine(args.pg)
        try:
            run(engine, 1, 5)
            rows.append(("PostgreSQL", run(engine, args.writers, args.saves)))
        finally:
            drop()
    print(f"\n{args.writers} writers × {args.saves} saves each (IKM edit through "
          f"update_ikm), latency from asking for the write to its commit\n")
    print("| database | saves | p50 | p95 | max | saves/s | refused as stale |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['saves']} | {r['p50'] * 1000:.0f} ms | {r['p95'] * 1000:.0f} ms "
              f"| {r['max'] * 1000:.0f} ms | {r['per_second']:.0f} | {r['refused']} |")


if __name__ == "__main__":
    sys.exit(main())

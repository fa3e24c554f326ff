"""Benchmark: synthetic programmes of several sizes, page reruns and services; prints medians.

Run: python -m bench.run [--sizes 480 10000 100000] [--repeat 5]
Databases are built once into bench/results/ (git-ignored) and reused.
Timings are never asserted anywhere: this prints a table for people to read.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("IKM_BCRYPT_ROUNDS", "4")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def build(size: int) -> Path:
    """The SQLite file of a demo programme with `size` IKM (built on first use)."""
    from sqlmodel import Session

    from db.demo import seed_demo
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.setup import prepare_database
    from services import clock
    from services.auth import ensure_demo_accounts

    path = RESULTS / f"ikm_{size}_{clock.today().isoformat()}.db"
    if path.exists():
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)  # a database built before a newer migration
        engine.dispose()
        return path
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{tmp}")
    started = time.perf_counter()
    prepare_database(engine, demo=False)
    with Session(engine) as session:
        ensure_demo_accounts(session)
        seed_demo(session, ikm_per_kabupaten=size // 4)
        session.commit()
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    tmp.rename(path)
    print(f"built {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm-up (imports, first connection)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(size: int, repeat: int) -> dict[str, float]:
    """Median seconds of each measured operation on the programme of `size` IKM."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from db.engine import dispose_engines, get_engine, read_session
    from services.ikm import IkmFilter, list_ikm
    from services.overview import funnel_by_kabupaten

    path = build(size)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["IKM_DATA_DIR"] = str(RESULTS)
    dispose_engines()
    engine = get_engine()

    def service():
        with read_session(engine) as session:
            funnel_by_kabupaten(session)

    def page(cold: bool, path: str | None = None, user: str = "kepala", role: str = "head"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.secrets["demo"] = True
        for key, value in {"authentication_status": True, "username": user,
                           "name": user, "email": "", "roles": [role],
                           "logout": None}.items():
            at.session_state[key] = value
        if path:
            at.run()
            at.switch_page(path)

        def run():
            if cold:
                st.cache_data.clear()
            at.run()
            assert not at.exception, at.exception
        return run

    st.cache_resource.clear()
    def search():
        with read_session(engine) as session:
            list_ikm(session, filters=IkmFilter(search="kerupuk", kabupaten_code="35.29"),
                     page=3, page_size=50)

    data_ikm = "app_pages/data_ikm.py"
    return {"overview service": median_seconds(service, repeat),
            "overview page (cold cache)": median_seconds(page(True), repeat),
            "overview page (warm cache)": median_seconds(page(False), repeat),
            "IKM list service (search+filter, page 3)": median_seconds(search, repeat),
            "Data IKM page, staff (cold cache)": median_seconds(
                page(True, data_ikm, "staf", "staff"), repeat),
            "Data IKM page, staff (warm cache)": median_seconds(
                page(False, data_ikm, "staf", "staff"), repeat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[480, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = {size: measure(size, args.repeat) for size in args.sizes}
    base = results[args.sizes[0]]
    print("\n| operation | " + " | ".join(f"{s:,} IKM" for s in args.sizes) + " |")
    print("|---|" + "---|" * len(args.sizes))
    for op in base:
        cells = [f"{results[s][op] * 1000:.0f} ms (×{results[s][op] / base[op]:.1f})"
                 for s in args.sizes]
        print(f"| {op} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

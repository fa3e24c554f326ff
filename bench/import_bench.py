"""Benchmark: dry run + commit of a 10,000-row IKM workbook against a plain bulk insert.

Run: python -m bench.import_bench [--rows 10000] [--repeat 3]
Each timing uses a fresh SQLite file (migrated, reference data loaded). Prints a markdown table
with medians and the ratio to the plain insert; nothing is asserted (people read the table).
"""

import argparse
import gc
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("IKM_BCRYPT_ROUNDS", "4")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fresh_engine(folder: Path, name: str):
    from sqlmodel import Session

    from db.engine import make_engine
    from db.migrate import upgrade
    from db.reference_data import load_reference
    from services import audit

    path = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as session:
        load_reference(session)
        # a database in use has an audit trail (every login writes one): the importer keys
        # the reuse of a dry run on the newest audit row
        audit.record(session, username="bench", action="login", table="user", row_id=1,
                     data_changed=False)
        session.commit()
    return engine


def make_rows(n: int, seed: int = 7) -> tuple[list[dict], list[list]]:
    """The same IKM as database rows (codes) and as spreadsheet rows (names, typed values)."""
    from sqlmodel import Session

    from models import utcnow
    from services.exporter import IKM_LAYOUT
    from services.regions import load_regions

    with tempfile.TemporaryDirectory() as tmp:
        engine = fresh_engine(Path(tmp), "ref")
        with Session(engine) as session:
            regions = load_regions(session)
        engine.dispose()
    rng = random.Random(seed)
    desa_by_kec: dict[str, list[tuple[str, str]]] = {}
    for code, (kec, name) in regions.desa.items():
        desa_by_kec.setdefault(kec, []).append((code, name))
    kecs = sorted(k for k in regions.kecamatan if k in desa_by_kec)
    db_rows, sheet_rows = [], []
    now = utcnow()
    for i in range(n):
        kec = rng.choice(kecs)
        kab, kec_name = regions.kecamatan[kec]
        desa, desa_name = rng.choice(desa_by_kec[kec])
        employees = rng.randint(1, 30)
        values = {
            "nib": f"{3500000000000 + i * 7919:013d}", "name": f"Usaha Madura {i}",
            "owner_name": rng.choice(["Siti Aminah", "Moh. Hasan", "Nur Hidayah", "Abdul Rahman"]),
            "owner_gender": rng.choice("LP"), "phone": f"08{rng.randrange(10**9, 10**10)}",
            "legal_form": rng.choice(["perorangan", "UD", "CV"]), "kabupaten_code": kab,
            "kecamatan_code": kec, "desa_code": desa, "address": f"Jl. Raya {i}",
            "founded_year": rng.randint(1980, 2023), "employees": employees,
            "employees_female": rng.randint(0, employees), "cohort_id": None,
            "export_commitment_on": None, "status": "aktif", "status_reason": None,
            "left_on": None}
        db_rows.append({**values, "created_at": now, "created_by": "bench", "version": 1})
        shown = {**values, "kabupaten_code": regions.kabupaten[kab],
                 "kecamatan_code": kec_name, "desa_code": desa_name}
        sheet_rows.append([shown[c.name] for c in IKM_LAYOUT.columns])
    return db_rows, sheet_rows


def workbook(sheet_rows: list[list]) -> bytes:
    from openpyxl import Workbook

    from services.exporter import IKM_LAYOUT

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("IKM")
    ws.append(IKM_LAYOUT.headers)
    for row in sheet_rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(sheet_rows: list[list]) -> bytes:
    import pandas as pd

    from services.exporter import IKM_LAYOUT, to_csv

    return to_csv(pd.DataFrame(sheet_rows, columns=IKM_LAYOUT.headers, dtype=object))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from openpyxl import load_workbook
    from sqlalchemy import insert
    from sqlmodel import Session

    from db.engine import write_session
    from models import Ikm
    from models.enums import Role
    from services import importer
    from services.permissions import Actor

    actor = Actor("bench", Role.admin)
    db_rows, sheet_rows = make_rows(args.rows)
    xlsx, csv_data = workbook(sheet_rows), csv_bytes(sheet_rows)
    tmp = Path(tempfile.mkdtemp(prefix="ikm-import-bench-"))

    def plain_insert() -> float:
        engine = fresh_engine(tmp, "plain")
        started = time.perf_counter()
        with write_session(engine) as session:
            session.execute(insert(Ikm), db_rows)
        took = time.perf_counter() - started
        engine.dispose()
        return took

    def read_and_insert() -> float:
        engine = fresh_engine(tmp, "naive")
        started = time.perf_counter()
        wb = load_workbook(io.BytesIO(xlsx), read_only=True)
        rows = list(wb["IKM"].iter_rows(values_only=True))
        wb.close()
        assert len(rows) == args.rows + 1
        with write_session(engine) as session:
            session.execute(insert(Ikm), db_rows)
        took = time.perf_counter() - started
        engine.dispose()
        return took

    def import_file(name: str, data: bytes, part: str = "both") -> float:
        engine = fresh_engine(tmp, "import")
        importer._PARSED.clear()  # parse once per dry run + commit, as the page does
        importer._PLANS.clear()  # a commit alone checks the file itself
        started = time.perf_counter()
        if part in ("both", "dry"):
            with Session(engine) as session:
                report = importer.dry_run(session, actor=actor, filename=name, data=data)
                assert report.new == args.rows and report.rejected == 0, report.errors[:3]
        if part in ("both", "commit"):
            with write_session(engine) as session:
                report = importer.commit(session, actor=actor, filename=name, data=data)
                assert report.new == args.rows
        took = time.perf_counter() - started
        engine.dispose()
        return took

    variants = [
        ("plain bulk insert of the prepared rows (`session.execute(insert(Ikm), rows)`)",
         plain_insert),
        ("read the XLSX with openpyxl + the same plain insert (no checks)", read_and_insert),
        ("XLSX: dry run only", lambda: import_file("b.xlsx", xlsx, "dry")),
        ("XLSX: commit only (cold: parses, checks, writes)",
         lambda: import_file("b.xlsx", xlsx, "commit")),
        ("**XLSX: dry run + commit**", lambda: import_file("b.xlsx", xlsx)),
        ("**CSV (same rows): dry run + commit**", lambda: import_file("b.csv", csv_data)),
    ]
    # Round robin: every variant once per round, so a drift of the machine or of the process's
    # heap over the run (a few per cent) weighs on all of them alike, not on whichever runs last.
    runs: dict[str, list[float]] = {label: [] for label, _fn in variants}
    for _round in range(args.repeat):
        for label, fn in variants:
            gc.collect()  # no garbage of the previous run collected inside this one's timing
            runs[label].append(fn())
    results = [(label, (statistics.median(runs[label]), runs[label])) for label, _fn in variants]
    base = results[0][1][0]
    naive = results[1][1][0]
    print(f"\n{args.rows:,} IKM rows, median of {args.repeat} rounds, SQLite file, "
          f"XLSX {len(xlsx) / 1024:.0f} kB, CSV {len(csv_data) / 1024:.0f} kB\n")
    print("| what | median s | runs s | × plain insert | × read + insert |")
    print("|---|---:|---|---:|---:|")
    for label, (median, runs) in results:
        print(f"| {label} | {median:.2f} | {', '.join(f'{t:.2f}' for t in runs)} "
              f"| {median / base:.1f} | {median / naive:.2f} |")
    for path in tmp.iterdir():
        path.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()

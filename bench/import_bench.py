"""Benchmark: dry run + commit of a 10,000-row IKM workbook against a plain bulk insert.

Run: python -m bench.import_bench [--rows 10000] [--repeat 5]
Each timing uses a fresh SQLite file (migrated, reference data loaded) and runs in a fresh
worker process after one warm-up run there, the variants in round robin (as pyperf does: a long
run in one process drifts, and the Python-heavy variants drift most). Prints a markdown table
with medians and the ratio to the plain insert; nothing is asserted (people read the table).
"""

import argparse
import gc
import io
import os
import pickle
import random
import statistics
import subprocess
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
        sheet_rows.append([shown.get(c.name) for c in IKM_LAYOUT.columns])
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


VARIANTS = {
    "plain": "plain bulk insert of the prepared rows (`session.execute(insert(Ikm), rows)`)",
    "naive": "read the XLSX with openpyxl + the same plain insert (no checks)",
    "xlsx_dry": "XLSX: dry run only",
    "xlsx_commit": "XLSX: commit only (cold: parses, checks, writes)",
    "xlsx": "**XLSX: dry run + commit**",
    "csv": "**CSV (same rows): dry run + commit**",
}


def run_variant(variant: str, folder: Path) -> float:
    """One timing of a variant on the inputs in `folder` (a fresh database each time)."""
    from openpyxl import load_workbook
    from sqlalchemy import insert
    from sqlmodel import Session

    from db.engine import write_session
    from models import Ikm
    from models.enums import Role
    from services import imports as importer
    from services.imports import plan as import_plan
    from services.permissions import Actor

    db_rows = pickle.loads((folder / "rows.pkl").read_bytes())
    xlsx, csv_data = (folder / "b.xlsx").read_bytes(), (folder / "b.csv").read_bytes()
    actor = Actor("bench", Role.admin)
    engine = fresh_engine(folder, variant)
    import_plan._PARSED.clear()  # parse once per dry run + commit, as the page does
    import_plan._PLANS.clear()  # a commit alone checks the file itself
    gc.collect()
    started = time.perf_counter()
    if variant == "plain":
        with write_session(engine) as session:
            session.execute(insert(Ikm), db_rows)
    elif variant == "naive":
        wb = load_workbook(io.BytesIO(xlsx), read_only=True)
        rows = list(wb["IKM"].iter_rows(values_only=True))
        wb.close()
        assert len(rows) == len(db_rows) + 1
        with write_session(engine) as session:
            session.execute(insert(Ikm), db_rows)
    else:
        name, data = ("b.csv", csv_data) if variant == "csv" else ("b.xlsx", xlsx)
        if variant != "xlsx_commit":
            with Session(engine) as session:
                report = importer.dry_run(session, actor=actor, filename=name, data=data)
                assert report.new == len(db_rows) and not report.rejected, report.errors[:3]
        if variant != "xlsx_dry":
            with write_session(engine) as session:
                report = importer.commit(session, actor=actor, filename=name, data=data)
                assert report.new == len(db_rows)
    took = time.perf_counter() - started
    engine.dispose()
    return took


def worker(variant: str, folder: Path) -> None:
    """Measure a variant in this fresh process: one warm-up run (imports, compiled statements),
    then the timed one, printed as seconds."""
    run_variant(variant, folder)
    print(f"{run_variant(variant, folder):.6f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.folder)
        return

    db_rows, sheet_rows = make_rows(args.rows)
    xlsx, csv_data = workbook(sheet_rows), csv_bytes(sheet_rows)
    tmp = Path(tempfile.mkdtemp(prefix="ikm-import-bench-"))
    (tmp / "rows.pkl").write_bytes(pickle.dumps(db_rows))
    (tmp / "b.xlsx").write_bytes(xlsx)
    (tmp / "b.csv").write_bytes(csv_data)

    # Every timing runs in a fresh worker process (after one warm-up run there), variants in
    # round robin: no variant inherits another's heap, caches or garbage, and a drift of the
    # machine over the run weighs on all of them alike.
    runs: dict[str, list[float]] = {key: [] for key in VARIANTS}
    for _round in range(args.repeat):
        for key in VARIANTS:
            out = subprocess.run(
                [sys.executable, "-m", "bench.import_bench", "--worker", key, "--folder",
                 str(tmp)], cwd=ROOT, check=True, capture_output=True, text=True)
            runs[key].append(float(out.stdout.strip().splitlines()[-1]))
    results = [(VARIANTS[key], (statistics.median(runs[key]), runs[key])) for key in VARIANTS]
    base = results[0][1][0]
    naive = results[1][1][0]
    print(f"\n{args.rows:,} IKM rows, median of {args.repeat} runs (each in a fresh process "
          f"after a warm-up run), SQLite file, XLSX {len(xlsx) / 1024:.0f} kB, "
          f"CSV {len(csv_data) / 1024:.0f} kB\n")
    print("| what | median s | runs s | × plain insert | × read + insert |")
    print("|---|---:|---|---:|---:|")
    for label, (median, times) in results:
        print(f"| {label} | {median:.2f} | {', '.join(f'{t:.2f}' for t in times)} "
              f"| {median / base:.1f} | {median / naive:.2f} |")
    for path in tmp.iterdir():
        path.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()

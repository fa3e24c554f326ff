"""Is the database sound? SQLite's quick check at every upgrade and app start (a damaged file is
refused before anything is served from it), and the figures of Admin's system health panel."""

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from services.faults import DatabaseCorrupt


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a SQLite engine (None for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    name = engine.url.database
    return Path(name) if name and name != ":memory:" else None


def integrity_problems(engine: Engine, *, full: bool = False) -> list[str]:
    """What SQLite's quick_check (or the slower integrity_check) finds wrong; [] when sound.
    PostgreSQL checks its own pages: nothing to do there."""
    if engine.dialect.name != "sqlite":
        return []
    pragma = "integrity_check" if full else "quick_check"
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql(f"PRAGMA {pragma}")]
    except Exception as exc:  # a file that is no database at all
        text = str(getattr(exc, "orig", exc)).splitlines()[0]
        if isinstance(getattr(exc, "orig", exc), sqlite3.DatabaseError) and (
                "malformed" in text or "not a database" in text or "disk i/o" in text):
            return [text]
        raise
    return [] if rows == ["ok"] else [" ".join(str(r).split()) for r in rows[:5]]


def check_integrity(engine: Engine) -> None:
    """Refuse (DatabaseCorrupt) a SQLite database that fails its quick check."""
    problems = integrity_problems(engine)
    if problems:
        raise DatabaseCorrupt(str(sqlite_path(engine) or engine.url.database),
                              "; ".join(problems)[:300])


@dataclass(frozen=True)
class Disk:
    folder: str
    free: int
    total: int


def disk_of(folder: Path) -> Disk:
    """Free and total bytes of the file system holding `folder`."""
    usage = shutil.disk_usage(folder)
    return Disk(str(folder), usage.free, usage.total)

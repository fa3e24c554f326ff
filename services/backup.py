"""Consistent backups of the SQLite database (PostgreSQL users use pg_dump)."""

import sqlite3
from pathlib import Path

from sqlalchemy import Engine


def backup_sqlite(engine: Engine, target: Path) -> int:
    """Copy the live SQLite database to `target` with the online backup API; return its size."""
    if engine.dialect.name != "sqlite":
        raise ValueError("backup works on SQLite only; back up PostgreSQL with pg_dump")
    target = Path(target)
    if target.exists():
        raise ValueError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(dest)
        finally:
            dest.close()
    finally:
        raw.close()
    return target.stat().st_size

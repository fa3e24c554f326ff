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


def backup_for_download(engine: Engine, session, *, actor) -> bytes:
    """A consistent SQLite backup as bytes for an admin to download (checked and audited)."""
    import tempfile

    from services import audit
    from services.permissions import require

    require(actor, "backup.run")
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "ikm-backup.db"
        size = backup_sqlite(engine, target)
        data = target.read_bytes()
    audit.record(session, username=actor.username, action="backup", after={"bytes": size},
                 data_changed=False)
    return data

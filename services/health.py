"""The figures of Admin's "Kesehatan sistem" (system health) panel: what kind of database, how
big, its integrity, its data version and schema, the last backup, and the free disk."""

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from db.health import disk_of, integrity_problems, sqlite_path
from db.migrate import current_revision
from models import AuditLog, utcnow
from services import audit
from services.permissions import Actor, require

DISK_WARNING = 1024**3  # below 1 GB free the panel warns
BACKUP_DAYS = 7  # a SQLite database without a backup this recent gets a warning


def _size(session: Session, engine: Engine) -> int | None:
    path = sqlite_path(engine)
    if path is not None:
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    if engine.dialect.name == "postgresql":
        return session.execute(text("SELECT pg_database_size(current_database())")).scalar()
    return None


def last_backup(session: Session) -> dict | None:
    """The newest backup the audit trail knows (from the Admin page or the command line)."""
    row = session.execute(select(AuditLog.at, AuditLog.username, AuditLog.after)
                          .where(AuditLog.action == "backup")
                          .order_by(AuditLog.id.desc()).limit(1)).first()
    if row is None:
        return None
    after = row.after or {}
    return {"at": row.at, "username": row.username,
            "how": after.get("encryption") or after.get("how") or "sqlite",
            "file": after.get("file") or after.get("path")}


def system_health(session: Session, *, actor: Actor, engine: Engine, data_folder: Path,
                  check: bool = False) -> dict:
    """The panel's figures; `check` runs SQLite's quick check now (it reads the whole file)."""
    require(actor, "user.manage")
    disk = disk_of(data_folder if sqlite_path(engine) is None else sqlite_path(engine).parent)
    backup = last_backup(session)
    at = backup and (backup["at"] if backup["at"].tzinfo else backup["at"].replace(tzinfo=UTC))
    return {
        "kind": engine.dialect.name,
        "where": str(sqlite_path(engine) or engine.url.render_as_string(hide_password=True)),
        "size": _size(session, engine),
        "revision": current_revision(engine),
        "data_version": audit.data_version(session),
        "audit_rows": session.execute(select(func.count()).select_from(AuditLog)).scalar(),
        "integrity": integrity_problems(engine) if check else None,
        "backup": backup,
        "backup_old": engine.dialect.name == "sqlite"
        and (at is None or (utcnow() - at).days >= BACKUP_DAYS),
        "disk_free": disk.free, "disk_total": disk.total, "disk_folder": disk.folder,
        "disk_low": disk.free < DISK_WARNING,
        "checked_at": datetime.now().astimezone() if check else None,
    }

"""Consistent backups of the SQLite database (PostgreSQL users use pg_dump), plain or encrypted.

An encrypted backup is a standard ZIP archive holding one consistent SQLite copy, encrypted with
AES-256 in WinZip's AE-2 format (PBKDF2-HMAC-SHA1 key derivation, AES-CTR, an HMAC-SHA1 check of
the whole member) under a passphrase the admin types. 7-Zip opens it (`7z x FILE`) and
`python -m db restore-backup FILE TARGET` restores it. The passphrase is never stored, logged or
audited. The plain database never touches the disk on the way: it is copied into memory with
SQLite's online backup API and zipped from there.
"""

import contextlib
import io
import os
import re
import shutil
import sqlite3
import tempfile
import zlib
from pathlib import Path

import pyzipper
from pyzipper.zipfile_aes import WZ_AES_V2
from sqlalchemy import Engine

from services.errors import ServiceError, ValidationFailed

MIN_PASSPHRASE = 16  # WinZip AES derives its key with only 1,000 PBKDF2 rounds: length matters
MAX_PASSPHRASE = 128
MIN_DISTINCT = 8  # different characters, so that "aaaaaaaaaaaaaaaa" or "1234123412341234" fail
ENCRYPTION = "zip-aes-256"  # what the audit row records about the archive
SQLITE_MAGIC = b"SQLite format 3\x00"
TABLES_OF_THE_APP = ("alembic_version", "user", "ikm")


# --- the passphrase ----------------------------------------------------------------------------

def passphrase_problems(passphrase: str, confirm: str | None = None) -> list[tuple[str, dict]]:
    """Every rule the passphrase breaks, as (message key, parameters); empty when acceptable.

    `confirm` is the repeated entry of a form (None: not asked)."""
    from services.auth import DEMO_PASSWORD, common_passwords

    problems: list[tuple[str, dict]] = []
    if len(passphrase) < MIN_PASSPHRASE:
        problems.append(("bk.too_short", {"min": MIN_PASSPHRASE}))
    elif len(passphrase) > MAX_PASSPHRASE:
        problems.append(("bk.too_long", {"max": MAX_PASSPHRASE}))
    lowered = passphrase.strip().lower()
    if passphrase and (len(set(lowered)) < MIN_DISTINCT or lowered in common_passwords()
                       or DEMO_PASSWORD in lowered):
        problems.append(("bk.weak", {}))
    if confirm is not None and confirm != passphrase:
        problems.append(("bk.mismatch", {}))
    return problems


def check_passphrase(passphrase: str, confirm: str | None = None) -> None:
    """Refuse a passphrase that breaks a rule (ValidationFailed on the field `passphrase`)."""
    problems = passphrase_problems(passphrase, confirm)
    if problems:
        raise ValidationFailed("err.validation", errors={"passphrase": [k for k, _ in problems]},
                               details={"passphrase": problems[0]})


# --- making backups ----------------------------------------------------------------------------

def _require_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        raise ValueError("backup works on SQLite only; back up PostgreSQL with pg_dump")


def _copy_into(engine: Engine, dest: sqlite3.Connection) -> None:
    """Copy the live database into `dest` with SQLite's online backup API (consistent while the
    app writes)."""
    raw = engine.raw_connection()
    try:
        raw.driver_connection.backup(dest)
    finally:
        raw.close()


def _verified(conn: sqlite3.Connection) -> None:
    """Refuse a copy that fails SQLite's integrity check: a damaged database copies as damaged,
    and a backup that cannot be restored is worse than none."""
    try:
        verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise ServiceError("bk.source_damaged", detail=str(exc)[:200]) from None
    if verdict != ["ok"]:
        raise ServiceError("bk.source_damaged", detail="; ".join(verdict[:3])[:200])


def backup_sqlite(engine: Engine, target: Path) -> int:
    """Copy the live SQLite database to `target` with the online backup API; return its size.

    The copy is written under a temporary name beside the target, checked (integrity_check),
    then given its name: a full disk or a damaged source leaves no file behind, so the same
    name can be tried again."""
    _require_sqlite(engine)
    target = Path(target)
    if target.exists():
        raise ValueError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".partial")
    os.close(handle)
    staging = Path(name)
    try:
        dest = sqlite3.connect(staging)
        try:
            _copy_into(engine, dest)
            _verified(dest)
        finally:
            dest.close()
        _publish(staging, target)
    finally:
        _remove(staging)
    return target.stat().st_size


def _database_bytes(engine: Engine) -> bytes:
    """A consistent, checked copy of the live database as the bytes of a SQLite file (never on
    disk)."""
    _require_sqlite(engine)
    dest = sqlite3.connect(":memory:")
    try:
        _copy_into(engine, dest)
        _verified(dest)
        return dest.serialize()
    finally:
        dest.close()


def encrypt_database(database: bytes, passphrase: str, member: str) -> bytes:
    """A ZIP archive holding `database` as `member`, AES-256 encrypted (WinZip AE-2)."""
    check_passphrase(passphrase)
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES,
                             encryption_kwargs={"nbits": 256,
                                                "force_wz_aes_version": WZ_AES_V2},
                             ) as archive:
        archive.setpassword(passphrase.encode("utf-8"))
        archive.writestr(member, database)  # dated now, deflated, mode 0600
    return buffer.getvalue()


def encrypted_backup(engine: Engine, session, *, actor, passphrase: str, name: str) -> bytes:
    """An encrypted backup (`name`.zip holding `name`.db) for an admin to download.

    Checked (admin only, passphrase rules) and audited without the passphrase; the caller's
    session commits the audit row. The copy is read before the session writes, so a session
    that has not begun yet holds no write lock while the copy is made."""
    from services import audit
    from services.permissions import require

    require(actor, "backup.run")
    check_passphrase(passphrase)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", name):
        raise ValueError(f"not a file name for a backup: {name!r}")
    database = _database_bytes(engine)
    data = encrypt_database(database, passphrase, f"{name}.db")
    audit.record(session, username=actor.username, action="backup",
                 after={"file": f"{name}.zip", "bytes": len(data),
                        "database_bytes": len(database), "encryption": ENCRYPTION},
                 data_changed=False)
    return data


def write_encrypted_backup(engine: Engine, target: Path, passphrase: str) -> int:
    """Write an encrypted backup to `target` (a new .zip file); return its size. Written under
    a temporary name and renamed at the end, so a failure leaves nothing behind."""
    target = Path(target)
    if target.suffix.lower() != ".zip":
        raise ValueError(f"an encrypted backup is a .zip file; name it e.g. {target.stem}.zip")
    if target.exists():
        raise ValueError(f"{target} already exists; choose a new file name")
    check_passphrase(passphrase)
    data = encrypt_database(_database_bytes(engine), passphrase, f"{target.stem}.db")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".partial")
    staging = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        _publish(staging, target)  # never overwrites a file that appeared meanwhile
    finally:
        _remove(staging)
    return len(data)


# --- restoring ---------------------------------------------------------------------------------

def _integrity(path: Path) -> dict:
    """Check a SQLite file: integrity_check must say ok and the app's tables must be there."""
    with open(path, "rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise ServiceError("bk.not_sqlite")
    try:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if verdict != ["ok"]:
                raise ServiceError("bk.damaged", detail="; ".join(verdict[:3]))
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not set(TABLES_OF_THE_APP) <= tables:
                raise ServiceError("bk.not_ikm")
            return {"users": conn.execute("SELECT count(*) FROM user").fetchone()[0],
                    "ikm": conn.execute("SELECT count(*) FROM ikm").fetchone()[0]}
    except sqlite3.DatabaseError as exc:
        raise ServiceError("bk.damaged", detail=str(exc)) from None


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _publish(staging: Path, target: Path) -> None:
    """Give the verified file its final name without ever overwriting an existing file."""
    try:
        os.link(staging, target)  # atomic; fails if the target exists
    except FileExistsError:
        raise ServiceError("bk.target_exists", path=str(target)) from None
    except OSError:  # a file system without hard links: copy into a new file
        try:
            out = open(target, "xb")  # noqa: SIM115  (closed below; removed if the copy fails)
        except FileExistsError:
            raise ServiceError("bk.target_exists", path=str(target)) from None
        try:
            with out, open(staging, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
        except BaseException:
            target.unlink(missing_ok=True)
            raise


def restore_backup(source: Path, target: Path, passphrase: str) -> dict:
    """Decrypt an encrypted backup, verify the database in it and write it to `target`, a new
    file (never overwritten). Nothing is left behind when anything fails. Returns the
    database's size and its counts of users and IKM."""
    source, target = Path(source), Path(target)
    if target.exists():
        raise ServiceError("bk.target_exists", path=str(target))
    if not source.is_file():
        raise ServiceError("bk.no_file", path=str(source))
    try:
        archive = pyzipper.AESZipFile(source)
    except (pyzipper.BadZipFile, OSError):
        raise ServiceError("bk.not_backup") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1 or getattr(members[0], "wz_aes_strength", None) is None:
            raise ServiceError("bk.not_backup")  # one AES-encrypted file, nothing else
        archive.setpassword(passphrase.encode("utf-8"))
        try:
            member = archive.open(members[0])  # checks the passphrase's verification value
        except RuntimeError:  # pyzipper: "Bad password for file" (or an empty passphrase)
            raise ServiceError("bk.wrong_passphrase") from None
        with member:
            return _restore_member(member, target)


def _restore_member(member, target: Path) -> dict:
    # Decrypt next to the target (same file system), verify, then publish under the final name.
    missing = [p for p in target.parents if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".restoring")
    staging = Path(name)
    done = False
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                shutil.copyfileobj(member, out, 1 << 20)
            except (pyzipper.BadZipFile, zlib.error, EOFError):  # the HMAC check or the inflate
                raise ServiceError("bk.corrupt") from None
        counts = _integrity(staging)
        _publish(staging, target)
        done = True
    finally:
        _remove(staging)
        if not done and missing:
            shutil.rmtree(missing[-1], ignore_errors=True)  # the folders this restore made
    return {"bytes": target.stat().st_size, **counts}

"""Encrypted backups: the archive is a standard WinZip AES-256 ZIP (read here without pyzipper),
`python -m db restore-backup` restores it, and refusals write nothing.

Run on the demo database: its accounts carry real bcrypt hashes ("$2b$..."), the thing an
intercepted download must never reveal.
"""

import contextlib
import hashlib
import hmac
import io
import json
import logging
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlmodel import Session, select

from db.engine import get_engine
from models import AuditLog
from models.enums import Role
from services.backup import check_passphrase, encrypted_backup
from services.errors import PermissionDenied, ValidationFailed
from services.permissions import Actor

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "garam-kalianget-sumenep-2026"
NAME = "ikm-madura-2026-06-15"
ADMIN = Actor("admin", Role.admin)
SQLITE_MAGIC = b"SQLite format 3\x00"


# --- an independent reader of WinZip AES archives ----------------------------------------------

def winzip_aes_extract(archive: bytes, passphrase: str) -> tuple[str, bytes]:
    """The one member of a WinZip AES archive, read with the standard library and `cryptography`
    only (PKWARE APPNOTE + WinZip's "AES Encryption Information"), not with pyzipper.

    PBKDF2-HMAC-SHA1 (1000 rounds) over the salt gives the AES key, the HMAC key and a 2-byte
    verifier; the data is AES-CTR with a little-endian counter from 1; an HMAC-SHA1 of the
    ciphertext, cut to 10 bytes, ends the member."""
    with zipfile.ZipFile(io.BytesIO(archive)) as listing:
        (info,) = listing.infolist()
    assert info.compress_type == 99 and info.flag_bits & 1, "not an AES-encrypted member"
    extra, fields = info.extra, {}
    while extra:
        tag, size = struct.unpack("<HH", extra[:4])
        fields[tag], extra = extra[4:4 + size], extra[4 + size:]
    version, vendor, strength, method = struct.unpack("<H2sBH", fields[0x9901])
    assert (vendor, strength) == (b"AE", 3), "not WinZip AES-256"
    header = archive[info.header_offset:info.header_offset + 30]
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    blob = archive[start:start + info.compress_size]
    salt, verifier, body, mac = blob[:16], blob[16:18], blob[18:-10], blob[-10:]
    keys = hashlib.pbkdf2_hmac("sha1", passphrase.encode("utf-8"), salt, 1000, 66)
    if keys[64:] != verifier:
        raise ValueError("wrong passphrase")
    if not hmac.compare_digest(hmac.new(keys[32:64], body, "sha1").digest()[:10], mac):
        raise ValueError("authentication failed")
    blocks = (len(body) + 15) // 16
    counters = b"".join(i.to_bytes(16, "little") for i in range(1, blocks + 1))
    encryptor = Cipher(algorithms.AES(keys[:32]), modes.ECB()).encryptor()
    stream = (encryptor.update(counters) + encryptor.finalize())[:len(body)]
    plain = (int.from_bytes(body, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(body),
                                                                                   "big")
    data = zlib.decompress(plain, -15) if method == 8 else plain
    if version == 1:  # AE-1 keeps the CRC; AE-2 (what we write) sets it to 0
        assert zlib.crc32(data) == info.CRC
    return info.filename, data


# --- helpers -----------------------------------------------------------------------------------

def rows(db: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchall()


USERS = "SELECT username, role, password_hash FROM user ORDER BY username"


def backup_rows() -> list[AuditLog]:
    with Session(get_engine()) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == "backup")).all())


def make_backup(actor: Actor = ADMIN, passphrase: str = PASSPHRASE) -> bytes:
    engine = get_engine()
    with Session(engine) as s:
        data = encrypted_backup(engine, s, actor=actor, passphrase=passphrase, name=NAME)
        s.commit()
    return data


def cli(*args: str, passphrase: str | None = None) -> subprocess.CompletedProcess:
    """`python -m db ...` on the demo database (DATABASE_URL from the demo_db fixture)."""
    env = {k: v for k, v in os.environ.items() if k != "IKM_BACKUP_PASSPHRASE"}
    if passphrase is not None:
        env["IKM_BACKUP_PASSPHRASE"] = passphrase
    return subprocess.run([sys.executable, "-m", "db", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def one_error(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and text in lines[0], lines
    assert result.stdout == ""


def assert_unreadable(data: bytes) -> None:
    """What anyone without the passphrase gets: no SQLite file, no password hash."""
    assert data.startswith(b"PK\x03\x04")
    assert SQLITE_MAGIC not in data and b"$2b$" not in data and b"CREATE TABLE" not in data


@pytest.fixture
def work(tmp_path) -> Path:
    """An empty folder for archives and restored files (the demo database lives next to it)."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- the archive -------------------------------------------------------------------------------

def test_download_is_an_aes_zip_that_restore_backup_turns_back_into_the_database(demo_db, work):
    data = make_backup()
    assert_unreadable(data)
    name, database = winzip_aes_extract(data, PASSPHRASE)
    assert name == f"{NAME}.db" and database.startswith(SQLITE_MAGIC)
    copy = work / "independent.db"
    copy.write_bytes(database)
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert rows(copy, USERS) == rows(demo_db, USERS)
    assert rows(copy, USERS)[0][2].startswith("$2b$")  # the hashes are in there, encrypted

    archive = work / f"{NAME}.zip"
    archive.write_bytes(data)
    target = work / "restored" / "ikm.db"
    done = cli("restore-backup", str(archive), str(target), passphrase=PASSPHRASE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [
        f"backup {archive} restored to {target} ({target.stat().st_size:,} bytes, integrity ok, "
        f"5 users, 480 IKM)"]
    assert listing(target.parent) == ["ikm.db"]  # no staging file left behind
    assert rows(target, USERS) == rows(demo_db, USERS)
    assert rows(target, "SELECT count(*) FROM ikm") == [(480,)]


def test_each_backup_has_its_own_salt(demo_db):
    first, second = make_backup(), make_backup()
    assert first[:200] != second[:200]  # the salt and everything after it differ
    for data in (first, second):
        assert winzip_aes_extract(data, PASSPHRASE)[1].startswith(SQLITE_MAGIC)


@pytest.mark.parametrize("wrong", ["garam-kalianget-sumenep-2025", "",
                                   "GARAM-KALIANGET-SUMENEP-2026"])
def test_wrong_passphrase_is_refused_and_writes_nothing(demo_db, work, wrong):
    archive = work / "backup.zip"
    archive.write_bytes(make_backup())
    target = work / "new-folder" / "ikm.db"
    result = cli("restore-backup", str(archive), str(target), passphrase=wrong)
    # The 2-byte check value catches all but 1 in 65,536 wrong passphrases; the rest fail the
    # archive's authentication code, with a message that names both causes.
    one_error(result, "cannot be decrypted")
    assert result.stderr.strip().endswith("Nothing was written.")
    assert listing(work) == ["backup.zip"]  # not even the new folder
    with pytest.raises(ValueError, match="wrong passphrase|authentication failed"):
        winzip_aes_extract(archive.read_bytes(), wrong)


def test_a_tampered_archive_is_refused_and_writes_nothing(demo_db, work):
    data = bytearray(make_backup())
    data[len(data) // 2] ^= 0x01  # one bit in the ciphertext
    archive = work / "backup.zip"
    archive.write_bytes(bytes(data))
    one_error(cli("restore-backup", str(archive), str(work / "ikm.db"), passphrase=PASSPHRASE),
              "the file is damaged or the passphrase is wrong")
    assert listing(work) == ["backup.zip"]


def test_restore_never_overwrites_and_refuses_what_is_not_an_encrypted_backup(demo_db, work):
    archive = work / "backup.zip"
    archive.write_bytes(make_backup())
    existing = work / "existing.db"
    existing.write_bytes(b"keep me")
    one_error(cli("restore-backup", str(archive), str(existing), passphrase=PASSPHRASE),
              "already exists")
    assert existing.read_bytes() == b"keep me"

    plain_zip = work / "plain.zip"
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.write(demo_db, "ikm.db")
    one_error(cli("restore-backup", str(plain_zip), str(work / "a.db"), passphrase=PASSPHRASE),
              "not an encrypted IKM Madura backup")
    one_error(cli("restore-backup", str(demo_db), str(work / "b.db"), passphrase=PASSPHRASE),
              "not an encrypted IKM Madura backup")
    one_error(cli("restore-backup", str(work / "nothing.zip"), str(work / "c.db"),
                  passphrase=PASSPHRASE), "not found")
    one_error(cli("restore-backup", str(archive), str(work / "d.db")), "IKM_BACKUP_PASSPHRASE")
    assert listing(work) == ["backup.zip", "existing.db", "plain.zip"]


# --- who may, and which passphrases --------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.head, Role.staff, Role.assessor, Role.viewer])
def test_only_admins_get_a_backup(demo_db, role):
    with pytest.raises(PermissionDenied):
        make_backup(Actor("someone", role, "35.29" if role == Role.staff else None))
    assert backup_rows() == []


@pytest.mark.parametrize(("passphrase", "confirm", "key"), [
    ("kopi-pamekasan", None, "bk.too_short"),  # 14 characters
    ("", None, "bk.too_short"),
    ("x" * 129, None, "bk.too_long"),
    ("aaaaaaaaaaaaaaaaaaaa", None, "bk.weak"),
    ("1234123412341234", None, "bk.weak"),
    ("madura-demo-2024 backup", None, "bk.weak"),  # the published demo password
    ("garam-kalianget-sumenep", "garam-kalianget-sumenap", "bk.mismatch"),
])
def test_weak_passphrases_are_refused_in_the_service(demo_db, passphrase, confirm, key):
    with pytest.raises(ValidationFailed) as refused:
        check_passphrase(passphrase, confirm)
    assert key in refused.value.errors["passphrase"]
    if confirm is None:
        with pytest.raises(ValidationFailed):
            make_backup(passphrase=passphrase)
    assert backup_rows() == []


def test_audit_row_records_the_backup_without_the_passphrase(demo_db, caplog):
    caplog.set_level(logging.DEBUG)
    data = make_backup()
    (row,) = backup_rows()
    assert row.username == "admin"
    assert row.after == {"file": f"{NAME}.zip", "bytes": len(data),
                         "database_bytes": len(winzip_aes_extract(data, PASSPHRASE)[1]),
                         "encryption": "zip-aes-256"}
    everything = json.dumps([row.model_dump(mode="json")]) + caplog.text
    assert PASSPHRASE not in everything and PASSPHRASE.encode().hex() not in everything


# --- the command line --------------------------------------------------------------------------

def test_cli_backup_encrypt_writes_the_same_format(demo_db, work):
    archive = work / "backups" / "ikm-2026-06-15.zip"
    made = cli("backup", str(archive), "--encrypt", passphrase=PASSPHRASE)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().splitlines() == [
        f"encrypted backup written to {archive} ({archive.stat().st_size:,} bytes, "
        "integrity checked, AES-256 ZIP; restore with python -m db restore-backup or 7-Zip)"]
    assert PASSPHRASE not in made.stdout + made.stderr
    data = archive.read_bytes()
    assert_unreadable(data)
    name, database = winzip_aes_extract(data, PASSPHRASE)
    assert name == "ikm-2026-06-15.db" and database.startswith(SQLITE_MAGIC)
    target = work / "restored.db"
    assert cli("restore-backup", str(archive), str(target), passphrase=PASSPHRASE).returncode == 0
    assert rows(target, USERS) == rows(demo_db, USERS)
    one_error(cli("backup", str(archive), "--encrypt", passphrase=PASSPHRASE), "already exists")


@pytest.mark.parametrize(("name", "passphrase", "message"), [
    ("short.zip", "kopi-pamekasan", "Backup passphrase: The passphrase needs at least 16 "
                                    "characters."),
    ("weak.zip", "aaaaaaaaaaaaaaaaaaaa", "too easy to guess"),
    ("none.zip", None, "set IKM_BACKUP_PASSPHRASE"),
    ("plain.db", PASSPHRASE, "an encrypted backup is a .zip file"),
])
def test_cli_backup_encrypt_refusals_write_nothing(demo_db, work, name, passphrase, message):
    folder = work / "backups"
    one_error(cli("backup", str(folder / name), "--encrypt", passphrase=passphrase), message)
    assert not folder.exists()


def test_seven_zip_opens_the_archive(demo_db, work):
    """The documented Windows route: 7-Zip (Debian's p7zip-full) extracts with the passphrase."""
    seven = shutil.which("7z")
    if seven is None:
        if os.environ.get("IKM_REQUIRE_E2E") == "1":
            pytest.fail("7z is required in CI (apt-get install p7zip-full)", pytrace=False)
        pytest.skip("7z not installed (apt-get install p7zip-full)")
    archive = work / f"{NAME}.zip"
    archive.write_bytes(make_backup())
    wrong = subprocess.run([seven, "x", "-pbukan-frasa-sandinya-2026", f"-o{work / 'no'}",
                            str(archive)], capture_output=True, text=True, timeout=120)
    assert wrong.returncode != 0 and "Wrong password" in wrong.stdout + wrong.stderr
    out = work / "out"
    done = subprocess.run([seven, "x", f"-p{PASSPHRASE}", f"-o{out}", str(archive)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    extracted = out / f"{NAME}.db"
    assert rows(extracted, "PRAGMA integrity_check") == [("ok",)]
    assert rows(extracted, USERS) == rows(demo_db, USERS)

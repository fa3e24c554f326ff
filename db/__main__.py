"""Command line: python -m db upgrade | seed-demo [--ikm N] | create-user USERNAME --role ROLE
[--kabupaten CODE] | disable-demo-accounts | backup PATH [--encrypt] | restore-backup FILE TARGET.
Errors are one line on stderr with a non-zero exit."""

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from db.engine import get_engine, write_session
from db.migrate import current_revision, upgrade
from db.reference_data import load_reference
from db.settings import database_url


def _cmd_upgrade(_args) -> str:
    from db.health import check_integrity

    engine = get_engine()
    check_integrity(engine)
    before = current_revision(engine)
    upgrade(engine)
    with write_session(engine) as session:
        added = load_reference(session)
    after = current_revision(engine)
    new_rows = sum(added.values())
    return (f"database {_safe(database_url())}: revision {before or 'empty'} -> {after}; "
            f"{new_rows} reference rows added")


def _cmd_seed_demo(args) -> str:
    from db.demo import demo_is_seeded, seed_demo
    from services.auth import ensure_demo_accounts

    if args.ikm <= 0 or args.ikm % 4:
        raise ValueError("--ikm must be a positive multiple of 4 (the same number per regency)")
    engine = get_engine()
    upgrade(engine)
    with write_session(engine) as session:
        load_reference(session)
        if demo_is_seeded(session) and not args.force:
            raise RuntimeError("the database already holds IKM; use --force to add demo data")
        accounts = ensure_demo_accounts(session)
        counts = seed_demo(session, ikm_per_kabupaten=args.ikm // 4,
                           progress=None if args.quiet else _progress)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    return f"demo data added ({accounts} demo accounts): {summary}"


def _progress(fraction: float, label: str) -> None:
    print(f"\r{fraction:5.0%} {label:<40}", end="", file=sys.stderr, flush=True)
    if fraction >= 1:
        print(file=sys.stderr)


def _cmd_create_user(args) -> str:
    from services import auth
    from services.errors import ServiceError, ValidationFailed

    password = os.environ.get("IKM_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise ValueError("set IKM_PASSWORD or run in a terminal to be asked for the password")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise ValueError("the two passwords differ")
    engine = get_engine()
    upgrade(engine)
    with write_session(engine) as session:
        load_reference(session)
    try:
        with write_session(engine) as session:
            user = auth.create_user(session, actor=None, username=args.username,
                                    display_name=args.name or args.username, role=args.role,
                                    password=password, kabupaten_code=args.kabupaten,
                                    email=args.email)
    except ValidationFailed as exc:
        from ui.catalogue import CATALOGUE

        texts = CATALOGUE["en"]
        details = "; ".join(f"{field}: {', '.join(texts.get(k, k) for k in keys)}"
                            for field, keys in exc.errors.items())
        raise ValueError(details) from None
    except ServiceError as exc:
        raise ValueError(exc.key) from None
    scope = f", regency {user.kabupaten_code}" if user.kabupaten_code else ""
    return f"user {user.username} created with role {user.role}{scope}"


def _cmd_disable_demo_accounts(_args) -> str:
    from services.auth import disable_demo_accounts, list_users

    engine = get_engine()
    upgrade(engine)
    with write_session(engine) as session:
        names = disable_demo_accounts(session, actor=None)
        admins = [u for u in list_users(session) if u.active and u.role == "admin"]
    if not names:
        return "no active demo accounts and no account with the demo password: nothing to do"
    hint = "" if admins else "; no active admin is left: python -m db create-user NAME --role admin"
    return (f"{len(names)} account(s) disabled and their sessions revoked: "
            f"{', '.join(names)}{hint}")


def _cmd_backup(args) -> str:
    from services.backup import backup_sqlite, write_encrypted_backup
    from services.errors import ServiceError

    target = Path(args.path)
    engine = get_engine()
    try:
        if not args.encrypt:
            size = backup_sqlite(engine, target)
        else:
            if target.exists():  # before asking for a passphrase
                raise ValueError(f"{target} already exists; choose a new file name")
            size = write_encrypted_backup(engine, target, _backup_passphrase(confirm=True))
    except ServiceError as exc:
        raise ValueError(_english(exc)) from None
    _audit_backup(engine, target, size, "cli, zip-aes-256" if args.encrypt else "cli, sqlite")
    if not args.encrypt:
        return f"backup written to {target} ({size:,} bytes, integrity checked)"
    return (f"encrypted backup written to {target} ({size:,} bytes, integrity checked, AES-256 "
            f"ZIP; restore with python -m db restore-backup or 7-Zip)")


def _audit_backup(engine, target: Path, size: int, how: str) -> None:
    # Admin's system health shows the last backup, whichever way it was made.
    from services import audit

    with write_session(engine) as session:
        audit.record(session, username="cli", action="backup",
                     after={"file": target.name, "bytes": size, "how": how},
                     data_changed=False)


def _cmd_restore_backup(args) -> str:
    from services.backup import restore_backup
    from services.errors import ServiceError

    source, target = Path(args.file), Path(args.target)
    if target.exists():  # before asking for a passphrase
        raise ValueError(f"{target} already exists; choose a new file name (never overwritten)")
    if not source.is_file():
        raise ValueError(f"backup file {source} not found")
    try:
        done = restore_backup(source, target, _backup_passphrase(confirm=False))
    except ServiceError as exc:
        raise ValueError(_english(exc)) from None
    return (f"backup {source} restored to {target} ({done['bytes']:,} bytes, integrity ok, "
            f"{done['users']} users, {done['ikm']} IKM)")


def _backup_passphrase(*, confirm: bool) -> str:
    # From IKM_BACKUP_PASSPHRASE, or asked without echo; never printed or logged.
    passphrase = os.environ.get("IKM_BACKUP_PASSPHRASE")
    if passphrase is None:
        if not sys.stdin.isatty():
            raise ValueError("set IKM_BACKUP_PASSPHRASE or run in a terminal to be asked for the "
                             "passphrase")
        passphrase = getpass.getpass("Backup passphrase: ")
        if confirm and getpass.getpass("Repeat the passphrase: ") != passphrase:
            raise ValueError("the two passphrases differ")
    return passphrase


def _english(exc) -> str:
    # A service's refusal in English (the CLI's language), with the parameters filled in.
    from services.errors import ValidationFailed
    from ui.catalogue import CATALOGUE

    texts = CATALOGUE["en"]
    if isinstance(exc, ValidationFailed):
        details = exc.params.get("details") or {f: (keys[0], {}) for f, keys in exc.errors.items()}
        return "; ".join(f"{texts.get('field.' + field, field)}: "
                         f"{texts.get(key, key).format(**params)}"
                         for field, (key, params) in details.items())
    return texts.get(exc.key, exc.key).format(**exc.params)


def _one_line(exc: BaseException) -> str:
    """An error as one line: a database or disk fault in the words of the app's messages
    (English), anything else as its first line."""
    from services.faults import explain
    from ui.catalogue import CATALOGUE

    fault = explain(exc, url=database_url())
    if fault is not None:
        return " ".join(CATALOGUE["en"][fault.key].format(**fault.params).split())
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage plus error
        print(f"error: {message} (see python -m db --help)", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str] | None = None) -> int:
    """Run one command; print what it did, or one error line and return non-zero."""
    parser = _Parser(prog="python -m db", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("upgrade", help="migrate the database to the newest schema")
    seed = sub.add_parser("seed-demo", help="generate the synthetic demo programme")
    seed.add_argument("--ikm", type=int, default=480, help="number of IKM (multiple of 4)")
    seed.add_argument("--force", action="store_true", help="add even if IKM exist")
    seed.add_argument("--quiet", action="store_true", help="no progress output")
    create = sub.add_parser("create-user", help="create an account (password from IKM_PASSWORD)")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=["admin", "head", "staff", "assessor",
                                                          "viewer"])
    create.add_argument("--kabupaten", help="regency code for a scoped staff account, e.g. 35.29")
    create.add_argument("--name", help="display name")
    create.add_argument("--email")
    sub.add_parser("disable-demo-accounts",
                   help="deactivate demo accounts and accounts with the demo password")
    backup = sub.add_parser("backup", help="write a consistent copy of the SQLite database")
    backup.add_argument("path")
    backup.add_argument("--encrypt", action="store_true",
                        help="write an AES-256 encrypted ZIP (passphrase from "
                             "IKM_BACKUP_PASSPHRASE or asked)")
    restore = sub.add_parser("restore-backup", help="decrypt and verify an encrypted backup into "
                                                    "a new database file")
    restore.add_argument("file", help="the encrypted backup (.zip)")
    restore.add_argument("target", help="the database file to write (must not exist)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    handlers = {"upgrade": _cmd_upgrade, "seed-demo": _cmd_seed_demo,
                "create-user": _cmd_create_user, "backup": _cmd_backup,
                "disable-demo-accounts": _cmd_disable_demo_accounts,
                "restore-backup": _cmd_restore_backup}
    try:
        print(handlers[args.command](args))
    except Exception as exc:  # noqa: BLE001  (one clear line, no traceback)
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

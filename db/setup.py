"""Bring a database to a usable state: migrate, load reference data, and in demo mode seed it;
in production, refuse a database that still has demo accounts."""

import logging
from collections.abc import Callable

from sqlalchemy import Engine

from db.engine import read_session, write_session
from db.migrate import upgrade
from db.reference_data import load_reference

log = logging.getLogger(__name__)


def prepare_database(engine: Engine, *, demo: bool,
                     progress: Callable[[float, str], None] | None = None) -> dict:
    """Check the file's integrity (SQLite), upgrade to head, load missing reference rows and,
    in demo mode, demo accounts and data.

    In production, raise ConfigError while a demo account is active or an active account still
    has the demo password (python -m db disable-demo-accounts deactivates them).
    """
    from db.demo import demo_is_seeded, seed_demo
    from db.health import check_integrity
    from services.auth import ensure_demo_accounts

    check_integrity(engine)  # a damaged file is refused before anything is served from it
    upgrade(engine)
    done: dict = {}
    with write_session(engine) as session:
        done["reference"] = load_reference(session)
    if not demo:
        refuse_demo_leftovers(engine)
    if demo:
        with write_session(engine) as session:
            done["demo_accounts"] = ensure_demo_accounts(session)
            if not demo_is_seeded(session):
                done["demo"] = seed_demo(session, progress=progress)
    log.info("database prepared: %s", {k: v for k, v in done.items() if k != "reference"})
    return done


def refuse_demo_leftovers(engine: Engine) -> None:
    """Raise ConfigError naming the demo leftovers of a production database (if any)."""
    from services.auth import demo_leftovers
    from services.config import ConfigError

    with read_session(engine) as session:
        names = demo_leftovers(session)
    if names:
        listed = ", ".join(names)
        raise ConfigError(
            f"Production mode refuses this database: demo accounts or accounts with the demo "
            f"password are active ({listed}). Disable them with "
            "`python -m db disable-demo-accounts`, then reload this page.",
            f"Mode produksi menolak basis data ini: akun demo atau akun berkata sandi demo masih "
            f"aktif ({listed}). Nonaktifkan dengan `python -m db disable-demo-accounts`, lalu "
            "muat ulang halaman ini.")

"""Bring a database to a usable state: migrate, load reference data, and in demo mode seed it."""

import logging
from collections.abc import Callable

from sqlalchemy import Engine

from db.engine import write_session
from db.migrate import upgrade
from db.reference_data import load_reference

log = logging.getLogger(__name__)


def prepare_database(engine: Engine, *, demo: bool,
                     progress: Callable[[float, str], None] | None = None) -> dict:
    """Upgrade to head, load missing reference rows and, in demo mode, demo accounts and data."""
    from db.demo import demo_is_seeded, seed_demo
    from services.auth import ensure_demo_accounts

    upgrade(engine)
    done: dict = {}
    with write_session(engine) as session:
        done["reference"] = load_reference(session)
    if demo:
        with write_session(engine) as session:
            done["demo_accounts"] = ensure_demo_accounts(session)
            if not demo_is_seeded(session):
                done["demo"] = seed_demo(session, progress=progress)
    log.info("database prepared: %s", {k: v for k, v in done.items() if k != "reference"})
    return done

"""Database access: engines, sessions, migrations, reference data, demo seed and the CLI."""

from db.engine import (
    dispose_engines,
    get_engine,
    make_engine,
    read_session,
    run_write,
    write_session,
)
from db.settings import data_dir, database_url

__all__ = [
    "data_dir", "database_url", "dispose_engines", "get_engine", "make_engine", "read_session",
    "run_write", "write_session",
]

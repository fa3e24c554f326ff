"""Alembic, driven from code: the schema is owned by the migrations in db/migrations."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at our migrations, bound to an engine when given."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to the given revision (default: the newest), and make sure the
    data-version row exists: every write transaction on PostgreSQL locks it first
    (db.engine.write_session), so that writers always take their locks in one order."""
    command.upgrade(alembic_config(engine), revision)
    if inspect(engine).has_table("appstate"):
        with engine.begin() as conn:
            if conn.exec_driver_sql(
                    "SELECT 1 FROM appstate WHERE key = 'data_version'").first() is None:
                conn.exec_driver_sql(
                    "INSERT INTO appstate (key, value) VALUES ('data_version', '0')")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def head_revision() -> str:
    """The newest migration's revision (what `upgrade` brings a database to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()

"""Where the database and the data folder live, read from the environment (and secrets)."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The folder holding the SQLite file, the demo cookie key and backups (created if missing)."""
    path = Path(os.environ.get("IKM_DATA_DIR") or ROOT / "data")
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)  # the database, its key and backups are the owner's alone
    return path


def database_url(secrets_url: str | None = None) -> str:
    """The database URL: `DATABASE_URL`, else the secrets' one, else SQLite in the data folder."""
    url = os.environ.get("DATABASE_URL") or secrets_url
    if url:
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{data_dir() / 'ikm.db'}"

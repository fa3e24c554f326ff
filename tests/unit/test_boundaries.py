"""The house rules of ARCHITECTURE.md, checked on the source: services never import streamlit,
pages hold no SQL, only app.py builds the authenticator."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_services_models_and_db_never_import_streamlit():
    offenders = [str(p.relative_to(ROOT)) for folder in ("services", "models", "db")
                 for p in (ROOT / folder).rglob("*.py")
                 if any(m.split(".")[0] in ("streamlit", "streamlit_authenticator")
                        or (m.startswith("ui") and m != "ui.catalogue")
                        for m in imported_modules(p))]
    assert offenders == []
    # The message catalogue is plain data, so the command line can print the same texts.
    assert not any(m.startswith("streamlit") for m in imported_modules(ROOT / "ui/catalogue.py"))


def test_pages_hold_no_sql():
    sql = {"sqlalchemy", "sqlmodel", "sqlite3", "psycopg"}
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "app_pages").glob("*.py")
                 if any(m.split(".")[0] in sql for m in imported_modules(p))]
    assert offenders == []
    for page in (ROOT / "app_pages").glob("*.py"):
        text = page.read_text(encoding="utf-8").upper()
        assert "SELECT " not in text and "INSERT " not in text, page.name


def test_one_authenticate_per_run_built_by_the_gate_that_only_app_py_calls():
    builders = [p for p in ROOT.glob("**/*.py") if "tests" not in p.parts
                and "stauth.Authenticate(" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(ROOT).as_posix() for p in builders] == ["ui/auth.py"]
    callers = [p.relative_to(ROOT).as_posix() for p in ROOT.glob("**/*.py")
               if "tests" not in p.parts and "ui_auth.gate(" in p.read_text(encoding="utf-8")]
    assert callers == ["app.py"]

"""The README's role table is the one generated from the single role -> pages declaration."""

from pathlib import Path

from models.enums import Role
from services.permissions import PAGES
from ui.catalogue import CATALOGUE

README = Path(__file__).resolve().parents[2] / "README.md"


def role_table() -> str:
    roles = list(Role)
    lines = ["| page | " + " | ".join(r.value for r in roles) + " |",
             "|---|" + "---|" * len(roles)]
    for spec in PAGES:
        name = f"{CATALOGUE['id'][spec.title_key]} ({CATALOGUE['en'][spec.title_key]})"
        marks = " | ".join("✓" if r in spec.roles else "–" for r in roles)
        lines.append(f"| {name} | {marks} |")
    return "\n".join(lines)


def test_readme_role_table_matches_the_declaration():
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- role-table:start -->\n")[1].split("\n<!-- role-table:end -->")[0]
    assert block == role_table()


def test_readme_keeps_exactly_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert "python -m pip install -r requirements.txt && python -m streamlit run app.py" in text
    assert "python -m pip install -r requirements-dev.txt && python -m pytest" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pip install -q -r requirements-dev.txt && python -m pytest" in ci

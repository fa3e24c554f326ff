"""The README says who sees owners' personal data, generated from the one declaration
(services.permissions.ACTIONS["personal.read"]), like the role table above it."""

from pathlib import Path

from models.enums import Role
from services.permissions import ACTIONS
from ui.catalogue import CATALOGUE

README = Path(__file__).resolve().parents[2] / "README.md"


def personal_data_table() -> str:
    roles = list(Role)
    key = "perm.personal.read"
    name = f"{CATALOGUE['id'][key]} ({CATALOGUE['en'][key]})"
    marks = " | ".join("✓" if r in ACTIONS["personal.read"] else "–" for r in roles)
    return "\n".join(["| data | " + " | ".join(r.value for r in roles) + " |",
                      "|---|" + "---|" * len(roles), f"| {name} | {marks} |"])


def test_readme_says_who_sees_personal_data_as_declared():
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- personal-data:start -->\n")[1].split(
        "\n<!-- personal-data:end -->")[0]
    assert block == personal_data_table()

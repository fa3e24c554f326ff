"""Both languages carry the same keys, and every key used in code exists."""

import re
from pathlib import Path

from services.permissions import PAGES
from ui.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]


def test_both_languages_have_the_same_keys():
    assert set(CATALOGUE["id"]) == set(CATALOGUE["en"])


def test_no_empty_texts():
    assert all(text.strip() for lang in CATALOGUE.values() for text in lang.values())


def test_placeholders_match_between_languages():
    for key, text in CATALOGUE["id"].items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}",
                                                                   CATALOGUE["en"][key])), key


def test_every_literal_key_used_in_code_exists():
    pattern = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""")
    used = set()
    for folder in ("app.py", "app_pages", "ui"):
        for path in (ROOT / folder).rglob("*.py") if (ROOT / folder).is_dir() else [ROOT / folder]:
            used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "no keys found: the pattern is broken"
    assert used - set(CATALOGUE["id"]) == set()


def test_every_page_and_service_error_key_exists():
    import services.auth as auth_module

    keys = {p.title_key for p in PAGES}
    keys |= set(re.findall(r'"((?:err|pw)\.[a-z_]+)"', Path(auth_module.__file__).read_text()))
    assert keys - set(CATALOGUE["id"]) == set()

"""The CSS of ui/lang_css.py: our words in the session's language, safely quoted (issue 9)."""

import re

from ui.catalogue import CATALOGUE
from ui.lang_css import css_string, lang_css


def test_css_strings_cannot_end_the_rule():
    quoted = css_string('a "b" \\ c\n</style>')
    assert quoted.startswith('"') and quoted.endswith('"')
    inner = quoted[1:-1]
    assert '"' not in inner.replace('\\000022', '')
    assert "\n" not in inner
    assert "\\00005c" in inner  # the backslash itself escaped


def test_each_language_gets_its_own_words():
    for lang, other in (("id", "en"), ("en", "id")):
        css = lang_css(lang)
        for key in ("lang.css.upload", "lang.css.drop", "lang.css.sort_asc",
                    "lang.css.sort_desc", "lang.css.autosize"):
            assert css_string(CATALOGUE[lang][key]) in css, (lang, key)
            if CATALOGUE[lang][key] != CATALOGUE[other][key]:
                assert css_string(CATALOGUE[other][key]) not in css, (lang, key)


def test_an_unknown_language_falls_back_to_bahasa_indonesia():
    assert lang_css("xx") == lang_css("id")


def test_the_hidden_parts_are_the_ones_streamlit_has_no_option_for():
    css = lang_css("id")
    hidden = re.search(r"<style>(.*?)\{ display: none !important; \}", css, re.S).group(1)
    for testid in ("stElementToolbar", "stFileUploaderDropzoneInstructions",
                   "InputInstructions"):
        assert f'[data-testid="{testid}"]' in hidden
    assert ".gdg-search-bar" in hidden
    assert css.count("<style>") == 1 and css.rstrip().endswith("</style>")

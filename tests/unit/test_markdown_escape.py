"""ui.format.md: text typed by users shows as typed inside Streamlit's Markdown.

Streamlit 1.67 parses Markdown (CommonMark + GFM + LaTeX + its directives), then rewrites the
text it parsed, where the escapes are already resolved: shortcodes, material icons, its logo,
GFM's bare links and a few arrows. The patterns below are those of its frontend
(static/js/StreamlitMarkdown.*.js and mdast-util-gfm-autolink-literal); the browser test
(tests/e2e/test_markdown_escape.py) checks the result in Chromium.
"""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.pages.conftest import shown
from ui.format import JOINER, md, md_params

ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
# What Streamlit replaces in parsed text (JavaScript \w and \s, written out for Python).
JS_W = r"[A-Za-z0-9_]"
JS_S = r"[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
REWRITES = {
    "emoji shortcode": r":(?:\+1|[-A-Za-z0-9_]+):",
    "material icon": rf":material_{JS_W}+:",
    "streamlit logo": r":streamlit:",
    "bare link": r"(?i)https?://|www\.",
    "bare e-mail": r"[-.A-Za-z0-9_+]+@[-A-Za-z0-9_]+(?:\.[-A-Za-z0-9_]+)+",
    "arrow or dash": rf"(?:^|{JS_S})(?:<->|->|<-|--|>=|<=|~=)(?:{JS_S}|$)",
}

HOSTILE = [
    "**tebal** $x^2$ [tautan](http://example.com) <b>b</b>",
    ":red[merah] :blue-background[biru] :material/warning: :material_home: :streamlit:",
    ":smile: :+1: :-1:", "# judul", "- daftar", "> kutipan", "1. satu", "x\n- list\n# heading",
    "a -> b <- c <-> d -- e >= f <= g ~= h", "www.evil.example user@evil.example",
    "&amp; &#42; <script>x</script>", "| a | b |", "a\\' b\\\\", "$$x$$", "~~coret~~ `kode`",
]


def parsed_text(markdown: str) -> str:
    """The text CommonMark hands on after resolving backslash escapes (joiners kept)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def unescaped_punctuation(markdown: str) -> list[str]:
    """ASCII punctuation that is not backslash-escaped in the Markdown source."""
    return [ch for ch in re.sub(r"\\[!-/:-@\[-`{-~]", "", markdown) if ch in ASCII_PUNCTUATION]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_fully_escaped_and_reads_back_as_typed(text):
    out = md(text)
    assert unescaped_punctuation(out) == []
    assert "\n" not in out and "\r" not in out  # no line starts: headings, lists, quotes
    assert shown(out) == text.replace("\n", " ")
    for name, pattern in REWRITES.items():
        assert not re.search(pattern, parsed_text(out)), (name, out)


def test_examples_of_the_escaping():
    assert md("**tebal**") == r"\*\*tebal\*\*"
    assert md("$x^2$") == r"\$x\^2\$"
    assert md("# judul") == r"\# judul"
    assert md(":smile:") == "\\:" + JOINER + "smile\\:"
    assert md("a -> b") == "a \\-" + JOINER + "\\> b"
    assert md("Keripik Singkong Bu Ani") == "Keripik Singkong Bu Ani"  # letters untouched
    assert md(None) == "" and md(1500) == "1500"


def test_message_parameters_are_escaped_one_by_one():
    assert md_params({"name": "*Ani*", "count": 3}) == {"name": r"\*Ani\*", "count": "3"}


@given(st.text())
def test_any_text_reads_back_as_typed_with_nothing_for_streamlit_to_rewrite(text):
    out = md(text)
    assert unescaped_punctuation(out) == []
    assert shown(out) == re.sub(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]", " ", text)
    for name, pattern in REWRITES.items():
        assert not re.search(pattern, parsed_text(out)), (name, out)

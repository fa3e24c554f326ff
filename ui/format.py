"""Formatting for people in Madura: times in WIB (UTC+7), dates day-month-year; and md(), which
lets text typed by users (names, numbers, notes, file names) show as typed inside Markdown."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services import clock

WIB = ZoneInfo("Asia/Jakarta")


def fmt_datetime(value: datetime | None) -> str:
    """A timestamp as 'dd-mm-yyyy HH:MM' in WIB, or a dash."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(WIB).strftime("%d-%m-%Y %H:%M")


def fmt_date(value: date | None) -> str:
    """A date as 'dd-mm-yyyy', or a dash."""
    return value.strftime("%d-%m-%Y") if value else "—"


def today_wib() -> date:
    """Today's date in Madura (services.clock: IKM_TODAY pins it for tests and demos)."""
    return clock.today()


# Any ASCII punctuation may be backslash-escaped in CommonMark, and then stands for itself: this
# covers emphasis, links and autolinks, images, headings, lists, quotes, tables, code, HTML and
# entities (< &), LaTeX ($) and Streamlit's directives (:red[...], :material/...: ).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Streamlit rewrites some text after parsing, when the escapes are already gone: shortcodes
# (:smile:, :+1:, :material_home:, :streamlit:), bare addresses (http://…, www.…, a@b.c: GFM
# links them) and the arrows and dashes ->, <-, <->, --, >=, <=, ~= standing between spaces.
# An invisible word joiner (U+2060) breaks each of them.
_SHORTCODE = re.compile(r":(?=[\w+-]+(?::|$))|(?<=:)(?=//)|(?i:(?<=www))(?=\.)|(?<=@)(?=[\w-])")
_TYPOGRAPHY = re.compile(r"(?<![^\s\ufeff])([-<>~])(?=(?:-|->|=|>)(?![^\s\ufeff]))")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
JOINER = "\u2060"


def md(text) -> str:
    """Text for Markdown (st.markdown, captions, alerts, headings, labels, help) that shows
    exactly as typed: every ASCII punctuation backslash-escaped, Streamlit's shortcodes and
    arrows broken with an invisible word joiner, line breaks as spaces. None is ''."""
    if text is None:
        return ""
    text = _LINE_BREAK.sub(" ", str(text))
    text = _SHORTCODE.sub(lambda m: m.group() + JOINER, text)
    text = _TYPOGRAPHY.sub(r"\1" + JOINER, text)
    return _PUNCTUATION.sub(r"\\\1", text)


def md_params(params: dict) -> dict:
    """Message parameters for t(key, **params) shown in Markdown: each value through md()."""
    return {name: md(value) for name, value in params.items()}

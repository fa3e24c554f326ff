"""Field rules shared by forms, the grid, imports and exports.

Every rule answers an i18n key (`v.*`) with parameters instead of raising, so one value can be
checked the same way whether it came from a form, a grid cell or a spreadsheet cell.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from services import clock

# A problem with one value: the message key and its parameters.
Problem = tuple[str, dict]


class Invalid(ValueError):
    """A value that cannot be parsed or breaks a rule; carries its i18n key and params."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key = key
        self.params = params


# What people type into a cell to mean "nothing here".
PLACEHOLDERS = frozenset({"-", "\u2013", "\u2014", "--"})


def blank(value) -> bool:
    """Whether a raw value counts as empty (None, '', whitespace, NaN, a lone dash)."""
    if value is None:
        return True
    kind = value.__class__
    if kind is str:
        return not value or value.isspace() or (len(value) < 8 and value.strip() in PLACEHOLDERS)
    if kind is int:
        return False
    if isinstance(value, float):
        return value != value  # NaN from pandas
    return isinstance(value, str) and blank(str(value))


# Characters that reorder the text around them (Trojan Source): refused, never stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_SPACES = frozenset("\t\n\r\x0b\x0c\x85")  # control characters that are whitespace


def plain(value, *, refuse: bool = True) -> str:
    """The one text rule of every form, grid cell, import cell and search: the value as text
    with invisible formatting characters removed (zero-width spaces, soft hyphens, byte order
    marks, direction marks), every kind of space or line break made one space, and trimmed.
    Refuses (Invalid) control characters (NUL, ESC, DEL, C1), lone surrogates and the bidi
    controls that reorder text; with `refuse=False` (searches) drops them instead."""
    text = value if value.__class__ is str else str(value)
    if text.isascii():
        if text.isprintable():
            return text.strip(" ") if text[:1] == " " or text[-1:] == " " else text
    else:
        text = unicodedata.normalize("NFC", text)
        if text.isprintable():
            return text.strip(" ")
    kept = []
    for ch in text:
        if ch.isprintable():
            kept.append(ch)
            continue
        if ch in BIDI_CONTROLS:
            if refuse:
                raise Invalid("v.bidi_chars")
            continue
        category = unicodedata.category(ch)
        if category == "Cf":
            continue  # invisible formatting: dropped
        if ch.isspace() and (category != "Cc" or ch in _LINE_SPACES):
            kept.append(" ")
        elif category in ("Cc", "Cs", "Co", "Cn"):
            if refuse:
                raise Invalid("v.control_chars")
        else:
            kept.append(ch)
    return "".join(kept).strip()


_SPACES = re.compile(r" {2,}")


def _filled(value) -> str | None:
    """A raw value's text under the one rule, or None when it is empty or a lone dash."""
    text = plain(value)
    return None if not text or text in PLACEHOLDERS else text


def clean_text(value, max_len: int | None = None) -> str | None:
    """Text under the one rule (plain), inner spaces collapsed; None when blank or a lone dash;
    refuses over-long text."""
    if blank(value):
        return None
    text = plain(value)
    if "  " in text:
        text = _SPACES.sub(" ", text)
    if not text or text in PLACEHOLDERS:
        return None
    if max_len is not None and len(text) > max_len:
        raise Invalid("v.too_long", max=max_len)
    return text


_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)*$")
_LONE_COMMA = re.compile(r"^-?[1-9]\d{0,2},\d{3}$")  # "1,250" (never "0,125")
_GROUPED = re.compile(r"^-?\d{1,3}(?:[.,]\d{3})+$")
INT_MAX = 2**31 - 1  # the database's INTEGER columns


def parse_number(value) -> Decimal | None:
    """A number written the Indonesian or the English way: 'Rp 1.500.000', '1.500.000,50',
    '1,500,000.50', '2,5', 1500000. None when blank."""
    if blank(value):
        return None
    if isinstance(value, bool):
        raise Invalid("v.not_number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        if value in (float("inf"), float("-inf")):
            raise Invalid("v.not_number")
        return Decimal(str(value))
    text = _filled(value)
    if text is None:
        return None
    text = re.sub(r"(?i)^(rp\.?|idr|usd|us\$|\$)\s*", "", text).replace(" ", "")
    text = text.removesuffix(",-").removesuffix(".-")
    if not _NUMBER.match(text):
        raise Invalid("v.not_number")
    if _LONE_COMMA.match(text):
        # "1,250": 1250 written the English way, or 1,25 the Indonesian way? Ask, never guess
        # (an import reads it by what the rest of its column shows: services.imports.detect).
        whole, rest = text.lstrip("-").split(",")
        raise Invalid("v.ambiguous_number", value=text,
                      thousands=f"{int(whole + rest):,}".replace(",", "."),
                      fraction=f"{whole},{rest}")
    dots, commas = text.count("."), text.count(",")
    if (dots > 1 or commas > 1) and not _GROUPED.match(re.split(r"[.,](?=\d{1,2}$)", text)[0]):
        raise Invalid("v.not_number")  # "1.5.0" is no grouping of thousands
    if dots and commas:
        # The later separator is the decimal one: 1.500.000,50 or 1,500,000.50
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    elif commas:
        # Indonesian: one comma is the decimal sign (2,5); several group thousands (1,500,000)
        text = text.replace(",", "") if commas > 1 else text.replace(",", ".")
    elif dots > 1 or (dots == 1 and len(text.split(".")[-1]) == 3 and text.split(".")[0] != "0"):
        text = text.replace(".", "")  # 1.500.000 or 1.500: Indonesian thousands
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise Invalid("v.not_number") from exc
    if not number.is_finite():  # pragma: no cover - the regex admits only finite numbers
        raise Invalid("v.not_number")
    return number


def parse_int(value, minimum: int | None = None, maximum: int | None = INT_MAX) -> int | None:
    """A whole number within bounds (at most INT_MAX unless told), or None when blank."""
    if value.__class__ is int:  # the common case of a spreadsheet cell
        result = value
    else:
        number = parse_number(value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise Invalid("v.not_whole")
        result = int(number)
    if minimum is not None and result < minimum:
        raise Invalid("v.too_small", min=minimum)
    if maximum is not None and result > maximum:
        raise Invalid("v.too_large", max=maximum)
    return result


def parse_money(value) -> int | None:
    """Rupiah as a whole, non-negative number ('Rp 1.500.000' -> 1500000), rounded half up."""
    number = parse_number(value)
    if number is None:
        return None
    if number < 0:
        raise Invalid("v.negative")
    if number > 10**15:
        raise Invalid("v.too_large", max="10¹⁵")
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_positive(value) -> float | None:
    """A number greater than zero (prices, capacities, volumes), or None when blank."""
    number = parse_number(value)
    if number is None:
        return None
    if number <= 0:
        raise Invalid("v.not_positive")
    if number > 10**15:
        raise Invalid("v.too_large", max="10¹⁵")
    return float(number)


_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d")


def parse_date(value) -> date | None:
    """A date from ISO, dd-mm-yyyy, dd/mm/yyyy or a spreadsheet date; None when blank."""
    if blank(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        if not 1900 <= value.year <= 2100:
            raise Invalid("v.bad_date")
        return value
    text = _filled(value)
    if text is None:
        return None
    text = text.split(" ")[0]
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if not 1900 <= parsed.year <= 2100:
            raise Invalid("v.bad_date")
        return parsed
    raise Invalid("v.bad_date")


_NIB_NOISE = re.compile(r"[\s.\-]")
_NIB = re.compile(r"\d{13}")
_PHONE_NOISE = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"0\d{8,13}")


def parse_nib(value) -> str | None:
    """A Nomor Induk Berusaha: exactly 13 digits (spaces and dots allowed in input)."""
    if blank(value):
        return None
    if value.__class__ is str and len(value) == 13 and value.isascii() and value.isdigit():
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet turned it into a number
    text = _filled(value)
    if text is None:
        return None
    digits = _NIB_NOISE.sub("", text)
    if not _NIB.fullmatch(digits):
        if len(digits) == 12 and digits.isdigit():  # a number column lost the leading zero
            raise Invalid("v.nib_lost_zero")
        raise Invalid("v.nib")
    return digits


def parse_phone(value) -> str | None:
    """An Indonesian phone number normalised to 08…/0xx… digits ('+62 812-3456-789',
    '+62 (0)812 3456 789' and '0062 812…' -> '08123456789'); 9 to 14 digits."""
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _filled(value)
    if text is None:
        return None
    text = _PHONE_NOISE.sub("", text)
    for prefix in ("+62", "0062", "62"):
        if text.startswith(prefix) and (prefix != "62" or len(text) >= 10):
            national = text[len(prefix):]
            # the trunk zero some write after the country code: +62 (0)812…
            text = "0" + (national[1:] if national.startswith("0") else national)
            break
    else:
        if text.startswith("8") and 9 <= len(text) <= 13:
            text = "0" + text  # the leading zero a spreadsheet dropped
    if not _PHONE.fullmatch(text):
        raise Invalid("v.phone")
    return text


def gtin_valid(code: str) -> bool:
    """Whether a GTIN-8/12/13/14 has a correct check digit."""
    if not re.fullmatch(r"\d{8}|\d{12,14}", code):
        return False
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def parse_gtin(value) -> str | None:
    """A barcode number with a valid GS1 check digit, or None when blank."""
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    code = _filled(value)
    if code is None:
        return None
    code = re.sub(r"\s", "", code)
    if not gtin_valid(code):
        raise Invalid("v.gtin")
    return code


@lru_cache(maxsize=256)
def _choice_index(choices: tuple) -> dict[str, object]:
    index: dict[str, object] = {}
    for choice in choices:
        index.setdefault(str(choice).lower(), choice)
    return index


def parse_choice(value, choices) -> str | None:
    """One of a closed set (matched case-insensitively), or None when blank."""
    if blank(value):
        return None
    text = _filled(value)
    if text is None:
        return None
    text = text.lower()
    try:
        index = _choice_index(tuple(choices))
    except TypeError:  # unhashable choices
        index = {str(c).lower(): c for c in reversed(list(choices))}
    if text in index:
        return index[text]
    raise Invalid("v.choice", choices=", ".join(map(str, choices)))


def parse_year(value) -> int | None:
    """A plausible year (1900 up to next year), or None when blank."""
    return parse_int(value, 1900, clock.today().year + 1)


@dataclass
class Errors:
    # Problems collected while cleaning one record: field -> (key, params).
    items: dict[str, Problem] = field(default_factory=dict)

    def add(self, name: str, key: str, **params) -> None:
        self.items.setdefault(name, (key, params))

    def check(self, name: str, parse, value, *args, **kwargs):
        """Run a parser; record its problem under `name` and return None on failure."""
        try:
            return parse(value, *args, **kwargs)
        except Invalid as exc:
            self.items.setdefault(name, (exc.key, exc.params))
            return None

    def __bool__(self) -> bool:
        return bool(self.items)


def similar(a: str, b: str) -> float:
    """How alike two business names are (0–1), ignoring case, punctuation and legal forms."""
    from difflib import SequenceMatcher

    def norm(s: str) -> str:
        s = re.sub(r"[^a-z0-9 ]", " ", s.lower())
        s = re.sub(r"\b(ud|cv|pt|koperasi|kop|ikm|usaha|toko)\b", " ", s)
        return re.sub(r"\s+", " ", s).strip()

    return SequenceMatcher(None, norm(a), norm(b)).ratio()

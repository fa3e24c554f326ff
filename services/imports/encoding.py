"""The text encoding of an uploaded CSV, decided without guessing.

UTF-8 (with or without a byte order mark) and UTF-16 with a mark are certain. Anything else is
one of the 8-bit encodings spreadsheet programs write: Windows-1252 (Excel on Windows), Mac
Roman (Excel for Mac) or DOS code page 850. charset-normalizer proposes which of them decode the
bytes and measures how chaotic each result is; on short texts of names it cannot tell Mac Roman's
"Andé" from Windows-1252's "AndŽ" (both look calm to it). So every candidate is also read the
way a person would: a capital letter right after a small one ("AndŽ", "CafÈ"), a dash or symbol
inside a word ("Se–ora", "Caf‚") or a control character is a sign of the wrong encoding. The
candidate with clearly fewer such signs wins; when two candidates read differently and neither
is clearly better, the file is refused with a request to save it as CSV UTF-8.
"""

import codecs
import unicodedata
from dataclasses import dataclass

from services.imports.report import ImportRefused

# Python codec -> the name people know it by
CANDIDATES = {"cp1252": "Windows-1252", "mac_roman": "Mac Roman", "cp850": "DOS 850"}
_RARE_LETTERS = frozenset("ŽžŠšŒœŸƒ")  # not in Indonesian, Madurese, Spanish or French names
_IN_WORD_OK = frozenset("’'ʼ")  # apostrophes belong inside words (Qur’an)


@dataclass(frozen=True)
class Decoded:
    # An upload's text, the encoding it was read with (as people name it), and sample texts
    # whose letters depended on that choice (shown in the dry run).
    text: str
    encoding: str
    samples: tuple[str, ...] = ()


def _refuse(key: str, **params):
    raise ImportRefused(key, **params)


def suspicion(text: str) -> tuple[int, int]:
    """(signs of a wrong encoding, non-ASCII characters) in a decoded text."""
    signs = seen = 0
    for i, ch in enumerate(text):
        if ch < "\x80":
            continue
        seen += 1
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        category = unicodedata.category(ch)
        if category[0] == "C":
            signs += 2  # a control or unassigned character: certainly misread
        elif category[0] == "L":
            if ch in _RARE_LETTERS or (ch.isupper() and before.isalpha() and before.islower()):
                signs += 1
        elif before.isalpha() and after.isalpha() and ch not in _IN_WORD_OK:
            signs += 1  # punctuation or a symbol inside a word
        elif category[0] == "S" and (before.isalpha() or after.isalpha()):
            signs += 1  # a symbol stuck to a word: ¤ § ¶ ±
    return signs, seen


def samples(text: str, limit: int = 3) -> tuple[str, ...]:
    """Up to `limit` distinct fields (between separators) holding letters beyond ASCII."""
    found: list[str] = []
    for line in text.splitlines():
        if line.isascii():
            continue
        for field in line.replace(";", ",").replace("\t", ",").split(","):
            field = field.strip().strip('"').strip()
            if any(ch > "\x7f" and ch.isalpha() for ch in field) and field not in found:
                found.append(field[:60])
                if len(found) == limit:
                    return tuple(found)
    return tuple(found)


def decode(data: bytes) -> Decoded:
    """The text of an uploaded CSV and how it was read; refuses what is not text, and text
    whose encoding cannot be told for certain (ImportRefused)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            text = data[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError:
            _refuse("imp.encoding")
        return Decoded(text, "UTF-8", samples(text))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            _refuse("imp.encoding")
        return Decoded(text, "UTF-16", samples(text))
    if b"\x00" in data:
        head = data[:400]
        # UTF-16 without a byte order mark: every other byte is zero
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            _refuse("imp.encoding")
        _refuse("imp.binary")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return Decoded(text, "UTF-8", samples(text))
    return _eight_bit(data)


def _eight_bit(data: bytes) -> Decoded:
    from charset_normalizer import from_bytes

    proposed = {m.encoding: m.chaos for m in from_bytes(data, cp_isolation=list(CANDIDATES))}
    readings = []
    for codec, label in CANDIDATES.items():
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        signs, seen = suspicion(text)
        # charset-normalizer's chaos (0 calm .. 1) breaks ties of equal signs
        readings.append((signs / max(seen, 1), proposed.get(codec, 1.0), label, text))
    if not readings:
        _refuse("imp.encoding")
    readings.sort(key=lambda r: (r[0], r[1]))
    best = readings[0]
    rivals = [r for r in readings[1:] if r[3] != best[3] and r[0] - best[0] < 0.34]
    if best[0] > 0.5 or rivals:
        shown = [samples(r[3], 1) for r in (best, *rivals)][:2]
        _refuse("imp.encoding_unsure",
                readings=" / ".join(f"'{s[0]}'" for s in shown if s) or "?")
    return Decoded(best[3], best[2], samples(best[3]))

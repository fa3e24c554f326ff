"""Madura's regions in memory for cascading selects and for matching typed names to codes."""

import contextlib
import re
from dataclasses import dataclass
from difflib import get_close_matches
from functools import lru_cache

from sqlmodel import Session, select

from models import Desa, Kabupaten, Kecamatan
from services.validation import Invalid, blank

_NOT_KEY = re.compile(r"[^a-z0-9]")


@lru_cache(maxsize=8192)
def _cached_key(name: str) -> str:
    return _NOT_KEY.sub("", name.lower())


def _key(name) -> str:
    # "Guluk-Guluk" = "guluk guluk" = "GULUKGULUK"; "Ra'as" = "Raas" (imports repeat the same
    # few hundred names thousands of times: cached)
    text = name if name.__class__ is str else str(name)
    return _cached_key(text) if len(text) <= 200 else _NOT_KEY.sub("", text.lower())


@dataclass(frozen=True)
class Regions:
    # Codes and names of the 4 kabupaten, 72 kecamatan and 990 desa.
    kabupaten: dict[str, str]  # code -> name
    kecamatan: dict[str, tuple[str, str]]  # code -> (kabupaten_code, name)
    desa: dict[str, tuple[str, str]]  # code -> (kecamatan_code, name)

    def __post_init__(self):
        # Children per parent and normalised names, built once: imports look up every row.
        children: dict[str, dict[str, str]] = {}
        for table in (self.kecamatan, self.desa):
            for code, (parent, name) in sorted(table.items()):
                children.setdefault(parent, {})[code] = name
        object.__setattr__(self, "_children", children)
        object.__setattr__(self, "_keys", {})
        object.__setattr__(self, "_found", {})  # (options, typed text) -> code

    def kecamatan_of(self, kabupaten_code: str) -> dict[str, str]:
        """Kecamatan code -> name within one regency, by code."""
        return self._children.get(kabupaten_code, {})

    def desa_of(self, kecamatan_code: str) -> dict[str, str]:
        """Desa code -> name within one kecamatan, by code."""
        return self._children.get(kecamatan_code, {})

    def _match(self, value, options: dict[str, str], what: str) -> str:
        text = str(value).strip()
        if text in options:  # a code
            return text
        wanted = _key(text)
        keyed = self._keys.get(id(options))
        if keyed is None:
            keyed = self._keys[id(options)] = {_key(n): c for c, n in options.items()}
        if wanted in keyed:
            return keyed[wanted]
        names = {_key(n): n for n in options.values()}
        close = get_close_matches(wanted, list(names), n=1, cutoff=0.75)
        if close:
            raise Invalid(f"v.unknown_{what}_suggest", value=text, suggestion=names[close[0]])
        raise Invalid(f"v.unknown_{what}", value=text)

    def _memo(self, what: str, parent: str | None, value, match) -> str:
        # an import repeats the same few hundred names thousands of times: successes are kept
        key = (what, parent, value)
        try:
            return self._found[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value: not kept
            return match()
        code = match()
        if len(self._found) < 50_000:
            self._found[key] = code
        return code

    def match_kabupaten(self, value) -> str:
        """The code of a regency given by code or name ('Sumenep', '35.29', 'kab. sumenep')."""
        return self._memo("kabupaten", None, value, lambda: self._match(
            re.sub(r"(?i)^(kabupaten|kab\.?)\s*", "", str(value).strip()), self.kabupaten,
            "kabupaten"))

    def match_kecamatan(self, value, kabupaten_code: str) -> str:
        """The code of a kecamatan of this regency given by code or (approximate) name."""
        return self._memo("kecamatan", kabupaten_code, value, lambda: self._match(
            value, self.kecamatan_of(kabupaten_code), "kecamatan"))

    def match_desa(self, value, kecamatan_code: str) -> str:
        """The code of a desa of this kecamatan given by code or (approximate) name."""
        return self._memo("desa", kecamatan_code, value, lambda: self._match(
            re.sub(r"(?i)^(desa|kelurahan|kel\.?)\s+", "", str(value).strip()),
            self.desa_of(kecamatan_code), "desa"))

    def resolve(self, errors, *, kabupaten=None, kecamatan=None, desa=None) -> dict:
        """Codes for a typed location, top-down; problems go to `errors` by field name."""
        key = ("place", kabupaten, kecamatan, desa)
        try:
            return dict(self._found[key])  # resolved before without a problem
        except (KeyError, TypeError):
            pass
        mine = type(errors)()
        out = self._resolve(mine, kabupaten, kecamatan, desa)
        for name, (problem, params) in mine.items.items():
            errors.add(name, problem, **params)
        if not mine.items and len(self._found) < 50_000:
            with contextlib.suppress(TypeError):
                self._found[key] = dict(out)
        return out

    def _resolve(self, errors, kabupaten, kecamatan, desa) -> dict:
        out = {"kabupaten_code": None, "kecamatan_code": None, "desa_code": None}
        if blank(kabupaten) and not blank(kecamatan) and str(kecamatan).strip() in self.kecamatan:
            kabupaten = self.kecamatan[str(kecamatan).strip()][0]
        if blank(kabupaten):
            errors.add("kabupaten_code", "v.required")
            return out
        out["kabupaten_code"] = errors.check("kabupaten_code", self.match_kabupaten, kabupaten)
        if out["kabupaten_code"] is None:
            return out
        if blank(kecamatan):
            errors.add("kecamatan_code", "v.required")
            return out
        out["kecamatan_code"] = errors.check("kecamatan_code", self.match_kecamatan, kecamatan,
                                             out["kabupaten_code"])
        if out["kecamatan_code"] is not None and not blank(desa):
            out["desa_code"] = errors.check("desa_code", self.match_desa, desa,
                                            out["kecamatan_code"])
        return out


def load_regions(session: Session) -> Regions:
    """All regions of Madura from the reference tables."""
    return Regions(
        kabupaten=dict(session.exec(select(Kabupaten.code, Kabupaten.name)).all()),
        kecamatan={c: (k, n) for c, k, n in session.exec(
            select(Kecamatan.code, Kecamatan.kabupaten_code, Kecamatan.name)).all()},
        desa={c: (k, n) for c, k, n in session.exec(
            select(Desa.code, Desa.kecamatan_code, Desa.name)).all()},
    )

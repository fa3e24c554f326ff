"""The programme's clock: today's date in Madura (WIB), or a fixed day set by IKM_TODAY.

Every rule that depends on the date (cohort status, certificate expiry, the funnel's cut-off,
the demo programme) asks this module, so tests, benchmarks and demos can pin one day with
`IKM_TODAY=2026-06-15` and the whole app agrees on it. Timestamps of records and logins stay on
the real clock (models.utcnow).
"""

import os
import time
from datetime import date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")  # Indonesia keeps no daylight saving time

_CACHE: list = [None, None, None]  # (monotonic second, IKM_TODAY text, date)


def _fixed(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"IKM_TODAY must be a date as YYYY-MM-DD, not {text!r}") from exc


def today() -> date:
    """Today's date in WIB (or IKM_TODAY), asked of the clock at most once a second: imports
    check thousands of dates against it."""
    second, fixed = int(time.monotonic()), os.environ.get("IKM_TODAY") or None
    if _CACHE[0] != second or _CACHE[1] != fixed or _CACHE[2] is None:
        _CACHE[:] = [second, fixed, _fixed(fixed) if fixed else datetime.now(WIB).date()]
    return _CACHE[2]

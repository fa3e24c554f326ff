"""Formatting for people in Madura: times in WIB (UTC+7), dates day-month-year."""

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

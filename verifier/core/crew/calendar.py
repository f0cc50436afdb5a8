"""Project dates: calendar days in Indonesia's western time zone (WIB), where pages show dates.

A project's ``ends`` day is over at the end of that day in WIB, wherever the server runs.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")
DAY = 86_400


def day_start(day: date) -> int:
    """The instant a calendar day begins in WIB."""
    return int(datetime.combine(day, time(), WIB).timestamp())


def day_end(day: date) -> int:
    """The instant a calendar day is over in WIB (the next one begins)."""
    return day_start(day) + DAY


def today(now: int) -> date:
    """The calendar day in WIB at ``now``."""
    return datetime.fromtimestamp(now, WIB).date()

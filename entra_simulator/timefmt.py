"""Graph's timestamp spellings.

Credentials carry 7 fractional digits (`2021-09-09T19:50:29.3086381Z`, passwordCredential docs);
sign-ins and object creation times are whole seconds (`2024-01-14T17:43:26Z`); never-expiring
secrets show the far-future values Entra stores (year 2299 from old PowerShell defaults, year 9999
as .NET's DateTime.MaxValue).
"""
from __future__ import annotations

from datetime import datetime, timezone

NEVER_EXPIRES_TEXT = {
    2299: "2299-12-31T05:00:00Z",
    9999: "9999-12-31T23:59:59.9999999Z",
}
NEVER_EXPIRES_DATETIME = {
    2299: datetime(2299, 12, 31, 5, 0, 0, tzinfo=timezone.utc),
    9999: datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)


def seconds(moment: datetime) -> str:
    m = _utc(moment)    # hand formatting: strftime is the hot spot when serving a million records
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def seven_digits(moment: datetime, tenth_of_microsecond: int = 0) -> str:
    """`2021-09-09T19:50:29.3086381Z`: microseconds plus one more digit, as .NET prints ticks."""
    m = _utc(moment)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
            f".{m.microsecond:06d}{tenth_of_microsecond % 10}Z")


def parse(text: str) -> datetime:
    """Inverse of the spellings above (and plain ISO 8601); 7th fractional digit dropped."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, rest = text.split(".", 1)
        digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]  # the fraction only, not the offset
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

"""Graph timestamps in and out: one parser that tolerates Microsoft's spellings, one ISO writer.

Shared by the Graph side (cursors, checkpoints) and the assessment and Splunk sides (event fields), so it
belongs to neither.
"""
import datetime as dt

UTC = dt.timezone.utc

def parse_time(value):
    """Graph timestamps -> aware UTC datetime, or None. Tolerant: 7 fractional digits, 'Z', odd
    offsets such as '-8:00' from Microsoft's own report examples (graph-wire-facts §2.4)."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    date_part, sep, rest = text.partition("T")
    if sep:
        # split the time from its offset, pad a one-digit hour offset, cut fractions to microseconds
        sign_at = max(rest.rfind("+"), rest.rfind("-"))
        clock, offset = (rest[:sign_at], rest[sign_at:]) if sign_at > 0 else (rest, "")
        if "." in clock:
            whole, fraction = clock.split(".", 1)
            # Python 3.9 (Splunk 9) reads only 3 or 6 fractional digits
            clock = f"{whole}.{fraction[:6].ljust(6, '0')}"
        if offset and len(offset.split(":")[0]) == 2:
            offset = offset[0] + "0" + offset[1:]
        text = f"{date_part}T{clock}{offset}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(value):
    """Aware datetime -> ISO 8601 UTC with 'Z' (what Graph sends and what the events carry)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_precise(value):
    """ISO 8601 UTC with microseconds (None stays None): exact, and sortable as text."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

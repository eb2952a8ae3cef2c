"""When to retry a Graph request, and how long to wait first.

The decision is a pure function of (status, headers, attempt, waited so far), so tests check it
without a server or a clock. The client sleeps; this module only decides.

- 429, 503 and 504 wait exactly what Retry-After says (never earlier), or back off when it is absent.
- other 5xx and transport failures (status None) back off exponentially with jitter.
- everything else is final.
Retries stop after `max_attempts` attempts, or when the next wait would push the total waited past
`max_total_wait` seconds.
"""
import email.utils
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace

import tenacity

RETRY_AFTER_STATUSES = frozenset({429, 503, 504})
TRANSPORT_FAILURE = None  # the status used for "no usable answer"


def header(headers, name):
    """A header value by case-insensitive name from any mapping (requests' headers, a $batch inner dict)."""
    if not headers:
        return None
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def retry_after_seconds(headers, now=None):
    """Retry-After as float seconds (delta-seconds like "2.128", or an HTTP-date); None when absent or unreadable."""
    value = header(headers, "Retry-After")
    if value is None:
        return None
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now = now if now is not None else datetime.now(timezone.utc)
        seconds = (when - now).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite: unreadable
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6            # attempts in all, the first one included
    max_total_wait: float = 300.0    # seconds waited across all retries of one request
    backoff_initial: float = 1.0     # first backoff, doubled each attempt
    backoff_max: float = 30.0        # cap on one backoff
    jitter: float = 1.0              # up to this many random seconds added to a backoff

    def backoff(self, attempt):
        """Exponential backoff with jitter for the given (1-based) failed attempt, from tenacity's policy."""
        wait = (tenacity.wait_exponential(multiplier=self.backoff_initial, max=self.backoff_max)
                + tenacity.wait_random(0, self.jitter))
        return min(self.backoff_max, float(wait(SimpleNamespace(attempt_number=attempt))))

    def decide(self, status, headers, attempt, waited):
        """Seconds to wait before the next attempt, or None to give up.

        status: the HTTP status, or None for a transport failure; attempt: how many attempts were made
        (1 after the first); waited: seconds already waited for this request.
        """
        if not is_retryable(status):
            return None
        if attempt >= self.max_attempts:
            return None
        wait = retry_after_seconds(headers) if status in RETRY_AFTER_STATUSES else None
        if wait is None:
            wait = self.backoff(attempt)
        if waited + wait > self.max_total_wait:
            return None
        return wait


def is_retryable(status):
    return status is TRANSPORT_FAILURE or status in RETRY_AFTER_STATUSES or status >= 500


"""When to retry a Graph request, how long to wait first, and the tenacity loop that does both.

tenacity runs every retry loop of the Graph client (one request, one $batch chunk); this module gives it
the three policy axes, each a plain function of tenacity's retry state, so tests drive them without a
server or a clock:

- wait: 429, 503 and 504 wait exactly what Retry-After says (float seconds or an HTTP-date, never
  earlier), or back off when it is absent; other 5xx and transport failures (status None) back off
  exponentially with jitter (tenacity's wait_exponential + wait_random, capped at `backoff_max`).
- stop: after `max_attempts` attempts, or when the next wait would push the total waited past
  `max_total_wait` seconds (tenacity's own stop_after_delay measures the wall clock, which an injected
  sleep does not move; this budget counts the waits asked for).
- retry: the caller's predicate, on the exception an attempt raised (it knows the method: a POST or
  PATCH is repeated only when Graph provably did not carry it out).
The sleep is injected, so tests are instant and record every wait.

An attempt that fails raises an exception with `.status` (None: no usable answer) and `.retry_after`
(seconds, or None); a $batch round may add `.stalled_rounds` (rounds in a row without progress, which
count as attempts instead of every round).
"""
import email.utils
from dataclasses import dataclass
from datetime import datetime, timezone

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


def _http_date(value):
    try:
        when = email.utils.parsedate_to_datetime(str(value).strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def retry_after_seconds(headers, now=None):
    """Retry-After as float seconds (delta-seconds like "2.128", or an HTTP-date); None when absent or unreadable.

    An HTTP-date is measured from the answer's own `Date` header when it has one: both stamps come from
    the server's clock, so a skewed local clock can neither shorten nor stretch the wait. Without `Date`
    it is measured from `now` (default: the current UTC time).
    """
    value = header(headers, "Retry-After")
    if value is None:
        return None
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        reference = _http_date(header(headers, "Date")) if header(headers, "Date") else None
        reference = reference or now or datetime.now(timezone.utc)
        seconds = (when - reference).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite: unreadable
        return None
    return max(0.0, seconds)


def is_retryable(status):
    return status is TRANSPORT_FAILURE or status in RETRY_AFTER_STATUSES or status >= 500


def failure_of(retry_state):
    """The exception the last attempt raised (every attempt the loop judges has failed)."""
    return retry_state.outcome.exception()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6            # attempts in all, the first one included
    max_total_wait: float = 300.0    # seconds waited across all retries of one request
    backoff_initial: float = 1.0     # first backoff, doubled each attempt
    backoff_max: float = 30.0        # cap on one backoff
    jitter: float = 1.0              # up to this many random seconds added to a backoff

    def backoff(self, retry_state):
        """Exponential backoff with jitter after the retry state's (1-based) failed attempt."""
        wait = (tenacity.wait_exponential(multiplier=self.backoff_initial, max=self.backoff_max)
                + tenacity.wait_random(0, self.jitter))
        return min(self.backoff_max, float(wait(retry_state)))

    def wait(self, retry_state):
        """tenacity wait: Retry-After exactly when Graph gave one for 429/503/504, else the backoff.

        Computed once per attempt (jitter is random, and stop asks for the same number first)."""
        cached = getattr(retry_state, "_graph_wait", None)
        if cached is not None and cached[0] == retry_state.attempt_number:
            return cached[1]
        failure = failure_of(retry_state)
        told = getattr(failure, "retry_after", None) if getattr(failure, "status", None) in RETRY_AFTER_STATUSES \
            else None
        seconds = told if told is not None else self.backoff(retry_state)
        retry_state._graph_wait = (retry_state.attempt_number, seconds)
        return seconds

    def stop(self, retry_state):
        """tenacity stop: attempts spent (or $batch rounds without progress), or the wait budget."""
        failure = failure_of(retry_state)
        attempts = getattr(failure, "stalled_rounds", None) or retry_state.attempt_number
        if attempts >= self.max_attempts:
            return True
        return retry_state.idle_for + self.wait(retry_state) > self.max_total_wait

    def retrying(self, *, retry, sleep, before_sleep=None):
        """The tenacity controller for one retry loop.

        retry(exception) -> bool says whether the failure may be tried again at all (status and method);
        before_sleep(retry_state) sees each wait before it starts (accounting, the log line). The last
        failure is raised as it is when the loop stops (reraise), never wrapped in tenacity's RetryError.
        """
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda failure: is_retryable(getattr(failure, "status", 0))
                                              and retry(failure)),
            wait=self.wait, stop=self.stop, sleep=sleep, before_sleep=before_sleep, reraise=True)

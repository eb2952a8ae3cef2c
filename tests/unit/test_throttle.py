"""The retry policy as tenacity runs it: Retry-After exactness, backoff bounds, attempt and wait budgets.

Each test runs the policy's own tenacity loop over an attempt that fails as scripted; the injected sleep
records the waits, so nothing waits for real and no wall clock is read.
"""
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import tenacity

from connector.graph.throttle import RetryPolicy, is_retryable, retry_after_seconds

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class Failure(Exception):
    """What a failed attempt raises: a status (None: no usable answer) and Graph's Retry-After."""

    def __init__(self, status, retry_after=None, stalled_rounds=None):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        if stalled_rounds is not None:
            self.stalled_rounds = stalled_rounds


def run(policy, failures, retry=lambda failure: True):
    """Run the policy's loop over an attempt raising `failures` in turn, then succeeding.

    Returns (waits, attempts, outcome): outcome is "ok" or the exception the loop raised."""
    script, waits, attempts = list(failures), [], []

    def attempt():
        attempts.append(len(attempts) + 1)
        if script:
            raise script.pop(0)
        return "ok"

    try:
        outcome = policy.retrying(retry=retry, sleep=waits.append)(attempt)
    except Failure as failure:
        outcome = failure
    return waits, len(attempts), outcome


# -- Retry-After ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2.128", 2.128),      # Graph's documented fractional form
    ("7", 7.0),
    (" 0.5 ", 0.5),
    ("0", 0.0),
    ("-3", 0.0),           # never a negative wait
])
def test_retry_after_delta_seconds_is_read_as_float(value, expected):
    assert retry_after_seconds({"Retry-After": value}) == expected


def test_retry_after_header_name_is_case_insensitive():
    assert retry_after_seconds({"retry-after": "1.25"}) == 1.25
    assert retry_after_seconds({"RETRY-AFTER": "3"}) == 3.0


def test_retry_after_http_date_is_seconds_from_now():
    when = format_datetime(NOW + timedelta(seconds=42), usegmt=True)
    assert retry_after_seconds({"Retry-After": when}, now=NOW) == 42.0


def test_retry_after_http_date_is_measured_from_the_answers_date_header():
    # both stamps are the server's: a local clock an hour off changes nothing
    headers = {"Date": format_datetime(NOW, usegmt=True),
               "Retry-After": format_datetime(NOW + timedelta(seconds=42), usegmt=True)}
    assert retry_after_seconds(headers, now=NOW + timedelta(hours=1)) == 42.0
    assert retry_after_seconds(headers, now=NOW - timedelta(hours=1)) == 42.0


def test_retry_after_http_date_in_the_past_means_now():
    when = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert retry_after_seconds({"Retry-After": when}, now=NOW) == 0.0


@pytest.mark.parametrize("headers", [{}, None, {"Retry-After": "soon"}, {"Retry-After": "nan"},
                                     {"Retry-After": "inf"}, {"Other": "1"}])
def test_retry_after_absent_or_unreadable_is_none(headers):
    assert retry_after_seconds(headers) is None


# -- wait -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 503, 504])
def test_retry_after_statuses_wait_exactly_what_graph_says(status):
    policy = RetryPolicy(jitter=1.0)
    waits, attempts, outcome = run(policy, [Failure(status, 2.128)] * (policy.max_attempts - 1))
    assert outcome == "ok" and attempts == policy.max_attempts
    assert waits == [2.128] * (policy.max_attempts - 1)


def test_retry_after_is_honoured_even_when_longer_than_a_backoff_cap():
    waits, _, outcome = run(RetryPolicy(backoff_max=5.0, max_total_wait=100.0), [Failure(429, 60.0)])
    assert waits == [60.0] and outcome == "ok"


def test_429_without_retry_after_backs_off():
    waits, _, _ = run(RetryPolicy(backoff_initial=1.0, jitter=0.5), [Failure(429)] * 3)
    assert [1.0, 2.0, 4.0] <= waits <= [1.5, 2.5, 4.5] and all(
        floor <= wait <= floor + 0.5 for floor, wait in zip([1.0, 2.0, 4.0], waits))


@pytest.mark.parametrize("status", [500, 502, 509, None])
def test_server_errors_and_transport_failures_back_off_exponentially_within_bounds(status):
    policy = RetryPolicy(max_attempts=10, backoff_initial=0.5, backoff_max=8.0, jitter=0.25, max_total_wait=1e9)
    for _ in range(20):  # jitter is random: check the bounds many times
        waits, attempts, outcome = run(policy, [Failure(status, 99.0)] * 9)  # Retry-After is not for them
        assert outcome == "ok" and attempts == 10
        for attempt, wait in enumerate(waits, start=1):
            floor = min(8.0, 0.5 * 2 ** (attempt - 1))
            assert floor <= wait <= min(8.0, floor + 0.25)


def test_jitter_actually_varies_the_backoff():
    policy = RetryPolicy(backoff_initial=1.0, jitter=1.0)
    assert len({run(policy, [Failure(500)])[0][0] for _ in range(20)}) > 1


# -- retry and stop -----------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [200, 204, 400, 401, 403, 404, 409, 410])
def test_client_errors_and_successes_are_final(status):
    failure = Failure(status, 1.0)
    waits, attempts, outcome = run(RetryPolicy(), [failure])
    assert outcome is failure and attempts == 1 and waits == []
    assert not is_retryable(status)


def test_the_callers_predicate_decides_what_may_be_repeated():
    failure = Failure(500)
    waits, attempts, outcome = run(RetryPolicy(), [failure], retry=lambda f: f.status != 500)
    assert outcome is failure and attempts == 1 and waits == []


def test_gives_up_after_max_attempts_with_the_last_failure_itself():
    failures = [Failure(429, 1.0), Failure(429, 1.0), Failure(429, 4.0)]
    waits, attempts, outcome = run(RetryPolicy(max_attempts=3), failures + [Failure(429, 1.0)])
    assert outcome is failures[2] and not isinstance(outcome, tenacity.RetryError)
    assert attempts == 3 and waits == [1.0, 1.0]


def test_gives_up_when_the_next_wait_would_exceed_the_total_budget():
    policy = RetryPolicy(max_attempts=100, max_total_wait=10.0)
    waits, attempts, outcome = run(policy, [Failure(429, 6.0), Failure(429, 4.0), Failure(429, 0.01)])
    assert waits == [6.0, 4.0] and attempts == 3 and outcome.retry_after == 0.01  # 10 s is the whole budget
    waits, attempts, outcome = run(policy, [Failure(429, 6.0), Failure(429, 4.01)])
    assert waits == [6.0] and attempts == 2 and isinstance(outcome, Failure)
    waits, attempts, _ = run(policy, [Failure(429, 11.0)])
    assert waits == [] and attempts == 1


def test_rounds_that_made_progress_do_not_count_as_attempts():
    # a $batch round in which some inner requests got through says stalled_rounds=1
    waits, attempts, outcome = run(RetryPolicy(max_attempts=2), [Failure(429, 1.0, stalled_rounds=1)] * 5)
    assert outcome == "ok" and attempts == 6 and waits == [1.0] * 5
    stuck = Failure(429, 1.0, stalled_rounds=2)
    waits, attempts, outcome = run(RetryPolicy(max_attempts=2), [Failure(429, 1.0, stalled_rounds=1), stuck])
    assert outcome is stuck and waits == [1.0]

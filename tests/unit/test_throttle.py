"""The retry decision as a plain function: Retry-After exactness, backoff bounds, attempt and wait budgets."""
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from connector.graph.throttle import RetryPolicy, is_retryable, retry_after_seconds

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


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
    assert retry_after_seconds({"Retry-After": when}, now=NOW) == pytest.approx(42.0)


def test_retry_after_http_date_in_the_past_means_now():
    when = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert retry_after_seconds({"Retry-After": when}, now=NOW) == 0.0


@pytest.mark.parametrize("headers", [{}, None, {"Retry-After": "soon"}, {"Retry-After": "nan"},
                                     {"Retry-After": "inf"}, {"Other": "1"}])
def test_retry_after_absent_or_unreadable_is_none(headers):
    assert retry_after_seconds(headers) is None


@pytest.mark.parametrize("status", [429, 503, 504])
def test_retry_after_statuses_wait_exactly_what_graph_says(status):
    policy = RetryPolicy(jitter=1.0)
    for attempt in range(1, policy.max_attempts):
        assert policy.decide(status, {"Retry-After": "2.128"}, attempt, waited=0.0) == 2.128


def test_retry_after_is_honoured_even_when_longer_than_a_backoff_cap():
    policy = RetryPolicy(backoff_max=5.0, max_total_wait=100.0)
    assert policy.decide(429, {"Retry-After": "60"}, 1, 0.0) == 60.0


def test_429_without_retry_after_backs_off():
    policy = RetryPolicy(backoff_initial=1.0, jitter=0.5)
    wait = policy.decide(429, {}, 3, 0.0)
    assert 4.0 <= wait <= 4.5


@pytest.mark.parametrize("status", [500, 502, 509, None])
def test_server_errors_and_transport_failures_back_off_exponentially_within_bounds(status):
    policy = RetryPolicy(max_attempts=10, backoff_initial=0.5, backoff_max=8.0, jitter=0.25, max_total_wait=1e9)
    for attempt in range(1, 10):
        floor = min(8.0, 0.5 * 2 ** (attempt - 1))
        for _ in range(20):  # jitter is random: check the bounds many times
            wait = policy.decide(status, {"Retry-After": "99"}, attempt, waited=0.0)
            assert floor <= wait <= min(8.0, floor + 0.25)


def test_backoff_for_a_500_ignores_retry_after():
    policy = RetryPolicy(backoff_initial=1.0, jitter=0.0)
    assert policy.decide(500, {"Retry-After": "30"}, 1, 0.0) == 1.0


def test_jitter_actually_varies_the_backoff():
    policy = RetryPolicy(backoff_initial=1.0, jitter=1.0)
    assert len({policy.decide(500, {}, 2, 0.0) for _ in range(20)}) > 1


@pytest.mark.parametrize("status", [200, 204, 400, 401, 403, 404, 409, 410])
def test_client_errors_and_successes_are_final(status):
    assert RetryPolicy().decide(status, {"Retry-After": "1"}, 1, 0.0) is None
    assert not is_retryable(status)


def test_gives_up_after_max_attempts():
    policy = RetryPolicy(max_attempts=3)
    assert policy.decide(429, {"Retry-After": "1"}, 2, 0.0) == 1.0
    assert policy.decide(429, {"Retry-After": "1"}, 3, 0.0) is None


def test_gives_up_when_the_next_wait_would_exceed_the_total_budget():
    policy = RetryPolicy(max_attempts=100, max_total_wait=10.0)
    assert policy.decide(429, {"Retry-After": "4"}, 1, waited=6.0) == 4.0
    assert policy.decide(429, {"Retry-After": "4.01"}, 1, waited=6.0) is None
    assert policy.decide(429, {"Retry-After": "11"}, 1, waited=0.0) is None

"""One Graph request, sent and retried: headers and token, TLS per request, the answer read whole and typed.

The retry loop is tenacity's, with the policy of graph/throttle.py; this module decides what may be
repeated (a POST or PATCH only when Graph provably did not carry it out), refreshes the token once on a
401, and counts what the progress display and the health event need (`RequestStats`).
Contract: docs/ARCHITECTURE.md "GraphClient contract". Wire facts: ../shared/docs/graph-wire-facts.md §6, §7.
"""
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
import urllib3

from connector import __version__
from connector.errors import GraphError, GraphTransportError, graph_error_from_response, scrub
from connector.logs import get_logger
from connector.graph.throttle import retry_after_seconds

USER_AGENT = f"TA-entra-app-secrets/{__version__}"
# A POST or PATCH that may already have been carried out is not repeated; these answers prove it was
# not (Graph refuses 429/503 before processing).
REPEATABLE_WRITE_STATUSES = frozenset({429, 503})


@dataclass
class RequestStats:
    requests: int = 0        # HTTP requests sent (a $batch counts once)
    throttled: int = 0       # 429 answers, outer and inside $batch
    retries: int = 0         # requests sent again (after a wait or a token refresh)
    errors: int = 0          # requests that ended in an exception
    bytes_received: int = 0  # response body bytes
    throttle_wait_s: float = 0.0   # seconds waited because Graph answered 429 (outer or inside $batch)
    by_status: Counter = field(default_factory=Counter)  # status (or "transport") -> answers

    def as_dict(self):
        return {"requests": self.requests, "throttled": self.throttled, "retries": self.retries,
                "errors": self.errors, "bytes_received": self.bytes_received,
                "throttle_wait_s": round(self.throttle_wait_s, 3),
                "by_status": {str(key): value for key, value in self.by_status.items()}}


@dataclass
class Answer:
    status: int
    headers: dict
    body: object


def _log():
    return get_logger("connector.graph.client")


class GraphTransport:
    """Sends requests for one account; `request()` returns a success `Answer` or raises a typed GraphError."""

    def __init__(self, tokens, session, *, verify, timeout, policy, sleep, stats):
        self._tokens = tokens
        self._session = session
        self._verify = verify  # per request too: REQUESTS_CA_BUNDLE must never win
        self._timeout = timeout
        self.policy = policy
        self.sleep = sleep
        self.stats = stats

    def request(self, method, url, *, params=None, json_body=None, headers=None, idempotent=True):
        def may_repeat(failure):
            if not isinstance(failure, GraphError):
                return False
            if isinstance(failure, GraphTransportError):
                return not failure.permanent and (idempotent or failure.sent_nothing)
            return idempotent or failure.status in REPEATABLE_WRITE_STATUSES

        refreshed = []  # one token refresh per request, whatever the attempt
        retrying = self.policy.retrying(retry=may_repeat, sleep=self.sleep,
                                        before_sleep=lambda state: self.note_wait(state, method, url))
        try:
            return retrying(self._attempt, method, url, params, json_body, headers, refreshed)
        except GraphError as error:
            self.stats.errors += 1
            # Graph failing (throttled past the budget, 5xx, no answer) is a WARNING; a refusal the caller
            # expects and handles (404 on an already removed secret, 410 delta reset, 403) is INFO
            failing = error.status is None or error.status == 429 or error.status >= 500
            (_log().warning if failing else _log().info)(
                "graph.error", method=method, path=path_of(url), status=error.status, code=error.code,
                request_id=error.request_id, error=str(error))
            raise

    def note_wait(self, retry_state, method, url, **fields):
        """before_sleep: count the wait that is about to start and say why at INFO (one line per wait)."""
        failure = retry_state.outcome.exception()
        wait = retry_state.next_action.sleep  # tenacity set it just before calling before_sleep
        self.stats.retries += 1
        if getattr(failure, "throttled", getattr(failure, "status", None) == 429):
            self.stats.throttle_wait_s += wait
        _log().info("graph.retry", method=method, path=path_of(url), status=getattr(failure, "status", None),
                    wait_s=round(wait, 3), attempt=retry_state.attempt_number,
                    code=getattr(failure, "code", None), request_id=getattr(failure, "request_id", None), **fields)

    def _attempt(self, method, url, params, json_body, headers, refreshed):
        answer = self._send(method, url, params, json_body, headers)
        if answer.status == 401 and not refreshed:
            # An expired or revoked token: one fresh token, sent at once (no wait, not an attempt).
            refreshed.append(True)
            self._tokens.invalidate()
            self.stats.retries += 1
            answer = self._send(method, url, params, json_body, headers)
        if answer.status < 400:
            return answer
        if answer.status == 429:
            self.stats.throttled += 1
        raise graph_error_from_response(answer.status, answer.body, answer.headers, method=method,
                                        path=path_of(url), retry_after=retry_after_seconds(answer.headers))

    def _send(self, method, url, params, json_body, headers):
        request_headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "client-request-id": str(uuid.uuid4()),
            **(headers or {}),
            "Authorization": f"Bearer {self._tokens.token()}",
        }
        path = path_of(url)
        started = time.monotonic()
        self.stats.requests += 1
        try:
            response = self._session.request(method, url, params=params, json=json_body, headers=request_headers,
                                             timeout=self._timeout, verify=self._verify, allow_redirects=False)
            content = response.content  # reads the whole body: a cut-off body fails here
        except requests.RequestException as exc:
            self.stats.by_status["transport"] += 1
            reason = f"{type(exc).__name__}: {scrub(exc)}"
            _log().warning("graph.request", method=method, path=path, status=None, error=reason,
                           duration_ms=_ms_since(started), client_request_id=request_headers["client-request-id"])
            raise GraphTransportError(None, "transport", reason, method=method, path=path,
                                      sent_nothing=_sent_nothing(exc), permanent=_is_permanent(exc)) from None
        self.stats.bytes_received += len(content)
        self.stats.by_status[response.status_code] += 1
        request_id = response.headers.get("request-id")
        # one line per request is for debugging: at INFO a throttled 20,000-app tenant writes thousands
        _log().debug("graph.request", method=method, path=path, query_keys=sorted((params or {}).keys()) or None,
                     status=response.status_code, duration_ms=_ms_since(started), bytes=len(content),
                     request_id=request_id, client_request_id=request_headers["client-request-id"])
        body = _parse_body(response, content)
        if body is _UNREADABLE and response.status_code < 400:
            self.stats.by_status[response.status_code] -= 1
            self.stats.by_status["transport"] += 1
            raise GraphTransportError(None, "transport", f"HTTP {response.status_code} with a body that is not "
                                      f"complete JSON ({len(content)} bytes, request-id {request_id})",
                                      method=method, path=path)
        return Answer(response.status_code, response.headers, None if body is _UNREADABLE else body)


_UNREADABLE = object()
# Failures that the same request will meet again: an untrusted certificate, a malformed URL.
_PERMANENT_FAILURES = (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                       requests.exceptions.MissingSchema)


def _is_permanent(exc):
    if isinstance(exc, _PERMANENT_FAILURES):
        return True
    # A TLS handshake cut by the network is worth another try; a certificate we do not trust is not.
    text = str(exc).lower()
    return isinstance(exc, requests.exceptions.SSLError) and (
        "certificate verify failed" in text or "hostname" in text or "doesn't match" in text)


def _sent_nothing(exc):
    """True when the request provably never reached the server (connection refused, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _parse_body(response, content):
    if not content or response.status_code == 204:
        return None
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("text/plain"):
        return content.decode("utf-8", "replace")  # e.g. /$count answers
    try:
        return json.loads(content)
    except ValueError:
        return _UNREADABLE


def path_of(url):
    """The URL's path only: queries carry paging cursors and filters, never needed in a log line."""
    return urlsplit(url).path


def _ms_since(started):
    return round((time.monotonic() - started) * 1000, 1)

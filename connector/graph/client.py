"""The one Microsoft Graph client: sessions, timeouts, TLS, retries, typed errors, paging, $batch, delta.

Every Graph request the add-on makes goes through `GraphClient`, so throttling, error mapping, request
accounting and redaction are decided here once. Contract: docs/ARCHITECTURE.md "GraphClient contract".
Wire facts: ../shared/docs/graph-wire-facts.md (paging 1.5, delta 1.6, $batch 5, throttling 6, errors 7).
"""
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit

import requests
import urllib3

from connector import __version__
from connector.graph.auth import TokenProvider, session_for
from connector.errors import GraphError, GraphTransportError, graph_error_from_response, scrub
from connector.logs import get_logger
from connector.graph.throttle import RETRY_AFTER_STATUSES, RetryPolicy, retry_after_seconds

DEFAULT_TIMEOUT = (10, 60)  # (connect, read) seconds
BATCH_LIMIT = 20            # requests per JSON $batch (graph-wire-facts §5)
USER_AGENT = f"TA-entra-app-secrets/{__version__}"
# A POST or PATCH that may already have been carried out is not repeated; these answers and
# failures prove it was not (429/503 are refused before processing).
_UNSAFE_RETRY_STATUSES = frozenset({429, 503})


@dataclass
class Page:
    items: list
    next_link: Optional[str] = None
    delta_link: Optional[str] = None


@dataclass
class RequestStats:
    requests: int = 0        # HTTP requests sent (a $batch counts once)
    throttled: int = 0       # 429 answers, outer and inside $batch
    retries: int = 0         # requests sent again (after a wait or a token refresh)
    errors: int = 0          # requests that ended in an exception
    bytes_received: int = 0  # response body bytes
    by_status: Counter = field(default_factory=Counter)  # status (or "transport") -> answers

    def as_dict(self):
        return {"requests": self.requests, "throttled": self.throttled, "retries": self.retries,
                "errors": self.errors, "bytes_received": self.bytes_received,
                "by_status": {str(key): value for key, value in self.by_status.items()}}


@dataclass
class _Answer:
    status: int
    headers: dict
    body: object


class _TransportFailure(Exception):
    """No usable answer for one attempt; `sent_nothing` when the request never reached the server."""

    def __init__(self, reason, sent_nothing=False, retryable=True):
        super().__init__(reason)
        self.reason = reason
        self.sent_nothing = sent_nothing
        self.retryable = retryable


def _log():
    return get_logger("connector.graph.client")


class GraphClient:
    def __init__(self, account, token_provider, *, session=None, policy=None, sleep=time.sleep,
                 timeout=DEFAULT_TIMEOUT):
        self.account = account
        self._tokens = token_provider
        self._session = session if session is not None else session_for(account, timeout)
        self._verify = account.verify  # per request too: REQUESTS_CA_BUNDLE must never win
        self._timeout = timeout
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._base = account.graph_root
        self._origin = _origin(self._base)
        self.stats = RequestStats()

    # -- public API ------------------------------------------------------------------------------
    def get(self, path, params=None, api="v1.0", headers=None):
        return self._request("GET", path, params=params, headers=headers, api=api).body

    def iter_pages(self, path, params=None, api="v1.0", headers=None):
        """Pages of a collection, following @odata.nextLink verbatim (its query already carries params)."""
        url, query = path, params
        while url:
            page = _page_of(self._request("GET", url, params=query, headers=headers, api=api).body)
            yield page
            if page.next_link is not None and page.next_link == url:
                raise GraphError(None, "nextLinkLoop", "Graph answered a nextLink pointing at the same page",
                                 method="GET", path=_path_of(url))
            url, query = page.next_link, None

    def iter_items(self, path, params=None, api="v1.0", headers=None):
        for page in self.iter_pages(path, params=params, api=api, headers=headers):
            yield from page.items

    def iter_delta(self, path, delta_link=None, params=None, api="v1.0"):
        """Pages of a delta round, from the start (path + params) or from a saved deltaLink.

        The last page carries `delta_link`, to save for the next round. An expired or unknown link
        raises DeltaTokenExpired: the caller starts again from `path`.
        """
        if delta_link:
            return self.iter_pages(delta_link, api=api)
        return self.iter_pages(path, params=params, api=api)

    def post(self, path, json_body, api="v1.0"):
        """POST a JSON body; the answer's JSON, or None for 204 No Content."""
        return self._request("POST", path, json_body=json_body, api=api, idempotent=False).body

    def patch(self, path, json_body, api="v1.0"):
        self._request("PATCH", path, json_body=json_body, api=api, idempotent=False)

    def batch(self, requests_, api="v1.0"):
        """Send requests through JSON $batch, 20 at a time; {id: {"status", "headers", "body"}} for every id.

        Inner 429/503/504 answers are sent again in a new batch after the longest inner Retry-After;
        when the retry budget is spent their last answer is returned as it is.
        """
        ids = [str(request["id"]) for request in requests_]
        if len({i.lower() for i in ids}) != len(ids):
            raise ValueError("$batch request ids must be unique (case-insensitively)")
        answers = {}
        for start in range(0, len(requests_), BATCH_LIMIT):
            answers.update(self._batch_chunk(requests_[start:start + BATCH_LIMIT], api))
        return answers

    def close(self):
        """Close the pooled connections, the token provider's included."""
        self._session.close()
        close_tokens = getattr(self._tokens, "close", None)
        if close_tokens is not None:
            close_tokens()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- $batch ----------------------------------------------------------------------------------
    def _batch_chunk(self, chunk, api):
        pending, answers = list(chunk), {}
        attempt, waited = 0, 0.0
        while pending:
            attempt += 1
            body = self._request("POST", "/$batch", json_body={"requests": pending}, api=api).body
            responses = body.get("responses") if isinstance(body, dict) else None
            inner = {str(r.get("id")): r for r in responses or [] if isinstance(r, dict)}
            retry = []
            for request in pending:
                answer = inner.get(str(request["id"]))
                if answer is None:
                    answer = {"status": None, "headers": {}, "body": None}  # Graph left it out: ask again
                answer = {"status": answer.get("status"), "headers": answer.get("headers") or {},
                          "body": answer.get("body")}
                answers[str(request["id"])] = answer
                if answer["status"] in RETRY_AFTER_STATUSES or answer["status"] is None:
                    retry.append((request, answer))
            self.stats.throttled += sum(1 for _, answer in retry if answer["status"] == 429)
            if not retry:
                break
            if len(retry) < len(pending):
                # some inner requests got through: the bucket is draining, not stuck; count attempts
                # without progress only, or a 20-request batch against a tight bucket gives up early
                attempt = 1
            waits = [self._policy.decide(answer["status"], answer["headers"], attempt, waited)
                     for _, answer in retry]
            if any(wait is None for wait in waits):
                break  # budget spent: the caller gets the throttled answers
            wait = max(waits)
            _log().info("graph.batch_retry", inner_retried=len(retry), wait_s=round(wait, 3), attempt=attempt)
            self.stats.retries += 1
            self._sleep(wait)
            waited += wait
            pending = [request for request, _ in retry]
        return answers

    # -- one request with its retries --------------------------------------------------------------
    def _request(self, method, path, *, params=None, json_body=None, headers=None, api="v1.0", idempotent=True):
        url = self._url(path, api)
        attempt, waited, refreshed = 0, 0.0, False
        while True:
            attempt += 1
            try:
                answer = self._send(method, url, params, json_body, headers)
            except _TransportFailure as failure:
                status, answer_headers = None, {}
                error = GraphTransportError(None, "transport", failure.reason, method=method, path=_path_of(url))
                retry_allowed = failure.retryable and (idempotent or failure.sent_nothing)
            else:
                if answer.status < 400:
                    return answer
                if answer.status == 401 and not refreshed:
                    # An expired or revoked token: one fresh token, then the answer is final.
                    refreshed = True
                    self._tokens.invalidate()
                    self.stats.retries += 1
                    attempt -= 1
                    continue
                status, answer_headers = answer.status, answer.headers
                if status == 429:
                    self.stats.throttled += 1
                error = graph_error_from_response(status, answer.body, answer_headers, method=method,
                                                  path=_path_of(url), retry_after=retry_after_seconds(answer_headers))
                retry_allowed = idempotent or status in _UNSAFE_RETRY_STATUSES
            wait = self._policy.decide(status, answer_headers, attempt, waited) if retry_allowed else None
            if wait is None:
                self.stats.errors += 1
                raise error
            _log().info("graph.retry", method=method, path=_path_of(url), status=status, wait_s=round(wait, 3),
                        attempt=attempt, code=error.code, request_id=error.request_id)
            self.stats.retries += 1
            self._sleep(wait)
            waited += wait

    def _send(self, method, url, params, json_body, headers):
        request_headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "client-request-id": str(uuid.uuid4()),
            **(headers or {}),
            "Authorization": f"Bearer {self._tokens.token()}",
        }
        path = _path_of(url)
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
            raise _TransportFailure(reason, sent_nothing=_sent_nothing(exc),
                                    retryable=not _is_permanent(exc)) from None
        self.stats.bytes_received += len(content)
        self.stats.by_status[response.status_code] += 1
        request_id = response.headers.get("request-id")
        _log().info("graph.request", method=method, path=path, query_keys=sorted((params or {}).keys()) or None,
                    status=response.status_code, duration_ms=_ms_since(started), bytes=len(content),
                    request_id=request_id, client_request_id=request_headers["client-request-id"])
        body = _parse_body(response, content)
        if body is _UNREADABLE and response.status_code < 400:
            self.stats.by_status[response.status_code] -= 1
            self.stats.by_status["transport"] += 1
            raise _TransportFailure(f"HTTP {response.status_code} with a body that is not complete JSON "
                                    f"({len(content)} bytes, request-id {request_id})")
        return _Answer(response.status_code, response.headers, None if body is _UNREADABLE else body)

    def _url(self, path, api):
        if path.startswith(("https://", "http://")):
            # Links come from Graph's answers; the token must never follow one to another host.
            if _origin(path) != self._origin:
                raise GraphError(None, "unexpectedHost", f"refusing to send the token to {_origin(path)} "
                                 f"(Graph host is {self._origin})", method="GET", path=_path_of(path))
            return path
        if api not in ("v1.0", "beta"):
            raise ValueError(f"api must be 'v1.0' or 'beta', not {api!r}")
        return f"{self._base}/{api}/{path.lstrip('/')}"


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


def _page_of(body):
    if not isinstance(body, dict):
        return Page(items=[])
    next_link = body.get("@odata.nextLink")
    delta_link = body.get("@odata.deltaLink")
    value = body.get("value")
    if isinstance(value, list):
        return Page(items=value, next_link=next_link, delta_link=delta_link)
    # Some report filters answer a bare object instead of {"value": [...]} (graph-wire-facts §2.4).
    item = {key: val for key, val in body.items() if not key.startswith("@odata.")}
    return Page(items=[item] if item else [], next_link=next_link, delta_link=delta_link)


def _sent_nothing(exc):
    """True when the request provably never reached the server (connection refused, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _path_of(url):
    """The URL's path only: queries carry paging cursors and filters, never needed in a log line."""
    return urlsplit(url).path


def _ms_since(started):
    return round((time.monotonic() - started) * 1000, 1)


__all__ = ["GraphClient", "Page", "RequestStats"]


def open_client(account):
    """The Graph client for an account (MSAL token provider over the account's pinned session)."""
    return GraphClient(account, TokenProvider(account, session_for(account)))

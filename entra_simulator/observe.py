"""What the simulator saw: a bounded request log and counters that tests and benchmarks read.

Entries hold the method, path, query string, status, bytes, duration and the calling app's client id.
Never headers or bodies: those carry tokens, secrets and client assertions.
"""

from __future__ import annotations
import collections
import threading
from dataclasses import dataclass, field

# The newest entries are kept (about 10 MB at most); counters cover every request since the last clear().
DEFAULT_LOG_LIMIT = 10_000


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    route: str            # the route template, e.g. "GET /{api}/applications/{id}", or "token", "$batch inner"
    status: int
    bytes: int            # response body bytes
    duration_s: float
    app: str | None       # client id of the caller, when known
    request_id: str
    batched: bool = False  # True for a request that arrived inside a JSON $batch


@dataclass
class Counters:
    requests: int = 0
    throttled: int = 0
    bytes: int = 0
    by_route: collections.Counter = field(default_factory=collections.Counter)
    by_status: collections.Counter = field(default_factory=collections.Counter)
    by_app: collections.Counter = field(default_factory=collections.Counter)

    def snapshot(self):
        return Counters(self.requests, self.throttled, self.bytes, collections.Counter(self.by_route),
                        collections.Counter(self.by_status), collections.Counter(self.by_app))


class Observer:
    """Thread-safe sink for every request the server answers (inner $batch requests included)."""

    def __init__(self, log_limit=DEFAULT_LOG_LIMIT):
        self._lock = threading.Lock()
        self._log = collections.deque(maxlen=log_limit)
        self._counters = Counters()

    def record(self, record: RequestRecord):
        with self._lock:
            self._log.append(record)
            counters = self._counters
            counters.requests += 1
            counters.bytes += record.bytes
            counters.by_route[record.route] += 1
            counters.by_status[record.status] += 1
            if record.app:
                counters.by_app[record.app] += 1
            if record.status == 429:
                counters.throttled += 1

    @property
    def requests(self):
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def counters(self):
        with self._lock:
            return self._counters.snapshot()

    def clear(self):
        with self._lock:
            self._log.clear()
            self._counters = Counters()

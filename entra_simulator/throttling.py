"""Graph's throttling, modelled as token buckets (graph-wire-facts.md section 6).

Three budgets apply per calling app and tenant:
- identity and access reads and writes: resource units (RU) per 10 s by tenant size, each request
  costing 1-3 RU; writes also draw on a write quota per 2 min 30 s;
- identity and access reports (sign-ins, audits, credential reports): 5 requests per 10 s;
- `$select=keyCredentials`: 150 requests per minute for the whole tenant.

Buckets refill continuously, so the Retry-After sent with a 429 is exact: a client that waits that long
(rounded up to the millisecond) finds enough budget. Graph says requests made while throttled still
count; the simulator does not charge them, because an honest Retry-After is what tests need.
`scale` multiplies every window so that tests can run the same shapes in a fraction of the time.
"""

from __future__ import annotations
import math
import threading
import time
from dataclasses import dataclass, replace

# Resource units per 10 s per app and tenant, by tenant size (S < 50 users, M 50-500, L > 500).
RU_BY_TENANT_SIZE = {"demo": 3500, "small": 3500, "medium": 5000, "large": 8000}

DIRECTORY, REPORTS = "directory", "reports"


@dataclass(frozen=True)
class ThrottleLimits:
    directory_ru: float = 3500
    directory_window_s: float = 10.0
    write_requests: float = 3000
    write_window_s: float = 150.0
    reports_requests: float = 5
    reports_window_s: float = 10.0
    key_credentials_requests: float = 150
    key_credentials_window_s: float = 60.0
    scale: float = 1.0

    @classmethod
    def from_option(cls, option, tenant_size="demo"):
        """None/False: no throttling. "graph": Graph's documented limits. A dict: those, with overrides."""
        if not option:
            return None
        base = cls(directory_ru=RU_BY_TENANT_SIZE.get(tenant_size, RU_BY_TENANT_SIZE["demo"]))
        if option == "graph" or option is True:
            return base
        if isinstance(option, dict):
            unknown = set(option) - set(cls.__dataclass_fields__)
            if unknown:
                raise ValueError(f"unknown throttle settings: {sorted(unknown)}")
            return replace(base, **option)
        raise ValueError(f"throttle must be None, 'graph' or a dict of limits, not {option!r}")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    scope: str = ""         # x-ms-throttle-scope
    information: str = ""   # x-ms-throttle-information


ALLOWED = Decision(True)


class TokenBucket:
    def __init__(self, capacity, window_s, clock):
        self.capacity = float(capacity)
        self.rate = self.capacity / window_s  # units per second
        self.tokens = self.capacity
        self._clock = clock
        self._stamp = clock()

    def _refill(self):
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_for(self, cost):
        """Seconds until `cost` units are available (0 when they are now)."""
        self._refill()
        missing = min(cost, self.capacity) - self.tokens
        if missing <= 0:
            return 0.0
        return math.ceil(missing / self.rate * 1000) / 1000  # round up: waiting exactly this long is enough

    def take(self, cost):
        self.tokens -= min(cost, self.capacity)


def resource_units(method, resource, has_select, has_expand, top):
    """The documented RU cost of one identity-and-access request."""
    if method != "GET":
        return 1
    cost = 2 if resource in ("applications", "appRoleAssignments") else 1
    if has_select:
        cost -= 1
    if has_expand:
        cost += 1
    if top is not None and top < 20:
        cost -= 1
    return max(cost, 1)


class Throttler:
    """All buckets of one simulated tenant; thread-safe."""

    def __init__(self, limits: ThrottleLimits, tenant_id, clock=time.monotonic):
        self.limits = limits
        self.tenant_id = tenant_id
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets = {}

    def _bucket(self, key, capacity, window_s):
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(capacity, window_s * self.limits.scale, self._clock)
        return bucket

    def charge(self, app_id, kind, cost=1, write=False, selects_key_credentials=False):
        """Take the budget one request needs, or say how long to wait. Nothing is taken on refusal."""
        limits = self.limits
        wanted = []  # (bucket, cost, scope, information)
        if kind == REPORTS:
            wanted.append((self._bucket(("reports", app_id), limits.reports_requests, limits.reports_window_s), 1,
                           f"Tenant_Application/Reports/{app_id}/{self.tenant_id}", "RequestLimitExceeded"))
        else:
            wanted.append((self._bucket(("ru", app_id), limits.directory_ru, limits.directory_window_s), cost,
                           f"Tenant_Application/ReadWrite/{app_id}/{self.tenant_id}", "ResourceUnitLimitExceeded"))
            if write:
                wanted.append((self._bucket(("write", app_id), limits.write_requests, limits.write_window_s), 1,
                               f"Tenant_Application/Write/{app_id}/{self.tenant_id}", "WriteLimitExceeded"))
            if selects_key_credentials:
                wanted.append((self._bucket(("keyCredentials",), limits.key_credentials_requests,
                                            limits.key_credentials_window_s), 1,
                               f"Tenant/KeyCredentials/{self.tenant_id}", "RequestLimitExceeded"))
        with self._lock:
            waits = [(bucket.wait_for(units), scope, info) for bucket, units, scope, info in wanted]
            longest = max(waits, key=lambda item: item[0])
            if longest[0] > 0:
                return Decision(False, longest[0], longest[1], longest[2])
            for bucket, units, _scope, _info in wanted:
                bucket.take(units)
        return ALLOWED

    def reset(self):
        with self._lock:
            self._buckets.clear()

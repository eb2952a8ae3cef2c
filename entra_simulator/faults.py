"""Fault knobs: each one switched on by name, deterministic with a seed.

    sim.set_fault("http_503", count=3, retry_after=0.2, route="/applications")
    sim.set_fault("connection_reset")            # the next Graph request loses its connection
    sim.set_fault("slow", delay=0.5, count=None) # every Graph request waits half a second
    sim.set_fault("revoke_tokens", skip=2)       # the third request finds every token issued so far revoked
    sim.set_fault("expire_next_link")            # the next request that follows a nextLink gets 400

Parameters every knob takes:
    count  how many times it fires (default 1; None = until cleared)
    skip   how many matching requests pass untouched first (default 0)
    rate   probability of firing on a matching request, drawn from a generator seeded with the
           simulator's seed and the knob's name (default 1.0)
    route  substring of the request path it applies to; by default every Graph request (not sign-in)

Knob-specific: `retry_after` (seconds, for http_4xx/5xx; omitted -> no Retry-After header), `delay`
(seconds, slow), `keep` (fraction of the body sent, truncated_body).
`http_<status>` works for 429 and any 5xx; `http_<status>_burst` defaults to count=3.
"""

from __future__ import annotations
import random
import re
import threading
from dataclasses import dataclass

NAMED_KNOBS = ("connection_reset", "slow", "truncated_body", "revoke_tokens", "expire_next_link",
               "odd_report_shapes")
_HTTP_KNOB = re.compile(r"^http_(429|5\d\d)(_burst)?$")
_COMMON = {"count", "skip", "rate", "route"}
_SPECIFIC = {"http": {"retry_after"}, "slow": {"delay"}, "truncated_body": {"keep"}}


@dataclass
class Fault:
    name: str
    kind: str                   # "http", or the knob name
    count: int | None = 1
    skip: int = 0
    rate: float = 1.0
    route: str | None = None
    status: int = 0             # http knobs
    retry_after: float | None = None
    delay: float = 1.0          # slow
    keep: float = 0.5           # truncated_body
    rng: random.Random = None

    def matches(self, path, is_graph):
        if self.route is None:
            return is_graph
        return self.route in path


def build_fault(name, seed, **params):
    match = _HTTP_KNOB.match(name)
    if match:
        kind, defaults = "http", {"status": int(match.group(1)), "count": 3 if match.group(2) else 1}
    elif name in NAMED_KNOBS:
        kind, defaults = name, {}
    else:
        raise ValueError(f"unknown fault {name!r}; known: http_<429|5xx>[_burst], {', '.join(NAMED_KNOBS)}")
    unknown = set(params) - _COMMON - _SPECIFIC.get(kind, set())
    if unknown:
        raise ValueError(f"fault {name!r} does not take {sorted(unknown)}")
    if params.get("count", 1) is not None and params.get("count", 1) < 1:
        raise ValueError("count must be at least 1, or None for 'until cleared'")
    return Fault(name=name, kind=kind, rng=random.Random(f"{seed}:{name}"), **{**defaults, **params})


class FaultInjector:
    """Holds the knobs that are on; the server asks it, once per request, which one fires."""

    def __init__(self, seed=0):
        self.seed = seed
        self._lock = threading.Lock()
        self._faults = {}

    def set(self, name, **params):
        fault = build_fault(name, self.seed, **params)
        with self._lock:
            self._faults[name] = fault
        return fault

    def clear(self, name=None):
        with self._lock:
            if name is None:
                self._faults.clear()
            else:
                self._faults.pop(name, None)

    def active(self):
        with self._lock:
            return sorted(self._faults)

    def is_on(self, name):
        """For knobs that change a response's shape rather than break it (odd_report_shapes)."""
        with self._lock:
            return name in self._faults

    def pick(self, path, is_graph, follows_next_link=False):
        """The knobs that fire for this request: (delay seconds, the breaking fault or None)."""
        delay, breaking = 0.0, None
        with self._lock:
            for name, fault in list(self._faults.items()):
                if fault.kind == "odd_report_shapes" or not fault.matches(path, is_graph):
                    continue
                if fault.kind == "expire_next_link" and not follows_next_link:
                    continue
                if fault.kind != "slow" and breaking is not None:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.rate < 1.0 and fault.rng.random() >= fault.rate:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        del self._faults[name]
                if fault.kind == "slow":
                    delay += fault.delay
                else:
                    breaking = fault
        return delay, breaking

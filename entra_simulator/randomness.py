"""Deterministic per-object randomness: every value the generator invents is a function of (seed, index).

splitmix64 is used instead of random.Random because a large tenant draws values for every object and
every sign-in it builds, and seeding a Mersenne Twister costs more than building the object.
"""
from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

_M64 = (1 << 64) - 1


def mix(*values: int) -> int:
    """splitmix64 over a few integers: cheap, deterministic per-record randomness."""
    state = 0x243F6A8885A308D3
    for value in values:
        state = (state ^ (value & _M64)) + 0x9E3779B97F4A7C15 & _M64
        state = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        state = ((state ^ (state >> 27)) * 0x94D049BB133111EB) & _M64
        state ^= state >> 31
    return state


class Draws:
    """A counter-based stream with the few random.Random methods the profiles use."""
    __slots__ = ("_state",)

    def __init__(self, *key: int):
        self._state = mix(*key)

    def random(self) -> float:
        self._state = (self._state + 1) & _M64
        return (mix(self._state) >> 11) / float(1 << 53)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def choice(self, values):
        return values[int(self.random() * len(values))]

    def weighted(self, values, cumulative):
        """values[i] with probability proportional to its weight; `cumulative` from cumulative()."""
        return values[bisect_right(cumulative, self.random() * cumulative[-1])]


def cumulative(*weights):
    """Cumulative weights for Draws.weighted."""
    return tuple(accumulate(weights))

"""A token bucket per API token for write requests (in memory, per process)."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """``rate_per_minute`` writes per key, with bursts up to the same number."""

    def __init__(self, rate_per_minute: int):
        self.capacity = float(rate_per_minute)
        self.per_second = rate_per_minute / 60.0
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int) -> float:
        """Take one write for ``key``: 0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.per_second


def retry_after_s(wait: float) -> int:
    """Whole seconds to wait (at least 1), for both the ``Retry-After`` header and the message,
    so a client is never told to try again in 0 s."""
    return max(1, math.ceil(wait))

"""In-process token buckets for the intake (per key and per client address).

In-process on purpose: the hot path stays free of extra database writes. Each intake process
keeps its own buckets, so with N processes the effective limit is up to N times the setting;
the limit exists to stop a runaway device or a key-guessing client, not to meter fairly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate_per_min` tokens a minute, at most `burst` saved; each request takes one."""

    def __init__(
        self, rate_per_min: int, burst: int, clock: Callable[[], float] = time.monotonic,
        max_entries: int = 200_000,
    ) -> None:
        self.rate_per_s = rate_per_min / 60
        self.burst = float(max(burst, 1))
        self.clock = clock
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def enabled(self) -> bool:
        return self.rate_per_s > 0

    def take(self, name: str) -> float:
        """0 if allowed, else the seconds to wait before a token is available."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(name, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate_per_s)
            if tokens < 1:
                self._buckets[name] = (tokens, now)
                return (1 - tokens) / self.rate_per_s
            if len(self._buckets) >= self.max_entries:
                self._prune(now)
            self._buckets[name] = (tokens - 1, now)
            return 0.0

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely (they hold no information)."""
        full = [k for k, (t, last) in self._buckets.items()
                if t + (now - last) * self.rate_per_s >= self.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_entries:
            self._buckets.clear()

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

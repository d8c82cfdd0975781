"""A token bucket per connection: how many frames a client may send, sustained and in a burst.

Over the limit a frame is refused, and the person is told once per burst (not once per frame,
which would let a flood make the server flood back). A client that keeps flooding far past
the limit is disconnected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["allow", "refuse_and_tell", "refuse", "disconnect"]


@dataclass
class RateLimiter:
    per_second: float
    burst: int
    disconnect_after: int = 500  # refused frames in a row
    _tokens: float = field(init=False)
    _stamp: float = field(default_factory=time.monotonic)
    _refused_in_a_row: int = 0

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)

    def check(self) -> Verdict:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.per_second)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            self._refused_in_a_row = 0
            return "allow"
        self._refused_in_a_row += 1
        if self._refused_in_a_row >= self.disconnect_after:
            return "disconnect"
        return "refuse_and_tell" if self._refused_in_a_row == 1 else "refuse"

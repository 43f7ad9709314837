"""MockClock: virtual time for tests, with an optional "autojump" to the next deadline
whenever every task is blocked."""

from __future__ import annotations

import math
import time

from . import _context
from ._abc import Clock


class MockClock(Clock):
    """A clock whose time moves only as the test says.

    ``rate``: virtual seconds per real second (0, the default, stops time; 1 follows
    real time). ``autojump_threshold``: once every task has been blocked for this many
    real seconds, jump straight to the next deadline (0 makes a test with timeouts run
    instantly; the default ``inf`` never jumps). ``jump(seconds)`` moves time forward
    by hand.
    """

    def __init__(self, rate: float = 0.0, autojump_threshold: float = math.inf) -> None:
        self._real_base = 0.0
        self._virtual_base = 0.0
        self._rate = 0.0
        self._autojump_threshold = math.inf
        self.rate = rate
        self.autojump_threshold = autojump_threshold

    def __repr__(self) -> str:
        return f"<MockClock, time={self.current_time():.7f}, rate={self._rate} at {id(self):#x}>"

    @property
    def rate(self) -> float:
        return self._rate

    @rate.setter
    def rate(self, new_rate: float) -> None:
        if not new_rate >= 0:
            raise ValueError(f"MockClock.rate must be >= 0, got {new_rate!r}")
        now = time.perf_counter()
        self._virtual_base = self._real_to_virtual(now)
        self._real_base = now
        self._rate = float(new_rate)

    @property
    def autojump_threshold(self) -> float:
        return self._autojump_threshold

    @autojump_threshold.setter
    def autojump_threshold(self, new_threshold: float) -> None:
        if not new_threshold >= 0:
            raise ValueError(f"MockClock.autojump_threshold must be >= 0, got {new_threshold!r}")
        self._autojump_threshold = float(new_threshold)
        self._sync_with_runner()

    def _sync_with_runner(self) -> None:
        runner = getattr(_context.GLOBAL_RUN_CONTEXT, "runner", None)
        if runner is not None and runner.clock is self:
            runner.clock_autojump_threshold = self._autojump_threshold

    def _real_to_virtual(self, real: float) -> float:
        return self._virtual_base + self._rate * (real - self._real_base)

    def start_clock(self) -> None:
        self._sync_with_runner()

    def current_time(self) -> float:
        return self._real_to_virtual(time.perf_counter())

    def deadline_to_sleep_time(self, deadline: float) -> float:
        virtual_timeout = deadline - self.current_time()
        if virtual_timeout <= 0:
            return 0.0
        if self._rate > 0:
            return virtual_timeout / self._rate
        return 999_999_999.0

    def jump(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (>= 0)."""
        if not seconds >= 0:
            raise ValueError(f"MockClock.jump() cannot go backwards (got {seconds!r})")
        self._virtual_base += seconds

    def _autojump(self) -> None:
        """Called by the loop when every task has been blocked long enough."""
        runner = _context.current_runner()
        target = runner.deadlines.next_deadline()
        jump = target - self.current_time()
        if 0 < jump < math.inf:
            self.jump(jump)
            # now + (target - now) can fall one rounding step short of target, and a
            # deadline that never quite arrives would make the loop jump forever.
            if self._rate == 0 and self._virtual_base < target:
                self._virtual_base = target

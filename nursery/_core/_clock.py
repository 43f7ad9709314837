"""The default clock: real, monotonic time with a random offset.

The offset (of up to a couple of days) keeps code from confusing the run's clock with any
other clock: deadlines must always come from ``current_time()``.
"""

from __future__ import annotations

import random
import time

from ._abc import Clock

_perf_counter = time.perf_counter


class SystemClock(Clock):
    __slots__ = ("_offset",)

    def __init__(self) -> None:
        self._offset = random.uniform(10_000, 200_000)

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self._offset + _perf_counter()

    def deadline_to_sleep_time(self, deadline: float) -> float:
        return deadline - (self._offset + _perf_counter())

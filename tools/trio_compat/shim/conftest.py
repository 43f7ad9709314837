"""A time limit for each converted test, so that one hang does not hide the rest.

nursery's own pytest plugin (``nursery_mode = true`` in pytest.ini) runs the async
tests, as Trio's private plugin does for Trio.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Generator
from types import FrameType

import pytest

LIMIT = int(os.environ.get("TRIO_COMPAT_TEST_TIMEOUT", "30"))


class TestTimedOut(BaseException):
    """Raised in the main thread when a test runs past LIMIT seconds."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise TestTimedOut(f"test still running after {LIMIT}s (a hang?)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(LIMIT)
    try:
        return (yield)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

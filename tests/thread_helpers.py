"""Helpers for tests that reach a run from another thread."""

from __future__ import annotations

import threading
from collections.abc import Callable


def in_thread(fn: Callable[[], object]) -> None:
    """Run fn in a new thread and wait for it to finish; re-raise what it raised."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:  # pragma: no cover
        raise errors[0]

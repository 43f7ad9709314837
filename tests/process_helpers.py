"""Functions that tests/test_to_process.py runs in worker processes.

A worker is a fresh interpreter: it finds these by importing this module by name.
pytest puts this directory on ``sys.path``, and multiprocessing's "spawn" gives the
worker the parent's ``sys.path``, so ``process_helpers`` imports there too.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def add(a: int, b: int) -> tuple[int, int]:
    return a + b, os.getpid()


def pid() -> int:
    return os.getpid()


def echo(value: object) -> object:
    return value


def fail(message: str) -> None:
    raise ValueError(message)


def fail_with_note() -> None:
    error = KeyError("missing")
    error.add_note("a note added in the worker")
    raise error


def exit_with_system_exit(code: int) -> None:
    raise SystemExit(code)


class NeedsTwoArguments(Exception):
    """Pickles fine, but cannot be unpickled: ``args`` holds one value, ``__init__``
    wants two."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a} and {b}")


def fail_with_awkward_exception() -> None:
    raise NeedsTwoArguments("this", "that")


def return_a_lock() -> object:
    return threading.Lock()


def exit_abruptly(code: int) -> None:
    os._exit(code)


def segfault() -> None:
    ctypes.string_at(0)  # reads address 0


def announce_then_spin(fifo_path: str) -> None:
    """Write this worker's pid into a FIFO (which the test waits on), then loop forever:
    only killing the worker ends this call."""
    with open(fifo_path, "w") as fifo:
        fifo.write(f"{os.getpid()}\n")
    while True:
        pass


@contextmanager
def _locked(directory: str) -> Iterator[str]:
    with open(os.path.join(directory, "lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield os.path.join(directory, "state")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(path: str) -> tuple[int, int]:
    try:
        with open(path) as f:
            active, peak = f.read().split()
    except FileNotFoundError:
        return 0, 0
    return int(active), int(peak)


def _write(path: str, active: int, peak: int) -> None:
    with open(path, "w") as f:
        f.write(f"{active} {peak}")


def count_concurrent(directory: str, target: int, timeout: float) -> tuple[int, int]:
    """Count this call in a counter shared through files in ``directory``; until
    ``target`` calls have been inside at once (or ``timeout`` seconds have passed), wait
    for the others. Returns this worker's pid and how many calls were inside, this one
    included, when it came in."""
    with _locked(directory) as state:
        active, peak = _read(state)
        active += 1
        seen = active
        _write(state, active, max(peak, active))
    deadline = time.monotonic() + timeout
    # Workers cannot wait on the run's primitives: they poll the shared file.
    while time.monotonic() < deadline:
        with _locked(directory) as state:
            if _read(state)[1] >= target:
                break
        time.sleep(0.005)
    with _locked(directory) as state:
        active, peak = _read(state)
        _write(state, active - 1, peak)
    return os.getpid(), seen

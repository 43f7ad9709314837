"""What the run loop needs from an I/O backend.

The loop calls ``get_events`` with the longest time it may sleep (0 when tasks are
runnable) and hands the result to ``process_events``, which wakes the tasks whose file
descriptors became ready. Waiting goes through ``wait_readable``/``wait_writable`` (each
a checkpoint that parks the task with an abort function undoing its registration), and
``notify_closing`` wakes the waiters of an fd that is about to be closed.
"""

from __future__ import annotations

from typing import Protocol

import attrs


class HasFileno(Protocol):
    def fileno(self) -> int: ...


FileDescriptorLike = int | HasFileno
"""An fd number, or an object with ``fileno()`` (a socket, a file)."""


@attrs.frozen
class IOStatistics:
    backend: str
    tasks_waiting_read: int
    tasks_waiting_write: int


class IOBackend(Protocol):
    def get_events(self, timeout: float) -> list[tuple[int, int]]: ...

    def process_events(self, events: list[tuple[int, int]]) -> None: ...

    def watch_wakeup_fd(self, fd: int) -> None: ...

    async def wait_readable(self, fd: FileDescriptorLike) -> None: ...

    async def wait_writable(self, fd: FileDescriptorLike) -> None: ...

    def notify_closing(self, fd: FileDescriptorLike) -> None: ...

    def statistics(self) -> IOStatistics: ...

    def close(self) -> None: ...

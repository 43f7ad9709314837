"""``FdStream``: a byte stream over a raw file descriptor that supports non-blocking
I/O (a pipe, a FIFO, a terminal, a character device; not a regular file, which epoll
cannot watch).

The stream owns its fd. The descriptor is put in non-blocking mode while the stream
holds it and handed back to its original mode just before it is closed. The number is
forgotten (set to -1) the moment it is closed: fd numbers are reused at once, so a
stale number could otherwise reach someone else's file.
"""

from __future__ import annotations

import errno
import os
from abc import ABCMeta

from ._conflict import ConflictDetector
from ._core._context import in_run
from ._core._exceptions import BrokenResourceError, ClosedResourceError
from ._core._runner import notify_closing, wait_readable, wait_writable
from ._core._traps import (
    CHECKPOINT_TRAP,
    SHIELDED_CHECKPOINT_TRAP,
    checkpoint_if_cancelled,
)
from ._core._util import Final
from .abc import Stream

# The default pipe capacity on Linux: one read can drain a full pipe.
DEFAULT_RECEIVE_SIZE = 65536


class _FinalStreamMeta(Final, ABCMeta):
    """A ``Stream`` implementation (``ABCMeta``) that cannot be subclassed."""


def _closed_error() -> ClosedResourceError:
    return ClosedResourceError("this FdStream was already closed")


class FdStream(Stream, metaclass=_FinalStreamMeta):
    """A ``Stream`` over the file descriptor ``fd`` of a pipe, a terminal, or another
    file that supports non-blocking I/O.

    The stream takes ownership of ``fd``: closing the stream closes it, and the caller
    must not use the number afterwards. While the stream holds it, the descriptor is in
    non-blocking mode. That mode belongs to the open file description, so every
    descriptor sharing it (duplicates, or the same file inherited by other processes)
    sees it too; wrap only files that nobody else is using in blocking mode.

    One task at a time may send and one may receive (``BusyResourceError`` otherwise).
    Writing to a pipe whose reading end is closed raises ``BrokenResourceError``; closing
    the stream while a task is blocked on it wakes that task with
    ``ClosedResourceError``.
    """

    __slots__ = ("__weakref__", "_fd", "_original_blocking", "_receive_guard", "_send_guard")

    def __init__(self, fd: int) -> None:
        self._fd = -1  # __del__ must find a value even if the checks below fail
        if not isinstance(fd, int) or isinstance(fd, bool):
            raise TypeError(f"FdStream(fd) expected an int file descriptor, got {fd!r}")
        if fd < 0:
            raise ValueError(f"FdStream(fd) expected a file descriptor >= 0, got {fd}")
        self._original_blocking = os.get_blocking(fd)  # OSError (EBADF) for a closed fd
        os.set_blocking(fd, False)
        self._fd = fd
        self._send_guard = ConflictDetector("another task is already sending on this FdStream")
        self._receive_guard = ConflictDetector("another task is already receiving on this FdStream")

    def __repr__(self) -> str:
        state = "closed" if self._fd < 0 else f"fd={self._fd}"
        return f"<nursery.lowlevel.FdStream {state}>"

    def fileno(self) -> int:
        """The wrapped file descriptor, or -1 once the stream is closed."""
        return self._fd

    # -- sending -----------------------------------------------------------------------

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        with self._send_guard:
            if self._fd < 0:
                raise _closed_error()
            await checkpoint_if_cancelled()
            yielded = False
            with memoryview(data) as view, view.cast("B") as octets:
                sent = 0
                total = len(octets)
                while sent < total:
                    try:
                        sent += os.write(self._fd, octets[sent:])
                    except BlockingIOError:
                        yielded = True
                        await wait_writable(self._fd)
                    except OSError as exc:
                        raise self._translate(exc) from exc
            if not yielded:
                await SHIELDED_CHECKPOINT_TRAP

    async def wait_send_all_might_not_block(self) -> None:
        with self._send_guard:
            if self._fd < 0:
                raise _closed_error()
            await wait_writable(self._fd)

    # -- receiving ---------------------------------------------------------------------

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        with self._receive_guard:
            if max_bytes is None:
                max_bytes = DEFAULT_RECEIVE_SIZE
            elif not isinstance(max_bytes, int) or isinstance(max_bytes, bool):
                raise TypeError(f"max_bytes must be an int >= 1 or None, got {max_bytes!r}")
            elif max_bytes < 1:
                raise ValueError(f"max_bytes must be >= 1, got {max_bytes}")
            if self._fd < 0:
                raise _closed_error()
            await checkpoint_if_cancelled()
            while True:
                try:
                    data = os.read(self._fd, max_bytes)
                except BlockingIOError:
                    # Nothing consumed yet: a cancellation here loses no data.
                    await wait_readable(self._fd)
                except OSError as exc:
                    raise self._translate(exc) from exc
                else:
                    break
            # Data in hand is never dropped for a cancellation: the schedule point that
            # every call owes comes after the read, shielded.
            await SHIELDED_CHECKPOINT_TRAP
            return data

    def _translate(self, exc: OSError) -> Exception:
        # EBADF: the stream was closed (from another task) between our check and the call.
        if exc.errno == errno.EBADF or self._fd < 0:
            return _closed_error()
        # EPIPE (no reader left), EIO (a terminal's other side went away), ...
        return BrokenResourceError(f"FdStream I/O failed: {exc}")

    # -- closing -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the stream (and its fd) at once; tasks blocked on it wake with
        ``ClosedResourceError``. Closing twice does nothing."""
        fd = self._fd
        if fd < 0:
            return
        if in_run():
            notify_closing(fd)
        self._release(fd)

    async def aclose(self) -> None:
        self.close()
        await CHECKPOINT_TRAP

    def _release(self, fd: int) -> None:
        self._fd = -1
        try:
            os.set_blocking(fd, self._original_blocking)
        except OSError:
            pass  # already gone: nothing to give back
        os.close(fd)

    def __del__(self) -> None:
        # No task can be blocked on a stream nobody references, so there is nobody to
        # notify: just give the fd back.
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            try:
                self._release(fd)
            except OSError:
                pass

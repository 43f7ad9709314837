"""What a caller of ``to_process.run_sync`` may see of the other side: a worker that
died, and the traceback of an exception raised over there."""

from __future__ import annotations


class BrokenWorkerError(RuntimeError):
    """The worker process running a ``to_process.run_sync`` call died before it
    answered (``os._exit``, a crash, a signal). The message names the exit code or the
    signal. The pool replaces the worker: later calls are not affected."""


class RemoteTraceback(Exception):
    """The ``__cause__`` of an exception raised in a worker process: its message is the
    traceback formatted in the worker, where the frames were."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

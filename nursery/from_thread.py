"""Calling into a run from other threads: from workers of ``to_thread.run_sync``, or
from any thread given the run's ``RunToken``."""

from ._threads._bridge import from_thread_check_cancelled as check_cancelled
from ._threads._bridge import from_thread_run as run
from ._threads._bridge import from_thread_run_sync as run_sync

__all__ = ["check_cancelled", "run", "run_sync"]

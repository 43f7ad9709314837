"""Running CPU-bound, synchronous code in worker processes without blocking the run.

Not part of Trio (it is in the spirit of the ``trio-parallel`` project); see
docs/processes.md.
"""

from ._processes._errors import BrokenWorkerError as BrokenWorkerError
from ._processes._pool import current_default_process_limiter as current_default_process_limiter
from ._processes._pool import to_process_run_sync as run_sync

__all__ = ["BrokenWorkerError", "current_default_process_limiter", "run_sync"]

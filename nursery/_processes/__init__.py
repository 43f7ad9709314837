"""Processes: a per-run pool of worker processes for ``to_process.run_sync``.

``_protocol`` is what travels over a worker's socket, ``_worker`` is the loop a worker
process runs, ``_process`` is the parent's handle on one worker, and ``_pool`` keeps the
workers of a run and carries calls out. Built on the kernel's public low-level API only.
"""

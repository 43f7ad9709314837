"""Benchmarks comparing nursery with Trio, asyncio and uvloop.

Run ``python -m benchmarks --help``. The parent process (``benchmarks.run``) never
measures anything itself: every measurement happens in a fresh ``benchmarks.worker``
subprocess that imports only the implementation under test.
"""

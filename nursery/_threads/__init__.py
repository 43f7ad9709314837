"""Threads: a cache of reusable worker threads, and the bridges between a run and them
(``to_thread``, ``from_thread``). Built on the kernel's public low-level API only."""

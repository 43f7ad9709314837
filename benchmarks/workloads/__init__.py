"""One module per workload.

Every module exposes ``bench_nursery``, ``bench_trio`` and ``bench_asyncio`` (the latter
also serves uvloop, which only swaps the event loop). Each returns one dict of
metric name -> value per measured round and raises ``BenchmarkCheckError`` if the
workload did not do what it claims (so a broken kernel can't "win" by doing nothing).

Libraries are imported inside the ``bench_*`` functions, never at module level, so a
worker process measuring one implementation never imports another.
"""

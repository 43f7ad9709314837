"""The tcp-echo benchmark's parts: the fixed C load client (``client.c``, built by
``build.py``) and one small echo server script per library under test.

Each server runs as its own process, ``python -m benchmarks.echo.<lib>_server``
from the repository root, listens on 127.0.0.1 (port 0 by default), prints
``{"port": P, "api": "..."}`` on stdout and serves until killed. The workload that
drives them is ``benchmarks/workloads/tcp_echo.py``.
"""

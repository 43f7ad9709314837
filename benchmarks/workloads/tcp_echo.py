"""Workloads -- TCP echo: a server under test, driven by one fixed load client.

The server runs in its own process (``python -m benchmarks.echo.<lib>_server``); the
load client is a C program (``benchmarks/echo/client.c``), the same for every server
and fast enough not to be the bottleneck for a Python server. It opens
``connections`` connections, each a closed loop: send ``message_bytes``, wait for all
of it to come back, repeat. ``size`` is the measured window in milliseconds, after a
warm-up of a third of it (at least 50 ms) in which connections are open and busy.

The client samples the server's CPU time (user + system) at the two edges of the
window itself, so the CPU figure covers exactly the requests counted. Reported:

* ``requests_per_s`` -- echoed messages per second over the window;
* ``mb_per_s`` -- echoed payload, 10^6 bytes per second, counted once (not both ways);
* ``server_cpu_us_per_request`` -- the server's CPU time over the window divided by
  the requests: the cleaner figure, since it hardly depends on whether the server got
  a whole core (the machine is shared) or the client saturated its own;
* ``server_user_us_per_request`` and ``server_system_us_per_request`` -- that CPU time
  split into user time (the library and the interpreter) and kernel time (mostly the
  ``send``/``recv`` calls: the floor any server pays), from ``/proc`` in clock ticks;
* ``client_cpu_share`` -- the client's CPU time over the window's wall time (near 1.0:
  the client, not the server, was the limit; not shown in the table, kept in --json).

Servers: nursery and Trio (``serve_tcp`` + ``SocketStream``), asyncio streams or
protocols (``api``), on the stock loop or on uvloop. Self-checks: the server starts,
announces a port, serves at least one request and is still alive at the end; the
client verifies every echoed byte.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import BenchmarkCheckError, Sample

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SERVER_START_TIMEOUT = 30.0


def warmup_seconds(window_ms: int) -> float:
    return max(0.05, window_ms / 3000)


def server_command(impl: str, api: str) -> list[str]:
    """How to start the echo server for ``impl`` (asyncio and uvloop: with ``api``)."""
    if impl in ("nursery", "trio"):
        module = f"{impl}_server"
        extra: list[str] = []
    elif impl in ("asyncio", "uvloop"):
        if api not in ("streams", "protocols"):
            raise ValueError(f"unknown asyncio api {api!r}")
        module = f"asyncio_{api}_server"
        extra = ["--loop", impl]
    else:
        raise ValueError(f"no echo server for {impl!r}")
    return [sys.executable, "-m", f"benchmarks.echo.{module}", *extra]


def _read_announcement(server: subprocess.Popen[bytes]) -> dict[str, object]:
    assert server.stdout is not None
    ready, _, _ = select.select([server.stdout], [], [], SERVER_START_TIMEOUT)
    if not ready:
        raise BenchmarkCheckError(f"the server announced no port in {SERVER_START_TIMEOUT} s")
    line = server.stdout.readline()
    if not line:
        raise BenchmarkCheckError("the server exited before announcing its port")
    announcement: dict[str, object] = json.loads(line)
    return announcement


def measure_once(
    impl: str, window_ms: int, message_bytes: int, connections: int, api: str
) -> tuple[Sample, str]:
    """One fresh server process, one client run; returns the sample and the server's API."""
    from benchmarks.echo.build import build_client

    client = build_client()
    with tempfile.TemporaryFile() as server_stderr:
        server = subprocess.Popen(
            server_command(impl, api),
            cwd=REPO_ROOT,  # so that ``-m benchmarks.echo...`` and ``import nursery`` resolve here
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=server_stderr,
        )
        try:
            try:
                announcement = _read_announcement(server)
                completed = subprocess.run(
                    [
                        str(client),
                        "127.0.0.1",
                        str(announcement["port"]),
                        str(connections),
                        str(message_bytes),
                        str(window_ms / 1000),
                        str(warmup_seconds(window_ms)),
                        str(server.pid),
                    ],
                    capture_output=True,
                    text=True,
                    timeout=SERVER_START_TIMEOUT + 10 * (window_ms / 1000 + 1),
                    check=False,
                )
                if server.poll() is not None:
                    raise BenchmarkCheckError(
                        f"the server exited during the run (status {server.returncode})"
                    )
            finally:
                if server.poll() is None:
                    server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
                assert server.stdout is not None
                server.stdout.close()
        except BaseException as exc:
            server_stderr.seek(0)
            tail = server_stderr.read().decode(errors="replace").strip().splitlines()[-5:]
            if tail:
                exc.add_note("server stderr:\n  " + "\n  ".join(tail))
            raise
    if completed.returncode != 0:
        raise BenchmarkCheckError(f"the load client failed: {completed.stderr.strip()}")
    result = json.loads(completed.stdout)
    requests = int(result["requests"])
    if requests <= 0:
        raise BenchmarkCheckError("no request was echoed in the measured window")
    if result["server_cpu_source"] == "none":
        raise BenchmarkCheckError("the client did not measure the server's CPU time")
    seconds = float(result["seconds"])
    sample: Sample = {
        "requests_per_s": requests / seconds,
        "mb_per_s": int(result["bytes"]) / seconds / 1e6,
        "server_cpu_us_per_request": float(result["server_cpu_seconds"]) / requests * 1e6,
        # The user/kernel split of that figure (clock-tick resolution): user time is
        # the library's own code (and the interpreter); kernel time is mostly the send
        # and receive system calls, which no Python library can avoid.
        "server_user_us_per_request": float(result["server_user_seconds"]) / requests * 1e6,
        "server_system_us_per_request": float(result["server_system_seconds"]) / requests * 1e6,
        "client_cpu_share": float(result["client_cpu_seconds"]) / seconds,
    }
    return sample, str(announcement.get("api", "?"))


def _bench(
    impl: str, size: int, rounds: int, message_bytes: int, connections: int, api: str
) -> list[Sample]:
    samples = []
    for _ in range(rounds):
        sample, server_api = measure_once(impl, size, message_bytes, connections, api)
        # The worker's stderr is shown when a measurement fails; say which server ran.
        print(f"tcp-echo server: {server_api}", file=sys.stderr)
        samples.append(sample)
    return samples


def bench_nursery(
    size: int, rounds: int, message_bytes: int, connections: int, api: str
) -> list[Sample]:
    return _bench("nursery", size, rounds, message_bytes, connections, api)


def bench_trio(
    size: int, rounds: int, message_bytes: int, connections: int, api: str
) -> list[Sample]:
    return _bench("trio", size, rounds, message_bytes, connections, api)


def bench_asyncio(
    size: int, rounds: int, message_bytes: int, connections: int, api: str, loop: str
) -> list[Sample]:
    return _bench(loop, size, rounds, message_bytes, connections, api)


def nursery_server_api() -> str:
    """Which nursery API the echo server uses here (see ``nursery_server.py``)."""
    import nursery

    if hasattr(nursery, "serve_tcp") and hasattr(nursery, "SocketStream"):
        return "nursery.serve_tcp + SocketStream"
    return "nursery.lowlevel.wait_readable on stdlib sockets (stand-in)"

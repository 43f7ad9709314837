"""The loop a worker process runs: read a call, run it, send back its outcome; again.

The worker is a fresh interpreter (see ``_process``), so this module is its whole world:
it talks to the run over one blocking socket and knows nothing of the kernel. It exits
when the run closes its end of the socket (end of file).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from multiprocessing.connection import Connection

from ._protocol import HEADER, encode_error, encode_result, load_request

# prctl(2) option: the signal this process gets when its parent thread exits.
_PR_SET_PDEATHSIG = 1


def worker_main(connection: Connection, parent_pid: int) -> None:
    """Entry point of a worker process (the target of its ``multiprocessing.Process``)."""
    # Control-C reaches the whole foreground process group. The run decides what an
    # interrupt means (it cancels calls, which kills their workers); an idle worker
    # dying of it would only turn later calls into BrokenWorkerErrors.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)
    sock = socket.socket(fileno=os.dup(connection.fileno()))
    connection.close()
    pid = os.getpid()
    with sock:
        while True:
            request = _receive_request(sock)
            if request is None:
                break  # the run closed its end: retired, or the run is over
            reply = _serve(request[0], request[1], pid)
            _flush_stdio()  # so that what the call printed shows before its result
            try:
                sock.sendall(reply)
            except OSError:
                break  # the run is gone
    _flush_stdio()
    # Exit without the interpreter's shutdown: a non-daemon thread or an atexit
    # handler left behind by user code must not keep the worker alive, because the run
    # waits for it to exit.
    os._exit(0)


def _serve(fn_blob: bytearray, args_blob: bytearray, pid: int) -> bytes:
    try:
        fn, args = load_request(fn_blob, args_blob)
        return encode_result(fn, fn(*args))
    except BaseException as exc:  # SystemExit and friends belong to the caller too
        # Drop this frame: the traceback starts in the function (or the unpickling).
        tb = exc.__traceback__
        if tb is not None and tb.tb_next is not None:
            exc = exc.with_traceback(tb.tb_next)
        return encode_error(exc, pid)


def _receive_request(sock: socket.socket) -> tuple[bytearray, bytearray] | None:
    fn_blob = _receive_frame(sock)
    if fn_blob is None:
        return None
    args_blob = _receive_frame(sock)
    if args_blob is None:
        return None
    return fn_blob, args_blob


def _receive_frame(sock: socket.socket) -> bytearray | None:
    header = _receive_exactly(sock, HEADER.size)
    if header is None:
        return None
    (length,) = HEADER.unpack(header)
    return _receive_exactly(sock, length)


def _receive_exactly(sock: socket.socket, size: int) -> bytearray | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = sock.recv_into(view[received:])
        if count == 0:
            return None
        received += count
    return buffer


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this worker if the run's process dies, so that a crashed or
    killed parent does not leave workers computing for nobody."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc/Linux
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _flush_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except Exception:  # a closed or broken stream is the user's business
                pass

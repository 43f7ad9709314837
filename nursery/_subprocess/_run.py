"""``run_process``: run a child to completion under supervision: feed its input,
collect its output, check its exit status, and on cancellation or error stop it and
reap it before returning.
"""

from __future__ import annotations

import subprocess
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from .._core._cancel_scope import CancelScope
from .._core._exceptions import BrokenResourceError
from .._core._nursery import TASK_STATUS_IGNORED, Nursery, TaskStatus, open_nursery
from .._core._sleep import sleep
from .._core._traps import CHECKPOINT_TRAP
from .._fd_stream import FdStream
from ._process import EMPTY_STDIN, Command, Process, Redirect, check_command, spawn

# How long the default deliver_cancel waits after SIGTERM before it sends SIGKILL.
TERMINATE_GRACE_SECONDS = 5.0


async def _terminate_then_kill(process: Process) -> None:
    """The default ``deliver_cancel``: SIGTERM, then SIGKILL if the child is still
    there after a grace period (``run_process`` cancels this as soon as it exits)."""
    try:
        process.terminate()
        await sleep(TERMINATE_GRACE_SECONDS)
        warnings.warn(
            RuntimeWarning(
                f"{process!r} ignored SIGTERM for {TERMINATE_GRACE_SECONDS:g} seconds, so "
                "it gets SIGKILL now (pass run_process a deliver_cancel function to stop "
                "it some other way)"
            ),
            stacklevel=1,
        )
        process.kill()
    except OSError as exc:
        warnings.warn(
            RuntimeWarning(f"could not signal {process!r} to stop it: {exc!r}"),
            stacklevel=1,
        )


async def _feed(stream: FdStream, data: bytes | bytearray | memoryview) -> None:
    async with stream:
        try:
            await stream.send_all(data)
        except BrokenResourceError:
            pass  # the child closed its stdin (or exited) without reading everything


async def _collect(stream: FdStream, chunks: list[bytes]) -> None:
    async with stream:
        while chunk := await stream.receive_some():
            chunks.append(chunk)


def _check_arguments(
    stdin: object,
    capture_stdout: bool,
    capture_stderr: bool,
    started: bool,
    options: dict[str, Any],
) -> None:
    if isinstance(stdin, str):
        raise UnicodeError("run_process(stdin=...) takes bytes, not str: encode the text first")
    if not started:
        redirects = {"stdin": stdin, **{k: options.get(k) for k in ("stdout", "stderr")}}
        for name, value in redirects.items():
            if value is subprocess.PIPE:
                instead = (
                    "the bytes to send as stdin" if name == "stdin" else f"capture_{name}=True"
                )
                raise ValueError(
                    f"run_process({name}=subprocess.PIPE) is only useful with "
                    "`await nursery.start(run_process, ...)`, which gives you the Process "
                    f"and so the pipe; or pass {instead}"
                )
    for name, capture in (("stdout", capture_stdout), ("stderr", capture_stderr)):
        if capture and name in options:
            raise ValueError(f"run_process() got both {name}= and capture_{name}=True")


async def run_process(
    command: Command,
    *,
    stdin: bytes | bytearray | memoryview | Redirect = b"",
    capture_stdout: bool = False,
    capture_stderr: bool = False,
    check: bool = True,
    deliver_cancel: Callable[[Process], Awaitable[object]] | None = None,
    task_status: TaskStatus[Process] = TASK_STATUS_IGNORED,
    **options: Any,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` in a child process and wait for it to finish; return a
    ``subprocess.CompletedProcess``.

    Call it directly, or as ``process = await nursery.start(run_process, ...)`` to get
    the ``Process`` while it runs (then ``stdout=subprocess.PIPE`` and the like give
    you its pipes).

    ``stdin``: bytes to feed the child (then end-of-file; the default ``b""`` gives it
    an empty input), or a redirection as in ``open_process`` (``None`` inherits ours).
    ``capture_stdout`` / ``capture_stderr`` collect that output into the result.
    ``check``: a nonzero exit status raises ``subprocess.CalledProcessError`` (with the
    captured output). Other keyword arguments go to ``open_process``.

    If cancelled (or if feeding or collecting fails), ``deliver_cancel(process)`` is
    called to stop the child; the default sends SIGTERM, then SIGKILL after 5 seconds
    with a ``RuntimeWarning``. It is cancelled once the child exits. In every case the
    child has exited and been reaped before ``run_process`` returns or raises.
    """
    _check_arguments(
        stdin, capture_stdout, capture_stderr, task_status is not TASK_STATUS_IGNORED, options
    )
    check_command(command, options)
    data: bytes | bytearray | memoryview | None = None
    stdin_option: object = stdin
    if isinstance(stdin, (bytes, bytearray, memoryview)):
        if len(stdin):
            data = stdin
            stdin_option = subprocess.PIPE
        else:
            stdin_option = EMPTY_STDIN
    if capture_stdout:
        options["stdout"] = subprocess.PIPE
    if capture_stderr:
        options["stderr"] = subprocess.PIPE
    if deliver_cancel is None:
        deliver_cancel = _terminate_then_kill
    stdout_option = options.pop("stdout", None)
    stderr_option = options.pop("stderr", None)

    await CHECKPOINT_TRAP  # a cancellation here: no child was started
    process = spawn(command, stdin_option, stdout_option, stderr_option, options)
    stdout_chunks: list[bytes] = []
    stderr_chunks: list[bytes] = []
    async with open_nursery() as helpers:
        try:
            if data is not None:
                assert process.stdin is not None
                helpers.start_soon(_feed, process.stdin, data)
                process.stdin = None
            if capture_stdout:
                assert process.stdout is not None
                helpers.start_soon(_collect, process.stdout, stdout_chunks)
                process.stdout = None
            if capture_stderr:
                assert process.stderr is not None
                helpers.start_soon(_collect, process.stderr, stderr_chunks)
                process.stderr = None
            if process.stdin is None or process.stdout is None:
                process.stdio = None
            task_status.started(process)
            await process.wait()
        except BaseException:
            await _stop_and_reap(process, deliver_cancel, helpers)
            raise

    stdout = b"".join(stdout_chunks) if capture_stdout else None
    stderr = b"".join(stderr_chunks) if capture_stderr else None
    returncode = process.returncode
    assert returncode is not None
    if check and returncode:
        raise subprocess.CalledProcessError(returncode, process.args, stdout, stderr)
    return subprocess.CompletedProcess(process.args, returncode, stdout, stderr)


async def _stop_and_reap(
    process: Process,
    deliver_cancel: Callable[[Process], Awaitable[object]],
    helpers: Nursery,
) -> None:
    """Run ``deliver_cancel`` beside a wait for the child, both shielded from the
    cancellation that brought us here; stop ``deliver_cancel`` once the child exits.
    Its errors land in the ``helpers`` nursery, beside whatever we are handling."""
    with CancelScope(shield=True):
        delivery = CancelScope(shield=True)

        async def deliver() -> None:
            with delivery:
                await deliver_cancel(process)

        helpers.start_soon(deliver)
        await process.wait()
        delivery.cancel()

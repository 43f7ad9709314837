"""The child process object, ``Process``, and ``open_process``, which spawns one.

The spawn itself is ``subprocess.Popen``, so every option of the standard library
(``cwd``, ``env``, ``pass_fds``, ``start_new_session``, ...) means what it means there.
It runs in the run's own thread: on Linux ``Popen`` starts the child with ``vfork``,
which costs a few hundred microseconds whatever the size of this process, less than
handing the call to a worker thread and back would. Only the pipes are ours: each
``subprocess.PIPE`` becomes an ``FdStream``.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeAlias, cast, final

from .._core._traps import CHECKPOINT_TRAP
from .._core._util import NoPublicConstructor
from .._fd_stream import FdStream
from .._stapled_stream import StapledStream
from .._sync import Lock
from ._exit import ExitWatcher

StrOrBytesPath: TypeAlias = str | bytes | os.PathLike[str] | os.PathLike[bytes]
Command: TypeAlias = StrOrBytesPath | Sequence[StrOrBytesPath]


class HasFileno(Protocol):
    """Anything with a file descriptor behind it (a file, a socket)."""

    def fileno(self) -> int: ...


Redirect: TypeAlias = int | HasFileno | None

# The options that would make Popen wrap the pipes in buffered or text files: our
# pipes are unbuffered byte streams.
_TEXT_OPTIONS = ("universal_newlines", "text", "encoding", "errors", "bufsize")

# Where ``run_process`` asks for an empty stdin: a pipe whose writing end is closed
# before the child starts, so the child reads end-of-file at once and the parent has
# nothing to feed.
EMPTY_STDIN: Final = object()


@final
class Process(metaclass=NoPublicConstructor):
    """A running (or finished) child process; the async counterpart of
    ``subprocess.Popen``.

    Get one from ``await nursery.start(nursery.run_process, ...)``, which supervises
    the child, or from ``nursery.lowlevel.open_process(...)``, which leaves that to you.

    Attributes: ``args`` (the command as given), ``pid``, and the pipes ``stdin`` (a
    ``SendStream``), ``stdout`` and ``stderr`` (``ReceiveStream``\\ s), each ``None``
    unless that stream was opened with ``subprocess.PIPE``, and ``stdio``, a two-way
    stream over ``stdin`` and ``stdout`` when both are pipes (``None`` otherwise).
    """

    __slots__ = (
        "_exit",
        "_popen",
        "_wait_lock",
        "args",
        "pid",
        "stderr",
        "stdin",
        "stdio",
        "stdout",
    )

    # Always binary, unbuffered: the attributes subprocess.Popen has, fixed.
    universal_newlines: Final = False
    encoding: Final = None
    errors: Final = None

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        stdin: FdStream | None,
        stdout: FdStream | None,
        stderr: FdStream | None,
    ) -> None:
        self._popen = popen
        self._exit = ExitWatcher(popen.pid)
        self._wait_lock = Lock()
        self.args: Command = popen.args
        self.pid: int = popen.pid
        self.stdin: FdStream | None = stdin
        self.stdout: FdStream | None = stdout
        self.stderr: FdStream | None = stderr
        self.stdio: StapledStream[FdStream, FdStream] | None = None
        if stdin is not None and stdout is not None:
            self.stdio = StapledStream(stdin, stdout)

    def __repr__(self) -> str:
        returncode = self.returncode
        if returncode is None:
            status = f"running with PID {self.pid}"
        elif returncode < 0:
            status = f"exited with signal {-returncode}"
        else:
            status = f"exited with status {returncode}"
        return f"<nursery.Process {self.args!r}: {status}>"

    @property
    def returncode(self) -> int | None:
        """The exit status, or ``None`` while the child runs: negative ``-N`` when it
        was killed by signal ``N``. Always current (no need to call ``poll`` or
        ``wait`` first): reading it reaps the child if it has exited."""
        returncode = self._popen.returncode
        if returncode is None:
            returncode = self._popen.poll()
            if returncode is None:
                return None
        self._exit.close()
        return returncode

    def poll(self) -> int | None:
        """The same as ``returncode``; here for code written against ``Popen``."""
        return self.returncode

    async def wait(self) -> int:
        """Wait until the child exits, reap it, and return its ``returncode``. A
        checkpoint; several tasks may wait at once."""
        async with self._wait_lock:
            if self.returncode is None:
                await self._exit.wait_exiting()
                # The child has exited: this reaps it without blocking.
                self._popen.wait()
                self._exit.close()
        returncode = self._popen.returncode
        assert returncode is not None
        return returncode

    def send_signal(self, sig: signal.Signals | int) -> None:
        """Send signal ``sig`` to the child. Does nothing once it has been reaped (its
        pid may belong to another process by then)."""
        self._popen.send_signal(sig)

    def terminate(self) -> None:
        """Ask the child to exit: ``SIGTERM``, which it may catch or ignore."""
        self._popen.terminate()

    def kill(self) -> None:
        """Kill the child: ``SIGKILL``, which it cannot refuse. It is not reaped yet:
        ``await wait()`` for that."""
        self._popen.kill()


def check_command(command: object, options: Mapping[str, object]) -> None:
    """As ``subprocess`` on POSIX: a program and its arguments as a sequence, or with
    ``shell=True``, one string for the shell. Either mix-up is a ``TypeError``."""
    is_one_string = isinstance(command, (str, bytes))
    if options.get("shell"):
        if not is_one_string:
            raise TypeError(
                f"with shell=True, command must be one string (or bytes) for the shell, "
                f"got {type(command).__name__} {command!r}"
            )
    elif is_one_string:
        raise TypeError(
            f"command must be a sequence of arguments such as ['ls', '-l'], got the "
            f"string {command!r}; pass shell=True to have a shell parse it"
        )
    for key in _TEXT_OPTIONS:
        if options.get(key):
            raise TypeError(
                f"the {key!r} option is not supported: a Process talks to its child "
                "through unbuffered byte streams"
            )


def find_program(command: Command, options: Mapping[str, Any]) -> str | bytes | None:
    """The file a bare program name (``"true"``) runs, found on the child's ``PATH``
    here, in the parent; None to leave the search to ``Popen``.

    ``Popen`` searches in the child: it tries ``execve`` on every ``PATH`` entry in turn,
    and each miss costs far more there than a ``stat`` here (eight misses before
    ``/usr/bin`` are a sixth of the time of running ``true``). The child runs the same
    file with the same ``argv`` either way. Left to ``Popen``: a shell command, an
    explicit ``executable``, a name with a slash, or a ``cwd`` together with relative
    ``PATH`` entries (those are relative to the child's directory).
    """
    if options.get("shell") or options.get("executable") is not None:
        return None
    if isinstance(command, (str, bytes)) or not isinstance(command, Sequence) or not command:
        return None
    first: object = command[0]
    if not isinstance(first, (str, bytes, os.PathLike)):
        return None  # not a path: Popen reports it
    program = os.fsdecode(first)
    if not program or "/" in program:
        return None
    env = options.get("env")
    if env is None:
        # os.get_exec_path(None) without its warnings.catch_warnings(), a visible cost.
        found: list[str | bytes] = list((os.environ.get("PATH") or os.defpath).split(":"))
    else:
        found = list(os.get_exec_path(env))
    directories = [os.fsdecode(d) for d in dict.fromkeys(found)]  # each one once
    if options.get("cwd") is not None and not all(d.startswith("/") for d in directories):
        return None
    for directory in directories:
        # As os.path.join: an empty entry is the current directory.
        candidate = f"{directory}/{program}" if directory else program
        try:
            # access() answers a miss with False, where stat() would build an exception.
            if os.access(candidate, os.X_OK) and stat.S_ISREG(os.stat(candidate).st_mode):
                return candidate
        except (OSError, ValueError):
            continue
    return None  # not found: Popen raises its usual error


def spawn(
    command: Command,
    stdin: Redirect | object,
    stdout: Redirect,
    stderr: Redirect,
    options: dict[str, Any],
) -> Process:
    """Start the child (synchronously; the caller provides the checkpoint).

    ``stdin`` may be ``EMPTY_STDIN`` (see there). If the spawn fails, every pipe made
    for it is closed again before the error propagates.
    """
    our_stdin = our_stdout = our_stderr = None
    childs_ends: list[int] = []  # closed here once the child has them (or failed)
    ours: list[FdStream] = []  # closed again if the spawn fails
    try:
        if stdin is EMPTY_STDIN:
            read_end, write_end = os.pipe()
            os.close(write_end)
            childs_ends.append(read_end)
            stdin = read_end
        elif stdin == subprocess.PIPE:
            read_end, write_end = os.pipe()
            childs_ends.append(read_end)
            our_stdin = FdStream(write_end)
            ours.append(our_stdin)
            stdin = read_end
        if stdout == subprocess.PIPE:
            read_end, write_end = os.pipe()
            childs_ends.append(write_end)
            our_stdout = FdStream(read_end)
            ours.append(our_stdout)
            stdout = write_end
        if stderr == subprocess.STDOUT:
            # Into whatever stdout is (the same pipe, a file, /dev/null). Left as STDOUT
            # when stdout is inherited: Popen then duplicates the child's own stdout.
            if stdout is not None:
                stderr = stdout
        elif stderr == subprocess.PIPE:
            read_end, write_end = os.pipe()
            childs_ends.append(write_end)
            our_stderr = FdStream(read_end)
            ours.append(our_stderr)
            stderr = write_end
        executable = find_program(command, options)
        if executable is not None:
            options = {**options, "executable": executable}
        popen = _popen(command, stdin=stdin, stdout=stdout, stderr=stderr, **options)
    except BaseException:
        for stream in ours:
            stream.close()
        raise
    finally:
        for fd in childs_ends:
            os.close(fd)
    # The child's ends are closed now (only the child holds them), so our reading
    # ends see end-of-file when the child exits.
    return Process._create(popen, our_stdin, our_stdout, our_stderr)


# Popen's overloads pick the text or bytes type from the options; ours are never text.
_popen = cast(Callable[..., subprocess.Popen[bytes]], subprocess.Popen)


async def open_process(
    command: Command,
    *,
    stdin: Redirect = None,
    stdout: Redirect = None,
    stderr: Redirect = None,
    **options: Any,
) -> Process:
    """Start ``command`` in a child process and return its ``Process`` at once,
    without supervising it: waiting for it, killing it and closing its pipes are up to
    the caller. ``nursery.run_process`` does all of that for you.

    ``command`` is a sequence (``["ls", "-l", "some dir"]``), or a string when
    ``shell=True`` is passed. ``stdin``, ``stdout`` and ``stderr`` each take
    ``subprocess.PIPE`` (the ``Process`` then has a stream for it), ``subprocess.DEVNULL``,
    a file descriptor or an object with ``fileno()``, or ``None`` (the default: inherit
    ours); ``stderr`` also takes ``subprocess.STDOUT``. Other keyword arguments are
    ``subprocess.Popen``'s, except the text-mode ones (``text``, ``encoding``, ...).

    A checkpoint: a cancellation at it means no child was started. ``OSError`` if the
    child cannot be started (the program does not exist, ...).
    """
    check_command(command, options)
    await CHECKPOINT_TRAP
    return spawn(command, stdin, stdout, stderr, options)

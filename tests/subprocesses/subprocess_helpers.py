"""Shared by the subprocess tests: commands, and the leak checks."""

from __future__ import annotations

import os

import pytest

# A child that cannot be stopped with SIGTERM; `exec` so that no grandchild outlives it.
IGNORES_SIGTERM = ["sh", "-c", "trap '' TERM; echo ready; exec sleep 100"]
SLEEPS = ["sleep", "100"]


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


def assert_reaped(pid: int) -> None:
    """``pid`` is no child of ours any more: it was reaped (no zombie is left)."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_until_exited(pid: int) -> None:
    """Block (synchronously) until the child exits, leaving it unreaped."""
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)

"""Worker threads name themselves for the kernel too (Linux): what ``top -H`` shows.

Each check reads ``/proc/self/task/<tid>/comm``, the kernel's own record of a thread's
name, from inside the worker while it runs the job, or from outside once it is idle.
"""

from __future__ import annotations

import ctypes
import functools
import sys
import threading
from collections.abc import Callable, Iterator

import outcome
import pytest

from nursery import to_thread
from nursery._threads import _cache
from nursery.lowlevel import current_task, start_thread_soon

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="thread names in /proc are Linux's"
)


def comm(native_id: int | None = None) -> bytes:
    if native_id is None:
        native_id = threading.get_native_id()
    with open(f"/proc/self/task/{native_id}/comm", "rb") as f:
        return f.read().removesuffix(b"\n")


def names_seen_inside() -> tuple[bytes, str, int]:
    """In the worker: the kernel's name, Python's name, and the thread's tid."""
    return comm(), threading.current_thread().name, threading.get_native_id()


def run_in_worker(fn: Callable[[], object], name: str | None = None) -> object:
    """``start_thread_soon`` outside a run, waiting for the outcome."""
    results: list[outcome.Outcome[object]] = []
    done = threading.Event()

    def deliver(result: outcome.Outcome[object]) -> None:
        results.append(result)
        done.set()

    start_thread_soon(fn, deliver, name=name)
    assert done.wait(10)
    return results[0].unwrap()


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A cache of its own, so that the next job starts a new worker (which looks the
    name setter up as it starts)."""
    monkeypatch.setattr(_cache, "_cache", _cache._ThreadCache())
    yield


async def test_thread_name_reaches_the_kernel() -> None:
    seen, python_name, tid = await to_thread.run_sync(names_seen_inside, thread_name="resizer")
    assert seen == b"resizer"
    assert python_name == "resizer"
    # Back to the worker's own name once the job is over.
    assert comm(tid).startswith(b"nursery wkr ")


async def test_idle_name_matches_the_python_name() -> None:
    def idle_python_name() -> tuple[str, int]:
        return threading.current_thread().name, threading.get_native_id()

    # A job without a name runs under the worker's own name.
    python_name, tid = run_in_worker(idle_python_name)  # type: ignore[misc]
    assert python_name.startswith("nursery wkr ")
    assert comm(tid) == python_name.encode()
    seen, _, _ = await to_thread.run_sync(names_seen_inside, thread_name="job")
    assert seen == b"job"


async def test_default_name_is_function_from_task() -> None:
    seen, python_name, _ = await to_thread.run_sync(names_seen_inside)
    assert python_name == f"names_seen_inside from {current_task().name}"
    assert seen == python_name.encode()[:15]
    # A callable without __name__ is "None from ...", as in Trio.
    seen, python_name, _ = await to_thread.run_sync(functools.partial(names_seen_inside))
    assert python_name.startswith("None from ")
    assert seen == python_name.encode()[:15]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", b""),
        ("exactly15bytes!", b"exactly15bytes!"),
        ("name_longer_than_15_characters", b"name_longer_tha"),
        # Non-ASCII characters become "?" each (as in Trio), then the cut applies.
        ("\N{BLUE HEART}", b"?"),
        (
            "caf\N{LATIN SMALL LETTER E WITH ACUTE} cr\N{LATIN SMALL LETTER E WITH GRAVE}me",
            b"caf? cr?me",
        ),
        ("\N{SNOWMAN}" * 20, b"?" * 15),
    ],
)
async def test_names_are_cut_to_what_the_kernel_keeps(name: str, expected: bytes) -> None:
    assert _cache.os_thread_name(name) == expected
    seen, python_name, tid = await to_thread.run_sync(names_seen_inside, thread_name=name)
    assert seen == expected
    assert python_name == name  # Python keeps the whole name
    assert comm(tid).startswith(b"nursery wkr ")


def test_start_thread_soon_names_the_os_thread() -> None:
    seen, python_name, tid = run_in_worker(names_seen_inside, name="lowlevel job")  # type: ignore[misc]
    assert (seen, python_name) == (b"lowlevel job", "lowlevel job")
    assert comm(tid).startswith(b"nursery wkr ")


def test_setter_is_called_only_when_the_name_changes(
    fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _cache._find_set_os_name()
    assert real is not None  # glibc and musl both have pthread_setname_np
    calls: list[bytes] = []

    def recording(ident: ctypes.c_ulong, name: bytes) -> object:
        calls.append(name)
        return real(ident, name)

    monkeypatch.setattr(_cache, "_set_os_name", recording)
    idle_name: str = run_in_worker(lambda: threading.current_thread().name)  # type: ignore[assignment]
    assert calls == [idle_name.encode()]  # the new worker named itself, once
    del calls[:]
    run_in_worker(int)  # no name: nothing to change
    assert calls == []
    run_in_worker(int, name="a job")
    assert calls == [b"a job", idle_name.encode()]
    del calls[:]
    # Different for Python, the same 15 bytes for the kernel: no call.
    run_in_worker(int, name=idle_name + "\N{BLUE HEART}" * 20)
    if len(idle_name) >= 15:  # pragma: no cover (only after 1000 workers)
        assert calls == []
    else:
        assert calls == [
            _cache.os_thread_name(idle_name + "\N{BLUE HEART}" * 20),
            idle_name.encode(),
        ]


@pytest.mark.parametrize("failure", ["raises", "returns an error"])
def test_a_failing_setter_is_ignored(
    fresh_cache: None, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    def broken(ident: ctypes.c_ulong, name: bytes) -> object:
        if failure == "raises":
            raise OSError("no names here")
        return 34  # ERANGE

    monkeypatch.setattr(_cache, "_set_os_name", broken)
    before = comm(run_in_worker(threading.get_native_id))  # type: ignore[arg-type]
    assert run_in_worker(lambda: 6 * 7, name="answer") == 42
    inside = run_in_worker(comm, name="still works")
    assert inside == before  # the kernel's name was never changed


def test_without_a_setter_nothing_is_called(
    fresh_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cache, "_set_os_name", None)
    # Only Python's name changes; the kernel's stays what the thread inherited.
    inherited = comm()
    assert run_in_worker(names_seen_inside, name="python only")[:2] == (  # type: ignore[index]
        inherited,
        "python only",
    )


def test_setter_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cache._find_set_os_name() is not None
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _cache._find_set_os_name() is None


@pytest.mark.parametrize("error", [OSError, AttributeError])
def test_setter_lookup_failures(monkeypatch: pytest.MonkeyPatch, error: type[Exception]) -> None:
    def no_library(name: object) -> object:
        raise error("not here")

    monkeypatch.setattr(_cache.ctypes, "PyDLL", no_library)
    assert _cache._find_set_os_name() is None


def test_setter_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups: list[None] = []

    def counting() -> None:
        lookups.append(None)

    monkeypatch.setattr(_cache, "_set_os_name", _cache._UNKNOWN)
    monkeypatch.setattr(_cache, "_find_set_os_name", counting)
    assert _cache._os_name_setter() is None
    assert _cache._os_name_setter() is None
    assert lookups == [None]

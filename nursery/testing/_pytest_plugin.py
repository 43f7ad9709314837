"""pytest plugin that runs ``async def`` test functions under :func:`nursery.run`.

Registered through the ``pytest11`` entry point, so installing nursery is enough
to enable it. Which async tests it runs:

* every ``async def`` test, when the ini option ``nursery_mode`` is true;
* otherwise only those marked ``@pytest.mark.nursery``.

Fixtures are ordinary synchronous pytest fixtures. Any fixture value the test
ends up with (directly or through other fixtures) that is a
:class:`nursery.abc.Clock` becomes the run's ``clock=``, and every one that is a
:class:`nursery.abc.Instrument` is passed in ``instruments=``. The plugin
provides two clocks: ``mock_clock`` and ``autojump_clock``.

When such a test fails, the report gets a ``nursery`` section with the
scheduler's random seed; ``--nursery-seed=N`` replays a run with that seed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import pytest

import nursery
import nursery.lowlevel
from nursery.abc import Clock, Instrument
from nursery.testing import MockClock

_MARKER = "nursery"

# The seed of the most recent run made for a test item, for its failure report.
_seed_key = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "nursery_mode",
        type="bool",
        default=False,
        help="run every 'async def' test function under nursery.run",
    )
    group = parser.getgroup("nursery")
    group.addoption(
        "--nursery-seed",
        dest="nursery_seed",
        type=int,
        default=None,
        metavar="N",
        help="pass random_seed=N to every nursery.run made by the plugin",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}: run this 'async def' test under nursery.run "
        "(implied for every async test when nursery_mode is true)",
    )


@pytest.fixture
def mock_clock() -> MockClock:
    """A :class:`~nursery.testing.MockClock` that moves only when told to."""
    return MockClock()


@pytest.fixture
def autojump_clock() -> MockClock:
    """A :class:`~nursery.testing.MockClock` that jumps to the next deadline
    as soon as every task is blocked."""
    return MockClock(autojump_threshold=0)


def _is_ours(item: pytest.Function) -> bool:
    if item.get_closest_marker(_MARKER) is not None:
        return True
    return bool(item.config.getini("nursery_mode"))


def _run_options(item: pytest.Function) -> dict[str, Any]:
    """Build run()'s keyword arguments from the item's fixture values."""
    clocks: dict[str, Clock] = {}
    instruments: list[Instrument] = []
    for name, value in item.funcargs.items():
        if isinstance(value, Clock) and all(value is not c for c in clocks.values()):
            clocks[name] = value
        if isinstance(value, Instrument) and all(value is not i for i in instruments):
            instruments.append(value)
    if len(clocks) > 1:
        names = ", ".join(sorted(clocks))
        pytest.fail(
            f"{item.nodeid} uses more than one clock fixture ({names}); "
            "a run can have only one clock",
            pytrace=False,
        )
    options: dict[str, Any] = {}
    if clocks:
        options["clock"] = next(iter(clocks.values()))
    if instruments:
        options["instruments"] = instruments
    seed = item.config.getoption("nursery_seed")
    if seed is not None:
        options["random_seed"] = seed
    return options


def _run(
    item: pytest.Function,
    test_fn: Callable[..., Awaitable[object]],
    *args: Any,
    **kwargs: Any,
) -> None:
    __tracebackhide__ = True
    options = _run_options(item)

    # Named after the test, so the main task is too.
    @functools.wraps(test_fn)
    async def record_seed_then_run() -> None:
        __tracebackhide__ = True
        # Older kernels may not report a seed; the report then just omits it.
        stats = nursery.lowlevel.current_statistics()
        item.stash[_seed_key] = getattr(stats, "seed", None)
        await test_fn(*args, **kwargs)

    nursery.run(record_seed_then_run, **options)


def _hypothesis_inner(fn: object) -> Any:
    """The async function that Hypothesis wraps in a ``@given`` test, if any.

    We replace Hypothesis's ``inner_test`` with a sync stand-in, but keep the
    original on the handle: parametrized items share one function object, and
    each item must get a stand-in bound to its own fixtures.
    """
    handle = getattr(fn, "hypothesis", None)
    if handle is None:
        return None
    inner = getattr(handle, "_nursery_async_inner", None) or getattr(handle, "inner_test", None)
    if not inspect.iscoroutinefunction(inner):
        return None
    handle._nursery_async_inner = inner
    return inner


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    __tracebackhide__ = True
    if not _is_ours(pyfuncitem):
        return None
    fn = pyfuncitem.obj
    inner = _hypothesis_inner(fn)
    if inner is not None:
        # A @given test: Hypothesis calls inner_test once per example, so each
        # example gets a run of its own. Then let pytest call the test as usual.
        def run_one_example(*args: Any, **kwargs: Any) -> None:
            __tracebackhide__ = True
            _run(pyfuncitem, inner, *args, **kwargs)

        fn.hypothesis.inner_test = run_one_example
        return None
    if not inspect.iscoroutinefunction(fn):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    _run(pyfuncitem, fn, **kwargs)
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        seed = item.stash.get(_seed_key, None)
        if seed is not None:
            report.sections.append(
                ("nursery", f"scheduler seed: {seed} (replay with --nursery-seed={seed})")
            )
    return report

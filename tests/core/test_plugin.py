"""The pytest plugin, exercised on throwaway test files with pytester."""

from __future__ import annotations

import os
from importlib.metadata import entry_points

import hypothesis  # noqa: F401
import pytest

# Imported here, hypothesis stays loaded across pytester's in-process runs;
# otherwise every inner run re-imports it, which takes seconds.

pytest_plugins = ["pytester"]


def _plugin_args() -> tuple[str, ...]:
    # An installed nursery loads the plugin by its entry point; loading it a
    # second time by name would be refused, so name it only when needed.
    autoload = not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    if autoload and any(ep.name == "nursery" for ep in entry_points(group="pytest11")):
        return ()
    return ("-p", "nursery.testing._pytest_plugin")


PLUGIN = _plugin_args()

MODE_ON = "[pytest]\nnursery_mode = true\n"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*PLUGIN, "-p", "no:cacheprovider", *args)


# ---------------------------------------------------------------- which tests run


def test_mode_on_runs_every_async_test_under_nursery(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        import nursery
        from nursery.lowlevel import in_task

        async def test_one():
            assert in_task()
            await nursery.sleep(0)

        async def test_two():
            assert in_task()
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_mode_off_leaves_unmarked_async_tests_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        async def test_unmarked():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])


def test_mode_off_is_the_default_and_can_be_set_explicitly(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nnursery_mode = false\n")
    pytester.makepyfile(
        """
        async def test_unmarked():
            pass
        """
    )
    run(pytester).assert_outcomes(failed=1)


def test_marker_runs_an_async_test_when_mode_is_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from nursery.lowlevel import in_task

        @pytest.mark.nursery
        async def test_marked():
            assert in_task()
        """
    )
    run(pytester, "--strict-markers").assert_outcomes(passed=1)


def test_module_level_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from nursery.lowlevel import in_task

        pytestmark = pytest.mark.nursery

        async def test_a():
            assert in_task()

        class TestGroup:
            async def test_method(self):
                assert in_task()
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_sync_tests_run_normally(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        import pytest
        from nursery.lowlevel import in_run

        def test_plain():
            assert not in_run()

        @pytest.mark.nursery
        def test_marked_sync():
            assert not in_run()
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_ini_option_is_registered(pytester: pytest.Pytester) -> None:
    # --strict-config turns an unknown ini key into an error.
    pytester.makeini(MODE_ON)
    pytester.makepyfile("async def test_x():\n    pass\n")
    run(pytester, "--strict-config").assert_outcomes(passed=1)


# ---------------------------------------------------------------- results


def test_failures_and_errors_are_reported(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        import nursery

        async def test_assert():
            assert 1 == 2

        async def test_group():
            async def boom():
                raise ValueError("from a child")
            async with nursery.open_nursery() as n:
                n.start_soon(boom)
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*ValueError: from a child*"])


def test_fixtures_and_parametrize_reach_async_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def greeting():
            return "hello"

        @pytest.mark.parametrize("n", [1, 2, 3])
        async def test_it(greeting, n):
            assert greeting == "hello"
            assert n in (1, 2, 3)
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_each_test_gets_a_run_of_its_own(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        from nursery.lowlevel import RunVar

        counter = RunVar("counter", default=0)

        async def test_a():
            assert counter.get() == 0
            counter.set(1)

        async def test_b():
            assert counter.get() == 0
            counter.set(1)
        """
    )
    run(pytester).assert_outcomes(passed=2)


# ---------------------------------------------------------------- clocks and instruments


def test_clock_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        import math
        import nursery
        from nursery.lowlevel import current_clock
        from nursery.testing import MockClock

        async def test_mock(mock_clock):
            assert isinstance(mock_clock, MockClock)
            assert current_clock() is mock_clock
            assert mock_clock.autojump_threshold == math.inf
            mock_clock.jump(3)
            assert nursery.current_time() == 3

        async def test_autojump(autojump_clock):
            assert isinstance(autojump_clock, MockClock)
            assert current_clock() is autojump_clock
            assert autojump_clock.autojump_threshold == 0
            await nursery.sleep(1000)
            assert nursery.current_time() == 1000
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_any_clock_fixture_becomes_the_runs_clock(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        import pytest
        from nursery.abc import Clock
        from nursery.lowlevel import current_clock
        from nursery.testing import MockClock

        class FixedClock(Clock):
            def start_clock(self):
                pass
            def current_time(self):
                return 123.0
            def deadline_to_sleep_time(self, deadline):
                return max(0.0, deadline - 123.0)

        @pytest.fixture
        def fixed():
            return FixedClock()

        @pytest.fixture
        def uses_autojump(autojump_clock):
            return "the test never sees the clock itself"

        async def test_custom(fixed):
            assert current_clock() is fixed

        async def test_indirect(uses_autojump):
            # Requested only through another fixture, it is still the clock.
            assert isinstance(current_clock(), MockClock)
            assert current_clock().autojump_threshold == 0
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_two_clocks_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        async def test_both(mock_clock, autojump_clock):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*more than one clock*"])


def test_instrument_fixtures_are_installed(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        import pytest
        from nursery.abc import Instrument

        class Recorder(Instrument):
            def __init__(self):
                self.ran = False
            def before_run(self):
                self.ran = True

        @pytest.fixture
        def first():
            return Recorder()

        @pytest.fixture
        def second():
            return Recorder()

        async def test_both_installed(first, second):
            assert first.ran and second.ran
        """
    )
    run(pytester).assert_outcomes(passed=1)


# ---------------------------------------------------------------- seeds


def test_failing_test_report_shows_the_seed(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        async def test_fails():
            assert False

        async def test_passes():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*- nursery -*", "scheduler seed: *"])
    assert result.stdout.str().count("scheduler seed:") == 1


def test_seed_option_is_passed_to_run(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        from nursery.lowlevel import current_statistics

        async def test_seed():
            assert current_statistics().seed == 4242
        """
    )
    run(pytester, "--nursery-seed=4242").assert_outcomes(passed=1)


# ---------------------------------------------------------------- hypothesis


def test_hypothesis_examples_each_get_a_run(pytester: pytest.Pytester) -> None:
    pytester.makeini(MODE_ON)
    pytester.makepyfile(
        """
        import pytest
        from hypothesis import HealthCheck, given, settings, strategies as st
        import nursery
        from nursery.lowlevel import RunVar, current_clock, in_task

        seen = RunVar("seen", default=False)
        examples = []

        @pytest.mark.parametrize("tag", ["a", "b"])
        @settings(
            max_examples=10,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(st.integers())
        async def test_property(autojump_clock, tag, x):
            assert in_task()
            assert current_clock() is autojump_clock
            # A fresh run for every example.
            assert not seen.get()
            seen.set(True)
            await nursery.sleep(1)
            examples.append((tag, x))

        def test_examples_ran():
            assert {tag for tag, _ in examples} == {"a", "b"}
            assert len(examples) >= 4
        """
    )
    run(pytester).assert_outcomes(passed=3)

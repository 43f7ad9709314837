"""Tests run by nursery's pytest plugin. Run this file to run them:

    python examples/testing_with_pytest.py

(or ``pytest examples/testing_with_pytest.py``). In a project, set ``nursery_mode =
true`` in the pytest configuration and drop the markers: every ``async def`` test then
runs under ``nursery.run``.
"""

import os
import sys

import pytest

import nursery
import nursery.lowlevel as ll
from nursery.abc import Instrument
from nursery.testing import MockClock, assert_checkpoints


class SpawnCounter(Instrument):
    def __init__(self) -> None:
        self.spawned = 0

    def task_spawned(self, task: ll.Task) -> None:
        self.spawned += 1


@pytest.fixture
def spawn_counter() -> SpawnCounter:
    # Any fixture value that is an Instrument is installed in the test's run.
    return SpawnCounter()


@pytest.mark.nursery
async def test_plain() -> None:
    with assert_checkpoints():
        await nursery.sleep(0)


@pytest.mark.nursery
async def test_timeout_without_waiting(autojump_clock: MockClock) -> None:
    # A fixture value that is a Clock becomes the run's clock.
    assert ll.current_clock() is autojump_clock
    with nursery.move_on_after(30) as scope:
        await nursery.sleep_forever()
    assert scope.cancelled_caught
    assert nursery.current_time() == 30


@pytest.mark.nursery
async def test_manual_time(mock_clock: MockClock) -> None:
    mock_clock.jump(5)
    assert nursery.current_time() == 5


@pytest.mark.nursery
async def test_with_instrument(spawn_counter: SpawnCounter) -> None:
    async with nursery.open_nursery() as n:
        n.start_soon(nursery.sleep, 0)
        n.start_soon(nursery.sleep, 0)
    assert spawn_counter.spawned >= 2


def test_sync_tests_still_work() -> None:
    assert nursery.run(nursery.sleep, 0) is None


if __name__ == "__main__":
    # Installing nursery registers the plugin (a pytest11 entry point), so plain
    # `pytest` finds it. Here we load it by hand and skip every other installed
    # plugin, which keeps this script quick whatever else is installed.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = ["-p", "nursery.testing._pytest_plugin", "-p", "no:cacheprovider", "-q"]
    # --nursery-seed=N passes random_seed=N to every run the plugin makes.
    sys.exit(pytest.main([*args, "--nursery-seed=1234", __file__]))

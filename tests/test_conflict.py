import pytest

import nursery
from nursery._conflict import ConflictDetector


async def test_second_user_gets_busy_error_and_first_is_unaffected() -> None:
    detector = ConflictDetector("another task is already sending on this stream")
    entered = nursery.Event()
    release = nursery.Event()

    async def first() -> None:
        with detector:
            entered.set()
            await release.wait()

    async with nursery.open_nursery() as n:
        n.start_soon(first)
        await entered.wait()
        with pytest.raises(nursery.BusyResourceError, match="already sending"):
            with detector:
                pass  # pragma: no cover
        release.set()
    with detector:  # free again once the first is done
        pass


def test_released_after_an_exception() -> None:
    detector = ConflictDetector("busy")
    with pytest.raises(ValueError):
        with detector:
            raise ValueError
    with detector:
        pass

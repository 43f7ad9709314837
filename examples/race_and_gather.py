"""race() and gather(): the first result, or all of them, with nothing left running."""

import functools

import nursery

log: list[str] = []


async def fetch(replica: str, latency: float) -> str:
    try:
        await nursery.sleep(latency)
    except nursery.Cancelled:
        log.append(f"{replica} cancelled")
        raise
    return f"answer from {replica}"


async def fail(message: str, after: float) -> str:
    await nursery.sleep(after)
    raise ConnectionError(message)


async def first_response_wins() -> None:
    answer = await nursery.race(
        functools.partial(fetch, "slow replica", 1.0),
        functools.partial(fetch, "fast replica", 0.01),
    )
    print(answer)
    assert answer == "answer from fast replica"
    # By the time race() returns, the loser has been cancelled and has finished.
    assert log == ["slow replica cancelled"]


async def default_after(seconds: float, value: str) -> str:
    await nursery.sleep(seconds)
    return value


async def with_a_fallback() -> None:
    # A timeout that returns a value instead of raising: race against a default.
    answer = await nursery.race(
        functools.partial(fetch, "stuck replica", 10),
        functools.partial(default_after, 0.01, "cached answer"),
    )
    assert answer == "cached answer"


async def all_of_them() -> None:
    # Results come back in the order of the arguments, not of completion.
    answers = await nursery.gather(
        functools.partial(fetch, "a", 0.02),
        functools.partial(fetch, "b", 0.01),
    )
    assert answers == ["answer from a", "answer from b"]


async def errors() -> None:
    # The first error cancels the others; errors come out as from a nursery.
    try:
        await nursery.gather(
            functools.partial(fetch, "healthy", 10),
            functools.partial(fail, "replica down", 0.01),
        )
    except* ConnectionError as group:
        print("gather failed:", group.exceptions[0])
    assert log[-1] == "healthy cancelled"

    # In race() too, an error from the first to finish wins the race.
    try:
        await nursery.race(
            functools.partial(fetch, "late", 10),
            functools.partial(fail, "early failure", 0.01),
        )
    except* ConnectionError:
        print("race failed: the first to finish raised")


async def main() -> None:
    await first_response_wins()
    await with_a_fallback()
    await all_of_them()
    await errors()
    print("all race and gather examples passed")


if __name__ == "__main__":
    nursery.run(main)

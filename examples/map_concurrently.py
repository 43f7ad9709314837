"""map_concurrently(): a bounded number of calls at once, results streamed through a
channel, in input order or as they finish."""

import functools

import nursery

in_flight = 0
most_in_flight = 0


async def download(url: str) -> str:
    global in_flight, most_in_flight
    in_flight += 1
    most_in_flight = max(most_in_flight, in_flight)
    try:
        # Pretend that longer names take longer.
        await nursery.sleep(0.001 * len(url))
        return f"<page of {url}>"
    finally:
        in_flight -= 1


URLS = [f"https://example.com/{'x' * n}" for n in (9, 1, 5, 3, 7, 2)]


async def in_input_order() -> None:
    async with nursery.map_concurrently(download, URLS, limit=3) as pages:
        received = [page async for page in pages]
    assert received == [f"<page of {url}>" for url in URLS]
    assert most_in_flight == 3  # never more than `limit` at once


async def as_they_finish() -> None:
    async with nursery.map_concurrently(download, URLS, limit=len(URLS), ordered=False) as pages:
        async for page in pages:
            print("finished:", page)


async def stop_early() -> None:
    # Leaving the block cancels the calls still in progress, and waits for them.
    async with nursery.map_concurrently(download, URLS, limit=2) as pages:
        async for page in pages:
            if page.endswith("xxxxxxxxx>"):
                break
    assert in_flight == 0


async def scale(factor: int, item: int) -> int:
    await nursery.sleep(0)
    return factor * item


async def errors() -> None:
    async def fragile(item: int) -> int:
        await nursery.sleep(0.001)
        if item == 3:
            raise ValueError(f"cannot process {item}")
        return item

    # The first error cancels everything else, and comes out as it is.
    try:
        async with nursery.map_concurrently(fragile, range(10), limit=4) as results:
            async for _ in results:
                pass
    except ValueError as error:
        print("map failed:", error)


async def main() -> None:
    await in_input_order()
    await as_they_finish()
    await stop_early()
    # Extra arguments: bind them with functools.partial.
    async with nursery.map_concurrently(functools.partial(scale, 10), [1, 2, 3], limit=2) as out:
        assert [x async for x in out] == [10, 20, 30]
    await errors()
    print("all map_concurrently examples passed")


if __name__ == "__main__":
    nursery.run(main)

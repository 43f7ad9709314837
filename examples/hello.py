"""The shortest tour: two children in a nursery, then a timeout."""

import nursery


async def child(name: str, seconds: float) -> None:
    await nursery.sleep(seconds)
    print(f"{name} finished after {seconds}s")


async def main() -> str:
    async with nursery.open_nursery() as n:  # the block waits for its children
        n.start_soon(child, "quick", 0.01)
        n.start_soon(child, "slower", 0.02)
    with nursery.move_on_after(0.05) as scope:  # a timeout is a cancel scope
        await nursery.sleep_forever()
    return f"gave up waiting: {scope.cancelled_caught}"


if __name__ == "__main__":
    print(nursery.run(main))

"""KeyboardInterrupt protection: Control-C never lands inside protected code."""

import os
import signal

import nursery
import nursery.lowlevel as ll


def press_control_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


@ll.enable_ki_protection
def update_two_things(state: dict[str, int]) -> None:
    assert ll.currently_ki_protected()
    state["a"] += 1
    press_control_c()  # Control-C arrives here...
    state["b"] += 1  # ...but cannot tear the update in half


async def main(log: list[str]) -> None:
    state = {"a": 0, "b": 0}
    assert not ll.currently_ki_protected()  # ordinary task code is not protected
    update_two_things(state)
    log.append(f"update finished intact: {state}")
    try:
        await nursery.sleep(0)  # ...the interrupt is delivered at a checkpoint
    except KeyboardInterrupt:
        log.append("KeyboardInterrupt raised at the next checkpoint")
        raise


async def unprotected(log: list[str]) -> None:
    press_control_c()  # an interrupt in unprotected code is raised right away...
    log.append("kept running after Control-C")
    await nursery.sleep(0)  # ...unless restricted to checkpoints


if __name__ == "__main__":
    log: list[str] = []
    try:
        nursery.run(main, log)
    except KeyboardInterrupt:
        log.append("run() raised KeyboardInterrupt")
    print("\n".join(log))
    assert log[-1] == "run() raised KeyboardInterrupt"

    # restrict_keyboard_interrupt_to_checkpoints=True: even unprotected code only
    # sees it at a checkpoint of the main task.
    for restrict in (False, True):
        log = []
        try:
            nursery.run(unprotected, log, restrict_keyboard_interrupt_to_checkpoints=restrict)
        except KeyboardInterrupt:
            print(f"restrict={restrict}: KeyboardInterrupt, after {log}")
        assert log == (["kept running after Control-C"] if restrict else [])

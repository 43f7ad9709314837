"""A run ends even while ``run_sync_soon`` callbacks keep queueing more callbacks."""

from __future__ import annotations

import nursery
from nursery.lowlevel import RunToken, checkpoint, current_token


def test_a_callback_that_requeues_itself_forever_does_not_keep_the_run_alive() -> None:
    token: RunToken | None = None
    calls: list[int] = []
    refused: list[int] = []

    def requeue(i: int) -> None:
        calls.append(i)
        assert token is not None
        try:
            token.run_sync_soon(requeue, i + 1)
        except nursery.RunFinishedError:
            refused.append(i)

    async def main() -> None:
        nonlocal token
        token = current_token()
        token.run_sync_soon(requeue, 0)
        for _ in range(50):
            await checkpoint()

    nursery.run(main)
    # The chain ran while main did, then was told the run had finished, exactly once.
    assert len(refused) == 1
    assert refused[0] == calls[-1]
    assert calls == list(range(len(calls)))

"""The bounded worker pool refuses at once when slots and queue are full."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from serving.concurrency import Overloaded, WorkLimiter


def test_limits_running_and_waiting() -> None:
    lim = WorkLimiter(max_concurrency=2, max_queue=1, queue_timeout_s=5, retry_after_s=2)
    gate = threading.Event()
    peak = 0
    running = 0
    lock = threading.Lock()

    def work() -> int:
        nonlocal peak, running
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait(5)
        with lock:
            running -= 1
        return 1

    outcomes: list[object] = []

    async def one() -> None:
        try:
            outcomes.append(await lim.run(work))
        except Overloaded as exc:
            outcomes.append(exc)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(one)
            await anyio.sleep(0.2)
            assert lim.running == 2 and lim.waiting == 1
            gate.set()

    anyio.run(main)
    assert peak == 2
    assert outcomes.count(1) == 3
    rejected = [o for o in outcomes if isinstance(o, Overloaded)]
    assert len(rejected) == 2 and all(o.retry_after == 2 for o in rejected)
    assert lim.admitted == 0


def test_queue_timeout() -> None:
    lim = WorkLimiter(max_concurrency=1, max_queue=5, queue_timeout_s=0.2, retry_after_s=1)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(lim.run, time.sleep, 1.0)
            await anyio.sleep(0.05)
            t0 = time.perf_counter()
            with pytest.raises(Overloaded, match="within"):
                await lim.run(time.sleep, 0)
            assert time.perf_counter() - t0 < 0.8

    anyio.run(main)


def test_exception_releases_slot() -> None:
    lim = WorkLimiter(max_concurrency=1, max_queue=0, queue_timeout_s=1, retry_after_s=1)

    def boom() -> None:
        raise ValueError("x")

    async def main() -> None:
        for _ in range(3):
            with pytest.raises(ValueError):
                await lim.run(boom)
        assert await lim.run(lambda: 7) == 7

    anyio.run(main)

"""Bounded worker pool for CPU-bound calls (suggest, validate).

At most `max_concurrency` calls run in threads at once; at most `max_queue` more may wait
(for up to `queue_timeout_s`). Anything beyond is refused at once with `Overloaded`, which
the app answers as 503 with ``Retry-After``: the service never queues without limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from serving.metrics import Metrics

T = TypeVar("T")


class Overloaded(Exception):
    """Every slot and queue place is taken (or the wait ran out)."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class WorkLimiter:
    def __init__(self, max_concurrency: int, max_queue: int, queue_timeout_s: float, retry_after_s: int,
                 metrics: Metrics | None = None) -> None:
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.queue_timeout_s = queue_timeout_s
        self.retry_after_s = retry_after_s
        self.metrics = metrics
        self._slots: anyio.CapacityLimiter | None = None
        self._threads: anyio.CapacityLimiter | None = None
        self.admitted = 0  # running + waiting; only touched from the event loop thread
        self.running = 0

    def _limiters(self) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
        if self._slots is None or self._threads is None:
            self._slots = anyio.CapacityLimiter(self.max_concurrency)
            self._threads = anyio.CapacityLimiter(self.max_concurrency)
        return self._slots, self._threads

    @property
    def saturated(self) -> bool:
        """Every slot and queue place is taken: a new call would be refused."""
        return self.admitted >= self.max_concurrency + self.max_queue

    def refusal(self) -> Overloaded:
        return Overloaded(
            f"all {self.max_concurrency} workers are busy and {self.max_queue} requests are waiting",
            self.retry_after_s,
        )

    @property
    def waiting(self) -> int:
        return self.admitted - self.running

    def _gauges(self) -> None:
        if self.metrics is not None:
            self.metrics.work_active.set(self.running)
            self.metrics.work_waiting.set(self.waiting)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` in a worker thread, or raise Overloaded without waiting."""
        slots, threads = self._limiters()
        if self.saturated:
            raise self.refusal()
        self.admitted += 1
        self._gauges()
        try:
            with anyio.move_on_after(self.queue_timeout_s) as scope:
                await slots.acquire()
            if scope.cancelled_caught:
                raise Overloaded(f"no worker became free within {self.queue_timeout_s:g} s", self.retry_after_s)
            self.running += 1
            self._gauges()
            try:
                return await anyio.to_thread.run_sync(fn, *args, limiter=threads)
            finally:
                self.running -= 1
                slots.release()
        finally:
            self.admitted -= 1
            self._gauges()

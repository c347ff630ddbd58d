"""Work off the listener threads: a bounded worker pool and a memory of what was handled.

Slack wants every request acknowledged within 3 s. Bolt's own listener pool has five
threads, so analyses that run there starve the acks of later requests (see
shared/notes/slack.md, section 1). Listeners ack, then hand the slow part to `WorkPool`.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)


class PoolFull(Exception):
    """Every worker is busy and the waiting line is at its limit."""


class WorkPool:
    """`workers` analyses at once, at most `max_queued` more waiting; the rest is refused."""

    def __init__(self, workers: int, max_queued: int):
        self.workers = workers
        self.max_queued = max_queued
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sccm-work")
        self._lock = threading.Lock()
        self._in_flight = 0  # running + waiting
        self._jobs: dict[Future, Callable[[], None] | None] = {}  # accepted -> its on_stop

    def submit(
        self,
        job: Callable[[], None],
        *,
        name: str,
        on_cancel: Callable[[], None] | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> int | None:
        """Run `job` on a worker. Returns None when it starts at once, else how many jobs
        wait ahead of it (0: it is next). `on_cancel` runs instead of the job when the
        pool shuts down before the job started; `on_stop` runs when the job is still
        running at the shutdown deadline (the process is about to end under it).

        Raises PoolFull when the line is full. A job's exception is logged, never lost.
        """
        with self._lock:
            if self._in_flight >= self.workers + self.max_queued:
                raise PoolFull(f"{self._in_flight} analyses are already running or waiting")
            ahead = self._in_flight - self.workers if self._in_flight >= self.workers else None
            self._in_flight += 1
        try:
            future = self._executor.submit(self._run, job, name)
        except RuntimeError:  # shut down while a late request came in
            self._finished(None)
            raise PoolFull("the app is shutting down") from None
        with self._lock:
            self._jobs[future] = on_stop
        future.add_done_callback(functools.partial(self._finished, on_cancel=on_cancel, name=name))
        return ahead

    @staticmethod
    def _run(job: Callable[[], None], name: str) -> None:
        try:
            job()
        except Exception:  # a bug in a job: keep the worker alive and say what failed
            log.exception("background job %s failed", name)

    def _finished(
        self, future: Future | None, on_cancel: Callable[[], None] | None = None, name: str = ""
    ) -> None:
        with self._lock:
            self._in_flight -= 1
            self._jobs.pop(future, None)
        if future is not None and future.cancelled() and on_cancel is not None:
            self._run(on_cancel, f"{name} (cancelled)")

    def shutdown(self, *, wait: bool = True, deadline: float | None = None) -> int:
        """Stop taking work; cancel what waits (its `on_cancel` says so), let running
        analyses finish (they clean up after themselves) for up to `deadline` seconds
        (None: as long as they take). Jobs still running then get their `on_stop`.
        Returns how many were still running."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        if not wait:
            return 0
        with self._lock:
            running = list(self._jobs)
        _, unfinished = concurrent.futures.wait(running, timeout=deadline)
        for future in unfinished:
            with self._lock:
                on_stop = self._jobs.get(future)
            if on_stop is not None and not future.done():
                self._run(on_stop, "stop notice")
        if not unfinished:
            self._executor.shutdown(wait=True)
        return len(unfinished)


class SeenRecently:
    """Keys handled in the last `ttl` seconds: retried and repeated deliveries run once.

    Slack retries a slow delivery about three times over some five minutes; an hour covers
    that and re-shares of the same file. Memory is bounded by `max_keys`, oldest first.
    """

    def __init__(self, ttl: float = 3600.0, max_keys: int = 100_000):
        self.ttl = ttl
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is offered within the TTL, and records it."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if key in self._seen:
                return False
            self._seen[key] = now
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
            return True

    def forget(self, key: str) -> None:
        """Let `key` be handled again (the attempt never started, e.g. the pool was full)."""
        with self._lock:
            self._seen.pop(key, None)

    def _expire(self, now: float) -> None:
        while self._seen:
            key, when = next(iter(self._seen.items()))
            if now - when < self.ttl:
                break
            self._seen.popitem(last=False)

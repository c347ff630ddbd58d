"""Work off the listener threads: a bounded worker pool and a memory of what was handled.

Slack wants every request acknowledged within 3 s. Bolt's own listener pool has five
threads, so analyses that run there starve the acks of later requests (see
shared/notes/slack.md, section 1). Listeners ack, then hand the slow part to `WorkPool`.

`WorkPool.cancel_all(grace)` is the stop button for a SIGTERM handler: it refuses new
work, tells the owners of waiting jobs, asks running jobs to stop (they watch
`pool.stopping` at every downloaded chunk and every analysis poll), and after `grace`
seconds tells the owners of any job still running. It returns within about `grace`.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from .store import Store, StoreError

log = logging.getLogger(__name__)

# After a stop request, running jobs end within a poll (0.2 s: every downloaded chunk and
# every analysis poll checks it); one stuck in a network read gets this long before its
# user is told anyway.
STOP_GRACE = 1.0


class PoolFull(Exception):
    """Every worker is busy and the waiting line is at its limit."""


class WorkPool:
    """`workers` analyses at once, at most `max_queued` more waiting; the rest is refused."""

    def __init__(self, workers: int, max_queued: int):
        self.workers = workers
        self.max_queued = max_queued
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sccm-work")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0  # running + waiting
        self._running: dict[int, Callable[[], None] | None] = {}  # job id -> its on_stop
        self._ids = itertools.count()
        self.stopping = threading.Event()  # set by cancel_all: running jobs should end

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
        running when `cancel_all` gives up waiting for it (the user is told even if the
        job is stuck).

        Raises PoolFull when the line is full. A job's exception is logged, never lost.
        """
        with self._lock:
            if self.stopping.is_set():
                raise PoolFull("the app is shutting down")
            if self._in_flight >= self.workers + self.max_queued:
                raise PoolFull(f"{self._in_flight} analyses are already running or waiting")
            ahead = self._in_flight - self.workers if self._in_flight >= self.workers else None
            self._in_flight += 1
        try:
            future = self._executor.submit(self._tracked, job, name, on_stop)
        except RuntimeError:  # shut down while a late request came in
            self._finished(None)
            raise PoolFull("the app is shutting down") from None
        future.add_done_callback(functools.partial(self._finished, on_cancel=on_cancel, name=name))
        return ahead

    def _tracked(self, job: Callable[[], None], name: str, on_stop) -> None:
        with self._lock:
            job_id = next(self._ids)
            self._running[job_id] = on_stop
        try:
            self._run(job, name)
        finally:
            with self._lock:
                self._running.pop(job_id, None)

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
            self._idle.notify_all()
        if future is not None and future.cancelled() and on_cancel is not None:
            self._run(on_cancel, f"{name} (cancelled)")

    def cancel_all(self, grace: float = 5.0) -> int:
        """Stop all work within about `grace` seconds and tell each user; for SIGTERM.

        New work is refused; waiting jobs are cancelled (their `on_cancel` tells the
        user); running jobs see `stopping` and end, telling their users themselves. Jobs
        still running after `grace` get their `on_stop` called (the user is told even if
        the job is stuck). Returns how many jobs were still running then."""
        self.stopping.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        with self._lock:
            while self._in_flight and time.monotonic() < deadline:
                self._idle.wait(max(0.0, min(0.1, deadline - time.monotonic())))
            stuck = list(self._running.values())
        for on_stop in stuck:
            if on_stop is not None:
                self._run(on_stop, "telling the user of a stuck job")
        if stuck:
            log.warning(
                "%d job(s) still running after %.0f s; their users were told", len(stuck), grace
            )
        return len(stuck)

    def shutdown(self, *, wait: bool = True, deadline: float | None = None) -> int:
        """Stop taking work; cancel what waits (its `on_cancel` says so), let running
        jobs finish for up to `deadline` seconds (None: as long as they take), then
        `cancel_all` the rest. Returns how many were still running at the end."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        if not wait:
            return 0
        if deadline is None:
            self._executor.shutdown(wait=True)
            return 0
        end = time.monotonic() + deadline
        with self._lock:
            while self._in_flight and time.monotonic() < end:
                self._idle.wait(max(0.0, min(0.1, end - time.monotonic())))
        return self.cancel_all(grace=STOP_GRACE)


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


class SeenInStore:
    """`SeenRecently` kept in the store, so every replica knows what any one handled:
    Slack retries an event to whichever replica the load balancer picks. A store that
    fails lets the key through (logged): the upload is then recorded or refused by the
    store itself, and an answer twice beats none."""

    def __init__(self, store: Store, ttl: float = 3600.0):
        self.store = store
        self.ttl = ttl

    def first_time(self, key: str) -> bool:
        try:
            return self.store.first_time(key, self.ttl)
        except StoreError as problem:
            log.error("cannot check whether %s was handled: %s", key, problem)
            return True

    def forget(self, key: str) -> None:
        try:
            self.store.forget(key)
        except StoreError as problem:
            log.error("cannot forget %s: %s", key, problem)

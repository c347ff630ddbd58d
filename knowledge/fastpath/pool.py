"""Reading an upload's files in several processes at once, where that is safe and pays.

A big upload is dozens of files that can be read independently: each file's result (its
facts, and for a diagnosis its fold of findings) is small, and the results are combined
in file order, so the answer is the same however many processes read them.

Processes, not threads: the readers are Python code, and the interpreter runs one
thread of it at a time. They are forked, so a child starts with everything the parent
prepared (the open upload, the knowledge base, the compiled signatures) instead of
loading it again, and only results cross back. Forking is used only where it is safe
and worth it:

* on Linux (macOS discourages fork without exec; Windows has none), from a process with
  a single thread: forking a threaded process (the Slack bot runs analyses in worker
  threads) can leave a child holding a lock nobody will release;
* for uploads of at least `MIN_PARALLEL_BYTES`: below that, starting the processes
  costs more than it saves.

The zip files of an upload are opened with their own read positions
(archive._PositionalFile), so children reading the same zip do not disturb each other.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this much unpacked log data, one process is as fast (forking and collecting
# results cost a few tens of milliseconds).
MIN_PARALLEL_BYTES = 16 << 20
# More processes than this stop paying: the parent merges results one by one.
MAX_WORKERS = 8

# What the children run, set just before they are forked (inherited, never pickled).
_job: tuple[Callable, Sequence] | None = None
# True in a child: work that itself reads in parallel (a fleet's machine, each one an
# upload) reads in that child alone instead of forking a second layer of processes.
_in_child = False


def worker_count(total_bytes: int, files: int) -> int:
    """How many processes should read an upload of this size: 1 means this one alone."""
    if total_bytes < MIN_PARALLEL_BYTES or files < 2 or _in_child:
        return 1
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    cpus = len(os.sched_getaffinity(0))
    quota = _cpu_quota()
    if quota is not None:
        cpus = min(cpus, quota)
    return max(1, min(cpus, files, MAX_WORKERS))


# A container's processor quota (cgroup v2): "max 100000", or "200000 100000" for 2 CPUs.
CPU_MAX = "/sys/fs/cgroup/cpu.max"


def _cpu_quota() -> int | None:
    """The CPUs a container may use, rounded up; None when it sets no limit. A
    container sees every CPU of its host but may be allowed one: more workers than
    that only take turns."""
    try:
        with open(CPU_MAX, encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
        return max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):  # no cgroup v2 file, "max", or something odd
        return None


def map_in_order(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    meanwhile: Callable[[], object] | None = None,
    size: Callable[[Item], int] | None = None,
) -> Iterator[Result]:
    """work(item) for every item, yielded in the items' order.

    With more than one worker the calls run in forked processes; `work` and `items` are
    inherited by the children, so only the results need to pickle. An exception raised
    by `work` in a child is raised here, and the remaining work is cancelled (close the
    iterator, e.g. with `contextlib.closing`, when you stop early). If the processes
    cannot be started, or a child dies (killed, out of memory), what they left undone
    is done here instead: a lost process never hangs or loses the answer.
    `meanwhile` runs in this process before the first result, while the children work.
    `size` estimates an item's work: the biggest are handed out first, so that no
    process is left with a big file at the end while the others wait.
    """
    if workers <= 1:
        if meanwhile is not None:
            meanwhile()
        yield from map(work, items)
        return
    try:
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    except (NotImplementedError, ImportError, OSError):
        # No working semaphores (a container without /dev/shm): read here instead.
        yield from map_in_order(work, items, 1, meanwhile)
        return
    global _job
    _job = (work, items)
    futures = {}
    try:
        order = range(len(items))
        if size is not None:
            order = sorted(order, key=lambda index: -size(items[index]))
        # Queued one by one in that order; each child takes the next when it is free.
        # The first submit forks the children: if that fails (a process limit, no
        # memory), the items without a future are read here.
        with contextlib.suppress(OSError, BrokenProcessPool):
            for index in order:
                futures[index] = executor.submit(_run, index)
        if meanwhile is not None:
            meanwhile()
        for index in range(len(items)):
            future = futures.pop(index, None)  # a result is let go once it is used
            try:
                result = work(items[index]) if future is None else future.result()
            except BrokenProcessPool:
                result = work(items[index])
            yield result
    finally:
        # After an error, files not yet started are dropped; a child finishes at most
        # the file it is reading, and every child is reaped before this returns.
        children = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=True, cancel_futures=True)
        _reap(children)
        _job = None


def _reap(children: list) -> None:
    """Ends children that were forked but never given work: when forking fails part
    way, the executor has no thread to end them, and the interpreter would wait for
    them at exit. (The others have ended already.)"""
    for process in children:
        if process.is_alive():
            process.terminate()
        process.join()


def _run(index: int):
    global _in_child
    _in_child = True
    work, items = _job
    return work(items[index])

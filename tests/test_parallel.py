"""Reading an upload's files in forked processes gives exactly the one-process answer."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from knowledge.api import diagnose_path, read_logs
from knowledge.errors import InputError
from knowledge.fastpath import pool as parallel
from tests.test_fast_facts import _load_benchmark_generator

REPO = Path(__file__).resolve().parents[1]
CAN_FORK = sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1
needs_fork = pytest.mark.skipif(not CAN_FORK, reason="forks only on Linux with 2+ CPUs")

BIG = parallel.MIN_PARALLEL_BYTES


def test_small_uploads_and_single_files_stay_in_this_process():
    assert parallel.worker_count(BIG - 1, 40) == 1
    assert parallel.worker_count(BIG * 10, 1) == 1


@needs_fork
def test_big_uploads_use_every_cpu_up_to_the_file_count(tmp_path, monkeypatch):
    if threading.active_count() > 1:
        pytest.skip("another test left a thread running")
    monkeypatch.setattr(parallel, "CPU_MAX", str(tmp_path / "no quota"))
    cpus = len(os.sched_getaffinity(0))
    assert parallel.worker_count(BIG, 40) == min(cpus, parallel.MAX_WORKERS)
    assert parallel.worker_count(BIG, 2) == 2


@pytest.mark.parametrize(
    ("cpu_max", "quota"), [("max 100000\n", None), ("150000 100000\n", 2), ("50000 100000", 1)]
)
def test_a_containers_cpu_quota_caps_the_workers(tmp_path, monkeypatch, cpu_max, quota):
    limit = tmp_path / "cpu.max"
    limit.write_text(cpu_max)
    monkeypatch.setattr(parallel, "CPU_MAX", str(limit))
    assert parallel._cpu_quota() == quota
    monkeypatch.setattr(parallel, "CPU_MAX", str(tmp_path / "absent"))
    assert parallel._cpu_quota() is None


def test_a_threaded_process_never_forks():
    """The bot runs analyses in worker threads: forking there could deadlock a child."""
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert parallel.worker_count(BIG * 10, 40) == 1
    finally:
        release.set()
        thread.join()


def _pid_and_square(number: int) -> tuple[int, int]:
    return os.getpid(), number * number


def _fail_on_three(number: int) -> int:
    if number == 3:
        raise InputError("file 3 is damaged")
    return number


@needs_fork
def test_results_come_back_in_order_from_other_processes():
    results = list(parallel.map_in_order(_pid_and_square, list(range(20)), 2))
    assert [square for _pid, square in results] == [n * n for n in range(20)]
    assert os.getpid() not in {pid for pid, _square in results}


def test_one_worker_runs_here():
    results = list(parallel.map_in_order(_pid_and_square, [1, 2], 1))
    assert results == [(os.getpid(), 1), (os.getpid(), 4)]


@needs_fork
def test_the_biggest_items_go_first_and_results_still_come_in_order():
    sizes = [1, 50, 3, 99, 2, 7]
    results = list(parallel.map_in_order(_pid_and_square, sizes, 2, size=lambda n: n))
    assert [square for _pid, square in results] == [n * n for n in sizes]


def test_meanwhile_runs_here_before_the_results():
    calls = []
    results = parallel.map_in_order(_pid_and_square, [3], 1, meanwhile=lambda: calls.append(1))
    assert calls == []  # nothing runs until the results are asked for
    assert next(results) == (os.getpid(), 9) and calls == [1]


_PARENT = os.getpid()


def _die_in_a_child_on_two(number: int) -> int:
    if number == 2 and os.getpid() != _PARENT:
        os._exit(9)  # as the kernel's out-of-memory killer would end it
    return number * 10


@needs_fork
def test_a_child_that_dies_loses_nothing_and_hangs_nothing():
    results = list(parallel.map_in_order(_die_in_a_child_on_two, list(range(8)), 2))
    assert results == [n * 10 for n in range(8)]


# A fresh interpreter in which the second fork fails, as under a process limit.
_FORK_FAILS = """
import os
from knowledge.fastpath import pool as parallel

real_fork = os.fork
calls = [0]
def failing_fork():
    calls[0] += 1
    if calls[0] == 2:
        raise BlockingIOError(11, "Resource temporarily unavailable")
    return real_fork()
os.fork = failing_fork
print(list(parallel.map_in_order(abs, list(range(-5, 0)), 2)))
"""


@needs_fork
def test_when_forking_fails_the_work_is_done_here_and_nothing_hangs():
    assert _in_a_fresh_interpreter(_FORK_FAILS).strip() == "[5, 4, 3, 2, 1]"


def _in_a_fresh_interpreter(script: str, *args: str) -> str:
    """What the script prints, run with one thread as the CLI runs (a timeout: a hang
    is a failure)."""
    child = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return child.stdout


def test_without_working_semaphores_the_work_is_done_here(monkeypatch):
    """Some containers have no /dev/shm: the executor cannot even be made."""

    def no_executor(*_args, **_kwargs):
        raise NotImplementedError("This platform lacks a functioning sem_open implementation")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_executor)
    results = list(parallel.map_in_order(_pid_and_square, [1, 2, 3], 2))
    assert results == [(os.getpid(), 1), (os.getpid(), 4), (os.getpid(), 9)]


def _slow_square(number: int) -> int:
    time.sleep(0.02)
    return number * number


@needs_fork
def test_stopping_early_stops_the_workers():
    results = parallel.map_in_order(_slow_square, list(range(40)), 2)
    with contextlib.closing(results):
        assert next(results) == 0
    assert parallel._job is None  # the pool was shut down, not left reading


@needs_fork
def test_an_error_in_a_child_reaches_the_caller_with_its_message():
    with pytest.raises(InputError, match="file 3 is damaged"):
        list(parallel.map_in_order(_fail_on_three, list(range(6)), 2))


# A fresh interpreter (one thread, as the CLI runs) that lowers the size threshold,
# records how many processes each reading used, and prints both answers.
_CHILD = """
import json, sys
from knowledge.reading import collector
from knowledge.fastpath import pool as parallel
from knowledge.reading import reader as timeline
from knowledge.api import diagnose_path, read_logs

parallel.MIN_PARALLEL_BYTES = 0
used = []
def counting(work, items, workers, **options):
    used.append(workers)
    return parallel.map_in_order(work, items, workers, **options)
collector.map_in_order = timeline.map_in_order = counting
report = read_logs(sys.argv[1]).model_dump(mode="json")
diagnosis = diagnose_path(sys.argv[1]).model_dump(mode="json")
print(json.dumps({"workers": used, "read": report, "diagnosis": diagnosis}))
"""


@needs_fork
@pytest.mark.parametrize("seed", [1, 4])
def test_a_busy_upload_read_by_several_processes_gives_the_same_answer(tmp_path, seed):
    """Rotated files, WindowsUpdate.log and CBS.log, all in one zip that every child
    reads at once: a shared read position would garble members and fail their CRC."""
    path = tmp_path / "busy.zip"
    _load_benchmark_generator().build_big_zip(path, megabytes=3, seed=seed)
    forked = json.loads(_in_a_fresh_interpreter(_CHILD, str(path)))
    assert all(workers >= 2 for workers in forked["workers"]) and len(forked["workers"]) == 2
    assert forked["read"] == read_logs(path).model_dump(mode="json")
    here = diagnose_path(path).model_dump(mode="json")
    assert here["evidence"] and here["updates"]
    assert forked["diagnosis"] == here

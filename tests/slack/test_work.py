"""The worker pool is bounded and says how long the line is; the dedupe memory expires."""

from __future__ import annotations

import threading
import time

import pytest

from bot.work import PoolFull, SeenRecently, WorkPool


def test_the_pool_runs_queues_then_refuses():
    pool = WorkPool(workers=1, max_queued=2)
    release = threading.Event()
    done: list[int] = []
    all_done = threading.Event()

    def job(n: int):
        def run():
            release.wait(5)
            done.append(n)
            if len(done) == 3:
                all_done.set()

        return run

    try:
        assert pool.submit(job(1), name="1") is None, "starts at once"
        assert pool.submit(job(2), name="2") == 0, "next in line"
        assert pool.submit(job(3), name="3") == 1, "one waits ahead"
        with pytest.raises(PoolFull):
            pool.submit(job(4), name="4")
        release.set()
        assert all_done.wait(5)
        assert pool.submit(job(5), name="5") is None, "room again once the line is served"
    finally:
        pool.shutdown(wait=True)
    assert done[:3] == [1, 2, 3]


def test_shutting_down_cancels_waiting_jobs_and_says_so():
    pool = WorkPool(workers=1, max_queued=1)
    release = threading.Event()
    ran: list[str] = []
    pool.submit(lambda: (release.wait(5), ran.append("running")), name="running")
    pool.submit(lambda: ran.append("waiting"), name="waiting", on_cancel=lambda: ran.append("told"))
    threading.Timer(0.1, release.set).start()
    pool.shutdown(wait=True)
    assert sorted(ran) == ["running", "told"], "the waiting job never ran; its owner was told"


def test_a_failing_job_is_logged_and_the_worker_survives(caplog):
    pool = WorkPool(workers=1, max_queued=1)
    ran = threading.Event()

    def broken():
        raise RuntimeError("boom")

    pool.submit(broken, name="broken")
    pool.submit(ran.set, name="after")
    assert ran.wait(5)
    pool.shutdown()
    assert "background job broken failed" in caplog.text


def test_seen_keys_expire_and_can_be_forgotten():
    seen = SeenRecently(ttl=0.2)
    assert seen.first_time("event:Ev1")
    assert not seen.first_time("event:Ev1")
    seen.forget("event:Ev1")
    assert seen.first_time("event:Ev1")
    time.sleep(0.25)
    assert seen.first_time("event:Ev1")


def test_the_memory_is_bounded():
    seen = SeenRecently(max_keys=3)
    for key in "abcd":
        assert seen.first_time(key)
    assert seen.first_time("a"), "the oldest key was dropped"
    assert not seen.first_time("d")


def test_cancel_all_stops_running_jobs_tells_waiting_and_stuck_ones_and_returns_in_time():
    pool = WorkPool(workers=2, max_queued=2)
    told: list[str] = []
    stuck = threading.Event()

    def cooperative():
        pool.stopping.wait(10)  # what downloads and analyses do at every chunk and poll
        told.append("cooperative stopped")

    pool.submit(cooperative, name="cooperative")
    pool.submit(lambda: stuck.wait(10), name="stuck", on_stop=lambda: told.append("stuck told"))
    pool.submit(lambda: told.append("ran"), name="waiting", on_cancel=lambda: told.append("told"))
    started = time.monotonic()
    try:
        assert pool.cancel_all(grace=0.5) == 1, "one job ignored the request"
        assert time.monotonic() - started < 2
        assert sorted(told) == ["cooperative stopped", "stuck told", "told"]
        with pytest.raises(PoolFull):
            pool.submit(lambda: None, name="late")
    finally:
        stuck.set()

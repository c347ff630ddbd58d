"""Uploads shared by replicas: each replica holds a lease on the work it runs.

A replica stamps the uploads it accepts with its id and a lease (`stamp`), renews the
leases of its unfinished work every third of SCCM_BOT_LEASE_SECONDS, and at the same
beat takes over work whose lease ran out: its replica died (SIGKILL, a lost node) or
stopped and let go (`release`). The claim is the store's `take_over` (row locks with
SKIP LOCKED), so two replicas never take the same upload; `start` checks the lease
again when a worker picks the upload up, so a replica that lost its lease while it
waited for a worker leaves the upload to the one that took it.

With SQLite there is one process: at start it takes over everything left unfinished
(the previous process is gone), as before replicas existed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from .store import Store, StoreError, WorkRecord

log = logging.getLogger(__name__)

TakenOver = Callable[[list[WorkRecord]], None]


class Leases:
    def __init__(self, store: Store, seconds: float, *, owner: str | None = None):
        self.store = store
        self.seconds = seconds
        self.owner = owner or uuid.uuid4().hex[:12]
        self._stop = threading.Event()
        self._taking = threading.Event()  # cleared on stop: renew only, take nothing new
        self._taking.set()
        self._thread: threading.Thread | None = None

    def stamp(self, work: WorkRecord) -> WorkRecord:
        """A new record, held by this replica."""
        work.owner = self.owner
        work.lease_until = time.time() + self.seconds
        return work

    def start(self, work: WorkRecord) -> bool:
        """A worker begins `work`: mark it running; False when another replica has it."""
        return self.store.start_work(work.id, self.owner, work.attempts, self.seconds)

    def take_over(self, *, everything: bool = False) -> list[WorkRecord]:
        """Claim work whose replica is gone; [] when the store fails (logged)."""
        try:
            return self.store.take_over(self.owner, self.seconds, everything=everything)
        except StoreError as problem:
            log.error("cannot look for work left by other replicas: %s", problem)
            return []

    def keep(self, on_taken: TakenOver) -> None:
        """Renew this replica's leases and take over lapsed ones, on a thread, until
        `release`."""
        self._thread = threading.Thread(
            target=self._beat, args=(on_taken,), name="sccm-leases", daemon=True
        )
        self._thread.start()

    def _beat(self, on_taken: TakenOver) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.store.renew_leases(self.owner, self.seconds)
            except StoreError as problem:
                log.error("cannot renew this replica's leases: %s", problem)
                continue
            if not self._taking.is_set():
                continue
            taken = self.take_over()
            # stopping meanwhile: leave them claimed; `release` hands them on
            if taken and self._taking.is_set():
                log.info("took over %d upload(s) left by another replica", len(taken))
                try:
                    on_taken(taken)
                except Exception:  # keep renewing: this replica's own work depends on it
                    log.exception("could not resume the work taken over")

    def stop_taking(self) -> None:
        """The replica is stopping: keep renewing what it runs, take over nothing more
        (it could no longer queue it)."""
        self._taking.clear()

    def release(self) -> None:
        """Stop renewing and let go of this replica's unfinished work at once, so another
        replica reads it again without waiting for the lease to run out."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            released = self.store.release_leases(self.owner)
        except StoreError as problem:
            log.error("cannot release this replica's leases: %s", problem)
            return
        if released:
            log.info("let go of %d unfinished upload(s): another replica reads them", released)

"""From an upload to timestamped entries: formats, time zones, rotation, per-file facts.

The archive layer finds the log files; the format parsers turn one file into entries.
This module joins them up the way an admin reads logs in CMTrace:

* each file's format is detected from its first few KB, and a small file that is a
  paste (markdown, console-wrapped rows) is read through its `Cleaning`, entry by entry;
* rotated files (`X.lo_`, `X-20240101-120000.log`) are read before their current file,
  oldest first, so a log's story reads in order;
* a log that only knows local time (Windows 10 WindowsUpdate.log, CBS.log, a CMTrace
  record without a bias) gets the machine's zone from the CMTrace records of the same
  upload, when those agree on one zone (allowing for a daylight-saving change);
* every file's facts (format, entry count, time range, errors) are collected while the
  entries stream past, so reading never holds a whole file in memory.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from knowledge.fastpath import FileFacts, fast_facts, file_scan, map_in_order, worker_count
from knowledge.formats import NO_CLEANING, Cleaning, detect_reading, parse_entries
from knowledge.formats.decoding import open_text
from knowledge.intake.archive import LogSource, Upload, open_upload
from knowledge.models import ERROR, WARNING, Entry, FileReport, ReadReport, iso_time

SAMPLE_CHARS = 16_384  # enough text to recognise any format and see its first records
# Unpack the sample in small steps: the default 1 MiB would unpack most of a small file
# twice, once here and once when it is read.
_SNIFF_BUFFER = 32 << 10

# CMTrace and the older "simple" trace write the writer's bias next to each time.
_CMTRACE_ZONE = re.compile(
    r'time="\d{1,2}:\d{2}:\d{2}(?:\.\d+)?([+-]\d{1,4})" date="(\d{1,2})-(\d{1,2})-(\d{4})"'
)
_SIMPLE_ZONE = re.compile(
    r"<(\d{1,2})-(\d{1,2})-(\d{4}) \d{1,2}:\d{2}:\d{2}(?:\.\d+)?([+-]\d{1,4})>"
)


@dataclass
class ZoneHints:
    """What the upload's CMTrace records say about the machine's time zone.

    `bias` follows CMTrace: minutes to add to local time to get UTC (+240 is UTC-4).
    """

    observations: dict[date, int] = field(default_factory=dict)

    def add(self, day: date, bias: int) -> None:
        self.observations.setdefault(day, bias)

    @property
    def consistent(self) -> bool:
        """One zone, or two an hour apart (a daylight-saving change): safe to lend out."""
        biases = sorted(set(self.observations.values()))
        return len(biases) == 1 or (len(biases) == 2 and biases[1] - biases[0] == 60)

    def resolver(self):
        """A function from a naive local time to its bias, or None when the zone is unknown."""
        if not self.observations or not self.consistent:
            return None
        days = sorted(self.observations)
        biases = [self.observations[day] for day in days]
        if len(set(biases)) == 1:
            only = biases[0]
            return lambda _local: only

        def nearest(local: datetime) -> int:
            index = bisect.bisect_left(days, local.date())
            if index == 0:
                return biases[0]
            if index == len(days):
                return biases[-1]
            before, after = days[index - 1], days[index]
            closer = index - 1 if local.date() - before <= after - local.date() else index
            return biases[closer]

        return nearest

    def describe(self) -> str | None:
        if not self.observations:
            return None
        biases = sorted(set(self.observations.values()))
        return ", ".join(_utc_label(b) for b in biases)


def _utc_label(bias: int) -> str:
    offset = -bias
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


@dataclass
class _FileTally:
    """Facts about one file, gathered while its entries stream past."""

    source: LogSource
    fmt: str
    encoding: str
    entries: int = 0
    errors: int = 0
    warnings: int = 0
    first: datetime | None = None  # time of the first timed record, in file order
    last: datetime | None = None  # time of the last timed record
    aware: int = 0
    inferred: int = 0
    naive: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, entry: Entry, inferred: bool) -> None:
        self.entries += 1
        if entry.severity == ERROR:
            self.errors += 1
        elif entry.severity == WARNING:
            self.warnings += 1
        if entry.time is None:
            return
        if inferred:
            self.inferred += 1
        elif entry.time.tzinfo is not None:
            self.aware += 1
        else:
            self.naive += 1
        if self.first is None:
            self.first = entry.time
        self.last = entry.time

    def take(self, facts: FileFacts, lend_zone) -> None:
        """The facts counted from the bytes: all times of such a file have a zone, or none.

        `lend_zone` makes an entry's local time UTC where the upload reveals the zone
        (it returns whether it did), as `LogReader.file_entries` does per entry.
        """
        self.entries, self.errors, self.warnings = facts.entries, facts.errors, facts.warnings
        if facts.first is None or facts.last is None:
            return
        if facts.local:
            inferred = lend_zone(facts.first)
            lend_zone(facts.last)
            self.inferred, self.naive = (1, 0) if inferred else (0, 1)
        else:
            self.aware = facts.zoned
        self.first, self.last = facts.first.time, facts.last.time

    def report(self, rotated_into: str | None, log_name: str | None) -> FileReport:
        if self.aware + self.inferred + self.naive == 0:
            zone = "none"
        elif self.naive:
            zone = "local"
        elif self.inferred:
            zone = "inferred"
        else:
            zone = "utc"
        return FileReport(
            name=self.source.name,
            path=self.source.path,
            format=self.fmt,
            entries=self.entries,
            first=iso_time(self.first),
            last=iso_time(self.last),
            errors=self.errors,
            warnings=self.warnings,
            encoding=self.encoding,
            log=log_name,
            rotated_into=rotated_into,
            time_zone=zone,
            notes=self.notes,
        )


def sort_key(when: datetime | None) -> datetime | None:
    """A comparable instant: UTC wall time for aware datetimes, local time otherwise."""
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


class LogReader:
    """Reads every log of an open upload; collects per-file facts as a side effect.

    `fast=False`: every file is read record by record (`file_entries`), never counted or
    scanned from its bytes (`fast_facts` and `file_scan` decline)."""

    def __init__(self, upload: Upload, *, fast: bool = True):
        self.upload = upload
        self.fast = fast
        self.formats: dict[str, tuple[str, str]] = {}  # path -> (format, encoding)
        self.cleanings: dict[str, Cleaning] = {}  # path -> how a paste is cleaned
        self.zones = ZoneHints()
        self._tallies: dict[str, _FileTally] = {}
        self._sniff_all()
        self._bias_for = self.zones.resolver()

    # --- pass 1: formats and zone hints, from each file's first few KB -------------

    def _sniff_all(self) -> None:
        for source in self.upload.sources:
            with source.open(_SNIFF_BUFFER) as binary:
                text, encoding = open_text(binary)
                sample = text.read(SAMPLE_CHARS)
            fmt, cleaning = detect_reading(sample, source.name, source.size)
            self.formats[source.path] = (fmt, encoding)
            if cleaning != NO_CLEANING:
                self.cleanings[source.path] = cleaning
            if fmt == "cmtrace":
                for match in _CMTRACE_ZONE.finditer(sample):
                    bias, month, day, year = match.groups()
                    self._hint(year, month, day, bias)
            elif fmt == "simple":
                for match in _SIMPLE_ZONE.finditer(sample):
                    month, day, year, bias = match.groups()
                    self._hint(year, month, day, bias)

    def _hint(self, year: str, month: str, day: str, bias: str) -> None:
        # An impossible date in a damaged line says nothing about the zone.
        with contextlib.suppress(ValueError):
            self.zones.add(date(int(year), int(month), int(day)), int(bias))

    # --- pass 2: entries ------------------------------------------------------------

    def groups(self) -> list[list[LogSource]]:
        """Sources joined by rotation group, rotated files first, oldest first."""
        ordered = sorted(self.upload.sources, key=lambda s: (s.group, s.rotation_rank))
        return [list(members) for _, members in itertools.groupby(ordered, key=lambda s: s.group)]

    def sources_in_order(self) -> list[LogSource]:
        """Every source, rotation group by group, in the order they are read."""
        return [source for group in self.groups() for source in group]

    def file_entries(self, source: LogSource) -> Iterator[tuple[datetime | None, Entry]]:
        """(sort key, entry) for one file, with times made UTC where the zone is known."""
        fmt, encoding = self.formats[source.path]
        tally = _FileTally(source, fmt, encoding)
        self._tallies[source.path] = tally
        bias_for = self._bias_for
        with source.open() as binary:
            text, _ = open_text(binary)
            cleaning = self.cleanings.get(source.path, NO_CLEANING)
            for entry in parse_entries(fmt, text, source.path, cleaning):
                when = entry.time
                inferred = False
                if when is not None and when.tzinfo is None and bias_for is not None:
                    entry.time = when = (when + timedelta(minutes=bias_for(when))).replace(
                        tzinfo=UTC
                    )
                    inferred = True
                key = sort_key(when)
                tally.count(entry, inferred)
                yield key, entry
        if tally.naive and bias_for is None:
            tally.notes.append(self._local_time_note())

    def read_facts(self, source: LogSource) -> None:
        """One file's facts: counted from its bytes where the format allows, else per entry."""
        if not self.fast_facts(source):
            for _ in self.file_entries(source):
                pass

    def fast_facts(self, source: LogSource) -> bool:
        """Collects one file's facts from its bytes; False when it needs `file_entries`."""
        fmt, encoding = self.formats[source.path]
        if not self.fast or source.path in self.cleanings:
            return False  # switched off, or a paste: its lines are cleaned before they are read
        with source.open() as binary:
            facts = fast_facts(fmt, binary, source.path, encoding)
        if facts is None:
            return False
        self.take_facts(source, facts)
        return True

    def file_scan(self, source: LogSource, binary, scanner, counting=None):
        """A one-pass scan of an open file (fastpath.file_scan), or None for its format.

        When the scan completes, hand its facts to `take_facts`; the times of its hits
        get the upload's zone through `utc`.
        """
        fmt, encoding = self.formats[source.path]
        if not self.fast or source.path in self.cleanings:
            return None  # switched off, or a paste: its lines are cleaned before they are read
        return file_scan(fmt, encoding, binary, source.path, scanner, counting)

    def take_facts(self, source: LogSource, facts: FileFacts) -> None:
        fmt, encoding = self.formats[source.path]
        tally = _FileTally(source, fmt, encoding)
        tally.take(facts, self._lend_zone)
        if tally.naive and self._bias_for is None:
            tally.notes.append(self._local_time_note())
        self._tallies[source.path] = tally

    def hand_over(self, source: LogSource) -> _FileTally | None:
        """Takes out a file's facts, detached from its source, for `receive` (in another
        process, maybe: a source holds the open upload and does not pickle)."""
        tally = self._tallies.pop(source.path, None)
        if tally is not None:
            tally.source = None
        return tally

    def receive(self, source: LogSource, tally: _FileTally | None) -> None:
        """Puts back the facts `hand_over` took out of a reader of this upload."""
        if tally is not None:
            tally.source = source
            self._tallies[source.path] = tally

    def utc(self, when: datetime | None) -> datetime | None:
        """A local time made UTC with the upload's zone, if known (as entries get it)."""
        if when is None or when.tzinfo is not None or self._bias_for is None:
            return when
        return (when + timedelta(minutes=self._bias_for(when))).replace(tzinfo=UTC)

    def last_time(self, source: LogSource) -> datetime | None:
        """The time of the last timed entry of a file already read."""
        tally = self._tallies.get(source.path)
        return tally.last if tally else None

    def lend_zone(self, entry: Entry) -> Entry:
        """The entry, its local time made UTC with the upload's zone if known."""
        entry.time = self.utc(entry.time)
        return entry

    def _lend_zone(self, entry: Entry) -> bool:
        """Makes a local time UTC with the upload's zone, if known; whether it did."""
        when = entry.time
        entry.time = self.utc(when)
        return entry.time is not when

    def _local_time_note(self) -> str:
        if self.zones.observations and not self.zones.consistent:
            return (
                "times are local: the CMTrace logs of this upload disagree on the zone "
                f"({self.zones.describe()})"
            )
        return "times are local: the log has no zone and no CMTrace log in the upload reveals it"

    def report(self, log_name_for=None) -> ReadReport:
        """Per-file facts of everything read so far, in upload order."""
        files = []
        for group in self.groups():
            current = group[-1]
            for source in group:
                tally = self._tallies.get(source.path)
                if tally is None:
                    continue
                rotated_into = current.path if source is not current else None
                name = log_name_for(source.name, tally.fmt) if log_name_for else None
                files.append(tally.report(rotated_into, name))
        notes = list(self.upload.notes)
        if self.zones.observations:
            if self.zones.consistent:
                notes.append(f"machine time zone from the CMTrace logs: {self.zones.describe()}")
            else:
                notes.append(
                    f"the CMTrace logs disagree on the time zone ({self.zones.describe()}): "
                    "logs without a zone keep local time"
                )
        return ReadReport(files=files, skipped=list(self.upload.skipped), notes=notes)


def _source_size(source: LogSource) -> int:
    return source.size


def load_catalogue() -> None:
    from knowledge.kb import log_catalogue

    log_catalogue()


def catalogue_name(file_name: str, fmt: str) -> str | None:
    """The catalogue name of a file (WUAHandler.log), by its name or else its format."""
    from knowledge.kb import log_catalogue

    info = log_catalogue().log_for_file(file_name, fmt)
    return info.name if info else None


def read_report(path: Path, *, fast: bool = True) -> ReadReport:
    """`sccm logs PATH`: read every file once and describe what was read and skipped."""
    with open_upload(path) as upload:
        reader = LogReader(upload, fast=fast)
        sources = reader.sources_in_order()

        def read_one(source: LogSource) -> _FileTally | None:
            reader.read_facts(source)
            return reader.hand_over(source)

        workers = worker_count(sum(source.size for source in sources), len(sources))
        # The catalogue names the files at the end; its loading overlaps the reading.
        tallies = map_in_order(
            read_one, sources, workers, meanwhile=load_catalogue, size=_source_size
        )
        with contextlib.closing(tallies):  # an error here stops the workers at once
            for source, tally in zip(sources, tallies, strict=True):
                reader.receive(source, tally)
        return reader.report(catalogue_name)

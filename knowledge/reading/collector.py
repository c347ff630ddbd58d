"""The reading step of a diagnosis: every file of an upload read once, into findings.

Each file is read the fastest way its format and content allow (a one-pass byte scan
from `knowledge.fastpath`, else its reference parser entry by entry) into a `FileFold`,
on every core for big uploads; the folds are merged in file order. The fold never needs
to know which way a file was read.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import NamedTuple

from knowledge import fastpath
from knowledge.diagnosis.fold import (
    _AFTER_ALL_LINES,
    _FORMATS_WITH_OWN_STAGES,
    EXCERPT_ENTRIES,
    LATER,
    MAX_TRACKED_UPDATES,
    MAX_UPDATES_PER_FINDING,
    MIN_FAILURE_STRENGTH,
    STAGE_ORDER,
    FileFold,
    Finding,
    _code_lines,
    _scans_error_lines,
    _UpdateTrack,
)
from knowledge.diagnosis.signatures import SignatureSet
from knowledge.fastpath import NotFast, keep_analysis, map_in_order, worker_count
from knowledge.intake.archive import Upload
from knowledge.kb import KnowledgeBase, kb
from knowledge.models import (
    ERROR,
    Progress,
    ProgressCallback,
    ReadReport,
)
from knowledge.reading.reader import LogReader, ZoneHints, catalogue_name, sort_key


def _mark_end(fold: FileFold, reader: LogReader, source) -> None:
    """Where a file's logging ends: after its last timed record (the time of the end
    of the logs is the latest of these). Both ways of reading a file agree on it, even
    where its clock once went back."""
    last_time = reader.last_time(source)
    if last_time is not None:
        fold.latest = (sort_key(last_time), fold.index, _AFTER_ALL_LINES)


class Collector:
    """Turns the files of an upload into findings; memory stays bounded by the signatures.

    Each file is read into a `FileFold` of its own, and the folds are merged in the
    order the files were read: a fold can come from another process, and a file whose
    one-pass scan finds it unusual is dropped and read again entry by entry.
    """

    def __init__(self, knowledge: KnowledgeBase, signatures: SignatureSet):
        self.kb = knowledge
        self.signatures = signatures
        self.findings: dict[str, Finding] = {}
        self.updates: dict[str, _UpdateTrack] = {}
        self.latest_order: tuple = (datetime.min, -1, 0)

    def prepare(self, reader: LogReader, sources) -> None:
        """Compiles the signatures of every log among `sources`, ahead of reading them."""
        for source in sources:
            rule = _code_lines(reader.formats[source.path][0], source.size)
            self.signatures.for_log(
                self._log_of(reader, source), error_lines=_scans_error_lines(rule)
            )
        keep_analysis()  # the next run reads the pattern analysis instead of redoing it

    def _log_of(self, reader: LogReader, source):
        fmt, _ = reader.formats[source.path]
        return self.signatures.identify(source.name, fmt)

    def read_file(self, reader: LogReader, source, index: int) -> FileFold:
        """One file's fold: scanned in one pass where its format allows, else entry by entry."""
        info = self._log_of(reader, source)
        fmt, _ = reader.formats[source.path]
        rule = _code_lines(fmt, source.size)
        sigs = self.signatures.for_log(info, error_lines=_scans_error_lines(rule))
        if info is not None and sigs.scanner is not None:
            fold = self._scan(reader, source, index, sigs, info.name, rule)
            if fold is not None:
                return fold
        return self._read_entries(reader, source, index, info, sigs, rule)

    def _scan(self, reader, source, index, sigs, log, rule) -> FileFold | None:
        rest = sigs.rest
        with source.open() as binary:
            scan = reader.file_scan(source, binary, sigs.scanner, rest and rest.scanner)
            if scan is None:
                return None
            fold = FileFold(
                index,
                source.group,
                lambda hit: reader.lend_zone(scan.entry(hit)),
                lambda hit: sort_key(reader.utc(scan.time(hit))),
                self.kb,
            )
            fold.log_has_job = reader.formats[source.path][0] not in _FORMATS_WITH_OWN_STAGES
            counted_any = False
            try:
                for batch in scan.hits():
                    matcher = sigs if batch.counted is None else rest
                    for hit in batch.hits:
                        message = scan.message(hit)
                        mark = (hit, LATER, hit.line)
                        explained = False
                        for compiled, update in matcher.matches(message, hit.texts):
                            explained = (
                                fold.found(compiled, update, message, mark, log) or explained
                            )
                        if not explained:
                            fold.unexplained_error(
                                self.kb,
                                message,
                                mark,
                                log,
                                rule,
                                lambda hit=hit: scan.is_error(hit),
                            )
                    for counted in batch.counted or ():
                        counted_any = True
                        fold.counted(
                            sigs.signatures[sigs.counted[counted.pattern]],
                            counted.count,
                            (counted.first, LATER, counted.first.line),
                            (counted.last, LATER, counted.last.line),
                            log,
                        )
                if counted_any:
                    fold.order_as_read(sigs)
                fold.resolve()  # its evidence records are parsed here, and may prove odd
            except NotFast:
                return None
        reader.take_facts(source, scan.facts)
        if rule == "excerpt" and scan.facts.entries > EXCERPT_ENTRIES:
            fold.drop_code_findings()
        _mark_end(fold, reader, source)
        return fold

    def _read_entries(self, reader, source, index, info, file_sigs, rule) -> FileFold:
        fold = FileFold(index, source.group, lambda entry: entry, knowledge=self.kb)
        fold.log_has_job = reader.formats[source.path][0] not in _FORMATS_WITH_OWN_STAGES
        log_name = info.name if info else source.name
        previous = datetime.min
        entries = 0
        for key, entry in reader.file_entries(source):
            entries += 1
            if key is not None:
                previous = key
            if info is not None:
                sigs, name = file_sigs, log_name
            else:
                found, sigs = self.signatures.for_component(entry.component)
                name = found or log_name
            message = entry.message
            mark = (entry, previous, entry.line)
            explained = fold.signature_hits(sigs, message, mark, name)
            if not explained:
                fold.unexplained_error(
                    self.kb, message, mark, name, rule, lambda entry=entry: entry.severity == ERROR
                )
        if rule == "excerpt" and entries > EXCERPT_ENTRIES:
            fold.drop_code_findings()
        _mark_end(fold, reader, source)
        return fold

    def merge(self, fold: FileFold) -> None:
        """Adds a file's fold; folds must come in the order their files were read."""
        fold.resolve()
        self.latest_order = max(self.latest_order, fold.latest)
        for key, part in fold.partials.items():
            (first, first_order), (last, last_order) = part.first, part.last
            finding = self.findings.get(key)
            if finding is None:
                self.findings[key] = Finding(
                    key,
                    part.stage,
                    part.outcome,
                    part.cause,
                    part.strength,
                    part.title,
                    part.log,
                    first,
                    last,
                    first_order,
                    last_order,
                    part.count,
                    list(part.codes),
                    set(part.updates),
                )
                continue
            finding.count += part.count
            if last_order >= finding.last_order:
                finding.last, finding.last_order = last, last_order
            if first_order < finding.first_order:
                finding.first, finding.first_order = first, first_order
            for code in part.codes:
                if code not in finding.codes:
                    finding.codes.append(code)
            for update in part.updates:
                if len(finding.updates) >= MAX_UPDATES_PER_FINDING:
                    break
                finding.updates.add(update)
        for update, track in fold.updates.items():
            mine = self.updates.get(update)
            if mine is None:
                if len(self.updates) >= MAX_TRACKED_UPDATES:
                    continue
                mine = self.updates[update] = _UpdateTrack()
            mine.furthest = max(mine.furthest, track.furthest)
            mine.failed.update(track.failed)
            for stage, when in track.succeeded.items():
                mine.succeeded_after[stage] = max(when, mine.succeeded_after.get(stage, when))

    def earliest_failed_stage(self) -> str | None:
        stages = [
            f.stage
            for f in self.findings.values()
            if f.outcome == "failed" and f.strength >= MIN_FAILURE_STRENGTH
        ]
        return min(stages, key=STAGE_ORDER.__getitem__) if stages else None


class Collected(NamedTuple):
    collector: Collector
    report: ReadReport
    zones: ZoneHints


def collect_opened(
    upload: Upload,
    knowledge: KnowledgeBase,
    *,
    progress: ProgressCallback | None = None,
    fast: bool = True,
) -> Collected:
    """Reads every file of an opened upload once: the findings, what was read, and the
    machine's time zone as the logs show it."""
    signatures = signature_set(knowledge, fast=fast)
    reader = LogReader(upload, fast=fast)
    collector = Collector(knowledge, signatures)
    sources = reader.sources_in_order()

    def read_one(index: int):
        source = sources[index]
        fold = collector.read_file(reader, source, index).resolve()
        return fold, reader.hand_over(source)

    workers = worker_count(sum(source.size for source in sources), len(sources))
    if workers > 1:
        collector.prepare(reader, sources)
    folds = map_in_order(
        read_one, range(len(sources)), workers, size=lambda index: sources[index].size
    )
    with contextlib.closing(folds):  # an error here stops the workers at once
        for done, (source, (fold, tally)) in enumerate(zip(sources, folds, strict=True), 1):
            reader.receive(source, tally)
            collector.merge(fold)
            if progress is not None:
                stage = collector.earliest_failed_stage()
                progress(Progress(done, len(sources), source.path, stage))
    return Collected(collector, reader.report(catalogue_name), reader.zones)


def warm_up(fast: bool = True) -> None:
    """Load the knowledge base and compile its signatures now: done before forking
    readers, every child inherits them instead of building its own."""
    signature_set(kb(), fast=fast)


_SIGNATURE_SETS: dict[tuple[int, bool], SignatureSet] = {}


def signature_set(knowledge: KnowledgeBase, *, fast: bool = True) -> SignatureSet:
    """Compiled once per knowledge base: compiling every pattern per upload would be waste.
    `fast=False`: a set of its own that matches without the fast path (every signature
    tries every message; no scanner)."""
    key = (id(knowledge), fast)
    cached = _SIGNATURE_SETS.get(key)
    if cached is None or cached.kb is not knowledge:
        cached = _SIGNATURE_SETS[key] = SignatureSet(
            knowledge, first_look=fastpath if fast else None
        )
    return cached

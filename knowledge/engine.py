"""The diagnosis: from log entries to a stage ledger, a verdict and the next documented step.

How it decides, in the order a ConfigMgr admin would:

1. Every entry is checked against the signatures of the log it comes from. A hit says a
   stage was reached, succeeded or failed. Hits of one signature in one log are folded
   into one finding with a count and a first and last time, so the same error written
   40 times is one finding, not 40.
2. Error codes are evidence of their own. A line that no failure signature explains still
   counts, weakly, when it is an error line (a CMTrace type 3 record, or in any format a
   line that says it failed near the code: `codes.error_line_codes`) and carries a known,
   non-routine code whose stage the code table names; routine codes (0x87D00215, ...)
   never do. Its cause is the code's own (error_codes.yaml `cause`, or the one cause of
   that stage listing the code), else `<stage>.code`: "read from the code".
   A failure signature that only says a step failed (no cause, or `<stage>.failed`) takes
   the specific cause its line's code names, at that cause's stage: a download job failing
   with "disk full" is a full cache.
3. Per stage, a failure counts only if no success came after it. The verdict is the
   earliest stage in pipeline order with an unresolved failure; a stage failure on one
   update is not resolved by another update succeeding.
4. Confidence grows with the strength of the best line, the number of distinct findings
   that agree, and how recent the failure is compared with the end of the logs.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .archive import open_upload
from .codes import error_line_codes, find_codes, says_failed
from .collect import collect_advice
from .formats import NotFast
from .kb import KnowledgeBase, StepRef, kb
from .models import (
    ERROR,
    STAGE_IDS,
    Alternative,
    CodeRef,
    Diagnosis,
    Entry,
    Evidence,
    FilesSummary,
    LedgerRow,
    NextStep,
    Progress,
    ProgressCallback,
    ReadReport,
    UpdateProgress,
    iso_time,
)
from .parallel import map_in_order, worker_count
from .prefilter import keep_analysis
from .signatures import LogMatcher, SignatureSet
from .timeline import LogReader, catalogue_name, sort_key

# A failure weaker than this is a hint, not a verdict (e.g. "policy not received yet"
# on a client that just started).
MIN_FAILURE_STRENGTH = 0.45
# An error line with a known code but no signature: real, but vague; below every signature's
# strength, and above MIN_FAILURE_STRENGTH so that it can decide a verdict on its own.
UNEXPLAINED_ERROR_STRENGTH = 0.48
# A diagnosis that only a code supports is never surer than this.
CODE_ONLY_MAX_CONFIDENCE = 0.48
# A cause the code table would read from any code of its stage ("<stage>.code"), and the
# causes that only say a step failed: a code naming a specific cause refines them.
CODE_CAUSE_SUFFIX = ".code"
_GENERIC_CAUSE_SUFFIXES = (".failed", CODE_CAUSE_SUFFIX)
# Formats whose error-looking lines are mostly noise unless a signature says otherwise
# (Windows 10 WindowsUpdate.log *FAILED*, CBS "Info ... Failed").
_NOISY_FORMATS = {"wulog", "wulog-etw", "cbs", "text", "cmtrace-copy"}
# Which lines of a format may give a code that counts without a signature ("error lines"):
#  all  - every code of an error-typed record (CMTrace type 3), and the codes of any other
#         line that says it failed near the code (`codes.error_line_codes`);
#  lines - the codes of a line that says it failed (its type, if any, is not trusted);
#  typed - the same, but only on error-typed lines: CBS writes "Info ... Failed ...
#          [HRESULT = 0x800f0805]" on healthy machines, and "Error" where servicing failed;
#  excerpt - as `lines`, in a file of at most EXCERPT_ENTRIES entries only: a whole
#         Windows 10 WindowsUpdate.log keeps weeks of retried failures ("DO job failed",
#         "Call error code", `*FAILED*` traces) on machines that are fine, where a pasted
#         excerpt is what someone chose to show (and a file over EXCERPT_BYTES is whole:
#         `none`, no code is read on its own).
_CODE_LINES = {"cbs": "typed", "wulog-etw": "excerpt"}
EXCERPT_ENTRIES = 400
# A file bigger than this is a whole log, not an excerpt, whatever its number of entries:
# its codes are never read on their own, so its byte scan need not hand over failure lines.
EXCERPT_BYTES = 256 << 10
_FORMATS_WITH_OWN_STAGES = {"wulog", "wulog-etw", "cbs"}
_CODE_LINES.update({fmt: "lines" for fmt in _NOISY_FORMATS - set(_CODE_LINES)})


def _code_lines(fmt: str, size: int) -> str:
    rule = _CODE_LINES.get(fmt, "all")
    return "none" if rule == "excerpt" and size > EXCERPT_BYTES else rule


def _scans_error_lines(rule: str) -> bool:
    """Whether a byte scan must hand over every line holding a failure word (the rule may
    read codes from lines that are not error-typed)."""
    return rule != "none"


MAX_EVIDENCE = 10
FEW_STAGES = 3  # a healthy verdict on fewer stages than this asks for the rest of the logs
MAX_TRACKED_UPDATES = 500
MAX_UPDATES_PER_FINDING = 50
_WUA_PREFIXES = ("0x8024", "0x0024")
_CBS_PREFIXES = ("0x800F", "0x80073")

STAGE_ORDER = {stage: index for index, stage in enumerate(STAGE_IDS)}


@dataclass
class Finding:
    """Every hit of one signature (or one unexplained error code) in one log."""

    key: str
    stage: str
    outcome: str  # ok / reached / failed
    cause: str | None
    strength: float
    title: str
    log: str
    first: Entry
    last: Entry
    first_order: tuple
    last_order: tuple
    count: int = 0
    codes: list[str] = field(default_factory=list)
    updates: set[str] = field(default_factory=set)


@dataclass
class _UpdateTrack:
    """How far one update got, over every file read so far."""

    furthest: int = -1
    failed: dict[str, tuple[tuple, str | None]] = field(default_factory=dict)
    succeeded_after: dict[str, tuple] = field(default_factory=dict)


@dataclass
class _FileTrack:
    """How far one update got in one file: marks, ordered when the file is merged."""

    furthest: int = -1
    # mark (an order once the fold is resolved), code
    failed: dict[str, tuple[tuple, str | None]] = field(default_factory=dict)
    succeeded: dict[str, tuple] = field(default_factory=dict)  # the latest success's mark


@dataclass
class _Partial:
    """The hits of one signature (or one unexplained error shape) in one file.

    `first` and `last` are marks of the file's first and last hit (see FileFold): only
    these two are ever parsed into entries and timed, when the fold is resolved; from
    then on they are (entry, order).
    """

    key: str
    stage: str
    outcome: str
    cause: str | None
    strength: float
    title: str
    log: str
    first: tuple
    last: tuple
    count: int = 0
    codes: list[str] = field(default_factory=list)
    updates: dict[str, None] = field(default_factory=dict)


# Failure and error messages repeat too; their codes are remembered per file, this many.
_REMEMBERED_FAILURES = 1024
# The time of a mark that is read from its unit only when the file is merged.
LATER = None
# An order after every record of a file: (time, file, line).
_AFTER_ALL_LINES = 1 << 62


class FileFold:
    """What one file shows: its partial findings and update progress.

    Inside one file, hits keep the order the log wrote them in; a hit is marked as
    (unit, time key or LATER, line), where the unit is an entry or a scanner hit not yet
    parsed. Across files, `Collector.merge` orders marks by (time, file index, line):
    the time of an untimed entry is that of the last timed one before it in its file.
    """

    def __init__(self, index: int, group: str, entry_of, time_of=None, knowledge=None):
        self.index = index
        self.kb = knowledge  # for the causes that codes name (None: signatures' own causes)
        # Whether the file's log name says its job: not for WindowsUpdate or CBS text, which
        # people save under any name (and whose codes say their own stage).
        self.log_has_job = True
        self.group = group
        self.entry_of = entry_of  # unit -> Entry
        self.time_of = time_of  # unit -> sort key, for marks timed LATER
        self.partials: dict[str, _Partial] = {}
        self.updates: dict[str, _FileTrack] = {}
        self.latest: tuple = (datetime.min, index, 0)
        # Per signature id, its partial here: most hits only add one to a count.
        self._by_signature: dict[str, _Partial] = {}
        self._codes: dict[str, list[str]] = {}  # a failure or error message's codes
        self._line_codes: dict[str, list[str]] = {}  # an unexplained line's failure codes

    def record(self, key, stage, outcome, cause, strength, title, log, mark, update, codes):
        partial = self.partials.get(key)
        if partial is None:
            partial = self.partials[key] = _Partial(
                key, stage, outcome, cause, strength, title, log, mark, mark
            )
        partial.count += 1
        partial.last = mark
        for code in codes:
            if code not in partial.codes:
                partial.codes.append(code)
        if update:
            update = update.lower()
            if len(partial.updates) < MAX_UPDATES_PER_FINDING:
                partial.updates[update] = None
            track = self.updates.get(update)
            if track is None:
                if len(self.updates) >= MAX_TRACKED_UPDATES:
                    return
                track = self.updates[update] = _FileTrack()
            track.furthest = max(track.furthest, STAGE_ORDER[stage])
            if outcome == "failed":
                track.failed[stage] = (mark, codes[0] if codes else None)
            else:
                track.succeeded[stage] = mark

    def order(self, mark: tuple) -> tuple:
        """(time, file index, line) of a mark."""
        unit, when, line = mark
        if when is LATER:
            when = self.time_of(unit) or datetime.min
        return (when, self.index, line)

    def resolve(self) -> FileFold:
        """Parses and times the few marks a merge needs, and lets go of the file.

        Afterwards a partial's `first` and `last` are (entry, order), an update's marks
        are orders, and the fold holds no reader: it can be merged later or pickled
        back from another process.
        """
        if self.entry_of is None:
            return self
        for part in self.partials.values():
            part.first = (self.entry_of(part.first[0]), self.order(part.first))
            part.last = (self.entry_of(part.last[0]), self.order(part.last))
        for track in self.updates.values():
            track.failed = {
                stage: (self.order(mark), code) for stage, (mark, code) in track.failed.items()
            }
            track.succeeded = {stage: self.order(mark) for stage, mark in track.succeeded.items()}
        self.entry_of = self.time_of = None
        # for reading only: nothing to carry back
        self._by_signature, self._codes, self._line_codes = {}, {}, {}
        self.kb = None
        return self

    def signature_hits(self, sigs: LogMatcher, message: str, mark: tuple, log: str) -> bool:
        """Records every signature of `sigs` that matches; whether one was a failure."""
        explained = False
        for compiled, update in sigs.matches(message):
            explained = self.found(compiled, update, message, mark, log) or explained
        return explained

    def found(self, compiled, update: str | None, message: str, mark: tuple, log: str) -> bool:
        """Records one signature's match (and the update it names); whether it was a failure."""
        spec = compiled.spec
        failed = spec.outcome == "failed"
        if update is None and not failed:
            partial = self._by_signature.get(spec.id)
            if partial is not None:  # what `record` would do, without its arguments
                partial.count += 1
                partial.last = mark
                return False
        codes = self._codes_in(message) if failed else []
        key = f"{spec.id}|{self.group}"
        stage, cause = spec.stage, spec.cause
        if codes and self.kb is not None and _is_generic(cause):
            specific = _specific_cause(self.kb, codes)
            if specific is not None and specific[1] != cause:
                stage, cause = specific
                key = f"{spec.id}|{self.group}|{cause}"
        self.record(
            key,
            stage,
            spec.outcome,
            cause,
            spec.strength,
            spec.title or spec.id,
            log,
            mark,
            update,
            codes,
        )
        if not failed:
            self._by_signature[spec.id] = self.partials[key]
        return failed

    def counted(self, compiled, count: int, first: tuple, last: tuple, log: str) -> None:
        """Records `count` matches of a routine success (no update, not a failure) at
        once: the first and last of them are marked."""
        self.found(compiled, None, "", first, log)
        partial = self._by_signature[compiled.spec.id]
        partial.count += count - 1
        partial.last = last

    def drop_code_findings(self) -> None:
        """Forgets the findings read from codes alone (they name no update)."""
        self.partials = {k: p for k, p in self.partials.items() if not k.startswith("code:")}

    def order_as_read(self, sigs: LogMatcher) -> None:
        """Puts the partials in the order a record-by-record reading creates them: by
        their first record, then as `sigs` lists their signatures, unexplained errors
        last (matches counted a buffer at a time are recorded after its other hits)."""
        rank = {f"{c.spec.id}|{self.group}": i for i, c in enumerate(sigs.signatures)}
        after = len(rank)
        ordered = sorted(
            self.partials.items(), key=lambda item: (item[1].first[2], rank.get(item[0], after))
        )
        self.partials = dict(ordered)

    def _codes_in(self, message: str) -> list[str]:
        codes = self._codes.get(message)
        if codes is None:
            if len(self._codes) >= _REMEMBERED_FAILURES:
                self._codes.clear()
            codes = self._codes[message] = find_codes(message)
        return codes

    def _error_line_codes(self, message: str) -> list[str]:
        if not says_failed(message):
            return []  # most records handed over for a signature: not worth remembering
        codes = self._line_codes.get(message)
        if codes is None:
            if len(self._line_codes) >= _REMEMBERED_FAILURES:
                self._line_codes.clear()
            codes = self._line_codes[message] = error_line_codes(message)
        return codes

    def unexplained_error(
        self, knowledge: KnowledgeBase, message: str, mark: tuple, log: str, rule: str, is_error
    ):
        """Records the known codes of a line no failure signature explained, as `rule`
        (see _CODE_LINES) allows; `is_error()` says whether the line is error-typed."""
        if rule == "none":
            return
        if rule == "all":
            codes = self._codes_in(message) if is_error() else self._error_line_codes(message)
        elif rule in ("lines", "excerpt") or is_error():
            codes = self._error_line_codes(message)
        else:
            return
        for code in codes:
            finding = _code_finding(knowledge, code, log if self.log_has_job else None)
            if finding is None:
                continue
            stage, cause, title = finding
            self.record(
                f"code:{code}|{self.group}|{_shape(message)}",
                stage,
                "failed",
                cause,
                UNEXPLAINED_ERROR_STRENGTH,
                title,
                log,
                mark,
                None,
                [code],
            )


# What a known code read alone in a log means, per (knowledge base, code, log): a busy log
# repeats its failure lines with the same few codes, and working it out looks the log up
# by name and goes through the causes. The knowledge base is kept in the value, so its id
# cannot be reused by another while the entry lives; log names come from uploads, hence
# the bound.
_CODE_FINDINGS: dict[tuple[int, str, str | None], tuple[KnowledgeBase, tuple[str, ...]]] = {}
_REMEMBERED_CODE_FINDINGS = 4096


def _code_finding(knowledge: KnowledgeBase, code: str, log: str | None) -> tuple | None:
    """(stage, cause, title) of a finding read from `code` alone in `log` (None where the
    format's lines name their own stage), or None for an unknown or routine code, or one
    without a stage."""
    known = knowledge.codes.get(code)
    if known is None or known.routine or known.stage is None:
        return None
    key = (id(knowledge), code, log)
    cached = _CODE_FINDINGS.get(key)
    if cached is not None and cached[0] is knowledge:
        return cached[1]
    stage, cause = _stage_in_log(knowledge, code, log)
    title = f"error {code}" + (f" ({known.symbol})" if known.symbol else "")
    title += f": {_first_sentence(known.meaning)}"
    if len(_CODE_FINDINGS) >= _REMEMBERED_CODE_FINDINGS:
        _CODE_FINDINGS.clear()
    _CODE_FINDINGS[key] = (knowledge, (stage, cause, title))
    return stage, cause, title


def _first_sentence(meaning: str, limit: int = 120) -> str:
    sentence = meaning.split(". ", 1)[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 3] + "..."


def _is_generic(cause: str | None) -> bool:
    """A cause that only says a step failed, which a code's own cause can refine."""
    return cause is None or cause.endswith(_GENERIC_CAUSE_SUFFIXES)


_CODE_CAUSES: dict[tuple[int, str], str | None] = {}


def _code_cause(knowledge: KnowledgeBase, code: str) -> str | None:
    """The cause a code points at in the code table, at the code's stage: its own
    `cause`, else the one cause of that stage that lists it, else `<stage>.code`."""
    key = (id(knowledge), code)
    if key in _CODE_CAUSES:
        return _CODE_CAUSES[key]
    cause = None
    known = knowledge.codes.get(code)
    if known is not None and known.stage is not None:
        own = knowledge.causes.get(known.cause) if known.cause else None
        if own is not None and own.stage == known.stage:
            cause = own.id
        else:
            listing = [
                c.id
                for c in knowledge.causes.values()
                if c.stage == known.stage and code in c.codes
            ]
            if len(listing) == 1:
                cause = listing[0]
            elif f"{known.stage}{CODE_CAUSE_SUFFIX}" in knowledge.causes:
                cause = f"{known.stage}{CODE_CAUSE_SUFFIX}"
    _CODE_CAUSES[key] = cause
    return cause


def _stage_in_log(knowledge: KnowledgeBase, code: str, log: str | None) -> tuple[str, str | None]:
    """(stage, cause) of a code read alone in `log`: the code's stage, unless the log does
    one job that the code's stage is not (ccmsetup.log: the client; CBS.log: the install),
    where the code failed that job: then a cause of that stage that lists the code, else
    `<stage>.code`."""
    known = knowledge.codes[code]
    info = knowledge.log_by_name(log) if log else None
    if info is None or len(info.stages) != 1 or info.stages[0] == known.stage:
        return known.stage, _code_cause(knowledge, code)
    stage = info.stages[0]
    listing = [c.id for c in knowledge.causes.values() if c.stage == stage and code in c.codes]
    if len(listing) == 1:
        return stage, listing[0]
    generic = f"{stage}{CODE_CAUSE_SUFFIX}"
    return stage, generic if generic in knowledge.causes else None


def _specific_cause(knowledge: KnowledgeBase, codes: list[str]) -> tuple[str, str] | None:
    """(stage, cause) of the first non-routine code that names a specific cause."""
    for code in codes:
        known = knowledge.codes.get(code)
        if known is None or known.routine:
            continue
        cause = _code_cause(knowledge, code)
        if cause is not None and not _is_generic(cause):
            return knowledge.causes[cause].stage, cause
    return None


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


# Both cases spelled out rather than IGNORECASE, and the brace its own branch: each branch
# then opens with one character that `re` tests before entering it, which makes the
# search several times faster on long lines (the same classes: no other character folds
# to a-f or x).
_VARYING = re.compile(
    r"\{[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\}?|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\}?"
    r"|0[xX][0-9a-fA-F]+|\d+"
)


def _shape(message: str) -> str:
    """The message with its ids and numbers blanked: lines of one shape are one finding."""
    return _VARYING.sub("#", message[:300])


# --- from findings to a diagnosis -------------------------------------------------


@dataclass
class StageView:
    stage: str
    successes: list[Finding] = field(default_factory=list)
    unresolved: list[Finding] = field(default_factory=list)
    resolved: list[tuple[Finding, Finding]] = field(default_factory=list)  # (failure, fixer)
    weak: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.unresolved)


def _resolver_for(failure: Finding, successes: list[Finding]) -> Finding | None:
    """The success that came after a failure and covers the same update, if any.

    A stage that merely started again proves nothing, and a success of another update
    (or of no named update) does not mend a failure that names its updates.
    """
    later = [s for s in successes if s.outcome == "ok" and s.last_order > failure.last_order]
    if failure.updates:
        later = [s for s in later if s.updates & failure.updates]
    return max(later, key=lambda s: s.last_order) if later else None


def build_stage_views(findings: list[Finding]) -> dict[str, StageView]:
    views = {stage: StageView(stage) for stage in STAGE_IDS}
    for finding in findings:
        if finding.outcome in ("ok", "reached"):
            views[finding.stage].successes.append(finding)
    for finding in findings:
        if finding.outcome != "failed":
            continue
        view = views[finding.stage]
        fixer = _resolver_for(finding, view.successes)
        if fixer is not None:
            view.resolved.append((finding, fixer))
        elif finding.strength < MIN_FAILURE_STRENGTH:
            view.weak.append(finding)
        else:
            view.unresolved.append(finding)
    return views


def _ledger(views: dict[str, StageView], knowledge: KnowledgeBase, verdict_stage: str | None):
    rows = []
    for stage in STAGE_IDS:
        view = views[stage]
        title = knowledge.stage_title(stage)
        if view.failed:
            rows.append(LedgerRow(stage=stage, status="failed", title=title))
        elif view.successes or view.resolved:
            only_reached = all(s.outcome == "reached" for s in view.successes)
            note = "started; no result seen" if only_reached and view.successes else None
            if view.resolved:
                note = "an earlier failure was resolved later"
            rows.append(LedgerRow(stage=stage, status="ok", title=title, note=note))
        elif verdict_stage and STAGE_ORDER[stage] > STAGE_ORDER[verdict_stage]:
            rows.append(LedgerRow(stage=stage, status="not_reached", title=title))
        else:
            rows.append(LedgerRow(stage=stage, status="no_evidence", title=title))
    return rows


def _evidence(finding: Finding, *, use_first: bool = False) -> Evidence:
    entry = finding.first if use_first else finding.last
    text = " ".join(entry.message.split())
    if len(text) > 500:
        text = text[:497] + "..."
    outcome = "failed" if finding.outcome == "failed" else "ok"
    if finding.outcome == "reached":
        outcome = "reached"
    return Evidence(
        file=entry.file,
        line=entry.line,
        time=iso_time(entry.time),
        text=text,
        stage=finding.stage,
        outcome=outcome,
        signature=finding.key.split("|", 1)[0],
        count=finding.count,
        first_time=iso_time(finding.first.time),
        last_time=iso_time(finding.last.time),
    )


def _strongest(findings: list[Finding]) -> Finding:
    return max(findings, key=lambda f: (f.strength, f.cause is not None, f.last_order))


def _confidence(primary: Finding, view: StageView, latest_order: tuple) -> float:
    score = primary.strength
    agreeing = {f.key for f in view.unresolved if f is not primary}
    score += min(0.15, 0.05 * len(agreeing))
    if primary.count > 1:
        score += 0.03
    age = latest_order[0] - primary.last_order[0]
    if primary.last_order[0] != datetime.min and latest_order[0] != datetime.min:
        if age <= timedelta(days=1):
            score += 0.05
        elif age > timedelta(days=7):
            score -= 0.15
    if all(_from_code(f) for f in view.unresolved):
        score = min(score, CODE_ONLY_MAX_CONFIDENCE)  # no signature says what went wrong
    return round(max(0.05, min(0.99, score)), 2)


def _from_code(finding: Finding) -> bool:
    """Whether a finding was read from an error code alone (no signature matched)."""
    return finding.key.startswith("code:")


def _cause_of(view: StageView, primary: Finding, knowledge: KnowledgeBase) -> str | None:
    if primary.cause:
        return primary.cause
    causes = Counter(f.cause for f in view.unresolved if f.cause)
    if causes:
        return causes.most_common(1)[0][0]
    for code in primary.codes:
        known = knowledge.codes.get(code)
        if known and known.cause and knowledge.causes[known.cause].stage == view.stage:
            return known.cause
    return None


def _step(knowledge: KnowledgeBase, ref: StepRef) -> NextStep:
    text, source = knowledge.step_text(ref)
    return NextStep(text=text, source=source, procedure=ref.procedure, step=ref.step)


def _next_steps(knowledge: KnowledgeBase, stage: str, cause: str | None, codes: list[str]):
    code_steps = []
    for code in codes[:2]:
        known = knowledge.codes.get(code)
        if known and not known.routine:
            code_steps.append(NextStep(text=f"For {code}: {known.next_step}", source=known.source))
    if cause and cause.endswith(CODE_CAUSE_SUFFIX):
        # Read from the code: what the code table says to do about it comes first.
        return code_steps + [_step(knowledge, ref) for ref in knowledge.causes[cause].next]
    if cause:
        steps = [_step(knowledge, ref) for ref in knowledge.causes[cause].next]
    else:
        procedure = knowledge.stages[stage].procedure
        count = min(2, len(knowledge.procedures[procedure].steps))
        steps = [
            _step(knowledge, StepRef(procedure=procedure, step=n)) for n in range(1, count + 1)
        ]
    return steps + code_steps


def _code_refs(findings: list[Finding], knowledge: KnowledgeBase) -> list[CodeRef]:
    counts: Counter[str] = Counter()
    for finding in findings:
        for code in finding.codes:
            counts[code] += finding.count
    refs = []
    for code, count in counts.most_common(10):
        known = knowledge.codes.get(code)
        refs.append(
            CodeRef(
                code=code,
                symbol=known.symbol if known else None,
                meaning=known.meaning if known else None,
                stage=known.stage if known else None,
                count=count,
            )
        )
    return refs


def _present_logs(report: ReadReport) -> set[str]:
    return {f.log for f in report.files if f.log and f.entries}


def _missing_logs(
    knowledge: KnowledgeBase, stage: str | None, codes: list[str], present: set[str]
) -> tuple[list[str], list[str]]:
    """Logs that would confirm or rule out the verdict, and how to get those not in CCM\\Logs."""
    wanted: list[str] = []
    if stage is None:
        for candidate in ("client", "scan", "evaluate", "download", "install"):
            wanted += knowledge.stages[candidate].logs
    else:
        wanted += knowledge.stages[stage].logs
    wants_wua = stage in ("scan", "install") or any(c.startswith(_WUA_PREFIXES) for c in codes)
    wants_cbs = stage == "install" or any(c.startswith(_CBS_PREFIXES) for c in codes)
    missing: list[str] = []
    for name in wanted:
        info = knowledge.log_by_name(name)
        if info is None or info.name in present or info.name in missing:
            continue
        if not info.in_ccm_logs:
            wanted_here = (info.name == "WindowsUpdate.log" and wants_wua) or (
                info.name == "CBS.log" and wants_cbs
            )
            if not wanted_here:
                continue
        missing.append(info.name)
    for name, wanted_here in (("WindowsUpdate.log", wants_wua), ("CBS.log", wants_cbs)):
        if wanted_here and name not in present and name not in missing:
            missing.append(name)
    how = []
    for name in missing:
        info = knowledge.log_by_name(name)
        if info and not info.in_ccm_logs and info.how_to_collect:
            how.append(f"{info.name}: {info.how_to_collect}")
    if missing:
        how[:0] = collect_advice()
    return missing, how


def _alternatives(views, verdict_stage, primary: Finding | None, knowledge) -> list[Alternative]:
    alternatives: list[Alternative] = []
    for stage in STAGE_IDS:
        view = views[stage]
        if stage == verdict_stage and primary is not None:
            others = [f for f in view.unresolved if f is not primary and f.cause != primary.cause]
            for finding in others[:2]:
                alternatives.append(
                    Alternative(
                        stage=stage,
                        cause=finding.cause,
                        confidence=round(finding.strength * 0.6, 2),
                        why_not=f"same stage, but {finding.title!r} is a less specific sign than "
                        f"{primary.title!r}",
                    )
                )
            continue
        if view.unresolved:
            best = _strongest(view.unresolved)
            later = verdict_stage and STAGE_ORDER[stage] > STAGE_ORDER[verdict_stage]
            why = (
                f"also failed, but later in the pipeline than "
                f"{knowledge.stage_title(verdict_stage)}: it may be a consequence"
                if later
                else "failed too"
            )
            alternatives.append(
                Alternative(
                    stage=stage,
                    cause=best.cause,
                    confidence=round(best.strength * 0.5, 2),
                    why_not=why,
                )
            )
        for failure, fixer in view.resolved[:1]:
            when = iso_time(fixer.last.time) or "later"
            alternatives.append(
                Alternative(
                    stage=stage,
                    cause=failure.cause,
                    confidence=round(failure.strength * 0.2, 2),
                    why_not=f"{failure.title!r} was followed by {fixer.title!r} at {when}: "
                    "resolved",
                )
            )
        for weak in view.weak[:1]:
            alternatives.append(
                Alternative(
                    stage=stage,
                    cause=weak.cause,
                    confidence=round(weak.strength * 0.5, 2),
                    why_not=f"only a weak sign ({weak.title!r}), not enough on its own",
                )
            )
    alternatives.sort(key=lambda a: -a.confidence)
    return alternatives[:5]


def _updates(collector: Collector, views: dict[str, StageView]) -> list[UpdateProgress]:
    progress = []
    for update, track in list(collector.updates.items())[:50]:
        stopped = None
        code = None
        for stage in sorted(track.failed, key=STAGE_ORDER.__getitem__):
            order, failed_code = track.failed[stage]
            if track.succeeded_after.get(stage, (datetime.min, -1, 0)) <= order:
                stopped, code = stage, failed_code
                break
        furthest = STAGE_IDS[track.furthest] if track.furthest >= 0 else None
        status = (
            "failed"
            if stopped
            else ("ok" if furthest in ("install", "reboot", "report") else "in_progress")
        )
        progress.append(
            UpdateProgress(
                update=update,
                furthest_stage=furthest,
                status=status,
                stopped_at=stopped,
                code=code,
            )
        )
    progress.sort(key=lambda p: (p.status != "failed", p.update))
    return progress


def assemble(
    collector: Collector, report: ReadReport, knowledge: KnowledgeBase, description: str | None
) -> Diagnosis:
    findings = list(collector.findings.values())
    views = build_stage_views(findings)
    files = FilesSummary(read=len(report.files), skipped=report.skipped)
    present = _present_logs(report)
    failed_stages = [s for s in STAGE_IDS if views[s].failed]
    verdict_stage = failed_stages[0] if failed_stages else None

    if verdict_stage:
        view = views[verdict_stage]
        primary = _strongest(view.unresolved)
        cause = _cause_of(view, primary, knowledge)
        codes = list(dict.fromkeys(c for f in view.unresolved for c in f.codes))
        ordered = sorted(view.unresolved, key=lambda f: (f is not primary, -f.strength))
        evidence = [_evidence(f) for f in ordered]
        evidence += _supporting_successes(views, verdict_stage)
        missing, how = _missing_logs(knowledge, verdict_stage, codes, present)
        stage_title = knowledge.stage_title(verdict_stage)
        cause_info = knowledge.causes.get(cause) if cause else None
        summary = f"Updates stop at {stage_title.lower()}"
        summary += f": {cause_info.title[0].lower()}{cause_info.title[1:]}." if cause_info else "."
        summary += f" {cause_info.summary}" if cause_info else ""
        summary += f" Strongest sign: {primary.title} ({primary.count}x in {primary.log})."
        return Diagnosis(
            verdict="failure",
            stage=verdict_stage,
            stage_title=stage_title,
            cause=cause,
            cause_title=cause_info.title if cause_info else None,
            confidence=_confidence(primary, view, collector.latest_order),
            summary=summary,
            next_steps=_next_steps(knowledge, verdict_stage, cause, codes),
            evidence=evidence[:MAX_EVIDENCE],
            error_codes=_code_refs(view.unresolved, knowledge),
            ledger=_ledger(views, knowledge, verdict_stage),
            alternatives=_alternatives(views, verdict_stage, primary, knowledge),
            missing_logs=missing,
            how_to_collect=how,
            files=files,
            updates=_updates(collector, views),
        )

    ok_stages = [s for s in STAGE_IDS if views[s].successes or views[s].resolved]
    alternatives = _alternatives(views, None, None, knowledge)
    if ok_stages:
        evidence = _supporting_successes(views, None)
        resolved = [v for v in views.values() if v.resolved]
        summary = (
            f"No unresolved failure: the logs show {len(ok_stages)} of 10 stages working "
            f"({', '.join(knowledge.stage_title(s).lower() for s in ok_stages)})."
        )
        if resolved:
            summary += " Earlier failures were followed by successes."
        missing: list[str] = []
        how: list[str] = []
        if len(ok_stages) < FEW_STAGES:
            # A log or two that look fine say little about the rest of the pipeline.
            missing, how = _missing_logs(knowledge, None, [], present)
            summary += (
                " That is only part of the pipeline: send the whole C:\\Windows\\CCM\\Logs "
                "folder to check the rest."
            )
        return Diagnosis(
            verdict="healthy",
            confidence=round(min(0.9, 0.45 + 0.07 * len(ok_stages)), 2),
            summary=summary,
            evidence=evidence[:MAX_EVIDENCE],
            ledger=_ledger(views, knowledge, None),
            alternatives=alternatives,
            missing_logs=missing,
            how_to_collect=how,
            files=files,
            updates=_updates(collector, views),
        )

    missing, how = _missing_logs(knowledge, None, [], present)
    if not report.files:
        summary = "No log file could be read, so there is nothing to judge."
    else:
        count = f"{len(report.files)} file" + ("s" if len(report.files) != 1 else "")
        summary = (
            f"The {count} read show no step of the software-update pipeline, so there is "
            "nothing to judge. Send the logs listed as missing."
        )
    if description:
        summary += " The description alone is not evidence: try `sccm diagnose --symptom`."
    collect = StepRef(procedure="not-downloaded", step=1)
    next_steps = [_step(knowledge, collect)] if "not-downloaded" in knowledge.procedures else []
    return Diagnosis(
        verdict="inconclusive",
        confidence=0.0,
        summary=summary,
        next_steps=next_steps,
        ledger=_ledger(views, knowledge, None),
        alternatives=alternatives,
        missing_logs=missing,
        how_to_collect=how,
        files=files,
    )


def _supporting_successes(views: dict[str, StageView], before: str | None) -> list[Evidence]:
    """The latest success of each stage before the verdict: the pipeline worked up to there."""
    evidence = []
    for stage in STAGE_IDS:
        if before and STAGE_ORDER[stage] >= STAGE_ORDER[before]:
            break
        ok = [f for f in views[stage].successes if f.outcome == "ok"] or views[stage].successes
        if ok:
            evidence.append(_evidence(max(ok, key=lambda f: f.last_order)))
    return evidence


def diagnose_upload(
    path: Path,
    *,
    description: str | None = None,
    progress: ProgressCallback | None = None,
    fast: bool = True,
) -> Diagnosis:
    knowledge = kb()
    signatures = _signature_set(knowledge, fast=fast)
    with open_upload(path) as upload:
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
        report = reader.report(catalogue_name)
    return assemble(collector, report, knowledge, description)


_SIGNATURE_SETS: dict[tuple[int, bool], SignatureSet] = {}


def _signature_set(knowledge: KnowledgeBase, *, fast: bool = True) -> SignatureSet:
    """Compiled once per knowledge base: compiling every pattern per upload would be waste.
    `fast=False`: a set of its own whose matchers build no scanner."""
    key = (id(knowledge), fast)
    cached = _SIGNATURE_SETS.get(key)
    if cached is None or cached.kb is not knowledge:
        cached = _SIGNATURE_SETS[key] = SignatureSet(knowledge, scan=fast)
    return cached

"""One file's findings: what its lines say about each stage, folded as they are read.

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

The reading step (`knowledge.reading.collector`) feeds a `FileFold` per file and merges
the folds into `Finding`s; `knowledge.diagnosis.verdict` judges them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from knowledge.codes import CODE_CAUSE_SUFFIX, error_line_codes, find_codes, says_failed
from knowledge.diagnosis.signatures import LogMatcher
from knowledge.kb import KnowledgeBase
from knowledge.models import (
    STAGE_IDS,
    Entry,
)

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


MAX_TRACKED_UPDATES = 500
MAX_UPDATES_PER_FINDING = 50

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

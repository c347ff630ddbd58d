"""Applies the knowledge base's signatures to log entries.

A signature belongs to one or more catalogue logs. Which log an entry comes from is
decided once per file (by its name, misspellings and rotation accepted; by its format
for WindowsUpdate.log and CBS.log pasted under another name) and, for files with an
unknown name, per component tag. Matching is `re.search`, case-insensitive.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from knowledge.codes import ERROR_LINE_TEXTS
from knowledge.formats.cmtrace import OPEN
from knowledge.kb import KnowledgeBase, LogInfo, Signature

# Routine lines repeat word for word thousands of times in a busy log ("Successfully
# forwarded State Messages to the MP"), so what short messages matched is remembered,
# per log. One memory serves every log and every upload of the process (the bot runs
# for months): its bounds keep it to a few MB (how they were chosen: benchmarks/README.md,
# "After parallel reading and one-pass scans of every big format").
_REMEMBERED_MESSAGES = 16384
_REMEMBERED_LENGTH = 256
_remembered: dict[tuple[LogMatcher, str], list[tuple[CompiledSignature, str | None]]] = {}


@dataclass(frozen=True, slots=True)
class CompiledSignature:
    spec: Signature
    regex: re.Pattern[str]
    names_update: bool
    literals: frozenset[str] | None  # a match contains one of these (lower-case)


class LogMatcher:
    """The signatures of one log, with a shared first look that rules most lines out.

    Where a one-pass scan can use it (a buffer of CMTrace records in ASCII), `rest`
    is a sharper first look, with Hyperscan:

    * routine successes are most of the matches in a busy log, and all a diagnosis
      keeps of them is a count and the first and last record: `counted` lists those
      signatures (positions in `signatures`) whose whole patterns `rest`'s scanner
      counts;
    * `rest` matches the other signatures, and its scanner finds each by its own
      pattern, prefiltered, instead of by a text that routine lines also hold.
    """

    def __init__(
        self,
        signatures: list[CompiledSignature],
        patterns: tuple[str, ...] | None = None,
        filtered: tuple[int, ...] = (),
        error_lines: bool = True,
        first_look=None,
    ):
        """`patterns` and `filtered` make a `rest`: the whole patterns its scanner counts,
        and its signatures (positions) that the scanner finds by their own pattern.
        `error_lines`: the scanner also finds every line holding a failure word.
        `first_look`: the fast path (`knowledge.fastpath`), which gives the texts each
        signature needs and the scanners that find them; None when it is off: every
        signature tries every message, and files are read entry by entry."""
        self.error_lines = error_lines
        self.first_look = first_look
        self.signatures = signatures
        self.always = [s for s in signatures if s.literals is None]
        self._always_at = {i for i, s in enumerate(signatures) if s.literals is None}
        # Each required text, and the signatures (by position) that require it.
        self._users: dict[str, list[int]] = {}
        for index, compiled in enumerate(signatures):
            if index in filtered:
                continue  # the scanner finds it by its pattern
            for text in sorted(compiled.literals or ()):  # the same order every run
                self._users.setdefault(text, []).append(index)
        self._texts = tuple(self._users)
        # For whole files: finds the records that any signature could match, or that are
        # errors. None when some signature has no required text (it must see every record).
        self.scanner = None  # a first_look.TextScanner
        self._scanned_users: list[list[int]] = []
        self.counted: list[int] = []
        self.rest: LogMatcher | None = None
        if first_look is not None and not self.always:
            filters = [signatures[i].regex.pattern for i in filtered]
            # Error lines too: a line that says it failed may carry a code that decides.
            error_text = first_look.ERROR_TEXT
            wanted = (error_text, *ERROR_LINE_TEXTS) if error_lines else (error_text,)
            extra = [t for t in wanted if t not in self._users]
            self.scanner = first_look.TextScanner([*self._texts, *extra], patterns or (), filters)
            self._scanned_users = [self._users.get(text, []) for text in self.scanner.texts]
            self._scanned_users += [[i] for i in filtered]
            if self.scanner.exact and patterns is None:
                self._plan_rest()

    @functools.cached_property
    def prefilter(self) -> re.Pattern[str] | None:
        """One regex for all the required texts, for messages read entry by entry (a
        file scan finds the texts itself: most uploads never need this one)."""
        if self.first_look is None:
            return None
        return self.first_look.trie_regex(
            text for s in self.signatures for text in (s.literals or ())
        )

    def _plan_rest(self) -> None:
        counted = [
            index
            for index, compiled in enumerate(self.signatures)
            if compiled.spec.outcome != "failed"
            and not compiled.names_update
            and self.first_look.single_line_pattern(compiled.regex.pattern, OPEN)
        ]
        try:
            self._make_rest(counted, lambda _pattern, as_filter: True)
        except Exception:  # hyperscan.error: it finds some pattern too large
            takes = self.first_look.hyperscan_takes
            counted = [i for i in counted if takes(self.signatures[i].regex.pattern)]
            try:
                self._make_rest(counted, takes)
            except Exception:  # each compiles alone, not all together: scan for texts only
                return

    def _make_rest(self, counted: list[int], takes) -> None:
        chosen = set(counted)
        others = [s for i, s in enumerate(self.signatures) if i not in chosen]
        filtered = tuple(
            i
            for i, s in enumerate(others)
            if self.first_look.filter_pattern(s.regex.pattern)
            and takes(s.regex.pattern, as_filter=True)
        )
        if counted or filtered:
            patterns = tuple(self.signatures[i].regex.pattern for i in counted)
            self.rest = LogMatcher(others, patterns, filtered, self.error_lines, self.first_look)
            self.counted = counted

    def matches(
        self, message: str, texts: set[int] | None = None
    ) -> list[tuple[CompiledSignature, str | None]]:
        """(signature, the update it names or None) for every signature that matches.

        `texts`, when given, are the indices of the scanner's texts that the message is
        known to hold (the scanner found them): only their signatures are tried. The
        answer depends on the message alone (a signature can only match a message that
        holds one of its texts), so it is remembered for short messages.
        """
        if texts is not None and not message.isascii():
            # The scanner ignores case for ASCII letters only; `re` also folds others
            # (the Kelvin sign is a k): for such text, look again as the slow path does.
            texts = None
        key = (self, message)
        found = _remembered.get(key)
        if found is None:
            found = [
                (compiled, match.group("update") if compiled.names_update else None)
                for compiled, match in self._search(message, texts)
            ]
            if len(message) <= _REMEMBERED_LENGTH:
                if len(_remembered) >= _REMEMBERED_MESSAGES:
                    _remembered.clear()
                _remembered[key] = found
        return found

    def _search(self, message: str, texts: set[int] | None):
        candidates = self.always
        if texts is not None:
            users = self._scanned_users
            found = {i for text in texts for i in users[text]}
            candidates = [self.signatures[i] for i in sorted(found)]
        elif self.prefilter is not None:
            lowered = message.lower()
            if self.prefilter.search(lowered) is not None:
                # One substring test per text (a C loop), not one generator per signature.
                found = {i for text in self._texts if text in lowered for i in self._users[text]}
                candidates = [self.signatures[i] for i in sorted(found | self._always_at)]
        for compiled in candidates:
            match = compiled.regex.search(message)
            if match is not None:
                yield compiled, match


class SignatureSet:
    """The signatures of a knowledge base, indexed by the log they apply to."""

    def __init__(self, knowledge: KnowledgeBase, *, first_look=None):
        """`first_look`: the fast path (`knowledge.fastpath`, handed over by the reading
        step, the one module that imports it), or None to match the plain way."""
        self.kb = knowledge
        self.first_look = first_look
        self._by_log: dict[str, list[CompiledSignature]] = {}
        anywhere: list[CompiledSignature] = []
        for spec in knowledge.signatures:
            regex = re.compile(spec.pattern, re.IGNORECASE)
            literals = first_look.required_literals(spec.pattern) if first_look else None
            compiled = CompiledSignature(spec, regex, "update" in regex.groupindex, literals)
            for log in spec.logs:
                if log == "*":
                    anywhere.append(compiled)
                    continue
                info = knowledge.log_by_name(log)
                self._by_log.setdefault(info.name, []).append(compiled)
        self._anywhere = anywhere
        self._components: dict[str, LogInfo] = {}
        for info in knowledge.logs:
            for component in info.components:
                self._components.setdefault(component.lower(), info)
        self._matchers: dict[str | tuple[str | None, str] | None, LogMatcher] = {}
        self._for_component: dict[str, tuple[str | None, LogMatcher]] = {}

    def identify(self, file_name: str, fmt: str) -> LogInfo | None:
        """The catalogue log a file is, from its name, else from its format."""
        return self.kb.log_for_file(file_name, fmt)

    def for_log(self, info: LogInfo | None, *, error_lines: bool = True) -> LogMatcher:
        """The signatures of a log; `error_lines`: its scanner also finds every line that
        holds a failure word (for formats whose untyped lines may give codes)."""
        name = info.name if info else None
        key = name if error_lines else (name, "errors only")
        matcher = self._matchers.get(key)
        if matcher is None:
            own = self._by_log.get(name, []) if name else []
            matcher = self._matchers[key] = LogMatcher(
                own + self._anywhere, error_lines=error_lines, first_look=self.first_look
            )
        return matcher

    def for_any_log(self) -> LogMatcher:
        """Every signature, for a line quoted in prose whose log is not named."""
        matcher = self._matchers.get("*")
        if matcher is None:
            every = {id(c): c for cs in self._by_log.values() for c in cs}
            every.update({id(c): c for c in self._anywhere})
            matcher = self._matchers["*"] = LogMatcher(
                list(every.values()), first_look=self.first_look
            )
        return matcher

    def for_component(self, component: str) -> tuple[str | None, LogMatcher]:
        """(log name, signatures) for an entry of a file whose name we don't know."""
        cached = self._for_component.get(component)
        if cached is None:
            info = self._components.get(component.lower())
            cached = (info.name if info else None, self.for_log(info))
            self._for_component[component] = cached
        return cached

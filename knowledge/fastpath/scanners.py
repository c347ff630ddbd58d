"""The compiled scanners that find the signatures' texts (and some whole patterns) in
whole buffers before any line is decoded: Hyperscan where it has a wheel, else RE2."""

from __future__ import annotations

import hashlib
import platform
import re
import threading
from collections.abc import Iterable

from knowledge.fastpath.cache import cache_file, keep_file

_LONE_CR = rb"\r(?:[^\n]|\z)"


class NotUsual(Exception):
    """Raised inside a byte scan when a file is not written the usual way; the scans turn
    it into their one outward signal (`cmtrace_scan.NotFast`, or None before starting)."""


class LoneCarriageReturn(NotUsual):
    """A scanned buffer holds a lone CR: its line numbers cannot come from counting LF."""


class TextScanner:
    """Every place in a buffer where one of a fixed list of texts occurs, ignoring case.

    `scan(buffer, end)` gives (end offset, text index) for each occurrence in
    buffer[:end], in order of end offset. With Hyperscan (Linux and macOS) every
    occurrence is reported, overlapping ones too, at a few GB/s: the caller learns
    exactly which texts each record holds. Without it, re2 reports the leftmost
    occurrence after each one it found, with index -1 (which text is unknown): enough
    to find the records worth reading, at a few hundred MB/s.

    Case is ignored for ASCII letters only, where `re` also folds a few others (the
    Kelvin sign is a k): a record that spells a wanted text only that way is not
    found. (Matching then looks at non-ASCII messages as the slow path does.)

    With Hyperscan the same pass also looks for a lone CR (one not followed by LF),
    which a text reader takes for a line break: `scan` raises `LoneCarriageReturn`
    when it finds one, and `checks_line_breaks` says that it looks.

    With Hyperscan only (both stay empty without it), it can also look for

    * whole `patterns` (`re` syntax that `single_line_pattern` accepts): `scan` calls
      `on_pattern(pattern index, end offset)` for every place where a match ends;
    * `filters`: patterns that `filter_pattern` accepts, found as Hyperscan's
      prefiltering finds them (every match, and maybe more), and reported like texts:
      the index of the first filter is the number of texts.
    """

    def __init__(
        self, texts: Iterable[str], patterns: Iterable[str] = (), filters: Iterable[str] = ()
    ):
        self.texts = tuple(texts)
        encoded = [text.encode() for text in self.texts]
        patterns, filters = tuple(patterns), tuple(filters)
        self._database = _hyperscan_database(
            encoded,
            patterns=[pattern.encode() for pattern in patterns],
            filters=[pattern.encode() for pattern in filters],
        )
        self.exact = self.checks_line_breaks = self._database is not None
        self.patterns = patterns if self.exact else ()
        self.filters = filters if self.exact else ()
        self._scratch = threading.local()  # Hyperscan's working memory: one per thread
        self._finder = None if self.exact else _re2_finder(encoded)

    def scan(self, buffer: bytes, end: int, on_pattern=None) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        if self._database is not None:
            append = found.append
            lone_cr = len(self.texts) + len(self.filters)

            def on_match(index, _start, stop, _flags, _context):
                if index < lone_cr:
                    append((stop, index))
                elif index == lone_cr:
                    raise LoneCarriageReturn(stop)
                else:
                    on_pattern(index - lone_cr - 1, stop)

            _scan_with(self._database, self._scratch, buffer, end, on_match)
            return found
        pos = 0
        search = self._finder.search
        while (match := search(buffer, pos, end)) is not None:
            pos = match.end()
            found.append((pos, -1))
        return found


class LiteralCounter:
    """How often each of a few byte strings occurs in a buffer, case-sensitively.

    For strings that are rare (a log's error and warning types), one Hyperscan pass
    costs a fraction of one `bytes.count` pass per string; without Hyperscan it is
    those passes.
    """

    def __init__(self, literals: Iterable[bytes]):
        self.literals = tuple(literals)
        self._database = _hyperscan_database(list(self.literals), caseless=False, lone_cr=False)
        self._scratch = threading.local()

    def count(self, buffer: bytes, end: int) -> list[int]:
        if self._database is None:
            return [buffer.count(literal, 0, end) for literal in self.literals]
        counts = [0] * len(self.literals)

        def on_match(index, _start, _stop, _flags, _context):
            counts[index] += 1

        _scan_with(self._database, self._scratch, buffer, end, on_match)
        return counts


def _scan_with(database, scratches: threading.local, buffer: bytes, end: int, on_match) -> None:
    """Runs a Hyperscan database over buffer[:end], with this thread's working memory
    (a scratch serves one scan at a time: the bot scans in several threads)."""
    scratch = getattr(scratches, "space", None)
    if scratch is None:
        import hyperscan

        scratch = scratches.space = hyperscan.Scratch(database)
    data = memoryview(buffer)[:end] if end < len(buffer) else buffer  # no copy
    database.scan(data, match_event_handler=on_match, scratch=scratch)


def hyperscan_takes(pattern: str, *, as_filter: bool = False) -> bool:
    """Whether Hyperscan is here and compiles `pattern` (some it finds too large)."""
    compiled = [pattern.encode()]
    try:
        database = _hyperscan_database(
            [], lone_cr=False, **{"filters" if as_filter else "patterns": compiled}
        )
    except Exception:  # hyperscan.error, which only exists where Hyperscan does
        return False
    return database is not None


def _hyperscan_database(
    texts: list[bytes],
    *,
    caseless: bool = True,
    lone_cr: bool = True,
    patterns: Iterable[bytes] = (),
    filters: Iterable[bytes] = (),
):
    """Texts, then filters, then the lone CR, then whole patterns, numbered in that order."""
    try:
        import hyperscan
    except ImportError:  # no wheel for this platform (Windows on Arm, say): re2 instead
        return None
    case = hyperscan.HS_FLAG_CASELESS if caseless else 0
    expressions = [re.escape(text) for text in texts]
    flags = [case] * len(expressions)
    for pattern in filters:
        expressions.append(pattern)
        flags.append(case | hyperscan.HS_FLAG_PREFILTER)
    if lone_cr:
        expressions.append(_LONE_CR)
        flags.append(case)
    expressions += patterns
    flags += [case] * (len(expressions) - len(flags))
    key = hashlib.sha256(
        repr((hyperscan.__version__, platform.machine(), expressions, flags)).encode()
    ).hexdigest()
    cached = cache_file(key)
    if cached is not None:
        try:
            return hyperscan.loadb(cached.read_bytes(), hyperscan.HS_MODE_BLOCK)
        except (OSError, hyperscan.error):  # not there yet, or from another build: compile
            pass
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=expressions, ids=list(range(len(expressions))), flags=flags)
    if cached is not None:
        keep_file(cached, hyperscan.dumpb(database))
    return database


def _re2_finder(texts: list[bytes]):
    import re2

    alternatives = b"|".join(re.escape(text) for text in sorted(set(texts)))
    return re2.compile(b"(?i)(?:" + alternatives + b")")

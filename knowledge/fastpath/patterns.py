"""A cheap first look before the signature regexes run.

Almost every log line matches no signature, and running 20-odd regexes on each of
millions of lines is most of the cost of a diagnosis. Each signature pattern has text
that any match must contain (a literal run, or one of a few literal alternatives);
one combined regex over those texts, shaped as a trie so each position is tried once,
tells which signatures can possibly match a line. Only those run their full regex.

Over whole files the same texts are found by `TextScanner`, before any line is decoded.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import re._parser as _sre_parse  # Python's regex parser (there since 3.11, our oldest)
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from re._constants import ANY as ANY_CHARACTER
from re._constants import (
    ASSERT,
    ASSERT_NOT,
    AT,
    AT_BOUNDARY,
    AT_NON_BOUNDARY,
    BRANCH,
    CATEGORY,
    IN,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    NEGATE,
    RANGE,
    SUBPATTERN,
)

MIN_LITERAL = 4  # shorter texts match too many lines to be worth checking first


@functools.lru_cache(maxsize=1024)
def _parsed(pattern: str):
    """The parse tree of a caseless pattern (each is looked at several ways)."""
    return _sre_parse.parse(pattern, re.IGNORECASE)


def _required_literals(pattern: str) -> frozenset[str] | None:
    """Lower-case texts of which every match of `pattern` contains at least one.

    None when no such texts of a useful length can be found: the signature then
    always runs its full regex.
    """
    try:
        parsed = _parsed(pattern)
    except re.error:
        return None
    best = _best_requirement(list(parsed))
    return frozenset(best) if best else None


def _best_requirement(items) -> list[str] | None:
    """The most selective requirement among the top-level items of a sequence."""
    candidates: list[list[str]] = []
    run: list[str] = []
    for op, value in items:
        if op is LITERAL:
            run.append(chr(value))
            continue
        if run:
            candidates.append(["".join(run)])
            run = []
        alternatives = _literal_alternatives(op, value)
        if alternatives:
            candidates.append(alternatives)
    if run:
        candidates.append(["".join(run)])
    useful = [c for c in candidates if min(len(text) for text in c) >= MIN_LITERAL]
    if not useful:
        return None
    best = max(useful, key=lambda c: (min(len(text) for text in c), -len(c)))
    return [text.lower() for text in best]


def _literal_alternatives(op, value) -> list[str] | None:
    """For groups, alternations and lookarounds: texts one of which any match contains."""
    if op is SUBPATTERN:
        body = list(value[-1])
        if len(body) == 1:
            return _literal_alternatives(*body[0])
        return _best_requirement(body)
    if op is ASSERT:  # (?=...) or (?<=...): its text is in the searched string too
        return _best_requirement(list(value[1]))
    if op is BRANCH:
        texts: list[str] = []
        for branch in value[1]:
            required = _best_requirement(list(branch))
            if not required:
                return None
            texts += required
        return texts
    return None


# Character classes as sets of ASCII codes: the whole-pattern scan below is used on
# ASCII text only.
_ASCII = range(128)
_CLASSES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}


class _Unsupported(Exception):
    """A construct the whole-pattern scan does not take."""


def _single_line_pattern(pattern: str, opening: str) -> bool:
    """Whether a caseless scan of ASCII lines finds `pattern` where `re.search` would.

    The scan looks at the lines of a buffer. A text that `re.search(pattern, text,
    re.IGNORECASE)` is meant for starts right after `opening` at the start of a line,
    and may go on over the next lines (a reader joins them with line feeds, without
    their CRs). The scan is told where a match ends, not where it starts, so this holds
    when

    * no part of the pattern can match a CR or a line feed: a match stays in one line,
      and a line's CR, which the reader drops, never takes part in one,
    * no match can start inside `opening` (its first character is never one of
      `opening`'s): a match then lies in the text after it,
    * it uses only what Hyperscan reads as `re` does: literals, classes, groups without
      flags, alternation, repeats and word boundaries (no anchors, lookarounds or
      back-references).

    Whether a match ends before the text does is for the caller to check.
    """
    if not _read_alike(pattern) or any(space in pattern for space in _SPACE_CLASSES):
        return False
    try:
        items = list(_parsed(pattern))
        first, nullable = _first_characters(items)
    except (re.error, _Unsupported):
        return False
    return not nullable and not first & _folded({ord(char) for char in opening})


def _filter_pattern(pattern: str) -> bool:
    """Whether Hyperscan, prefiltering `pattern` over ASCII lines and ignoring case,
    finds every record whose text `re.search(pattern, text, re.IGNORECASE)` matches
    (and maybe more, which the caller then rules out with `re`).

    Prefiltering takes what Hyperscan cannot do exactly (lookarounds, big repeats) in
    a looser form. It holds when no part of the pattern, lookarounds included, can
    match a CR or a line feed (a reader joins a record's lines with line feeds and
    drops their CRs: a match stays inside one line, which the scan sees as it is), and
    the pattern has no anchors but word boundaries and no flags of its own.
    """
    if not _read_alike(pattern):
        return False
    try:
        _check_lines_only(list(_parsed(pattern)))
    except (re.error, _Unsupported):
        return False
    return True


# Hyperscan reads a pattern as PCRE does, and a few spellings mean something else in
# `re`: \v is a class of vertical spaces there (CR and LF among them), {,n} a literal
# text, [:digit:] inside a class a POSIX class. Patterns holding them are not given to
# it (the spelling is looked for in the text: an escaped backslash before it only
# costs the speed-up).
_PCRE_READS_OTHERWISE = ("\\v", "{,", "[:")
# Python's \s (and so \S) takes the ASCII separators 0x1C-0x1F, Hyperscan's does not:
# a counted pattern must not use them (a prefilter may: it only finds more).
_SPACE_CLASSES = ("\\s", "\\S")
# Global flags that change what a pattern means (`.` taking a line feed, spaces being
# ignored, ^ and $ at line ends): the analysis here reads patterns without them.
_MEANING_FLAGS = re.DOTALL | re.VERBOSE | re.MULTILINE | re.LOCALE


def _read_alike(pattern: str) -> bool:
    """Whether Hyperscan and `re` read the spelling of `pattern` the same way."""
    if not pattern.isascii() or any(text in pattern for text in _PCRE_READS_OTHERWISE):
        return False
    try:
        return not _parsed(pattern).state.flags & _MEANING_FLAGS
    except re.error:
        return False


def _check_lines_only(items) -> None:
    for op, value in items:
        characters = _character_set(op, value)
        if characters is not None:
            if ord("\n") in characters or ord("\r") in characters:
                raise _Unsupported
        elif op is AT:
            if value not in (AT_BOUNDARY, AT_NON_BOUNDARY):
                raise _Unsupported
        elif op is SUBPATTERN:
            if value[1] or value[2]:  # flags of its own
                raise _Unsupported
            _check_lines_only(list(value[-1]))
        elif op is BRANCH:
            for branch in value[1]:
                _check_lines_only(list(branch))
        elif op in (MAX_REPEAT, MIN_REPEAT, ASSERT, ASSERT_NOT):
            _check_lines_only(list(value[-1]))
        else:
            raise _Unsupported


def _folded(codes) -> frozenset[int]:
    """A set of ASCII codes, with both cases of each letter (case is ignored)."""
    return frozenset(code for c in codes for code in {c, ord(chr(c).swapcase())})


def _character_set(op, value) -> frozenset[int] | None:
    """The ASCII characters one item matches, or None when it matches no character."""
    if op is LITERAL:
        return _folded([value])
    if op is ANY_CHARACTER:
        return frozenset(_ASCII) - {ord("\n")}
    if op is IN:
        negate = False
        members: set[int] = set()
        for kind, item in value:
            if kind is NEGATE:
                negate = True
            elif kind is LITERAL:
                members.add(item)
            elif kind is RANGE:
                members.update(range(item[0], min(item[1], 127) + 1))
            elif kind is CATEGORY and str(item) in _CLASSES:
                rule = re.compile(_CLASSES[str(item)])
                members.update(c for c in _ASCII if rule.match(chr(c)))
            else:
                raise _Unsupported
        folded = _folded(members & set(_ASCII))
        return frozenset(_ASCII) - folded if negate else folded
    return None


def _first_characters(items) -> tuple[frozenset[int], bool]:
    """(the characters a match can start with, whether it can be empty) of a sequence;
    raises _Unsupported for what the scan cannot take, or a part that can match a CR
    or a line feed."""
    first: frozenset[int] = frozenset()
    nullable = True
    for op, value in items:  # every item is looked at: any of them may be unsupported
        item_first, item_nullable = _item_first(op, value)
        if nullable:
            first |= item_first
        nullable = nullable and item_nullable
    return first, nullable


def _item_first(op, value) -> tuple[frozenset[int], bool]:
    characters = _character_set(op, value)
    if characters is not None:
        if ord("\n") in characters or ord("\r") in characters:
            raise _Unsupported
        return characters, False
    if op is AT and value in (AT_BOUNDARY, AT_NON_BOUNDARY):
        return frozenset(), True
    if op is SUBPATTERN:
        _group, add_flags, del_flags, body = value
        if add_flags or del_flags:
            raise _Unsupported
        return _first_characters(list(body))
    if op is BRANCH:
        first: frozenset[int] = frozenset()
        nullable = False
        for branch in value[1]:
            branch_first, branch_nullable = _first_characters(list(branch))
            first |= branch_first
            nullable = nullable or branch_nullable
        return first, nullable
    if op in (MAX_REPEAT, MIN_REPEAT):
        low, _high, body = value
        body_first, body_nullable = _first_characters(list(body))
        return body_first, low == 0 or body_nullable
    raise _Unsupported


def trie_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of `words`, with shared prefixes factored out."""
    trie: dict = {}
    for word in set(words):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    if not trie:
        return None
    return re.compile(_trie_pattern(trie))


def _trie_pattern(node: dict) -> str:
    if "" in node:
        return ""  # a whole word ends here: finding it is enough, longer words add nothing
    branches = [re.escape(char) + _trie_pattern(child) for char, child in sorted(node.items())]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


# A CR that is not followed by LF, also at the very end of the data.
_LONE_CR = rb"\r(?:[^\n]|\z)"


class LoneCarriageReturn(Exception):
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
    cached = _cache_file(key)
    if cached is not None:
        try:
            return hyperscan.loadb(cached.read_bytes(), hyperscan.HS_MODE_BLOCK)
        except (OSError, hyperscan.error):  # not there yet, or from another build: compile
            pass
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=expressions, ids=list(range(len(expressions))), flags=flags)
    if cached is not None:
        _keep(cached, hyperscan.dumpb(database))
    return database


def _cache_file(key: str, kind: str = "hyperscan", suffix: str = "db") -> Path | None:
    """Where a compiled database (or the pattern analysis) is kept between runs: compiling
    the signatures' whole patterns takes a few hundred milliseconds, loading them a few
    microseconds. Under $XDG_CACHE_HOME (else ~/.cache)/sccm-triage; None without a home."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    try:  # a relative $XDG_CACHE_HOME is to be ignored (XDG Base Directory spec)
        root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    except RuntimeError:  # no home directory to be found
        return None
    return root / "sccm-triage" / f"{kind}-{key[:32]}.{suffix}"


# --- the pattern analysis, kept between runs ------------------------------------------------
# What the three analysers above say depends only on the pattern texts, this module and the
# Python that parses them; reading it back costs far less than parsing every signature again
# in each process (benchmarks/README.md). A missing or unreadable file is analysed again.
_analysis: dict[str, object] | None = None
_analysis_changed = False
_analysis_lock = threading.Lock()


def _analysis_path() -> Path | None:
    key = hashlib.sha256(Path(__file__).read_bytes() + sys.version.encode()).hexdigest()
    return _cache_file(key, "analysis", "json")


def _analysis_table() -> dict[str, object]:
    global _analysis
    if _analysis is None:
        table: dict[str, object] = {}
        path = _analysis_path()
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    table = loaded
        _analysis = table
    return _analysis


def _kept(kind: str, compute):
    """`compute`, answered from the kept table when it has the answer."""

    def lookup(*args: str):
        global _analysis_changed
        key = kind + "\0" + "\0".join(args)
        table = _analysis_table()
        if key in table:
            value = table[key]
        else:
            value = compute(*args)
            if isinstance(value, frozenset):
                value = sorted(value)
            with _analysis_lock:
                table[key] = value
                _analysis_changed = True
        return frozenset(value) if isinstance(value, list) else value

    lookup.__doc__ = compute.__doc__
    return lookup


required_literals = _kept("literals", _required_literals)
single_line_pattern = _kept("single-line", _single_line_pattern)  # a signature serves several logs
filter_pattern = _kept("filter", _filter_pattern)


def keep_analysis() -> None:
    """Writes the analysis down when this process added to it (atomically, see `_keep`)."""
    global _analysis_changed
    with _analysis_lock:
        if not _analysis_changed or _analysis is None:
            return
        data = json.dumps(_analysis, sort_keys=True).encode()
        _analysis_changed = False
    path = _analysis_path()
    if path is not None:
        _keep(path, data)


def _keep(path: Path, data: bytes) -> None:
    """Writes a cache file whole or not at all (another process may be reading it); a
    cache that cannot be written (read-only home) only costs the compile next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(name, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        return
    _prune(path.parent)


# Each edit of the signatures makes new databases: the cache keeps the newest this many.
CACHED_DATABASES = 200
CACHED_ANALYSES = 10  # one per version of this module and of Python


def _prune(folder: Path) -> None:
    """Keeps the newest databases, and drops what a write that was cut off left."""
    with contextlib.suppress(OSError):
        kept = sorted(folder.glob("hyperscan-*.db"), key=lambda p: p.stat().st_mtime)
        analyses = sorted(folder.glob("analysis-*.json"), key=lambda p: p.stat().st_mtime)
        stale = [p for p in folder.glob("*.tmp") if time.time() - p.stat().st_mtime > 3600]
        for old in kept[:-CACHED_DATABASES] + analyses[:-CACHED_ANALYSES] + stale:
            old.unlink()


def _re2_finder(texts: list[bytes]):
    import re2

    alternatives = b"|".join(re.escape(text) for text in sorted(set(texts)))
    return re2.compile(b"(?i)(?:" + alternatives + b")")

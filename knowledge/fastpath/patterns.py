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
import re
import re._parser as _sre_parse  # Python's regex parser (there since 3.11, our oldest)
import sys
import threading
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

from knowledge.fastpath.cache import cache_file, keep_file

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
# --- the pattern analysis, kept between runs ------------------------------------------------
# What the three analysers above say depends only on the pattern texts, this module and the
# Python that parses them; reading it back costs far less than parsing every signature again
# in each process (benchmarks/README.md). A missing or unreadable file is analysed again.
_analysis: dict[str, object] | None = None
_analysis_changed = False
_analysis_lock = threading.Lock()


def _analysis_path() -> Path | None:
    key = hashlib.sha256(Path(__file__).read_bytes() + sys.version.encode()).hexdigest()
    return cache_file(key, "analysis", "json")


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
    """Writes the analysis down when this process added to it (atomically, see `keep_file`)."""
    global _analysis_changed
    with _analysis_lock:
        if not _analysis_changed or _analysis is None:
            return
        data = json.dumps(_analysis, sort_keys=True).encode()
        _analysis_changed = False
    path = _analysis_path()
    if path is not None:
        keep_file(path, data)

"""Log formats: which one a file is written in, and its entries.

The format is decided by what the text looks like, never by the file's name: uploads
rename files (`WUAHandler (2).log`, `CBS.txt`), and CCM\\Logs holds formats that its names
do not tell apart. The name only breaks a tie between two equally good readings.

A small file may be a paste (markdown fences, quotes, line numbers, console-wrapped
rows: see `paste`). Its reading is then a format plus a `Cleaning`; the format is the
one its lines show once cleaned, so a CMTrace record in a code fence is still `cmtrace`.

`sccm logs` names the formats (../shared/CONTRACT.md): cmtrace, simple, wulog,
wulog-etw, cbs, cmtrace-copy, text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TextIO

from knowledge.formats import cbs, cmtrace, cmtrace_copy, paste, simple, text, wulog, wulog_etw
from knowledge.formats.paste import NO_CLEANING, Cleaning
from knowledge.models import FORMATS, Entry

PARSERS: dict[str, Callable[[TextIO, str], Iterator[Entry]]] = {
    "cmtrace": cmtrace.parse,
    "simple": simple.parse,
    "wulog": wulog.parse,
    "wulog-etw": wulog_etw.parse,
    "cbs": cbs.parse,
    "cmtrace-copy": cmtrace_copy.parse,
    "text": text.parse,
}

_SAMPLE_LINES = 200
_SIMPLE_TAIL = re.compile(r"\$\$<[^>]*><\d{1,2}-\d{1,2}-\d{4} \d{1,2}:\d{2}:\d{2}")
_CMTRACE_ATTRS = re.compile(r'\]LOG\]!><time="\d{1,2}:\d{2}:\d{2}')

# The line-shaped formats, each with a test for one line of it.
_LINE_TESTS: dict[str, Callable[[str], bool]] = {
    "simple": lambda line: _SIMPLE_TAIL.search(line) is not None,
    "wulog": lambda line: wulog.LINE.match(line) is not None,
    "wulog-etw": lambda line: wulog_etw.LINE.match(line) is not None,
    "cbs": lambda line: cbs.LINE.match(line) is not None,
    "cmtrace-copy": cmtrace_copy.row_has_time,
}
# A sample this long may be the head of a bigger file, its last line cut short.
_CUT_SAMPLE_CHARS = 4096
# Line formats whose rows a console can break at its width (see paste.wrapped_rows).
_WRAPPABLE_ROWS: dict[str, Callable[[str], bool]] = {
    "wulog": _LINE_TESTS["wulog"],
    "wulog-etw": _LINE_TESTS["wulog-etw"],
}
# A format must explain at least this share of the sampled lines to be chosen: CBS logs
# can open with long untimestamped continuations, so the bar is low; the other formats
# never match by accident (each needs a full timestamp in a fixed place).
_MIN_SHARE = 0.1
# The stripped CMTrace copy (`message   Component`) has no timestamp, so it must explain
# most lines, and more than one, before it beats plain text.
_STRIPPED_COPY_SHARE = 0.6

# Names only break ties.
_NAME_HINTS = (
    ("cbs", "cbs"),
    ("dism", "cbs"),
    ("windowsupdate", "wulog"),
)


def detect_format(sample: str, name: str = "") -> str:
    """The format of a file, from the first few KB of its decoded text."""
    return _detect(sample.removeprefix("\ufeff"), name)[0]


def _detect(sample: str, name: str) -> tuple[str, list[str], dict[str, int] | None]:
    """(format, the sample's non-blank lines, how many lines each line format explains);
    the counts are None where the format was decided without them."""
    lines = [line for line in sample.splitlines()[:_SAMPLE_LINES] if line.strip()]
    if not lines:
        return "text", lines, None
    if _CMTRACE_ATTRS.search(sample) or any(
        line.lstrip().startswith(cmtrace.OPEN) for line in lines
    ):
        return "cmtrace", lines, None
    scores = _line_scores(lines)
    best = max(scores.values())
    if best > 0 and best >= _MIN_SHARE * len(lines):
        leaders = [fmt for fmt, score in scores.items() if score == best]
        fmt = leaders[0] if len(leaders) == 1 else _by_name(leaders, name)
        return fmt, lines, scores
    stripped_rows = sum(1 for line in lines if cmtrace_copy.split_row(line) is not None)
    if stripped_rows >= 2 and stripped_rows >= _STRIPPED_COPY_SHARE * len(lines):
        return "cmtrace-copy", lines, scores
    return "text", lines, scores


def _line_scores(lines: list[str]) -> dict[str, int]:
    return {fmt: sum(1 for line in lines if test(line)) for fmt, test in _LINE_TESTS.items()}


def _may_be_row(line: str) -> bool:
    """Whether a line outside any CMTrace record could be a row of a line format (they
    all start with a date, hold a tab, or end in a thread or `$$<...>` tail)."""
    return line[:1].isdigit() or "\t" in line or line.rstrip().endswith((")", ">"))


def detect_reading(sample: str, name: str = "", size: int | None = None) -> tuple[str, Cleaning]:
    """The format of a file and how to clean its lines first, from its first few KB.

    `size` is the file's size in bytes: a file too big to be a paste is read as it is.
    Reading a log as written costs little more than `detect_format`: each paste check
    starts from what the format's own detection already counted.
    """
    sample = sample.removeprefix("\ufeff")
    if size is not None and size > paste.PASTE_MAX_BYTES:
        return detect_format(sample, name), NO_CLEANING
    cleaning = NO_CLEANING
    if paste.may_be_markdown(sample):
        cleaning = paste.markdown_cleaning(sample)
        if cleaning.strips_markdown:
            sample = paste.clean_sample(sample, cleaning)
    fmt, lines, scores = _detect(sample, name)
    if fmt == "text":
        component = paste.trailing_component(lines)
        if component is None:
            return fmt, cleaning
        split = cleaning.with_component(component)
        if _detect(paste.clean_sample(sample, split), name)[0] == "cmtrace-copy":
            return "cmtrace-copy", split
        return fmt, cleaning
    if scores is None:  # CMTrace records: other formats' rows are among the other lines
        if sample.count(cmtrace.OPEN) >= len(lines):
            return fmt, cleaning  # a record on every line: nothing else is there
        others = [line for line in lines if cmtrace.OPEN not in line and _may_be_row(line)]
        scores = {**_line_scores(others), "cmtrace": len(lines)}
    row_test = _WRAPPABLE_ROWS.get(fmt)
    cut = len(sample) >= _CUT_SAMPLE_CHARS and not sample.endswith(("\n", "\r"))
    if row_test is not None and scores[fmt] < len(lines) - cut:
        sampled = sample.splitlines()[:_SAMPLE_LINES]
        if cut:
            sampled = sampled[:-1]  # the sample was cut in the middle of a row
        if paste.wrapped_rows(sampled, row_test):
            cleaning = cleaning.with_unwrap(row_test)
    if sum(1 for score in scores.values() if score >= paste.MIN_BLOCK_LINES) > 1:
        kinds = paste.block_formats(sample.splitlines()[:_SAMPLE_LINES], line_format)
        if len(kinds) > 1:
            cleaning = cleaning.with_blocks()
    return fmt, cleaning


def _by_name(candidates: list[str], name: str) -> str:
    lowered = name.lower()
    for hint, fmt in _NAME_HINTS:
        if hint in lowered and fmt in candidates:
            return fmt
    return candidates[0]


def parse_entries(
    fmt: str, text: TextIO, path: str, cleaning: Cleaning = NO_CLEANING
) -> Iterator[Entry]:
    """Stream the entries of one file in the given format; `path` becomes Entry.file.

    With a `cleaning` (from `detect_reading`), the lines are cleaned first."""
    try:
        parser = PARSERS[fmt]
    except KeyError:
        raise ValueError(f"unknown log format {fmt!r}; expected one of {FORMATS}") from None
    if cleaning != NO_CLEANING:
        text = paste.CleanedText(text, cleaning)
    if cleaning.blocks:
        return paste.parse_blocks(text, path, line_format, PARSERS, fmt)
    return parser(text, path)


def line_format(line: str) -> str | None:
    """The format one line is written in, or None for a line any format may hold."""
    if cmtrace.OPEN in line:
        return "cmtrace"
    for fmt, test in _LINE_TESTS.items():
        if test(line):
            return fmt
    return None


__all__ = ["NO_CLEANING", "PARSERS", "Cleaning", "detect_format", "detect_reading", "parse_entries"]

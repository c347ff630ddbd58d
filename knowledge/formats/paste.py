"""Log text the way it reaches a helpdesk: pasted into markdown, or copied off a console.

People do not upload clean log files only. They paste excerpts into tickets, chat and
wiki pages, and what arrives carries the wrapping of where it was pasted:

- markdown code fences (```` ``` ```` or `~~~`, with an info string such as `output`);
- `> ` quoting, nested too (`> > `, `>> `);
- a leading line number added by an editor or a viewer (`12:`, `12|`, `12 `, `12<TAB>`);
- an indentation shared by every line (a 4-space code block, a list item);
- two trailing spaces, markdown's line break;
- what the page made of characters: `&nbsp;` between columns, `&lt;` and `&gt;`,
  markdown's escapes `\\<`, `\\>` and `\\*` (only these: no Windows path holds those
  characters, and a backslash before anything else may be part of a path);
- a WindowsUpdate.log row broken at the terminal width when it was copied off a
  console: the rest of the row starts the next line;
- CMTrace rows stripped to `message Component` with a single space (the support article
  on update deployments quotes ServiceWindowManager.log so): when most lines end in the
  same component name, that name is split off as the row's component;
- lines of two logs in one paste (a few WindowsUpdate.log lines, then a few CMTrace
  rows): each block of lines is read in its own format (`parse_blocks`).

A `Cleaning` says which of these a file shows (decided from its first few KB), and
`CleanedText` reads the file through it. Every physical line stays one line, so line
numbers still point into the file as uploaded: a fence line reads as a blank line, and
a console-wrapped row reads whole on its first line, its continuation lines blank.

Only small files are cleaned (`PASTE_MAX_BYTES`): a paste is short, while a log written
by Windows or ConfigMgr never needs it and keeps its one-pass byte scan.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from knowledge.formats.decoding import iter_lines
from knowledge.models import Entry

# Bigger files are logs as written, never pastes: they are read as they are.
PASTE_MAX_BYTES = 2 << 20

_FENCE = re.compile(r"(?:```|~~~)")
_QUOTE = re.compile(r" *(?:> ?)+")
# `12: `, `12| `, `12 | `, `12<TAB>`, `12 ` (then text): a number a viewer put in front.
_NUMBER = re.compile(r" *(\d{1,6})(?: ?[:|] ?|\t| )")
_MIN_NUMBERED_LINES = 3
_NUMBERED_SHARE = 0.8
_QUOTED_SHARE = 0.5
_MIN_INDENT = 2
_ENTITIES = (
    ("&nbsp;", " "),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("\\<", "<"),
    ("\\>", ">"),
    ("\\*", "*"),
)


@dataclass(frozen=True)
class Cleaning:
    """What to take off each line of a pasted file, in this order."""

    numbers: bool = False  # a leading line number
    indent: int = 0  # leading spaces every line shares (outside any quote)
    quote: bool = False  # `>` quote markers
    inner_indent: int = 0  # leading spaces every quoted line shares
    fences: bool = False  # code-fence lines read as blank lines, their content dedented
    unwrap: Callable[[str], bool] | None = None  # a row test: join console-wrapped rows
    blocks: bool = False  # lines of several formats: each block read in its own
    entities: bool = False  # `&nbsp;`, `&lt;`, `&gt;` and the escapes `\<`, `\>`, `\*`
    component: str | None = None  # the component most lines end in, after one space

    def clean_line(self, line: str) -> str:
        if self.entities and ("&" in line or "\\" in line):
            for written, meant in _ENTITIES:
                line = line.replace(written, meant)
        if self.numbers:
            match = _NUMBER.match(line)
            if match is not None:
                line = line[match.end() :]
        if self.indent:
            line = _dedent(line, self.indent)
        if self.quote:
            match = _QUOTE.match(line)
            if match is not None:
                line = line[match.end() :]
            if self.inner_indent:
                line = _dedent(line, self.inner_indent)
        if self.component is not None:
            trimmed = line.rstrip()
            if trimmed.endswith(" " + self.component):
                # `message Component` as the stripped copy with tabs writes it
                return trimmed[: -len(self.component)].rstrip() + "\t" + self.component
        # Markdown's two-space line break; a console copy's trailing space is text.
        return line.rstrip(" ") if self.strips_markdown else line

    def with_unwrap(self, row_test: Callable[[str], bool]) -> Cleaning:
        return dataclasses.replace(self, unwrap=row_test)

    def with_blocks(self) -> Cleaning:
        return dataclasses.replace(self, blocks=True)

    def with_component(self, component: str) -> Cleaning:
        return dataclasses.replace(self, component=component)

    @property
    def strips_markdown(self) -> bool:
        return self.numbers or self.quote or self.fences or self.indent > 0 or self.entities


NO_CLEANING = Cleaning()


def _dedent(line: str, width: int) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, width) :]


def _indent_of(lines: list[str]) -> int:
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    return min(indents) if indents else 0


def _numbered(lines: list[str]) -> bool:
    """Most lines open with a number, and those numbers count up one by one."""
    filled = [line for line in lines if line.strip()]
    numbers = []
    for line in filled:
        match = _NUMBER.match(line)
        if match is not None:
            numbers.append(int(match.group(1)))
    if len(numbers) < _MIN_NUMBERED_LINES or len(numbers) < _NUMBERED_SHARE * len(filled):
        return False
    steps = sum(1 for a, b in zip(numbers, numbers[1:], strict=False) if b == a + 1)
    return steps >= _NUMBERED_SHARE * (len(numbers) - 1)


# How many of a sample's first lines are looked at for a sign of markdown. This runs on
# every file's sample, so a log as written is let go after a few cheap checks.
_HINT_LINES = 20
_HINT_CHARS = 8192


def may_be_markdown(sample: str) -> bool:
    """Whether a sample shows any sign of a paste (a fence, `&nbsp;`, or among its first
    lines a quote, an indentation or a line number)."""
    if "```" in sample or "~~~" in sample or "&nbsp;" in sample:
        return True
    head = [line for line in sample[:_HINT_CHARS].splitlines()[:_HINT_LINES] if line.strip()]
    return any(
        line.startswith("  ") or line.lstrip(" ").startswith(">") or _NUMBER.match(line)
        for line in head
    )


# A component name as ConfigMgr writes them (WUAHandler, ServiceWindowManager,
# UpdatesDeploymentAgent): two capitals at least, so that a sentence that ends in the
# same word on every line ("failed") is no copy.
_COMPONENT_NAME = re.compile(r"[A-Za-z_][\w.\-]*[A-Z][\w.\-]*$")
_COMPONENT_CAPITALS = 2
_SAME_COMPONENT_SHARE = 0.6
_MIN_COMPONENT_LINES = 3


def trailing_component(lines: list[str]) -> str | None:
    """The component that most lines end in after a space (a stripped CMTrace copy whose
    gaps became single spaces), or None."""
    filled = [line.rstrip() for line in lines if line.strip()]
    ends = Counter(
        line.rsplit(" ", 1)[1] for line in filled if " " in line and not line.endswith(" ")
    )
    if not ends:
        return None
    name, count = ends.most_common(1)[0]
    capitals = sum(1 for char in name if char.isupper())
    if (
        count >= _MIN_COMPONENT_LINES
        and count >= _SAME_COMPONENT_SHARE * len(filled)
        and capitals >= _COMPONENT_CAPITALS
        and _COMPONENT_NAME.match(name)
    ):
        return name
    return None


def markdown_cleaning(sample: str) -> Cleaning:
    """The markdown a pasted sample shows (NO_CLEANING for a file as written)."""
    lines = sample.splitlines()
    cleaning = Cleaning(numbers=_numbered(lines))
    lines = [cleaning.clean_line(line) for line in lines]
    indent = _indent_of([line for line in lines if not _FENCE.match(line.lstrip(" "))])
    if indent >= _MIN_INDENT:
        lines = [_dedent(line, indent) for line in lines]
    else:
        indent = 0
    filled = [line for line in lines if line.strip()]
    quoted = [line for line in filled if _QUOTE.match(line)]
    quote = bool(filled) and len(quoted) >= _QUOTED_SHARE * len(filled)
    inner = 0
    if quote:
        inside = [line[_QUOTE.match(line).end() :] for line in quoted]
        inner = _indent_of([line for line in inside if not _FENCE.match(line.lstrip(" "))])
        inner = inner if inner >= _MIN_INDENT else 0
        lines = [_unquote(line, inner) for line in lines]
    fences = any(_FENCE.match(line.lstrip(" ")) for line in lines)
    markdown = cleaning.numbers or indent > 0 or quote or fences
    # A log as written may hold `&lt;` (escaped XML); `&nbsp;` only a web page writes.
    entities = "&nbsp;" in sample or (
        markdown and any(written in sample for written, _ in _ENTITIES)
    )
    return Cleaning(cleaning.numbers, indent, quote, inner, fences, entities=entities)


def _unquote(line: str, inner: int) -> str:
    match = _QUOTE.match(line)
    return _dedent(line[match.end() :], inner) if match is not None else line


def clean_sample(sample: str, cleaning: Cleaning) -> str:
    return "\n".join(_cleaned_lines(iter(sample.splitlines()), cleaning))


def wrapped_rows(lines: list[str], row_test: Callable[[str], bool]) -> int:
    """How many lines continue the row above them (a row broken at the console's width)."""
    continued = 0
    previous_is_row_part = False
    for line in lines:
        if not line.strip():
            previous_is_row_part = False
            continue
        if row_test(line):
            previous_is_row_part = True
        elif previous_is_row_part:
            continued += 1
    return continued


def _cleaned_lines(lines: Iterator[str], cleaning: Cleaning) -> Iterator[str]:
    """One cleaned line for each line, console-wrapped rows joined on their first line."""
    cleaned = (cleaning.clean_line(line) for line in lines)
    if cleaning.fences:
        cleaned = _unfenced(cleaned)
    if cleaning.unwrap is None:
        yield from cleaned
        return
    yield from _unwrapped(cleaned, cleaning.unwrap)


def _unfenced(lines: Iterator[str]) -> Iterator[str]:
    """Fence lines read as blank; a fenced line loses the indentation of its fence."""
    indent = 0
    inside = False
    for line in lines:
        content = line.lstrip(" ")
        if _FENCE.match(content):
            inside = not inside
            indent = len(line) - len(content) if inside else 0
            yield ""
        else:
            yield _dedent(line, indent) if indent else line


def _unwrapped(lines: Iterator[str], row_test: Callable[[str], bool]) -> Iterator[str]:
    """A row and the lines that continue it become one line; the continuations blank.

    A console breaks a row at its width, in the middle of a word, so the parts join
    as they are; a part shorter than the others ends where the copy trimmed a space.
    """
    row: list[str] = []
    for line in lines:
        if row and line.strip() and not row_test(line):
            row.append(line)
            continue
        if row:
            yield from _joined(row)
            row = []
        if line.strip() and row_test(line):
            row = [line]
        else:
            yield line
    if row:
        yield from _joined(row)


def _joined(parts: list[str]) -> Iterator[str]:
    if len(parts) == 1:
        yield parts[0]
        return
    width = Counter(len(part) for part in parts[:-1]).most_common(1)[0][0]
    pieces = [parts[0]]
    for before, part in zip(parts, parts[1:], strict=False):
        pieces.append(part if len(before) >= width else " " + part.lstrip(" "))
    yield "".join(pieces)
    for _ in parts[1:]:
        yield ""


class CleanedText(io.TextIOBase):
    """A text stream read through a `Cleaning`: the same number of lines, cleaned."""

    def __init__(self, text: TextIO, cleaning: Cleaning):
        super().__init__()
        raw = (line for _number, line, _cut in iter_lines(text))
        self._lines = _cleaned_lines(raw, cleaning)
        self._pending: deque[str] = deque()

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        if not self._pending:
            line = next(self._lines, None)
            if line is None:
                return ""
            self._pending.append(line + "\n")
        piece = self._pending.popleft()
        if size is not None and 0 <= size < len(piece):
            self._pending.appendleft(piece[size:])
            piece = piece[:size]
        return piece


# A format must show this many lines of a paste to make a block of its own.
MIN_BLOCK_LINES = 2


def block_formats(lines: list[str], kind_of: Callable[[str], str | None]) -> set[str]:
    """The formats with lines enough in a sample to be read as blocks of their own."""
    counts = Counter(kind for kind in map(kind_of, lines) if kind is not None)
    return {kind for kind, count in counts.items() if count >= MIN_BLOCK_LINES}


def parse_blocks(
    text: TextIO,
    path: str,
    kind_of: Callable[[str], str | None],
    parsers: dict[str, Callable[[TextIO, str], Iterator[Entry]]],
    first: str,
) -> Iterator[Entry]:
    """The entries of a paste whose lines come from several logs, block by block.

    A block starts at a line of another format than the block before; lines of no
    format (continuations, notes, blank lines) stay in the block they follow. Lines
    before the first formatted line are read in the file's own format (`first`). Each
    block is read by its format's parser; line numbers still count in the whole file.
    """
    lines = [line for _number, line, _cut in iter_lines(text)]
    blocks: list[tuple[str, int, int]] = []
    current, start = first, 0
    for index, line in enumerate(lines):
        kind = kind_of(line)
        if kind is not None and kind != current:
            if index > start:
                blocks.append((current, start, index))
            current, start = kind, index
    blocks.append((current, start, len(lines)))
    for fmt, begin, end in blocks:
        chunk = io.StringIO("\n".join(lines[begin:end]) + "\n")
        for entry in parsers[fmt](chunk, path):
            entry.line += begin
            yield entry

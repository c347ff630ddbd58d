"""Everything that exists only for speed, behind one door: the reading step.

The reference parsers in `knowledge.formats` give every answer on their own; this package
gives the same answers sooner on big uploads. What it holds:

* `patterns`: the texts a signature's pattern must contain, and the compiled scanners
  (Hyperscan, or RE2 where Hyperscan has no wheel) that find them in whole buffers,
  with their databases and the pattern analysis cached on disk;
* `cmtrace_scan`, `line_scan`, `cbs_scan`: one-pass byte scans of the big formats that
  hand over only the records a scanner's texts hit (plus every error record), and count
  the rest;
* `pool`: the fork pool that reads a big upload's files on every core.

It also gives the signatures their first look (`required_literals`, `trie_regex`, the
scanners' planning): `knowledge.diagnosis.signatures` receives this package as an argument
from the reading step instead of importing it. Only `knowledge.reading` imports it
(tests/test_import_graph.py checks), and
`fast=False` on the API (or `SCCM_TRIAGE_FAST=0`) turns all of it off: every answer is
the same, only slower.
"""

from __future__ import annotations

from typing import BinaryIO

from knowledge.fastpath import cbs_scan, cmtrace_scan, line_scan
from knowledge.fastpath.cmtrace_scan import ERROR_TEXT, FileFacts, NotFast
from knowledge.fastpath.patterns import (
    filter_pattern,
    keep_analysis,
    required_literals,
    single_line_pattern,
    trie_regex,
)
from knowledge.fastpath.pool import map_in_order, worker_count
from knowledge.fastpath.scanners import TextScanner, hyperscan_takes

# Formats whose per-file facts can be counted from the bytes, and their one-pass scans.
_BYTE_SCANS = {
    "cmtrace": (cmtrace_scan.fast_facts, cmtrace_scan.CmtraceScan),
    "wulog-etw": (line_scan.fast_facts, line_scan.LineScan),
    "cbs": (cbs_scan.fast_facts, cbs_scan.CbsScan),
}

__all__ = [
    "ERROR_TEXT",
    "FileFacts",
    "NotFast",
    "TextScanner",
    "fast_facts",
    "file_scan",
    "filter_pattern",
    "hyperscan_takes",
    "keep_analysis",
    "map_in_order",
    "required_literals",
    "single_line_pattern",
    "trie_regex",
    "worker_count",
]


def fast_facts(
    fmt: str, binary: BinaryIO, path: str, encoding: str, exact_lines: bool = False
) -> FileFacts | None:
    """A file's facts without parsing every record, or None when it must be parsed.

    With `exact_lines`, None also when line numbers could not be counted exactly.
    """
    scan = _BYTE_SCANS.get(fmt)
    return scan[0](binary, path, encoding, exact_lines) if scan else None


def file_scan(
    fmt: str,
    encoding: str,
    binary: BinaryIO,
    path: str,
    scanner: TextScanner,
    counting: TextScanner | None = None,
):
    """A one-pass scan of a file (its facts, and the units holding `scanner`'s texts), or
    None when its format or encoding has none: then it is read entry by entry.
    `counting` also counts whole patterns, where the format's scan can use it."""
    scan = _BYTE_SCANS.get(fmt)
    if scan is None or not encoding.startswith("utf-8"):
        return None
    if counting is not None and fmt == "cmtrace":
        return scan[1](binary, path, scanner, counting)
    return scan[1](binary, path, scanner)

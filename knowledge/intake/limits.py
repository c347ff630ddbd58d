"""How much of an upload we are willing to read, and how we say it."""

from __future__ import annotations

from dataclasses import dataclass

LOGS_FOLDER_HINT = "zip the C:\\Windows\\CCM\\Logs folder and send that"


@dataclass(frozen=True)
class Limits:
    """How much of an upload we are willing to read.

    A full C:\\Windows\\CCM\\Logs folder is usually 20-300 MB in a few hundred files, and
    CBS.log alone can pass 1 GB on a neglected machine. The defaults leave room for all of
    that and stop only what no log bundle looks like: bombs, millions of entries, nesting.
    """

    # size of the .zip (or single file) on disk; Slack's own upload path caps far lower
    max_upload_bytes: int = 1 << 30
    # sum of the unpacked sizes of the members we read (logs and nested zips)
    max_total_uncompressed: int = 4 << 30
    # one member unpacked: room for an overgrown CBS.log
    max_member_uncompressed: int = 2 << 30
    # members in one zip, checked from the end records before zipfile reads the directory;
    # CCM\Logs holds a few hundred files, Support Center bundles a few thousand
    max_entries: int = 20_000
    # bytes of the zip's file list, which zipfile loads at once: 20,000 entries with long
    # Windows paths come to a few MB
    max_directory_bytes: int = 32 << 20
    # per member, unpacked/packed: text logs pack 5-30 times; deflate tops out near 1,000
    max_ratio: int = 200
    # below this unpacked size a high ratio is harmless (a small log of repeated lines)
    ratio_floor: int = 1 << 20
    # one zip inside the upload is read; a zip inside that one is listed as skipped
    max_nesting: int = 1


def human_size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} bytes"

"""Bytes to lines: encodings, line endings, and input built to hurt (huge lines, junk)."""

from __future__ import annotations

import codecs
import io
import os
import tracemalloc

import pytest

from knowledge.formats.decoding import MAX_LINE, iter_lines, open_text

LINES = ["first line with café", "second line", "third"]


class _ZipLikeStream(io.RawIOBase):
    """A stream with neither seek nor peek, like some archive members."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(min(len(buffer), 7))  # tiny reads, to cross every boundary
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def seekable(self) -> bool:
        return False


def _read(data: bytes, stream_type=io.BytesIO, max_line: int = MAX_LINE):
    text, encoding = open_text(stream_type(data))
    return [line for _, line, _ in iter_lines(text, max_line)], encoding


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        ("\r\n".join(LINES).encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + "\r\n".join(LINES).encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "\r\n".join(LINES).encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + "\r\n".join(LINES).encode("utf-16-be"), "utf-16-be"),
        ("\r\n".join(LINES).encode("utf-16-le"), "utf-16-le"),  # no BOM, still recognised
    ],
)
@pytest.mark.parametrize("stream_type", [io.BytesIO, _ZipLikeStream])
def test_every_windows_encoding_reads_the_same_lines(encoded, encoding, stream_type):
    lines, found = _read(encoded, stream_type)
    assert found == encoding
    assert lines == LINES


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_line_endings_all_split_lines_and_are_removed(ending):
    lines, _ = _read((ending.join(LINES) + ending).encode())
    assert lines == LINES


def test_a_stray_cp1252_byte_in_utf8_reads_as_its_character():
    data = b"It" + b"\x92s done \x81 " + "– naïve".encode()
    lines, encoding = _read(data)
    assert encoding == "utf-8"
    assert lines == ["It\u2019s done \x81 – naïve"]


def test_line_numbers_count_from_one_and_include_blank_lines():
    text, _ = open_text(io.BytesIO(b"a\n\nb\n"))
    assert list(iter_lines(text)) == [(1, "a", False), (2, "", False), (3, "b", False)]


def test_empty_file_has_no_lines():
    lines, encoding = _read(b"")
    assert lines == [] and encoding == "utf-8"


@pytest.mark.parametrize("size", [1, 2, 3])
def test_files_shorter_than_a_bom_are_read(size):
    lines, _ = _read(b"abc"[:size], _ZipLikeStream)
    assert lines == ["abc"[:size]]


def test_binary_junk_never_raises():
    junk = os.urandom(200_000) + b"\x00\xff\xfe" * 1000
    text, _ = open_text(io.BytesIO(junk))
    assert sum(1 for _ in iter_lines(text)) > 0


def test_a_long_line_is_cut_and_the_next_line_is_intact():
    data = b"x" * 50 + b"\r\nafter\r\n"
    text, _ = open_text(io.BytesIO(data))
    assert list(iter_lines(text, max_line=16)) == [(1, "x" * 16, True), (2, "after", False)]


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_line_of_exactly_max_line_is_not_cut(ending):
    data = ("y" * 16 + ending + "next" + ending).encode()
    text, _ = open_text(io.BytesIO(data))
    assert list(iter_lines(text, max_line=16)) == [(1, "y" * 16, False), (2, "next", False)]


def test_crlf_split_by_the_limit_is_one_line_ending():
    data = ("z" * 15 + "\r\nnext\r\n").encode()  # the cut falls between CR and LF
    text, _ = open_text(io.BytesIO(data))
    assert list(iter_lines(text, max_line=16)) == [(1, "z" * 15, False), (2, "next", False)]


def test_a_50_mb_line_without_newline_uses_bounded_memory(tmp_path):
    path = tmp_path / "huge.log"
    with open(path, "wb") as out:
        out.write(b"start\r\n")
        block = b"A" * (1 << 20)
        for _ in range(50):
            out.write(block)
        out.write(b"\r\nend\r\n")
    tracemalloc.start()
    try:
        with open(path, "rb") as binary:
            text, _ = open_text(binary)
            lines = [(number, len(line), cut) for number, line, cut in iter_lines(text)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == [(1, 5, False), (2, MAX_LINE, True), (3, 3, False)]
    assert peak < 12 * (1 << 20), f"peak {peak / (1 << 20):.1f} MiB for a 50 MiB line"

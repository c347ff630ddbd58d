"""Reading untrusted uploads: zips (nested, Deflate64, hostile), folders and single files."""

from __future__ import annotations

import io
import os
import random
import tempfile
import tracemalloc
import zipfile
from dataclasses import replace

import inflate64
import pytest

from knowledge.errors import InputError
from knowledge.intake import archive
from knowledge.intake.archive import Limits, open_upload
from knowledge.intake.names import log_rotation
from tests.archive_builders import (
    deflate64,
    deflated,
    encrypted,
    many_entries,
    raw_zip,
    stored,
    write_zip,
    zip_bytes,
)


def record(message: str) -> str:
    """One CMTrace line, as a ConfigMgr client writes it."""
    return (
        f'<![LOG[{message}]LOG]!><time="12:00:00.000+240" date="03-05-2024" '
        'component="ContentAccess" context="" type="1" thread="4242" file="cas.cpp:10">\r\n'
    )


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Temporary files and the working directory both inside tmp_path, to watch them."""
    temp = tmp_path / "temp"
    work = tmp_path / "work"
    temp.mkdir()
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.chdir(work)
    return tmp_path


def leftovers(sandbox) -> list[str]:
    return [
        str(path.relative_to(sandbox))
        for place in ("temp", "work")
        for path in (sandbox / place).rglob("*")
    ]


def read_all(upload) -> dict[str, bytes]:
    out = {}
    for source in upload.sources:
        with source.open() as stream:
            out[source.path] = stream.read()
    return out


def rejection(path, limits: Limits = archive.DEFAULT_LIMITS) -> str:
    with pytest.raises(InputError) as caught:
        open_upload(path, limits)
    message = caught.value.message
    assert "\n" not in message
    return message


def reasons(upload) -> dict[str, str]:
    return {item.name: item.reason for item in upload.skipped}


# --- what is read, and in which order -----------------------------------------------


def test_nested_folders_and_backslash_names_come_out_with_forward_slashes(sandbox):
    path = write_zip(
        sandbox / "bundle.zip",
        {
            "C/Windows/CCM/Logs/CAS.log": record("cas"),
            "Logs\\WUAHandler.log": record("wua"),
            "SupportCenter\\Registry\\ccm.reg": "Windows Registry Editor Version 5.00",
            "SupportCenter/": "",
        },
    )
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == [
            "C/Windows/CCM/Logs/CAS.log",
            "Logs/WUAHandler.log",
        ]
        assert [s.name for s in upload.sources] == ["CAS.log", "WUAHandler.log"]
        assert read_all(upload)["Logs/WUAHandler.log"] == record("wua").encode()
        assert reasons(upload) == {"SupportCenter/Registry/ccm.reg": "not a log file"}


def test_log_names_are_recognised_whatever_their_case(sandbox):
    path = write_zip(
        sandbox / "logs.zip",
        {
            "CAS.LOG": record("a"),
            "ScanAgent.Lo_": record("b"),
            "Pasted From Helpdesk.TXT": "copied lines",
            "WUAHandler-20240101-120000.LOG": record("c"),
            "ccmsetup.exe": b"MZ",
        },
    )
    with open_upload(path) as upload:
        groups = {s.name: s.group for s in upload.sources}
    assert groups == {
        "CAS.LOG": "cas.log",
        "ScanAgent.Lo_": "scanagent.log",
        "Pasted From Helpdesk.TXT": "pasted from helpdesk.txt",
        "WUAHandler-20240101-120000.LOG": "wuahandler.log",
    }


def test_rotated_files_join_their_current_log_oldest_first(sandbox):
    members = {
        "Logs/WUAHandler.log": record("current"),
        "Logs/CAS.log": record("cas"),
        "Logs/WUAHandler-20240301-080000.log": record("newer history"),
        "Logs/WUAHandler.lo_": record("previous"),
        "Logs/wuahandler-20231231-235959.log": record("older history"),
    }
    path = write_zip(sandbox / "logs.zip", members)
    with open_upload(path) as upload:
        order = [(s.group, s.name) for s in upload.sources]
    assert order == [
        ("cas.log", "CAS.log"),
        ("wuahandler.log", "wuahandler-20231231-235959.log"),
        ("wuahandler.log", "WUAHandler-20240301-080000.log"),
        ("wuahandler.log", "WUAHandler.lo_"),
        ("wuahandler.log", "WUAHandler.log"),
    ]


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("CAS.log", "cas.log"),
        ("CAS.lo_", "cas.log"),
        ("CAS-20240101-120000.log", "cas.log"),
        ("SCClient_CONTOSO@jdoe_1-20240101-120000.log", "scclient_contoso@jdoe_1.log"),
        ("CbsPersist_20240101120000.log", "cbs.log"),
        ("WUAHandler-excerpt-install.log", "wuahandler-excerpt-install.log"),
        ("notes.txt", "notes.txt"),
        ("memory.dmp", None),
        ("logs.zip", None),
        ("log", None),
    ],
)
def test_log_rotation_knows_logs_by_name(name, group):
    found = log_rotation(name)
    assert (found[0] if found else None) == group


def test_each_open_is_a_new_stream_of_the_whole_file(sandbox):
    text = "".join(record(f"line {n}") for n in range(2000)).encode()
    path = write_zip(sandbox / "logs.zip", {"CAS.log": text})
    with open_upload(path) as upload:
        (source,) = upload.sources
        assert source.size == len(text)
        with source.open() as first, source.open() as second:
            assert first.read(100) == text[:100]
            assert second.read() == text
            assert first.read() == text[100:]
        with io.TextIOWrapper(source.open(), encoding="utf-8", newline="") as lines:
            assert sum(1 for _ in lines) == 2000


def test_deflate64_members_are_read(sandbox):
    text = "".join(record(f"download job {n} progress") for n in range(40_000)).encode()
    entry = deflate64("Logs/ContentTransferManager.log", text)
    path = sandbox / "explorer.zip"
    path.write_bytes(raw_zip([entry, stored("Logs/CAS.log", record("cas").encode())]))
    with zipfile.ZipFile(path) as check:  # the builder writes what Windows would
        assert check.getinfo("Logs/ContentTransferManager.log").compress_type == 9
    assert inflate64.Inflater().inflate(entry.packed) == text
    with open_upload(path) as upload:
        contents = read_all(upload)
        with upload.sources[-1].open() as stream:
            pieces = iter(lambda: stream.read(4096), b"")
            assert b"".join(pieces) == text
    assert contents["Logs/ContentTransferManager.log"] == text


def test_a_deflate64_member_that_unpacks_past_its_declared_size_is_stopped(sandbox):
    # Declared 512 KB (too small for the ratio check to look), really 200 MB of zeros.
    entry = deflate64("Logs/CAS.log", bytes(200 << 20), declared_size=512 << 10)
    path = sandbox / "bomb.zip"
    path.write_bytes(raw_zip([entry]))
    with open_upload(path) as upload:
        (source,) = upload.sources
        tracemalloc.start()
        try:
            with pytest.raises(InputError, match="more than the 524,288 bytes"), source.open() as s:
                while s.read(1 << 20):
                    pass
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 32 << 20


def test_a_damaged_deflate64_member_is_an_input_error(sandbox):
    good = deflate64("CAS.log", record("x").encode() * 1000)
    broken = replace(good, packed=good.packed[:40] + b"\xff" * 40)
    path = sandbox / "broken.zip"
    path.write_bytes(raw_zip([broken]))
    with open_upload(path) as upload, pytest.raises(InputError, match="damaged"):
        read_all(upload)


def test_a_deflated_member_longer_than_declared_is_never_returned_whole(sandbox):
    data = record("x").encode() * 1000
    path = sandbox / "liar.zip"
    path.write_bytes(raw_zip([deflated("CAS.log", data, declared_size=100)]))
    with open_upload(path) as upload:
        (source,) = upload.sources
        with pytest.raises(InputError, match="damaged"), source.open() as stream:
            stream.read()


# --- zips inside zips -----------------------------------------------------------------


def test_a_zip_inside_the_zip_is_read_from_a_temporary_copy_removed_on_close(sandbox):
    inner = zip_bytes({"CCM/Logs/CAS.log": record("inner cas")})
    path = write_zip(
        sandbox / "outer.zip", {"Support/logs.zip": inner, "WUAHandler.log": record("outer")}
    )
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == [
            "Support/logs.zip/CCM/Logs/CAS.log",
            "WUAHandler.log",
        ]
        contents = read_all(upload)
        assert contents["Support/logs.zip/CCM/Logs/CAS.log"] == record("inner cas").encode()
        assert any("nested zip Support/logs.zip" in note for note in upload.notes)
        assert leftovers(sandbox)  # the copy exists while the upload is open
    assert leftovers(sandbox) == []


def test_a_zip_nested_deeper_than_one_level_is_skipped_with_a_reason(sandbox):
    deepest = zip_bytes({"CAS.log": record("too deep")})
    middle = zip_bytes({"deeper.zip": deepest, "WUAHandler.log": record("middle")})
    path = write_zip(sandbox / "outer.zip", {"middle.zip": middle})
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == ["middle.zip/WUAHandler.log"]
        assert "deeper than one level" in reasons(upload)["middle.zip/deeper.zip"]
    assert leftovers(sandbox) == []


def test_a_nested_zip_that_is_not_a_zip_is_skipped_not_fatal(sandbox):
    path = write_zip(
        sandbox / "outer.zip",
        {"logs.zip": "<!DOCTYPE html><html>sign in</html>", "CAS.log": record("cas")},
    )
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == ["CAS.log"]
        assert "HTML" in reasons(upload)["logs.zip"]


def test_a_failure_after_a_nested_copy_still_removes_the_copy(sandbox):
    inner = zip_bytes({"CAS.log": record("a") * 1000})
    path = write_zip(sandbox / "outer.zip", {"a.zip": inner, "WUAHandler.log": record("b") * 999})
    message = rejection(path, Limits(max_total_uncompressed=len(inner) + 10))
    assert "over the limit" in message
    assert leftovers(sandbox) == []


# --- folders and single files ---------------------------------------------------------


def test_a_folder_is_walked_without_following_links_out_of_it(sandbox):
    root = sandbox / "CCM"
    (root / "Logs" / "__MACOSX").mkdir(parents=True)
    (root / "Logs" / "CAS.log").write_text(record("cas"))
    (root / "Logs" / "CAS.lo_").write_text(record("previous"))
    (root / "Logs" / "Empty.log").write_bytes(b"")
    (root / "Logs" / "desktop.ini").write_text("[.ShellClassInfo]")
    (root / "Logs" / "__MACOSX" / "._CAS.log").write_bytes(b"\0")
    (root / "Logs" / "ccmcache.bin").write_bytes(b"\0\1")
    (root / "more.zip").write_bytes(zip_bytes({"WUAHandler.log": record("zipped")}))
    secret = sandbox / "secret.log"
    secret.write_text("not yours")
    (root / "Logs" / "linked.log").symlink_to(secret)
    (root / "elsewhere").symlink_to(sandbox, target_is_directory=True)

    with open_upload(root) as upload:
        assert [s.path for s in upload.sources] == [
            "Logs/CAS.lo_",
            "Logs/CAS.log",
            "more.zip/WUAHandler.log",
        ]
        assert read_all(upload)["more.zip/WUAHandler.log"] == record("zipped").encode()
        assert reasons(upload) == {
            "elsewhere/": "a link to another folder, not followed",
            "Logs/ccmcache.bin": "not a log file",
            "Logs/Empty.log": "empty file",
            "Logs/linked.log": "a link to another file, not followed",
        }


def test_a_live_log_that_grows_after_listing_is_read_as_it_was_listed(sandbox):
    root = sandbox / "Logs"
    root.mkdir()
    log = root / "CcmExec.log"
    log.write_text(record("before"))
    with open_upload(root) as upload:
        with log.open("a") as writer:
            writer.write(record("written while we read"))
        assert read_all(upload) == {"CcmExec.log": record("before").encode()}


def test_a_single_log_file_is_one_source(sandbox):
    log = sandbox / "WUAHandler.log"
    log.write_text(record("scan"))
    with open_upload(log) as upload:
        (source,) = upload.sources
        assert (source.path, source.name, source.group) == (
            "WUAHandler.log",
            "WUAHandler.log",
            "wuahandler.log",
        )
        assert read_all(upload) == {"WUAHandler.log": record("scan").encode()}


def test_a_zip_is_known_by_its_bytes_not_its_name(sandbox):
    disguised = sandbox / "logs.log"
    disguised.write_bytes(zip_bytes({"CAS.log": record("cas")}))
    with open_upload(disguised) as upload:
        assert [s.path for s in upload.sources] == ["CAS.log"]
        assert any("zip despite its name" in note for note in upload.notes)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("WUAHandler.log", b"", ["empty"]),
        ("setup.exe", b"MZ\x90\x00", ["not a log file or a zip", "Windows program"]),
        ("logs.7z", b"7z\xbc\xaf\x27\x1c\x00", ["7-Zip"]),
        ("CAS.log", b"<!DOCTYPE html><html><title>Slack</title>", ["Slack sign-in page"]),
    ],
)
def test_a_single_file_that_is_not_usable_is_refused_in_one_sentence(sandbox, name, content, words):
    path = sandbox / name
    path.write_bytes(content)
    message = rejection(path)
    for word in words:
        assert word in message


def test_a_folder_with_too_many_files_is_refused(sandbox):
    root = sandbox / "Downloads"
    root.mkdir()
    for number in range(6):
        (root / f"{number}.log").write_text(record("x"))
    assert "more than the 5 files" in rejection(root, Limits(max_entries=5))


def test_a_single_file_over_the_upload_limit_is_refused(sandbox):
    log = sandbox / "CBS.log"
    log.write_text(record("x") * 100)
    assert "over the 1 KB limit" in rejection(log, Limits(max_upload_bytes=1024))


def test_a_missing_path_is_refused(sandbox):
    assert "does not exist" in rejection(sandbox / "nowhere.zip")


# --- bad zips -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"<!DOCTYPE html>\n<html><head><title>Slack</title>", ["not a zip", "Slack sign-in"]),
        (b"\xef\xbb\xbf<html><body>Not found</body></html>", ["not a zip", "HTML"]),
        (b"Rar!\x1a\x07\x00", ["not a zip", "RAR"]),
        (b"just some text\r\n", ["not a zip", "plain text"]),
        (b"", ["empty"]),
    ],
)
def test_something_saved_as_a_zip_that_is_not_one_is_named(sandbox, content, words):
    path = sandbox / "logs.zip"
    path.write_bytes(content)
    message = rejection(path)
    for word in words:
        assert word in message


def test_a_truncated_zip_is_refused_as_cut_off(sandbox):
    whole = zip_bytes({"CAS.log": record("x") * 200, "WUAHandler.log": record("y") * 200})
    path = sandbox / "logs.zip"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    assert "cut off" in rejection(path)


def test_an_empty_zip_is_refused(sandbox):
    path = write_zip(sandbox / "logs.zip", {})
    assert "logs.zip is empty" in rejection(path)


def test_a_zip_with_only_folders_is_refused_as_empty(sandbox):
    path = write_zip(sandbox / "logs.zip", {"Logs/": "", "Logs/Old/": ""})
    assert "empty" in rejection(path)


def test_an_encrypted_zip_is_refused_as_password_protected(sandbox):
    path = sandbox / "logs.zip"
    path.write_bytes(raw_zip([encrypted("CAS.log", b"x"), encrypted("WUAHandler.log", b"y")]))
    assert "password" in rejection(path)


def test_encrypted_members_are_skipped_and_the_rest_read(sandbox):
    path = sandbox / "logs.zip"
    path.write_bytes(raw_zip([encrypted("CAS.log", b"x"), stored("WUAHandler.log", b"y")]))
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == ["WUAHandler.log"]
        assert "encrypted" in reasons(upload)["CAS.log"]


@pytest.fixture(scope="module")
def zeros_bomb(tmp_path_factory):
    """50 MB of zeros deflated to about 50 KB, as one log."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    return write_zip(path, {"Logs/CAS.log": bytes(50 << 20), "Logs/WUAHandler.log": "ok"})


def test_a_member_that_expands_like_a_bomb_is_skipped(sandbox, zeros_bomb):
    with open_upload(zeros_bomb) as upload:
        assert [s.path for s in upload.sources] == ["Logs/WUAHandler.log"]
        assert "zip-bomb" in reasons(upload)["Logs/CAS.log"]


def test_a_bomb_over_the_total_limit_is_refused(sandbox, zeros_bomb):
    limits = Limits(max_total_uncompressed=10 << 20, max_ratio=10**6)
    message = rejection(zeros_bomb, limits)
    assert "more than 10 MB unpacked" in message
    assert "CCM\\Logs" in message


def test_a_member_over_the_size_limit_is_skipped(sandbox, zeros_bomb):
    limits = Limits(max_member_uncompressed=10 << 20, max_ratio=10**6)
    with open_upload(zeros_bomb, limits) as upload:
        assert "over the size limit" in reasons(upload)["Logs/CAS.log"]


def test_reading_a_big_member_streams_in_bounded_memory(sandbox, zeros_bomb):
    with open_upload(zeros_bomb, Limits(max_ratio=10**6)) as upload:
        source = next(s for s in upload.sources if s.name == "CAS.log")
        tracemalloc.start()
        try:
            total = 0
            with source.open() as stream:
                while chunk := stream.read(1 << 20):
                    total += len(chunk)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert total == 50 << 20
    assert peak < 16 << 20


def test_an_upload_over_the_size_limit_is_refused(sandbox, zeros_bomb):
    message = rejection(zeros_bomb, Limits(max_upload_bytes=1000))
    assert "over the 1000 bytes limit" in message


def test_too_many_entries_are_refused_before_zipfile_reads_the_directory(sandbox, monkeypatch):
    path = sandbox / "many.zip"
    path.write_bytes(raw_zip(many_entries(100_000)))

    def never(*args, **kwargs):
        raise AssertionError("zipfile parsed the directory before the entry count was checked")

    monkeypatch.setattr(archive.zipfile, "ZipFile", never)
    message = rejection(path)
    assert "100,000 files" in message
    assert "20,000" in message


def test_a_directory_with_more_entries_than_its_end_record_claims_is_refused(sandbox, monkeypatch):
    path = sandbox / "liar.zip"
    path.write_bytes(raw_zip(many_entries(30_000), claimed_entries=3))

    def never(*args, **kwargs):
        raise AssertionError("zipfile parsed the directory before the entries were counted")

    monkeypatch.setattr(archive.zipfile, "ZipFile", never)
    assert "more than the 20,000 files" in rejection(path)


def test_a_zip64_end_record_is_understood(sandbox):
    path = sandbox / "zip64.zip"
    path.write_bytes(raw_zip([stored("CAS.log", b"cas")], zip64=True))
    with open_upload(path) as upload:
        assert read_all(upload) == {"CAS.log": b"cas"}
    path.write_bytes(raw_zip(many_entries(25_000), zip64=True))
    assert "25,000 files" in rejection(path)


def test_absolute_and_climbing_names_are_skipped_and_never_written(sandbox):
    path = sandbox / "evil.zip"
    entries = [
        stored("/etc/passwd", b"root:x:0:0"),
        stored("C:\\x.log", b"drive"),
        stored("..\\..\\evil.log", b"climb"),
        stored("Logs/../../evil.log", b"climb"),
        stored("Logs/CAS.log", record("cas").encode()),
    ]
    path.write_bytes(raw_zip(entries))
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == ["Logs/CAS.log"]
        skipped = reasons(upload)
        read_all(upload)
    assert "absolute" in skipped["/etc/passwd"]
    assert "absolute" in skipped["C:/x.log"]
    assert "../" in skipped["../../evil.log"]
    assert "../" in skipped["Logs/../../evil.log"]
    assert leftovers(sandbox) == []
    assert not (sandbox.parent / "evil.log").exists()


def test_a_zip_of_the_wrong_folder_says_what_it_found(sandbox):
    path = write_zip(
        sandbox / "logs.zip",
        {"setup.exe": b"MZ", "readme.pdf": b"%PDF", "notes.docx": b"PK", "data.xml": "<a/>"},
    )
    message = rejection(path)
    assert "found 4 files" in message
    assert "setup.exe, readme.pdf, notes.docx and 1 more" in message
    assert "no log files" in message
    assert "C:\\Windows\\CCM\\Logs" in message


def test_a_zip_whose_logs_are_all_unreadable_says_why(sandbox):
    path = write_zip(sandbox / "logs.zip", {"CAS.log": "", "readme.pdf": b"%PDF"})
    message = rejection(path)
    assert "CAS.log (empty file)" in message


def test_junk_and_empty_logs_are_handled_quietly_or_with_a_reason(sandbox):
    path = write_zip(
        sandbox / "mac.zip",
        {
            "__MACOSX/Logs/._CAS.log": b"\0\5",
            "Logs/.DS_Store": b"\0",
            "Logs/Thumbs.db": b"\0",
            "Logs/CAS.log": record("cas"),
            "Logs/Scheduler.log": "",
            "Logs/WindowsUpdate.20240101.etl": b"\0",
        },
    )
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == ["Logs/CAS.log"]
        skipped = reasons(upload)
    assert skipped["Logs/Scheduler.log"] == "empty file"
    assert "Get-WindowsUpdateLog" in skipped["Logs/WindowsUpdate.20240101.etl"]
    assert set(skipped) == {"Logs/Scheduler.log", "Logs/WindowsUpdate.20240101.etl"}


def test_a_compression_method_we_do_not_unpack_is_skipped(sandbox):
    path = write_zip(sandbox / "bz.zip", {"CAS.log": record("cas")}, method=zipfile.ZIP_BZIP2)
    message = rejection(path)
    assert "bzip2" in message
    assert "Compressed (zipped) folder" in message


def test_control_characters_in_names_never_break_a_line(sandbox):
    path = sandbox / "odd.zip"
    path.write_bytes(raw_zip([stored("Logs/CAS\n.log", b"cas"), stored("a\rb.exe", b"MZ")]))
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == ["Logs/CAS?.log"]
        assert reasons(upload) == {"a?b.exe": "not a log file"}


def test_a_cut_off_nested_zip_is_skipped_with_its_reason(sandbox):
    inner = zip_bytes({"CAS.log": record("x") * 100})
    path = write_zip(sandbox / "outer.zip", {"inner.zip": inner[:-30], "WUAHandler.log": "y"})
    with open_upload(path) as upload:
        assert [s.path for s in upload.sources] == ["WUAHandler.log"]
        assert "nested zip not read" in reasons(upload)["inner.zip"]
        assert "cut off" in reasons(upload)["inner.zip"]
    assert leftovers(sandbox) == []


def test_duplicate_names_keep_the_first_copy(sandbox):
    path = sandbox / "dup.zip"
    path.write_bytes(raw_zip([stored("Logs/CAS.log", b"first"), stored("Logs\\cas.LOG", b"2nd")]))
    with open_upload(path) as upload:
        assert read_all(upload) == {"Logs/CAS.log": b"first"}
        assert "duplicate" in reasons(upload)["Logs/cas.LOG"]


def test_the_same_log_in_two_folders_is_noted(sandbox):
    path = write_zip(sandbox / "two.zip", {"PC1/CAS.log": record("a"), "PC2/CAS.log": record("b")})
    with open_upload(path) as upload:
        assert any("CAS.log is in 2 folders (PC1, PC2)" in note for note in upload.notes)


def test_sources_cannot_be_opened_after_close(sandbox):
    path = write_zip(sandbox / "logs.zip", {"CAS.log": record("cas")})
    with open_upload(path) as upload:
        (source,) = upload.sources
    with pytest.raises(ValueError, match="closed"):
        source.open()


def test_damaged_zips_only_ever_raise_input_errors(sandbox):
    """Cut and scrambled copies of a good zip: never a traceback, never a stray file."""
    inner = zip_bytes({"Logs/CAS.log": record("inner") * 50})
    good = raw_zip(
        [
            deflated("Logs/WUAHandler.log", record("wua").encode() * 300),
            deflate64("Logs/ScanAgent.log", record("scan").encode() * 300),
            stored("logs.zip", inner),
            stored("readme.txt", b"hello"),
        ]
    )
    randomness = random.Random(20240305)
    variants = [good[:cut] for cut in range(0, len(good), 97)]
    directory_start = len(good) - 400  # the file list and end record, where parsers work
    for round_number in range(300):
        scrambled = bytearray(good)
        start = directory_start if round_number % 2 else 0
        for _ in range(randomness.randint(1, 6)):
            scrambled[randomness.randrange(start, len(scrambled))] = randomness.randrange(256)
        variants.append(bytes(scrambled))
    path = sandbox / "fuzz.zip"
    for variant in variants:
        path.write_bytes(variant)
        try:
            with open_upload(path) as upload:
                read_all(upload)
        except InputError as error:
            assert error.message and "\n" not in error.message
        assert leftovers(sandbox) == []
    assert os.listdir(sandbox / "temp") == []


def test_a_zip_is_read_at_a_position_of_its_own(tmp_path):
    """Zips are opened with pread (forked readers share descriptors but not positions);
    the file object must still behave as a file, and refuse use after close."""
    import array

    from knowledge.intake.streams import open_for_reading

    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)
    handle = open_for_reading(path)
    assert handle.read(4) == bytes([0, 1, 2, 3])
    assert handle.seek(-2, io.SEEK_END) == 1022 and handle.read() == bytes([254, 255])
    handle.seek(8)
    words = array.array("i", [0, 0])  # a view of 4-byte items: 8 bytes, not 2
    assert handle.readinto(words) == 8 and handle.tell() == 16
    assert words.tobytes() == bytes(range(8, 16))
    handle.close()
    with pytest.raises(ValueError):
        handle.read(1)

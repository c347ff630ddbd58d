"""Which machines' logs an upload holds, so that each is diagnosed on its own.

One machine has one CAS.log: a log name that turns up in two folders (or two zips) of
an upload means two machines. So the upload's log files are split, level by level, at
the first folder level whose branches share a log name; each branch is a machine, and is
split again if its own folders share names. This finds every layout admins send without
knowing it in advance: a folder (or a zip) per machine, `PC01/Logs/...`, a zip of zips,
a folder of zips, and the site server's "Collect client logs" store, where the collected
files sit in one folder per client (`Inboxes\\sinv.box\\FileCol\\<resource>`). A single
machine whose logs sit in several folders (CCM `Logs/` beside `Windows/WindowsUpdate.log`)
shares no names between them, and stays one machine.

The logs' own identity is read too: ClientIDManagerStartup.log writes the client id the
site assigned ("[RegTask] - Client is registered. Server assigned ClientID is GUID:...",
see tests/scenarios.py and knowledge/data/signatures/client.yaml for where the wording is
documented). Two copies of that log in one folder (`ClientIDManagerStartup (2).log`, as
Windows names a second copy) that name different clients mean two machines' logs were
poured into one folder: that folder cannot be told apart into machines, and is named
with both ids instead of being diagnosed as one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from knowledge.errors import InputError
from knowledge.formats.decoding import iter_lines, open_text
from knowledge.intake.archive import LogSource, Upload
from knowledge.models import SkippedFile

# The client id lines of ClientIDManagerStartup.log (registered, and asking to register).
_CLIENT_ID = re.compile(
    r"\[RegTask\] - Client is (?:registered\. Server assigned ClientID is|not registered\. "
    r"Sending registration request for) (GUID:[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})"
)
_IDENTITY_LOG = "clientidmanagerstartup"
# Reading the identity stops here: the id is written at every start of the client, and
# a grown log must not cost a second read of the machine.
_IDENTITY_BYTES = 4 << 20


@dataclass
class Machine:
    """One machine's logs inside an upload."""

    name: str  # for people: the folder or zip its logs came in, else the upload's name
    source: str  # where in the upload: "PC01", "batch/PC02.zip"; "" for the whole upload
    sources: list[LogSource] = field(default_factory=list, repr=False)
    client_id: str | None = None  # "GUID:..." when ClientIDManagerStartup.log names it
    mixed_ids: list[str] = field(default_factory=list)  # several clients in one folder
    loose: bool = False  # files lying beside other machines' folders, not in one of them

    @property
    def prefix(self) -> str:
        return f"{self.source}/" if self.source else ""

    def holds(self, path: str) -> bool:
        """Whether `path` (of the upload) is inside this machine's part of it."""
        if not path.startswith(self.prefix):
            return False
        return not self.loose or "/" not in path[len(self.prefix) :]


def find_machines(upload: Upload, *, client_ids: bool = True) -> list[Machine]:
    """The machines of an opened upload, in path order; one when it is one machine's.

    `client_ids=False` reads ClientIDManagerStartup.log only where two copies of it could
    show two machines in one folder (a single diagnosis needs no more)."""
    units = _split(upload.sources, ())
    machines = []
    for unit in sorted(units, key=lambda unit: "/".join(unit.root).lower()):
        root = "/".join(unit.root)
        machine = Machine(
            name=_name(root, upload.label), source=root, sources=unit.sources, loose=unit.loose
        )
        _read_identity(machine, client_ids)
        machines.append(machine)
    _unique_names(machines)
    return machines


def several(machines: list[Machine]) -> bool:
    """Whether an upload needs `sccm fleet`: more than one machine, or one folder that
    holds more than one machine's logs."""
    return len(machines) > 1 or any(machine.mixed_ids for machine in machines)


def describe(machines: list[Machine], shown: int = 5) -> str:
    """ "PC01, PC02 and 3 more" (with the client ids of a mixed folder)."""
    names = []
    for machine in machines:
        if machine.mixed_ids:
            ids = ", ".join(machine.mixed_ids)
            names.append(
                f"{len(machine.mixed_ids)} clients in {machine.name or 'one folder'} ({ids})"
            )
        else:
            names.append(machine.name)
    listed = ", ".join(names[:shown])
    return listed if len(names) <= shown else f"{listed} and {len(names) - shown} more"


def machine_upload(upload: Upload, machine: Machine) -> Upload:
    """The machine's files as an upload of their own, as if its folder or zip had been
    given alone: paths lose the machine's prefix, skips outside it are left out. The
    files are still read through `upload`, which must stay open."""
    if len(machine.sources) == len(upload.sources):
        return upload  # the whole upload is this machine's
    prefix = machine.prefix
    view = Upload(PurePosixPath(machine.source).name or upload.label)
    view.sources = [
        dataclasses.replace(source, path=source.path[len(prefix) :]) for source in machine.sources
    ]
    view.skipped = [
        SkippedFile(name=item.name[len(prefix) :], reason=item.reason)
        for item in upload.skipped
        if machine.holds(item.name)
    ]
    return view


def outside_machines(upload: Upload, machines: list[Machine]) -> list[SkippedFile]:
    """Skipped files of the upload that belong to no machine (a stray PDF at the top); with
    one machine, every skipped file: a fleet's summary must say what it did not read (a
    zip of machines nested too deep is not one machine's business)."""
    if len(machines) == 1 and len(machines[0].sources) == len(upload.sources):
        return list(upload.skipped)
    return [
        item for item in upload.skipped if not any(machine.holds(item.name) for machine in machines)
    ]


# --- splitting by shared names --------------------------------------------------------


def _folders(source: LogSource) -> tuple[str, ...]:
    return tuple(PurePosixPath(source.path).parts[:-1])


def _split(sources: list[LogSource], base: tuple[str, ...]) -> list[_Unit]:
    """The machines among `sources`. `base` is the folder they came in (the machine's
    root unless it splits): below the folders they all share, the first level whose
    branches hold the same log name splits them, and each branch is split again."""
    common = _common_folders(_folders(source) for source in sources)
    level = len(common)
    branches: dict[str, list[LogSource]] = {}
    for source in sources:
        folders = _folders(source)
        branches.setdefault(folders[level] if len(folders) > level else "", []).append(source)
    if len(branches) < 2 or not _share_a_log(branches.values()):
        return [_Unit(base, sources, common)]
    found = []
    for branch, members in branches.items():
        if branch == "":  # loose files beside the machines' folders: a machine of their own
            found.append([_Unit(common, members, common, loose=True)])
        else:
            found.append(_split(members, (*common, branch)))
    if any(len(units) > 1 for units in found):
        # These branches are groups of machines (batch1/PC01, batch1/PC02): a sibling
        # holding one machine is named by that machine's own folder (batch2/PC03).
        for units in found:
            if len(units) == 1:
                units[0].root = _named_root(units[0].root, units[0].common)
    return [unit for units in found for unit in units]


@dataclass
class _Unit:
    root: tuple[str, ...]
    sources: list[LogSource]
    common: tuple[str, ...]  # the folders all its files share
    loose: bool = False  # files beside other machines' folders (see Machine.loose)


# Folders that hold logs rather than name a machine: a machine's root stops above them.
_LOG_FOLDERS = {
    "c",
    "ccm",
    "ccmsetup",
    "cbs",
    "log",
    "logs",
    "sms_ccm",
    "system32",
    "temp",
    "windows",
    "windowsupdate",
}


def _named_root(base: tuple[str, ...], common: tuple[str, ...]) -> tuple[str, ...]:
    """A machine's root, down through the folders all its files share, as long as they
    name something (`batch2/PC03`) and are not the log folders themselves (`PC03/Logs`)."""
    root = base
    for folder in common[len(base) :]:
        if folder.lower() in _LOG_FOLDERS:
            break
        root = (*root, folder)
    return root


def _common_folders(paths: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    common: tuple[str, ...] | None = None
    for folders in paths:
        if common is None:
            common = folders
            continue
        keep = 0
        for mine, theirs in zip(common, folders, strict=False):
            if mine.lower() != theirs.lower():
                break
            keep += 1
        common = common[:keep]
    return common or ()


def _share_a_log(branches: Iterable[list[LogSource]]) -> bool:
    seen: set[str] = set()
    for members in branches:
        groups = {source.group for source in members}
        if seen & groups:
            return True
        seen |= groups
    return False


def _name(root: str, label: str) -> str:
    name = PurePosixPath(root).name if root else label
    return name[: -len(".zip")] if name.lower().endswith(".zip") and len(name) > 4 else name


def _unique_names(machines: list[Machine]) -> None:
    """Two folders called Logs in different places: name them by their whole path."""
    counts: dict[str, int] = {}
    for machine in machines:
        counts[machine.name.lower()] = counts.get(machine.name.lower(), 0) + 1
    for machine in machines:
        if counts[machine.name.lower()] > 1 and machine.source:
            machine.name = machine.source


# --- identity -------------------------------------------------------------------------


def _read_identity(machine: Machine, client_ids: bool) -> None:
    """The client id of each copy of ClientIDManagerStartup.log in the machine's files."""
    copies = [source for source in machine.sources if source.group.startswith(_IDENTITY_LOG)]
    if not client_ids and len({source.group for source in copies}) < 2:
        return
    ids: dict[str, str] = {}  # rotation group -> latest id in it
    for source in copies:  # sorted oldest first inside each group
        found = _last_client_id(source)
        if found:
            ids[source.group] = found
    distinct = list(dict.fromkeys(ids.values()))
    if len(distinct) > 1 and len(ids) > 1:
        machine.mixed_ids = distinct
    own = ids.get(f"{_IDENTITY_LOG}.log") or (distinct[0] if distinct else None)
    machine.client_id = own


def _last_client_id(source: LogSource) -> str | None:
    found = None
    read = 0
    try:
        with source.open() as binary:
            text, _ = open_text(binary)
            for _, line, _ in iter_lines(text):
                read += len(line)
                if match := _CLIENT_ID.search(line):
                    found = "GUID:" + match[1][len("GUID:") :].upper()
                if read > _IDENTITY_BYTES:
                    break
    except (InputError, OSError, UnicodeError):  # damaged: the diagnosis will say so
        return found
    return found

"""`sccm fleet` for people and spreadsheets: the groups as text, the machines as CSV."""

from __future__ import annotations

import csv
import textwrap
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from knowledge.models import FleetGroup, FleetMachine, FleetReport

from . import text

# CSV columns: the JSON's machine fields in their order, then the additions.
CSV_COLUMNS = (
    "machine",
    "source",
    "verdict",
    "stage",
    "cause",
    "confidence",
    "summary",
    "error_codes",
    "stage_title",
    "cause_title",
    "client_id",
)
STEP_LINES = 3  # a group's next step, cut there: `--machine NAME` shows it whole
CODES_SEPARATOR = " "  # error codes in one CSV cell: "0x80190194 0x80070002"


def write_csv(rows: list[FleetMachine], out: TextIO) -> None:
    """A row per machine; empty cells for null, the error codes space-separated."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        values = row.model_dump()
        values["error_codes"] = CODES_SEPARATOR.join(row.error_codes)
        writer.writerow(
            {column: "" if values[column] is None else values[column] for column in CSV_COLUMNS}
        )


def _machines(count: int) -> str:
    return "1 machine" if count == 1 else f"{count} machines"


def headline(report: FleetReport) -> str:
    """ "12 machines: 9 failing, 2 healthy, 1 inconclusive"."""
    counts = {"failure": 0, "healthy": 0, "inconclusive": 0}
    for row in report.machines:
        counts[row.verdict] = counts.get(row.verdict, 0) + 1
    parts = [
        f"{counts[verdict]} {word}"
        for verdict, word in (
            ("failure", "failing"),
            ("healthy", "healthy"),
            ("inconclusive", "inconclusive"),
        )
        if counts.get(verdict)
    ]
    return f"{_machines(len(report.machines))}: {', '.join(parts)}"


def group_title(group: FleetGroup) -> str:
    """ "FAILURE at Content download (download)", "HEALTHY", "INCONCLUSIVE"."""
    if group.verdict == "failure" and group.stage:
        return f"FAILURE at {group.stage_title or group.stage} ({group.stage})"
    if group.verdict == "inconclusive" and group.stage:
        return f"INCONCLUSIVE, likely {group.stage_title or group.stage} ({group.stage})"
    return group.verdict.upper()


def render_fleet(
    report: FleetReport, *, width: int | None = None, more_hint: str | None = None
) -> str:
    """The machines grouped by verdict and cause, the largest failing group first, each
    group's shared next step and its machines; then what was skipped. `width` defaults
    to the terminal's."""
    width = width or text.console().width

    def wrap(body: str, indent: str, first: str | None = None) -> str:
        return textwrap.fill(
            body,
            width,
            initial_indent=first if first is not None else indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )

    lines = [headline(report), ""]
    for group in report.groups:
        lines.append(f"{group_title(group)} · {_machines(group.count)}")
        if group.cause_title or group.cause:
            lines.append(wrap(f"Cause: {group.cause_title or group.cause}", "    ", "  "))
        lines.append(wrap(f"Machines: {', '.join(group.machines)}", "    ", "  "))
        if group.next_step and group.verdict != "healthy":
            step = wrap(f"Next step: {group.next_step.text}", "    ", "  ").splitlines()
            if len(step) > STEP_LINES:  # the rest is in each machine's diagnosis
                step = [*step[: STEP_LINES - 1], step[STEP_LINES - 1].rstrip(" .,;:") + "…"]
            lines.extend(step)
            label, _ = text.short_source(group.next_step.source)
            lines.append(f"    source: {label}")
        lines.append("")
    if report.skipped:
        lines.append(f"Not read ({len(report.skipped)})")
        for item in report.skipped:
            lines.append(wrap(f"{item.name}: {item.reason}", "    ", "  "))
        lines.append("")
    if more_hint:
        lines.append(more_hint)
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"

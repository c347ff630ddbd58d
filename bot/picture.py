"""The journey picture: when each stage of the pipeline was seen working or failing.

Time runs along the x axis in the machine's own time when its logs name its zone; the
ten stages (CONTRACT.md order, first at the top) are the tracks. It draws
- each track's ledger status (failed tracks tinted, stages not reached greyed out),
- each evidence finding: a dot for a success, a cross with its error code for a failure,
  and a bar from its first to its last time with the repeat count when it recurred
  (retries),
- each update's path: a line through the stages it was seen at, in time order, ending
  in a cross with its code where it stopped.

`journey()` turns a Diagnosis into plain marks (no plotting library involved);
`figure()` draws them with matplotlib's object API on the Agg canvas (headless and safe
in the Slack app's worker threads, unlike pyplot's global state). matplotlib is imported
only here and only when a picture is asked for, so `sccm` starts as fast as before.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from knowledge.models import STAGE_IDS, Diagnosis

if TYPE_CHECKING:  # only for annotations: importing matplotlib costs a third of a second
    from matplotlib.figure import Figure

_CODE = re.compile(r"0x[0-9a-fA-F]{8}")

# Colours that stay apart for colour-blind readers (Okabe-Ito) and in greyscale print.
_FAILED = "#d55e00"
_OK = "#009e73"
_REACHED = "#0072b2"
_UPDATE_COLOURS = ("#0072b2", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442")
_MAX_UPDATE_PATHS = len(_UPDATE_COLOURS)  # more lines than this only hide each other
_TITLE_CHARS = 100  # wider would run into the key
_CODES_PER_LABEL = 3  # a track's label names its most frequent codes, then "+N more"
_STATUS_SHADE = {"failed": "#fbe3d6", "not_reached": "#eeeeee"}
_STATUS_WORD = {"ok": "ok", "failed": "FAILED", "not_reached": "not reached", "no_evidence": "-"}


@dataclass(frozen=True)
class Mark:
    stage: str
    when: datetime  # on the picture's clock (see Journey.clock)
    outcome: str  # ok / failed / reached / info
    code: str | None = None
    count: int = 1
    first: datetime | None = None  # a repeated finding's first time, for its bar


@dataclass
class UpdatePath:
    update: str
    marks: list[Mark] = field(default_factory=list)


@dataclass
class Journey:
    """What the picture shows, before any drawing."""

    stages: list[tuple[str, str, str]]  # (stage id, title, ledger status), pipeline order
    marks: list[Mark]
    paths: list[UpdatePath]
    clock: str  # the x axis label: which clock the times are on
    title: str
    hidden_updates: int = 0  # updates left out of the picture (only so many lines fit)


def _parse(value: str | None) -> datetime | None:
    """An ISO time from the Diagnosis: aware UTC with `Z`, naive local without."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _clock(diagnosis: Diagnosis, any_utc: bool, any_local: bool):
    """The axis label and the function that puts a parsed time on that clock."""
    offset = diagnosis.utc_offset_minutes
    zone = diagnosis.time_zone

    def on_clock(when: datetime) -> datetime:
        if when.tzinfo is None:
            return when  # local time whose zone the logs do not give: shown as written
        when = when.astimezone(UTC)
        if offset is not None:
            when = when + timedelta(minutes=offset)
        return when.replace(tzinfo=None)

    if offset is not None:
        label = f"time on the machine ({zone})"
    elif zone:  # two zones: a daylight-saving change inside the logs
        label = f"time in UTC (the machine's zone: {zone})"
    elif any_utc and any_local:
        label = "time: UTC where the logs give a zone, else the machine's local time (zone unknown)"
    elif any_utc:
        label = "time in UTC (the machine's zone is not in the logs)"
    else:
        label = "the machine's local time (its zone is not in the logs)"
    return label, on_clock


def _code_of(text: str, stage: str, diagnosis: Diagnosis) -> str | None:
    found = _CODE.search(text)
    if found:
        return "0x" + found.group(0)[2:].upper()
    codes = [c.code for c in diagnosis.error_codes if c.stage == stage]
    return codes[0] if codes else None


def journey(diagnosis: Diagnosis) -> Journey:
    """The marks of a Diagnosis: its evidence and its updates' steps, on one clock."""
    raw_times = [e.time for e in diagnosis.evidence] + [
        s.time for u in diagnosis.updates for s in u.steps
    ]
    parsed = [t for t in map(_parse, raw_times) if t is not None]
    clock, on_clock = _clock(
        diagnosis,
        any(t.tzinfo is not None for t in parsed),
        any(t.tzinfo is None for t in parsed),
    )

    marks = []
    for item in diagnosis.evidence:
        when = _parse(item.last_time or item.time)
        if when is None or item.stage is None:
            continue
        first = _parse(item.first_time)
        code = _code_of(item.text, item.stage, diagnosis) if item.outcome == "failed" else None
        marks.append(
            Mark(
                stage=item.stage,
                when=on_clock(when),
                outcome=item.outcome or "info",
                code=code,
                count=item.count,
                first=on_clock(first) if first is not None and item.count > 1 else None,
            )
        )

    paths = []
    for progress in diagnosis.updates:
        steps = [(s, _parse(s.time)) for s in progress.steps]
        path = UpdatePath(progress.update)
        for step, when in sorted(
            ((s, w) for s, w in steps if w is not None), key=lambda pair: on_clock(pair[1])
        ):
            path.marks.append(Mark(step.stage, on_clock(when), step.outcome, step.code))
        if path.marks:
            paths.append(path)

    ledger = {row.stage: row for row in diagnosis.ledger}
    stages = []
    for stage in STAGE_IDS:
        row = ledger.get(stage)
        title = (row.title if row and row.title else stage).strip()
        stages.append((stage, title, row.status if row else "no_evidence"))

    if diagnosis.verdict == "failure":
        title = f"Failure at {diagnosis.stage_title or diagnosis.stage}"
        if diagnosis.cause_title:
            title += f": {diagnosis.cause_title}"
    else:
        title = diagnosis.verdict.capitalize()
    return Journey(
        stages=stages,
        marks=marks,
        paths=paths[:_MAX_UPDATE_PATHS],
        clock=clock,
        title=title,
        hidden_updates=max(0, len(paths) - _MAX_UPDATE_PATHS),
    )


def has_marks(diagnosis: Diagnosis) -> bool:
    """Whether the picture would show anything beyond the ten tracks and their status."""
    plan = journey(diagnosis)
    return bool(plan.marks or plan.paths)


def _plain(text: str) -> str:
    """Text matplotlib prints as written: a `$` would otherwise start its math notation."""
    return text.replace("$", r"\$")


def _short(update: str) -> str:
    """A KB number as it is; an update GUID by its first block (the legend must stay narrow)."""
    return _plain(update if len(update) <= 12 else update[:8] + "…")


def _axis_start(plan: Journey, times: list[datetime]) -> datetime:
    """Where the axis starts: the earliest latest-time, or a repeated finding's first time
    when that is not far before (half the span of the latest times, or five minutes)."""
    low = min(times)
    reach = max((max(times) - low) / 2, timedelta(minutes=5))
    firsts = [m.first for m in plan.marks if m.first is not None and m.first >= low - reach]
    return min([low, *firsts])


def figure(plan: Journey) -> Figure:
    """Draws a Journey. Failure crosses carry gid "failure" and their code as text, success
    dots gid "success", retry bars gid "retries", update paths gid "update:<id>"."""
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 5.2), dpi=100)
    # Fixed margins, sized for the longest track label and the legend: a layout engine
    # would draw the figure twice, doubling the time a picture takes.
    fig.subplots_adjust(left=0.235, right=0.835, top=0.93, bottom=0.1)
    ax = fig.add_subplot()
    rows = {stage: index for index, (stage, _, _) in enumerate(plan.stages)}
    for stage, _, status in plan.stages:
        shade = _STATUS_SHADE.get(status)
        if shade:
            ax.axhspan(rows[stage] - 0.5, rows[stage] + 0.5, color=shade, zorder=0, lw=0)
    ax.set_yticks(
        range(len(plan.stages)),
        [f"{title} ({_STATUS_WORD[status]})" for _, title, status in plan.stages],
    )
    ax.set_ylim(len(plan.stages) - 0.5, -0.5)  # the pipeline's first stage at the top
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)

    for index, path in enumerate(plan.paths):
        colour = _UPDATE_COLOURS[index]
        # A small vertical offset per update keeps paths over the same stages apart.
        lift = (index - (len(plan.paths) - 1) / 2) * 0.12
        xs = [m.when for m in path.marks]
        ys = [rows[m.stage] + lift for m in path.marks]
        ax.plot(
            xs,
            ys,
            "-",
            color=colour,
            lw=1.4,
            alpha=0.8,
            gid=f"update:{path.update}",
            label=f"update {_short(path.update)}",
            zorder=2,
        )
        # Each stage the update was seen at: a path of one stage is still a visible mark.
        for outcome, marker in (("ok", "o"), ("failed", "X")):
            seen = [(m.when, rows[m.stage] + lift) for m in path.marks if m.outcome == outcome]
            if seen:
                ax.plot(
                    [x for x, _ in seen],
                    [y for _, y in seen],
                    ls="",
                    marker=marker,
                    ms=5 if outcome == "ok" else 7,
                    color=colour,
                    gid=f"update-{outcome}",
                    zorder=3,
                )

    times = [m.when for m in plan.marks] + [m.when for p in plan.paths for m in p.marks]
    start = _axis_start(plan, times) if times else None
    for mark in plan.marks:
        y = rows[mark.stage]
        colour = _FAILED if mark.outcome == "failed" else _OK
        if mark.first is not None and mark.first < mark.when:
            # The axis spans the marks' latest times: a finding that began long before
            # (a scan that also ran last week) gets its bar cut at the edge, and says so.
            begin = max(mark.first, start)
            ax.plot(
                [begin, mark.when],
                [y, y],
                "-",
                color=colour,
                lw=5,
                alpha=0.35,
                solid_capstyle="butt",
                gid="retries",
                zorder=1,
            )
            if mark.first < start:
                ax.annotate(
                    f"since {mark.first:%Y-%m-%d %H:%M}",
                    (begin, y),
                    xytext=(2, -12),
                    textcoords="offset points",
                    fontsize=7,
                    color="#555555",
                )
        if mark.outcome == "failed":
            ax.plot(
                [mark.when],
                [y],
                "X",
                color=_FAILED,
                ms=11,
                mec="white",
                mew=0.8,
                gid="failure",
                zorder=4,
            )
        else:
            ax.plot(
                [mark.when],
                [y],
                "o",
                color=_OK if mark.outcome == "ok" else _REACHED,
                ms=7,
                mec="white",
                mew=0.8,
                gid="success" if mark.outcome == "ok" else "reached",
                zorder=3,
            )
            if mark.count > 1:
                ax.annotate(
                    f"×{mark.count}",
                    (mark.when, y),
                    xytext=(5, 4),
                    textcoords="offset points",
                    fontsize=7,
                    color="#555555",
                )
    if times:
        end = max(times)
        pad = max((end - start) * 0.05, timedelta(minutes=1))
        ax.set_xlim(start - pad, end + pad * 3)  # room on the right for the last label
        locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        ax.set_xticks([])
        ax.text(
            0.5,
            0.5,
            "no timed evidence in these logs",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#555555",
        )
    # One label per track: its failing codes, each with the lines that carried it, at the
    # track's latest cross. A failure is often logged by several logs within seconds:
    # a label each would print over each other.
    codes: dict[str, dict[str, int]] = {}
    latest: dict[str, datetime] = {}
    evidence = [(m, m.count) for m in plan.marks]
    steps = [(m, 0) for p in plan.paths for m in p.marks]  # the evidence counts the lines
    for mark, lines in evidence + steps:
        if mark.outcome != "failed":
            continue
        track = codes.setdefault(mark.stage, {})
        track[mark.code or "failed"] = track.get(mark.code or "failed", 0) + lines
        latest[mark.stage] = max(mark.when, latest.get(mark.stage, mark.when))
    left, right = ax.get_xlim()
    for stage, found in codes.items():
        ranked = sorted(found.items(), key=lambda item: -item[1])
        parts = [f"{code} ×{n}" if n > 1 else code for code, n in ranked[:_CODES_PER_LABEL]]
        if len(ranked) > _CODES_PER_LABEL:
            parts.append(f"+{len(ranked) - _CODES_PER_LABEL} more")
        where = mdates.date2num(latest[stage])
        on_right = right > left and (where - left) / (right - left) > 0.55
        ax.annotate(
            ", ".join(parts),
            (latest[stage], rows[stage]),
            xytext=(-7 if on_right else 7, -13),
            textcoords="offset points",
            ha="right" if on_right else "left",
            fontsize=8,
            color=_FAILED,
            fontweight="bold",
            gid="failure-code",
            zorder=5,
        )
    ax.set_xlabel(plan.clock)
    title = plan.title
    if len(title) > _TITLE_CHARS:
        title = title[: _TITLE_CHARS - 1] + "…"
    title = _plain(title)
    if plan.hidden_updates:
        title += f"  (+{plan.hidden_updates} more update(s) not drawn)"
    ax.set_title(title, loc="left", fontsize=11)
    # The key: what the marks mean, then one entry per update path drawn.
    from matplotlib.lines import Line2D

    key = [
        Line2D([], [], ls="", marker="o", color=_OK, label="stage worked"),
        Line2D([], [], ls="", marker="X", color=_FAILED, label="failure: code ×lines"),
        Line2D([], [], lw=5, alpha=0.35, color=_FAILED, label="repeated, first to last"),
    ]
    paths = [line for line in ax.get_lines() if str(line.get_gid()).startswith("update:")]
    ax.legend(
        handles=key + paths,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize=8,
        frameon=False,
        title_fontsize=8,
    )
    return fig


# matplotlib keeps process-wide caches (fonts, text layout) that its documentation does
# not promise are safe to share between threads: the Slack app's workers draw one at a time.
_DRAWING = threading.Lock()


def render_png(diagnosis: Diagnosis) -> bytes:
    """The picture of a Diagnosis as PNG bytes."""
    plan = journey(diagnosis)
    with _DRAWING:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = figure(plan)
        FigureCanvasAgg(fig)  # attaches the headless canvas; no display is ever touched
        out = io.BytesIO()
        fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()

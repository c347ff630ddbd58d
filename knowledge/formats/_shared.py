"""Small pieces every format parser needs: clock arithmetic, severity words, zone buffering.

Parsing is the hot path of a diagnosis (hundreds of MB of logs), so times are built from
integers with a cache per (date, zone) rather than with strptime, and no
helper here allocates more than the entry it returns.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

from knowledge.models import ERROR, INFO, WARNING, Entry

# A record (one entry's message) is capped so that a damaged file cannot make one entry
# hold the whole upload; the cap is far beyond any real record (WMI dumps: a few KB).
MAX_RECORD_CHARS = 1 << 20
MAX_RECORD_LINES = 10_000

# How many entries may wait for a zone stated further down a file (see ZoneBuffer).
ZONE_WAIT_ENTRIES = 4096

# Zone offsets outside this range (minutes) are damage, not a real zone.
MAX_OFFSET_MINUTES = 14 * 60

_FRACTION_SCALE = (0, 100_000, 10_000, 1_000, 100, 10, 1)


def microseconds(fraction: str | None) -> int:
    """'338' -> 338000, '8422964' (7 digits, 100 ns ticks) -> 842296, None -> 0."""
    if not fraction:
        return 0
    return int(fraction[:6]) * _FRACTION_SCALE[min(len(fraction), 6)]


_ONE_DAY = timedelta(days=1)
# Two-digit texts to numbers without int() ("5" and "05" alike): the clock is hot.
SECONDS = {**{str(n): n for n in range(60)}, **{f"{n:02d}": n for n in range(60)}}


class Clock:
    """Turns (date text, "HH:MM", second text, microseconds, UTC shift) into a datetime.

    `shift` is the minutes to ADD to local time to get UTC (a CMTrace bias; the result is
    then aware UTC), or None for local time. Each (date, shift) is worked out once, with
    the days before and after it for a shift that crosses midnight; the rest is integer
    arithmetic, so sparse logs (one record every few minutes) cost as little as dense ones.
    """

    __slots__ = ("_days", "_date_parts")

    def __init__(self, date_parts: Callable[[str], tuple[int, int, int]]):
        self._days: dict[tuple[str, int | None], tuple | None] = {}
        self._date_parts = date_parts

    def _day(self, day: str, shift: int | None) -> tuple | None:
        if len(self._days) > 10_000:  # a damaged file can invent endless dates
            self._days.clear()
        try:
            same = date(*self._date_parts(day))
            before, after = same - _ONE_DAY, same + _ONE_DAY
            found = (
                (before.year, before.month, before.day),
                (same.year, same.month, same.day),
                (after.year, after.month, after.day),
                None if shift is None else UTC,
            )
        except (ValueError, OverflowError):  # an impossible date, or the calendar's edge
            found = None
        self._days[(day, shift)] = found
        return found

    def time(
        self, day: str, hhmm: str, second: str, micro: int, shift: int | None
    ) -> datetime | None:
        """The datetime of one stamp, or None when any part of it is impossible."""
        days = self._days.get((day, shift), False)
        if days is False:
            days = self._day(day, shift)
        hour, _, minute = hhmm.partition(":")
        hour, minute, second = SECONDS.get(hour), SECONDS.get(minute), SECONDS.get(second)
        if days is None or hour is None or minute is None or second is None or hour > 23:
            return None
        index, in_day = divmod(hour * 60 + minute + (shift or 0), 1440)
        year, month, mday = days[index + 1]
        hour, minute = divmod(in_day, 60)
        return datetime(year, month, mday, hour, minute, second, micro, days[3])


def ymd(day: str) -> tuple[int, int, int]:
    """'2021-07-14' or '2021/07/14' -> (2022, 3, 11)."""
    return int(day[0:4]), int(day[5:7]), int(day[8:10])


def mdy(day: str) -> tuple[int, int, int]:
    """'3-11-2022', '03-11-2022' or '3/11/2022' -> (2022, 3, 11)."""
    month, mday, year = re.split(r"[-/]", day)
    return int(year), int(month), int(mday)


def valid_shift(minutes: int) -> int | None:
    return minutes if -MAX_OFFSET_MINUTES <= minutes <= MAX_OFFSET_MINUTES else None


# Words people and programs use for trouble. Whole words only: "errors=0" is no error,
# but "Error" and "failed" are. This is a hint for display; the engine reads the text.
_ERROR_WORDS = re.compile(r"\b(?:error|errors|fail|failed|failure|fatal|exception)\b", re.I)
_WARNING_WORDS = re.compile(r"\b(?:warn|warning|warnings)\b", re.I)


def severity_from_words(text: str) -> int:
    if _ERROR_WORDS.search(text):
        return ERROR
    if _WARNING_WORDS.search(text):
        return WARNING
    return INFO


def join_capped(parts: list[str]) -> str:
    """Lines of one record joined with \\n, cut at MAX_RECORD_CHARS."""
    message = "\n".join(parts)
    return message if len(message) <= MAX_RECORD_CHARS else message[:MAX_RECORD_CHARS]


class ZoneBuffer:
    """Holds back the first entries of a file until its zone is learned, within a bound.

    Some logs state their zone only part-way in (the WindowsUpdate.log banner, CBS's CSI
    UTC stamps). Entries before that point wait here (at most ZONE_WAIT_ENTRIES); once the
    zone is known they come out in UTC. If the limit is reached first they come out as
    local time, which keeps memory bounded at the price of a file that is part local,
    part UTC; the timeline treats each entry on its own, so both stay correct.
    """

    __slots__ = ("_held", "_limit", "offset", "released")

    def __init__(self):
        self._held: list[Entry] = []
        self._limit = ZONE_WAIT_ENTRIES
        self.offset: int | None = None  # minutes to ADD to local time to get UTC
        self.released = False

    def learn(self, offset_minutes: int) -> None:
        self.offset = offset_minutes

    def push(self, entry: Entry) -> Iterator[Entry]:
        """Entries ready to go out now, in order.

        Once released, entries pass straight through: the parser builds them in UTC
        itself from `offset`, which is cheaper than converting each one here.
        """
        if self.released:
            yield entry
            return
        self._held.append(entry)
        if self.offset is not None or len(self._held) >= self._limit:
            yield from self.flush()

    def flush(self) -> Iterator[Entry]:
        held, self._held = self._held, []
        self.released = True
        offset = self.offset
        for entry in held:
            if offset is not None and entry.time is not None and entry.time.tzinfo is None:
                # A stamp at the end of the calendar is damage: it stays local.
                with contextlib.suppress(OverflowError):
                    entry.time = (entry.time + timedelta(minutes=offset)).replace(tzinfo=UTC)
            yield entry

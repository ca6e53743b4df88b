"""The shift catalogue and its rules, compiled from the `schedule:` block and checked.

Everything is held in whole minutes. A rule broken raises ConfigError naming the key
(`schedule.shifts.early.breaks[1].latest_min`), so `cxsim schedule` can print one line and exit 2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cxsim.errors import ConfigError

DAY_MIN = 1440
WEEK_DAYS = 7
FINEST_SLOT_MIN = 5  # coarser than this keeps the model small; finer is not how rosters are written


@dataclass(frozen=True)
class Break:
    """A break or lunch: `length_min`, paid or not, starting `earliest_min`..`latest_min` after the shift starts."""

    name: str
    length_min: int
    paid: bool
    earliest_min: int
    latest_min: int


@dataclass(frozen=True)
class ShiftType:
    """One entry of the catalogue: its length, allowed starts (minutes after midnight), breaks and limits."""

    name: str
    length_min: int
    starts: tuple[int, ...]
    part_time: bool
    max_count: int | None
    cost_factor: float
    breaks: tuple[Break, ...]

    @property
    def paid_hours(self) -> float:
        """Hours paid per shift: its length less the unpaid breaks."""
        return (self.length_min - sum(b.length_min for b in self.breaks if not b.paid)) / 60.0


@dataclass(frozen=True)
class Rules:
    """The compiled `schedule:` block: catalogue, operating hours, tours, solver and repair settings."""

    shifts: tuple[ShiftType, ...]
    granularity_min: int
    open_min: int
    close_min: int
    part_time_max_share: float
    days_off_per_week: int
    consecutive_days_off: bool
    shortfall_penalty: float
    time_limit_s: float
    mip_gap: float
    max_rounds: int
    min_contacts: int
    simulate: bool

    def slot_min(self, interval_min: int) -> int:
        """The time step of the model: the largest that every time in the rules and the interval sit on."""
        times = [interval_min, self.granularity_min, self.open_min, self.close_min]
        for s in self.shifts:
            times += [s.length_min, *s.starts]
            times += [t for b in s.breaks for t in (b.length_min, b.earliest_min, b.latest_min)]
        return math.gcd(*times)

    def tours(self, days: int) -> bool:
        """Weekly tours (days off) apply to a horizon of whole weeks."""
        return self.days_off_per_week > 0 and days >= WEEK_DAYS


def clock(text: Any, key: str, allow_midnight_end: bool = False) -> int:
    """Minutes after midnight of an `HH:MM` clock time."""
    hh, _, mm = str(text).partition(":")
    try:
        minutes = int(hh) * 60 + int(mm)
    except ValueError:
        raise ConfigError(key, f"must be a clock time HH:MM (got '{text}')") from None
    top = DAY_MIN if allow_midnight_end else DAY_MIN - 1
    if not (0 <= int(mm) < 60 and 0 <= minutes <= top):
        raise ConfigError(
            key, f"must be a clock time between 00:00 and {'24:00' if allow_midnight_end else '23:59'} (got '{text}')"
        )
    return minutes


def clock_text(minutes: int) -> str:
    """`HH:MM` of minutes after midnight (a day's end reads 24:00)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(value: Any, key: str, positive: bool = True) -> int:
    """A length or offset in whole minutes (> 0, or >= 0 when not `positive`)."""
    v = float(value)
    if (v <= 0 if positive else v < 0) or not math.isfinite(v):
        raise ConfigError(key, f"must be {'> 0' if positive else '>= 0'} (got {value})")
    if abs(v - round(v)) > 1e-9:
        raise ConfigError(key, f"must be whole minutes (got {value})")
    return round(v)


def _break(raw: Mapping[str, Any], key: str, shift_min: int) -> Break:
    length = _minutes(raw["length_min"], f"{key}.length_min")
    earliest = _minutes(raw["earliest_min"], f"{key}.earliest_min", positive=False)
    latest = _minutes(raw["latest_min"], f"{key}.latest_min", positive=False)
    if latest < earliest:
        raise ConfigError(f"{key}.latest_min", f"must be >= earliest_min {earliest} (got {latest})")
    if latest + length > shift_min:
        raise ConfigError(
            f"{key}.latest_min",
            f"the break must end inside its shift: latest_min + length_min = {latest + length} > "
            f"the shift's {shift_min} minutes",
        )
    return Break(str(raw["name"]), length, bool(raw["paid"]), earliest, latest)


def _shift(name: str, raw: Mapping[str, Any], granularity: int, open_min: int, close_min: int) -> ShiftType:
    key = f"schedule.shifts.{name}"
    hours = float(raw["length_h"])
    if not 0 < hours <= 24:
        raise ConfigError(f"{key}.length_h", f"must be > 0 and at most 24 hours (got {raw['length_h']})")
    length = _minutes(hours * 60, f"{key}.length_h")
    earliest = clock(raw["earliest_start"], f"{key}.earliest_start")
    latest = clock(raw["latest_start"], f"{key}.latest_start")
    if latest < earliest:
        raise ConfigError(f"{key}.latest_start", f"must not be before earliest_start {raw['earliest_start']}")
    around = open_min == 0 and close_min == DAY_MIN
    starts = tuple(
        t
        for t in range(0, DAY_MIN, granularity)
        if earliest <= t <= latest and (around or (t >= open_min and t + length <= close_min))
    )
    if not starts:
        raise ConfigError(
            f"{key}.earliest_start",
            f"no start on the {granularity}-minute grid between {raw['earliest_start']} and {raw['latest_start']} "
            f"fits a {length / 60:g} h shift inside the operating hours {clock_text(open_min)}-{clock_text(close_min)}",
        )
    breaks = tuple(_break(b, f"{key}.breaks[{i}]", length) for i, b in enumerate(raw.get("breaks") or []))
    for i in range(1, len(breaks)):
        before = breaks[i - 1]
        if breaks[i].earliest_min < before.latest_min + before.length_min:
            raise ConfigError(
                f"{key}.breaks[{i}].earliest_min",
                f"breaks come in order with windows that do not overlap: must be >= {before.latest_min} + "
                f"{before.length_min} (the end of '{before.name}' at its latest; got {breaks[i].earliest_min})",
            )
    max_count = raw.get("max_count")
    if max_count is not None and int(max_count) < 0:
        raise ConfigError(f"{key}.max_count", f"must be >= 0 or null (got {max_count})")
    factor = float(raw.get("cost_factor", 1.0))
    if factor <= 0:
        raise ConfigError(f"{key}.cost_factor", f"must be > 0 (got {factor})")
    return ShiftType(
        name, length, starts, bool(raw["part_time"]), None if max_count is None else int(max_count), factor, breaks
    )


def _bounded(value: Any, key: str, low: float, high: float) -> float:
    v = float(value)
    if not low <= v <= high:
        raise ConfigError(key, f"must be in [{low:g}, {high:g}] (got {value})")
    return v


def compile_rules(block: Mapping[str, Any]) -> Rules:
    """The `schedule:` block (a plain mapping merged onto ScheduleConfig) as checked Rules."""
    granularity = _minutes(block["granularity_min"], "schedule.granularity_min")
    if DAY_MIN % granularity:
        raise ConfigError("schedule.granularity_min", f"must divide a day (1440 minutes) (got {granularity})")
    hours = block["operating_hours"]
    open_min = clock(hours["open"], "schedule.operating_hours.open")
    close_min = clock(hours["close"], "schedule.operating_hours.close", allow_midnight_end=True)
    if close_min <= open_min:
        raise ConfigError(
            "schedule.operating_hours.close",
            f"must be after open {hours['open']} on the same day (24:00 for midnight; got '{hours['close']}')",
        )
    shifts = block.get("shifts") or {}
    if not shifts:
        raise ConfigError("schedule.shifts", "the catalogue has no shift type")
    days_off = int(block["days_off_per_week"])
    if not 0 <= days_off < WEEK_DAYS:
        raise ConfigError("schedule.days_off_per_week", f"must be in 0..6 (got {days_off})")
    if float(block["shortfall_penalty"]) <= 0:
        raise ConfigError("schedule.shortfall_penalty", f"must be > 0 (got {block['shortfall_penalty']})")
    if float(block["time_limit_s"]) <= 0:
        raise ConfigError("schedule.time_limit_s", f"must be > 0 (got {block['time_limit_s']})")
    for key, low in (("max_rounds", 0), ("min_contacts", 1)):
        if int(block[key]) < low:
            raise ConfigError(f"schedule.{key}", f"must be >= {low} (got {block[key]})")
    rules = Rules(
        shifts=tuple(_shift(str(n), s, granularity, open_min, close_min) for n, s in shifts.items()),
        granularity_min=granularity,
        open_min=open_min,
        close_min=close_min,
        part_time_max_share=_bounded(block["part_time_max_share"], "schedule.part_time_max_share", 0, 1),
        days_off_per_week=days_off,
        consecutive_days_off=bool(block["consecutive_days_off"]),
        shortfall_penalty=float(block["shortfall_penalty"]),
        time_limit_s=float(block["time_limit_s"]),
        mip_gap=_bounded(block["mip_gap"], "schedule.mip_gap", 0, 1),
        max_rounds=int(block["max_rounds"]),
        min_contacts=int(block["min_contacts"]),
        simulate=bool(block["simulate"]),
    )
    if rules.slot_min(granularity) < FINEST_SLOT_MIN:
        raise ConfigError(
            "schedule.shifts", f"shift and break times must be whole multiples of {FINEST_SLOT_MIN} minutes"
        )
    return rules

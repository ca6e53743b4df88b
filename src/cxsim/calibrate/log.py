"""The contact log: read a CSV or Parquet export, map its columns, parse times, check every rule.

A log is one row per contact (default) or one row per contact leg (`format: leg`). Times are
ISO date-times (with or without offset) or epoch seconds; naive times are read in `timezone`.
Everything downstream works in seconds since local midnight of the first logged day. A rule
broken raises ConfigError("log", ...) naming the column and the first bad data row (1 = the
first row after the header); rows that are merely odd are counted in `LogData.odd`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxsim.errors import ConfigError

REQUIRED = ("contact_id", "customer_id", "channel", "arrival", "queue_entry", "answer", "end", "outcome", "tier")
OPTIONAL = ("intent", "segment", "bot_end", "agent")
COLUMNS = (*REQUIRED, *OPTIONAL)
TIMES = ("arrival", "bot_end", "queue_entry", "answer", "end")
LOG_OUTCOMES = ("answered", "abandoned", "contained", "escalated")
FORMATS = ("contact", "leg")
DAY_S = 86400.0


@dataclass(frozen=True)
class LogSpec:
    """How to read a log: `columns` maps cxsim's names to the export's, times in `timezone`."""

    columns: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    format: str = "contact"

    def check(self) -> None:
        """The rules of the settings themselves (ConfigError names the key)."""
        for name in self.columns:
            if name not in COLUMNS:
                raise ConfigError(f"calibrate.columns.{name}", f"is not a log column ({', '.join(COLUMNS)})")
        if self.format not in FORMATS:
            raise ConfigError("calibrate.format", f"must be one of {', '.join(FORMATS)} (got '{self.format}')")
        try:
            pd.Timestamp("2000-01-01").tz_localize(self.timezone)
        except Exception:
            raise ConfigError("calibrate.timezone", f"unknown time zone (got '{self.timezone}')") from None


@dataclass
class LogData:
    """A checked log: one row per contact and one per tier leg, times in seconds from `origin`."""

    contacts: pd.DataFrame  # contact, customer, channel, intent, segment, arrival, bot_end, end, outcome, row
    legs: pd.DataFrame  # contact, tier, queue_entry, answer, end, outcome, agent, leg (0 = first queue)
    origin: pd.Timestamp  # local midnight of the first logged day
    days: int  # whole days from origin to the last arrival's day
    rows: int
    odd: dict[str, int]  # merely odd rows, counted, kept
    columns: tuple[str, ...]  # the optional columns the log has

    @property
    def span_s(self) -> float:
        """The logged horizon in seconds."""
        return self.days * DAY_S


def _fail(column: str, row: int, rule: str) -> ConfigError:
    return ConfigError("log", f"column '{column}', data row {row + 1}: {rule}")


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ConfigError("log", f"file '{path}' does not exist")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, engine="pyarrow", comment=None) if path.stat().st_size else pd.DataFrame()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            "log", f"'{path}' cannot be read as {'Parquet' if path.suffix == '.parquet' else 'CSV'}: {first}"
        ) from None


def _seconds(raw: pd.Series, column: str, timezone: str) -> np.ndarray:
    """Times as UTC epoch seconds (nan where empty); the first unparseable cell raises."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        text = raw.astype("string").str.strip()
        empty = (text.isna() | (text == "")).to_numpy()
        numeric = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        first_cell = _first(~empty)
        if first_cell is not None and not np.isnan(numeric[first_cell]):  # epoch seconds (the first cell says)
            bad = _first(np.isnan(numeric) & ~empty)
            if bad is not None:
                raise _fail(column, bad, f"not an ISO date-time or epoch seconds (got '{text.iloc[bad]}')")
            return numeric
        try:
            parsed = pd.to_datetime(text.where(~empty), errors="coerce", format="ISO8601")
        except ValueError:  # mixed UTC offsets: read them all as UTC
            parsed = pd.to_datetime(text.where(~empty), errors="coerce", format="ISO8601", utc=True)
        bad = _first(parsed.isna().to_numpy() & ~empty)
        if bad is not None:
            raise _fail(column, bad, f"not an ISO date-time or epoch seconds (got '{text.iloc[bad]}')")
    if parsed.dt.tz is None:
        try:
            parsed = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
        except Exception:
            raise ConfigError("log", f"column '{column}': times cannot be read in time zone {timezone}") from None
    return (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else None


def _check_order(t: dict[str, np.ndarray], earlier: str, later: str, what: str, timezone: str) -> None:
    bad = _first(t[later] < t[earlier])  # nan compares False: empty cells pass here
    if bad is not None:

        def local(column: str) -> str:
            stamp = pd.Timestamp(t[column][bad], unit="s", tz="UTC").tz_convert(timezone)
            return stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + stamp.strftime("%z")

        raise _fail(later, bad, f"{what} (got {later} {local(later)} < {earlier} {local(earlier)})")


def read_log(path: str | Path, spec: LogSpec | None = None) -> LogData:
    """Read and check a contact log; raise ConfigError on the first broken rule."""
    spec = spec or LogSpec()
    spec.check()
    path = Path(path)
    frame = _read_frame(path)
    if frame.empty or len(frame.columns) == 0:
        raise ConfigError("log", f"'{path}' is empty (no data rows)")
    frame = frame.rename(columns={theirs: ours for ours, theirs in spec.columns.items()})
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        c = missing[0]
        raise ConfigError(
            "log",
            f"missing required column '{c}' (map another name with calibrate.columns.{c}=NAME; "
            f"found: {', '.join(map(str, frame.columns[:12]))})",
        )
    n = len(frame)
    t = {c: (_seconds(frame[c], c, spec.timezone) if c in frame.columns else np.full(n, np.nan)) for c in TIMES}
    bad = _first(np.isnan(t["arrival"]))
    if bad is not None:
        raise _fail("arrival", bad, "is empty")
    texts = {}
    for c in ("contact_id", "customer_id", "channel", "outcome", "tier", "intent", "segment", "agent"):
        if c in frame.columns:
            s = frame[c].astype("string").str.strip()
            texts[c] = s.where(s != "")
    for c in ("contact_id", "customer_id", "channel", "outcome"):
        bad = _first(texts[c].isna().to_numpy())
        if bad is not None:
            raise _fail(c, bad, "is empty")
    outcome = texts["outcome"].str.lower()
    bad = _first(~outcome.isin(LOG_OUTCOMES).to_numpy())
    if bad is not None:
        raise _fail("outcome", bad, f"must be one of {', '.join(LOG_OUTCOMES)} (got '{texts['outcome'].iloc[bad]}')")
    outcome_code = pd.Categorical(outcome, categories=LOG_OUTCOMES).codes
    contained = outcome_code == 2
    served = (outcome_code == 0) | (outcome_code == 3)
    abandoned = outcome_code == 1
    # what each outcome needs
    for need, mask, what in (
        ("queue_entry", ~contained, "is empty (every contact that reached an agent queue needs it)"),
        ("answer", served, "is empty for an answered or escalated contact"),
        ("end", ~contained | ~np.isnan(t["bot_end"]), "is empty"),
    ):
        bad = _first(mask & np.isnan(t[need]))
        if bad is not None:
            raise _fail(need, bad, what)
    bad = _first(abandoned & ~np.isnan(t["answer"]))
    if bad is not None:
        raise _fail("answer", bad, "is set for an abandoned contact")
    bad = _first(~contained & texts["tier"].isna().to_numpy())
    if bad is not None:
        raise _fail("tier", bad, "is empty (the tier whose queue the contact joined)")
    _check_order(t, "arrival", "bot_end", "bot end before arrival", spec.timezone)
    _check_order(t, "arrival", "queue_entry", "queue entry before arrival", spec.timezone)
    _check_order(t, "arrival", "answer", "answer before arrival", spec.timezone)
    _check_order(t, "queue_entry", "answer", "answer before queue entry", spec.timezone)
    _check_order(t, "answer", "end", "negative duration: end before answer", spec.timezone)
    _check_order(t, "queue_entry", "end", "negative duration: end before queue entry", spec.timezone)
    # ids
    contact_codes, contact_ids = pd.factorize(texts["contact_id"])
    leg_format = spec.format == "leg"
    key = contact_codes.astype(np.int64)
    if leg_format:  # one leg per contact and tier
        tier_codes = pd.factorize(texts["tier"].fillna(""))[0].astype(np.int64)
        key = key * (tier_codes.max() + 1) + tier_codes
    dup = pd.Series(key).duplicated().to_numpy()
    bad = _first(dup)
    if bad is not None:
        first_row = _first(key == key[bad])
        what = "contact and tier" if leg_format else "id"
        raise _fail(
            "contact_id",
            bad,
            f"duplicate {what} '{contact_ids[contact_codes[bad]]}' (first at data row "
            f"{first_row + 1}; a log with one row per leg needs calibrate.format=leg)",
        )
    # origin: local midnight of the first arrival's day
    first_arrival = pd.Timestamp(np.nanmin(t["arrival"]), unit="s", tz="UTC").tz_convert(spec.timezone)
    origin = first_arrival.normalize()
    shift = origin.tz_convert("UTC").timestamp()
    for c in TIMES:
        t[c] = t[c] - shift
    days = int(np.floor(np.nanmax(t["arrival"]) / DAY_S)) + 1
    # odd rows: counted and reported, kept
    handle = t["end"] - t["answer"]
    wait = t["end"] - t["queue_entry"]
    odd = {
        "zero_length_handles": int(np.sum(served & (handle == 0))),
        "phantom_abandons_under_5s": int(np.sum(abandoned & (wait < 5))),
        "contained_without_bot_end": int(np.sum(contained & np.isnan(t["bot_end"]))),
    }
    return _tables(frame, texts, t, outcome_code, contact_codes, origin, days, n, odd, leg_format)


def _category(texts: dict[str, pd.Series], name: str, default: str, codes: np.ndarray | None = None) -> pd.Categorical:
    if name in texts:
        return pd.Categorical(texts[name].fillna(default))
    return pd.Categorical(np.full(len(codes), default) if codes is not None else [])


def _tables(
    frame: pd.DataFrame,
    texts: dict[str, pd.Series],
    t: dict[str, np.ndarray],
    outcome_code: np.ndarray,
    contact_codes: np.ndarray,
    origin: pd.Timestamp,
    days: int,
    n: int,
    odd: dict[str, int],
    leg_format: bool,
) -> LogData:
    """Split the checked rows into the contact table and the leg table."""
    rows = np.arange(n)
    queued = ~np.isnan(t["queue_entry"])
    order = np.lexsort((np.nan_to_num(t["queue_entry"], nan=np.inf), contact_codes))
    # the contact's row: its first leg (or its only row)
    first = np.ones(n, bool)
    if leg_format:
        first = np.zeros(n, bool)
        cc = contact_codes[order]
        first[order[np.r_[True, cc[1:] != cc[:-1]]]] = True
    leg_pos = np.zeros(n, np.int64)
    if leg_format:
        cc = contact_codes[order]
        starts = np.r_[True, cc[1:] != cc[:-1]]
        group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        leg_pos[order] = np.arange(n) - group_start
    last_outcome = pd.Series(outcome_code).groupby(contact_codes).transform("last") if leg_format else None
    customer = pd.factorize(texts["customer_id"])[0]
    ends = np.fmax(t["end"], t["bot_end"])
    contact_end = pd.Series(ends).groupby(contact_codes).transform("max").to_numpy() if leg_format else ends
    contacts = pd.DataFrame(
        {
            "contact": contact_codes[first],
            "customer": customer[first],
            "channel": pd.Categorical(texts["channel"][first]),
            "intent": _category(texts, "intent", "general", rows)[first],
            "segment": _category(texts, "segment", "standard", rows)[first],
            "arrival": t["arrival"][first],
            "bot_end": t["bot_end"][first],
            "end": contact_end[first],
            "outcome": pd.Categorical.from_codes(
                (outcome_code if last_outcome is None else last_outcome.to_numpy())[first], LOG_OUTCOMES
            ),
            "row": rows[first],
        }
    ).sort_values("arrival", kind="stable", ignore_index=True)
    agent = pd.factorize(texts["agent"])[0] if "agent" in texts else np.full(n, -1)
    legs = pd.DataFrame(
        {
            "contact": contact_codes[queued],
            "tier": pd.Categorical(texts["tier"][queued]),
            "queue_entry": t["queue_entry"][queued],
            "answer": t["answer"][queued],
            "end": t["end"][queued],
            "outcome": pd.Categorical.from_codes(outcome_code[queued], LOG_OUTCOMES),
            "agent": agent[queued],
            "leg": leg_pos[queued],
            "row": rows[queued],
        }
    )
    return LogData(contacts, legs, origin, days, n, odd, tuple(c for c in OPTIONAL if c in frame.columns))

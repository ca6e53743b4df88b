"""Expected contact volume per staffing interval: a daily volume shaped by an intraday profile,
or absolute per-interval volumes from a CSV as WFM tools export them."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cxsim.errors import ConfigError
from cxsim.paths import profiles_dir

VOLUME_COLUMNS = ("volume", "offered", "contacts", "calls")


def is_file(path: Path) -> bool:
    """`path.is_file()`, False for a name the OS refuses (too long, NUL, undecodable)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def resolve_path(path_text: str, base_dir: Path | None) -> Path:
    """A relative path is tried from the working directory, then from the scenario's folder."""
    path = Path(path_text).expanduser()
    if not path.is_absolute() and not is_file(path) and base_dir is not None:
        path = base_dir / path
    return path


def read_text(path: Path, key: str) -> str:
    """A data file's text; missing, unreadable or non-UTF-8 files are a ConfigError naming `key`."""
    if not is_file(path):
        raise ConfigError(key, f"file '{path}' does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(key, f"'{path}' is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(key, f"cannot read '{path}': {exc.strerror or exc}") from None
    if "\0" in text:
        raise ConfigError(key, f"'{path}' is a binary file, not text")
    return text


def read_csv(path: Path, key: str) -> list[dict[str, str]]:
    text = read_text(path, key)
    try:
        rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    except csv.Error as exc:
        raise ConfigError(key, f"'{path}' is not a CSV file: {exc}") from None
    if not rows:
        raise ConfigError(key, f"'{path}' has no data rows")
    return rows


def column_numbers(rows: list[dict[str, str]], column: str, path: Path, key: str) -> np.ndarray:
    out = []
    for lineno, row in enumerate(rows, start=2):
        try:
            value = float(row[column])
        except (TypeError, ValueError):
            raise ConfigError(key, f"'{path}' row {lineno}: {column}='{row[column]}' is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise ConfigError(key, f"'{path}' row {lineno}: {column} must be a finite number >= 0 (got {value})")
        out.append(value)
    return np.asarray(out, dtype=float)


def load_weights(profile: Any, key: str, base_dir: Path | None = None) -> np.ndarray:
    """Daily profile weights over equal bins covering 24 h (any bin count dividing 1440 min)."""
    if profile is None or profile == "flat":
        return np.ones(1)
    if isinstance(profile, str):
        named = profiles_dir() / f"{profile}.csv"
        path = named if is_file(named) else resolve_path(profile, base_dir)
        if not is_file(path):
            known = sorted(p.stem for p in profiles_dir().glob("*.csv"))
            raise ConfigError(
                key, f"'{profile}' is neither a named profile ({', '.join(['flat', *known])}) nor a CSV file"
            )
        rows = read_csv(path, key)
        column = "weight" if "weight" in rows[0] else list(rows[0])[-1]
        weights = column_numbers(rows, column, path, key)
    elif isinstance(profile, Sequence):
        try:
            weights = np.asarray([float(w) for w in profile], dtype=float)
        except (TypeError, ValueError):
            raise ConfigError(key, "a list profile must hold numbers") from None
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ConfigError(key, "profile weights must be finite numbers >= 0")
    else:
        raise ConfigError(key, "must be a profile name, a list of weights or a CSV path")
    if len(weights) == 0 or 1440 % len(weights) != 0:
        raise ConfigError(key, f"needs a number of weights that divides a day into equal bins (got {len(weights)})")
    if weights.sum() <= 0:
        raise ConfigError(key, "profile weights must not all be zero")
    return weights


def repeat_days(one_day: np.ndarray, n_intervals: int) -> np.ndarray:
    """A one-day series repeated over a horizon of `n_intervals` (cut where the horizon ends mid-day)."""
    return np.tile(one_day, -(-n_intervals // len(one_day)))[:n_intervals]


def daily_shares(weights: np.ndarray, intervals_per_day: int) -> np.ndarray:
    """Share of a day's volume falling in each staffing interval (exact for piecewise-constant rates)."""
    bin_edges = np.linspace(0.0, 1.0, len(weights) + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    at_edges = np.interp(np.linspace(0.0, 1.0, intervals_per_day + 1), bin_edges, cumulative)
    return np.diff(at_edges)


def fit_to_horizon(values: np.ndarray, n_intervals: int, intervals_per_day: int, key: str, what: str) -> np.ndarray:
    """A series given per interval of the horizon, or per interval of one day (repeated over the horizon)."""
    if len(values) == n_intervals:
        return values
    if len(values) == intervals_per_day:
        return repeat_days(values, n_intervals)
    raise ConfigError(
        key,
        f"{what} needs one value per interval ({n_intervals}) or per interval of one day ({intervals_per_day}); "
        f"got {len(values)}",
    )


def read_interval_column(
    path_text: str,
    columns: Sequence[str],
    n_intervals: int,
    intervals_per_day: int,
    key: str,
    base_dir: Path | None = None,
) -> np.ndarray:
    """One number per interval from the first of `columns` a CSV has (rows in order; one day repeats)."""
    path = resolve_path(path_text, base_dir)
    rows = read_csv(path, key)
    column = next((c for c in columns if c in rows[0]), None)
    if column is None:
        raise ConfigError(key, f"'{path}' needs a column named {' or '.join(repr(c) for c in columns)}")
    return fit_to_horizon(column_numbers(rows, column, path, key), n_intervals, intervals_per_day, key, f"'{path}'")


def read_volume_file(
    path_text: str,
    channel: str,
    n_intervals: int,
    intervals_per_day: int,
    key: str,
    base_dir: Path | None = None,
) -> np.ndarray:
    """Per-interval volumes from a CSV as WFM tools export them (a `<channel>`, `volume`, `offered` ... column)."""
    return read_interval_column(path_text, (channel, *VOLUME_COLUMNS), n_intervals, intervals_per_day, key, base_dir)

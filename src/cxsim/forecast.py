"""Forecast error: each replication-day's arrival rate is the forecast times a random multiplier.

Arrivals stay Poisson given the drawn rates (doubly stochastic; Poisson-gamma by default): with a
day multiplier G of mean 1 and coefficient of variation c, a day's count has mean L and variance
L + c^2 L^2 (Whitt 2006; Jongbloed & Koole 2001). Optional intraday noise multiplies each
interval by a mean-1 lognormal whose logs form an AR(1) series (neighbouring intervals
correlated); optional correlation between channels' day multipliers uses a Gaussian copula.
Every channel draws from its own streams ('forecast/<channel>', 'forecast/<channel>/intraday'),
so two scenarios with the same forecast error see the same days (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cxsim.distributions import Distribution, Empirical, Exponential, Fixed, Gamma, Lognormal, make_distribution
from cxsim.errors import ConfigError
from cxsim.streams import Streams

if TYPE_CHECKING:  # scenario.py builds these records from here; only the type is needed back
    from cxsim.scenario import Channel

OWN_KEYS = ("intraday_cv", "intraday_correlation")
BUILTIN_KEYS = ("dist", "cv", "mean", "file", "values", *OWN_KEYS)
PSD_TOLERANCE = 1e-10


@dataclass(frozen=True)
class ForecastError:
    """How far a channel's realised rates stray from its forecast volumes."""

    day: Distribution | None  # multiplier of the day's rate (mean 1: an unbiased forecast); None: exact
    intraday_cv: float  # cv of each interval's extra multiplier (0: none)
    intraday_correlation: float  # correlation of neighbouring intervals' log-multipliers, in [0, 1)


@dataclass(frozen=True, eq=False)
class ChannelCorrelation:
    """Channels whose day multipliers are correlated, and the square root of their correlation matrix."""

    channels: tuple[int, ...]
    root: np.ndarray  # R = root @ root.T


def _number(value: Any, key: str, low: float, high: float, high_open: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"must be a number, got '{value}'") from None
    if not math.isfinite(x) or x < low or x > high or (high_open and x == high):
        bound = f"< {high:g}" if high_open else f"<= {high:g}" if math.isfinite(high) else ""
        raise ConfigError(key, f"must be >= {low:g}{' and ' + bound if bound else ''} (got {x})")
    return x


def make_forecast_error(spec: Any, key: str, base_dir: Path | None = None) -> ForecastError | None:
    """Build a channel's forecast error from `{dist: gamma, cv: 0.1, intraday_cv, intraday_correlation}`
    (any other distribution by `dist` or `_target_`); None when it changes nothing (absent, or cv 0)."""
    if spec is None:
        return None
    if not hasattr(spec, "get"):
        raise ConfigError(key, "must be a mapping like {dist: gamma, cv: 0.1}")
    spec = dict(spec)
    intraday_cv = _number(spec.pop("intraday_cv", 0.0) or 0.0, f"{key}.intraday_cv", 0.0, math.inf)
    rho = _number(spec.pop("intraday_correlation", 0.0) or 0.0, f"{key}.intraday_correlation", 0.0, 1.0, True)
    if spec.get("_target_"):
        day: Distribution | None = make_distribution(spec, key, base_dir)
    else:
        unknown = sorted(set(spec) - set(BUILTIN_KEYS))
        if unknown:
            raise ConfigError(f"{key}.{unknown[0]}", f"unknown key (a forecast error has {', '.join(BUILTIN_KEYS)})")
        name = spec.get("dist") or "gamma"
        mean = _number(1.0 if spec.get("mean") is None else spec["mean"], f"{key}.mean", 0.0, math.inf)
        if mean == 0:
            raise ConfigError(f"{key}.mean", "must be > 0 (got 0.0)")
        cv = spec.get("cv")
        if cv is not None:
            cv = _number(cv, f"{key}.cv", 0.0, math.inf)
        if name in ("gamma", "lognormal") and cv == 0:
            day = None if mean == 1.0 else Fixed(mean)
        else:
            dist = {"dist": name, "cv": cv, "file": spec.get("file"), "values": spec.get("values")}
            dist["mean_s"] = spec.get("mean") if name == "empirical" else mean
            day = make_distribution(dist, key, base_dir)
            if isinstance(day, Fixed) and day.mean == 1.0:
                day = None
    if day is None and intraday_cv == 0:
        return None
    return ForecastError(day, intraday_cv, rho)


def make_correlation(
    spec: Mapping[str, Any], channels: Sequence[str], errors: Sequence[ForecastError | None]
) -> ChannelCorrelation | None:
    """The correlation of day multipliers between channels, from `{voice: {chat: 0.6}, ...}`.

    Raises ConfigError when a name is not a channel with a day multiplier, a value is outside
    [-1, 1], or the pairs do not form a correlation matrix (positive semi-definite)."""
    if not spec:
        return None
    pairs: dict[tuple[str, str], float] = {}
    for a, row in spec.items():
        key = f"forecast_correlation.{a}"
        if not hasattr(row, "items"):
            raise ConfigError(key, "must map other channels to a correlation, e.g. {chat: 0.6}")
        for b, value in row.items():
            for name, k in ((a, key), (b, f"{key}.{b}")):
                if name not in channels:
                    raise ConfigError(k, f"'{name}' is not a channel ({', '.join(channels)})")
                error = errors[channels.index(name)]
                if error is None or error.day is None:
                    raise ConfigError(k, f"channel '{name}' has no day multiplier (set channels.{name}.forecast_error)")
            if a == b:
                raise ConfigError(f"{key}.{b}", "a channel's correlation with itself is 1; name other channels")
            pairs[tuple(sorted((a, b)))] = _number(value, f"{key}.{b}", -1.0, 1.0)
    names = sorted({n for pair in pairs for n in pair}, key=channels.index)
    matrix = np.eye(len(names))
    for (a, b), r in pairs.items():
        i, j = names.index(a), names.index(b)
        matrix[i, j] = matrix[j, i] = r
    eigenvalues, vectors = np.linalg.eigh(matrix)
    if eigenvalues.min() < -PSD_TOLERANCE:
        raise ConfigError(
            "forecast_correlation",
            f"is not a correlation matrix: not positive semi-definite (smallest eigenvalue {eigenvalues.min():.3g})",
        )
    root = vectors @ np.diag(np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T
    for name in names:
        if not _has_quantile(errors[channels.index(name)].day):  # type: ignore[union-attr]
            raise ConfigError(
                f"channels.{name}.forecast_error", "a correlated day multiplier needs a `ppf(u)` method (quantiles)"
            )
    return ChannelCorrelation(tuple(channels.index(n) for n in names), root)


def _has_quantile(dist: Distribution | None) -> bool:
    return isinstance(dist, (Gamma, Lognormal, Exponential, Fixed, Empirical)) or callable(getattr(dist, "ppf", None))


def quantile(dist: Distribution, u: np.ndarray) -> np.ndarray:
    """The `u`-quantiles of a day multiplier (a `_target_` distribution brings its own `ppf`)."""
    if isinstance(dist, Gamma):
        from scipy import stats  # imported on use (about 1 s): only correlated gamma days need it

        shape = 1.0 / dist.cv**2
        return stats.gamma.ppf(u, shape, scale=dist.mean / shape)
    if isinstance(dist, Lognormal):
        from scipy import special  # imported on use (slow): only correlated lognormal days need it

        sigma2 = math.log1p(dist.cv**2)
        return np.exp(math.log(dist.mean) - sigma2 / 2 + math.sqrt(sigma2) * special.ndtri(u))
    if isinstance(dist, Exponential):
        return -dist.mean * np.log1p(-u)
    if isinstance(dist, Fixed):
        return np.full(len(u), dist.mean)
    if isinstance(dist, Empirical):
        data = np.asarray(dist.values)
        return np.quantile(data, u, method="inverted_cdf") * (dist.mean / data.mean() if data.mean() > 0 else 1.0)
    return np.asarray(dist.ppf(u), dtype=float)  # type: ignore[attr-defined]


def _intraday(error: ForecastError, n: int, rng: np.random.Generator) -> np.ndarray:
    """Mean-1 lognormal multipliers whose logs are a stationary AR(1) with lag-1 correlation rho."""
    from scipy import signal  # imported on use (about 1 s): only intraday noise needs it

    sigma = math.sqrt(math.log1p(error.intraday_cv**2))
    rho = error.intraday_correlation
    shocks = rng.standard_normal(n)
    shocks[0] /= math.sqrt(1.0 - rho**2)  # start in the stationary law
    logs = signal.lfilter([sigma * math.sqrt(1.0 - rho**2)], [1.0, -rho], shocks)
    return np.exp(logs - sigma**2 / 2)


def realised_volumes(
    channels: Sequence[Channel], correlation: ChannelCorrelation | None, per_day: int, streams: Streams
) -> list[np.ndarray]:
    """Each channel's expected arrivals per interval in this replication: forecast x day x intraday."""
    n_days = math.ceil(len(channels[0].volumes) / per_day)
    days: dict[int, np.ndarray] = {}
    if correlation is not None:  # Gaussian copula: correlated normals -> uniforms -> quantiles
        from scipy import special  # imported on use (slow): only correlated channels need it

        normals = np.stack(
            [streams(f"forecast/{channels[c].name}").standard_normal(n_days) for c in correlation.channels]
        )
        uniforms = special.ndtr(correlation.root @ normals)
        for row, c in enumerate(correlation.channels):
            days[c] = quantile(channels[c].forecast_error.day, uniforms[row])
    out = []
    for c, channel in enumerate(channels):
        error = channel.forecast_error
        if error is None:
            out.append(channel.volumes)
            continue
        rates = channel.volumes
        if error.day is not None:
            day = days.get(c)
            if day is None:
                day = error.day.sample(streams(f"forecast/{channel.name}"), n_days)
            rates = rates * np.repeat(day, per_day)[: len(rates)]
        if error.intraday_cv > 0:
            rates = rates * _intraday(error, len(rates), streams(f"forecast/{channel.name}/intraday"))
        out.append(rates)
    return out


__all__ = [
    "ChannelCorrelation",
    "ForecastError",
    "make_correlation",
    "make_forecast_error",
    "quantile",
    "realised_volumes",
]

"""Random durations described by mean and coefficient of variation, as planners know them.

A distribution is anything with `mean` and `sample(rng, size) -> ndarray`; built-ins are
exponential, lognormal, gamma, fixed and empirical. A researcher plugs in another with
`{_target_: my.module.MyDist, ...}` in the scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from cxsim.errors import ConfigError
from cxsim.plugins import Contract, build
from cxsim.profiles import read_text, resolve_path


@runtime_checkable
class Distribution(Protocol):
    """What the simulator needs of a duration distribution: its mean and vectorised samples."""

    mean: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Return `size` independent non-negative durations in seconds."""
        ...


@dataclass(frozen=True)
class Exponential:
    """Memoryless durations (cv = 1): the M in M/M/c."""

    mean: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)


@dataclass(frozen=True)
class Lognormal:
    """Right-skewed handle times, the usual empirical fit for talk time."""

    mean: float
    cv: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


@dataclass(frozen=True)
class Gamma:
    """Durations with a tunable shape; cv < 1 gives Erlang-like, cv > 1 hyper-like variability."""

    mean: float
    cv: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)


@dataclass(frozen=True)
class Fixed:
    """A constant duration (cv = 0)."""

    mean: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.mean)


@dataclass(frozen=True)
class Empirical:
    """Resamples observed durations with replacement (optionally rescaled to `mean`)."""

    values: tuple[float, ...]
    mean: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        data = np.asarray(self.values)
        scale = self.mean / data.mean() if data.mean() > 0 else 1.0
        return rng.choice(data, size) * scale


KNOWN = ("exponential", "lognormal", "gamma", "fixed", "empirical")
MAX_MEAN_S = 1e9  # about 32 years: larger means are typos, and overflow the samplers
MAX_CV = 100.0
BUILTIN_KEYS = ("dist", "mean_s", "cv", "file", "values")  # the keys of schema.DistConfig
CONTRACT = Contract("a distribution", methods=("sample",), attributes=("mean",))


def _read_samples(path: Path, key: str) -> tuple[float, ...]:
    """Read one number per line (or the first column of a CSV with a header) from a file."""
    values: list[float] = []
    for lineno, line in enumerate(read_text(path, key).splitlines(), start=1):
        cell = line.split(",")[0].strip()
        if not cell or cell.startswith("#"):
            continue
        try:
            values.append(float(cell))
        except ValueError:
            if lineno == 1:
                continue  # a header row
            raise ConfigError(key, f"'{path}' line {lineno}: '{cell}' is not a number") from None
    if not values or not all(math.isfinite(v) and v >= 0 for v in values):
        raise ConfigError(key, f"'{path}' must hold finite non-negative durations (at least one)")
    return tuple(values)


def _number(value: Any, key: str) -> float:
    """A finite number from the config (not a bool, not text)."""
    if isinstance(value, bool):
        raise ConfigError(key, f"must be a number (got {value})")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"must be a number (got '{value}')") from None
    if not math.isfinite(x):
        raise ConfigError(key, f"must be finite (got {x})")
    return x


def make_distribution(spec: Any, key: str, base_dir: Path | None = None) -> Distribution:
    """Build a distribution from `{dist, mean_s, cv, file, values}` or `{_target_: ...}`.

    Raises ConfigError naming `key` when the spec is impossible (negative mean, cv given to
    a distribution that fixes it, unknown name, unreadable file).
    """
    if spec is None:
        raise ConfigError(key, "a distribution is required here")
    if not hasattr(spec, "get"):
        raise ConfigError(key, "must be a mapping like {dist: lognormal, mean_s: 300, cv: 0.8}")
    if spec.get("_target_"):
        # the built-ins' keys are not passed on: an override merges onto the mapping it replaces
        # (`handle_time.voice={_target_: ...}` keeps the old dist/mean_s/cv), so they are reserved
        return build(spec, CONTRACT, key, reserved=BUILTIN_KEYS)
    unknown = sorted(set(spec) - set(BUILTIN_KEYS))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"unknown key (a distribution has {', '.join(BUILTIN_KEYS)})")
    name = spec.get("dist") or "exponential"
    mean = spec.get("mean_s")
    cv = spec.get("cv")
    if name not in KNOWN:
        raise ConfigError(f"{key}.dist", f"'{name}' is not one of {', '.join(KNOWN)}")
    if name == "empirical":
        raw = spec.get("values")
        if raw:
            if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
                raise ConfigError(f"{key}.values", f"must be a list of durations (got {raw})")
            values = tuple(_number(v, f"{key}.values[{i}]") for i, v in enumerate(raw))
        elif spec.get("file"):
            values = _read_samples(resolve_path(str(spec.get("file")), base_dir), f"{key}.file")
        else:
            raise ConfigError(key, "an empirical distribution needs `file` or `values`")
        if min(values) < 0:
            raise ConfigError(f"{key}.values", "durations must be >= 0")
        if mean is not None and _number(mean, f"{key}.mean_s") <= 0:
            raise ConfigError(f"{key}.mean_s", f"must be > 0 (got {mean})")
        return Empirical(values, _number(mean, f"{key}.mean_s") if mean is not None else float(np.mean(values)))
    if mean is None:
        raise ConfigError(f"{key}.mean_s", "is required")
    mean = _number(mean, f"{key}.mean_s")
    if mean > MAX_MEAN_S:
        raise ConfigError(f"{key}.mean_s", f"must be at most {MAX_MEAN_S:g} s (got {mean:g})")
    if mean < 0 or (mean == 0 and name != "fixed"):
        raise ConfigError(f"{key}.mean_s", f"must be > 0 (got {mean})")
    if name == "fixed":
        if cv not in (None, 0):
            raise ConfigError(f"{key}.cv", f"a fixed duration has cv 0 (got {cv}; overrides merge: add cv:null)")
        return Fixed(mean)
    if name == "exponential":
        if cv not in (None, 1):
            raise ConfigError(f"{key}.cv", f"an exponential has cv 1 (got {cv}; use gamma or lognormal, or cv:null)")
        return Exponential(mean)
    if cv is None:
        raise ConfigError(f"{key}.cv", f"is required for {name}")
    cv = _number(cv, f"{key}.cv")
    if cv > MAX_CV:
        raise ConfigError(f"{key}.cv", f"must be at most {MAX_CV:g} (got {cv:g})")
    if cv <= 0:
        raise ConfigError(f"{key}.cv", f"must be > 0 (got {cv})")
    return Lognormal(mean, cv) if name == "lognormal" else Gamma(mean, cv)

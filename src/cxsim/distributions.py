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
BUILTIN_KEYS = ("dist", "mean_s", "cv", "file", "values")  # the keys of schema.DistConfig


def _read_samples(path: Path, key: str) -> tuple[float, ...]:
    """Read one number per line (or the first column of a CSV with a header) from a file."""
    if not path.is_file():
        raise ConfigError(key, f"file '{path}' does not exist")
    values: list[float] = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        cell = line.split(",")[0].strip()
        if not cell or cell.startswith("#"):
            continue
        try:
            values.append(float(cell))
        except ValueError:
            if lineno == 1:
                continue  # a header row
            raise ConfigError(key, f"'{path}' line {lineno}: '{cell}' is not a number") from None
    if not values or min(values) < 0:
        raise ConfigError(key, f"'{path}' must hold at least one non-negative duration")
    return tuple(values)


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
        from hydra.utils import instantiate

        # the built-ins' keys are not passed on: an override merges onto the mapping it replaces
        # (`handle_time.voice={_target_: ...}` keeps the old dist/mean_s/cv), so they are reserved
        own = {k: v for k, v in dict(spec).items() if k not in BUILTIN_KEYS}
        try:
            dist = instantiate(own)
        except Exception as exc:  # the user's class failed to build: report, don't trace
            raise ConfigError(key, f"cannot build {spec.get('_target_')}: {exc}") from None
        if not isinstance(dist, Distribution):
            raise ConfigError(key, "a _target_ distribution needs `mean` and `sample(rng, size)`")
        return dist
    unknown = sorted(set(spec) - set(BUILTIN_KEYS))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"unknown key (a distribution has {', '.join(BUILTIN_KEYS)})")
    name = spec.get("dist") or "exponential"
    mean = spec.get("mean_s")
    cv = spec.get("cv")
    if name not in KNOWN:
        raise ConfigError(f"{key}.dist", f"'{name}' is not one of {', '.join(KNOWN)}")
    if name == "empirical":
        if spec.get("values"):
            values = tuple(float(v) for v in spec.get("values"))
        elif spec.get("file"):
            path = Path(str(spec.get("file")))
            if not path.is_absolute() and base_dir is not None and not path.exists():
                path = base_dir / path
            values = _read_samples(path, f"{key}.file")
        else:
            raise ConfigError(key, "an empirical distribution needs `file` or `values`")
        if min(values) < 0:
            raise ConfigError(f"{key}.values", "durations must be >= 0")
        return Empirical(values, float(mean) if mean is not None else float(np.mean(values)))
    if mean is None:
        raise ConfigError(f"{key}.mean_s", "is required")
    mean = float(mean)
    if not math.isfinite(mean) or mean < 0 or (mean == 0 and name != "fixed"):
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
    cv = float(cv)
    if not math.isfinite(cv) or cv <= 0:
        raise ConfigError(f"{key}.cv", f"must be > 0 (got {cv})")
    return Lognormal(mean, cv) if name == "lognormal" else Gamma(mean, cv)

"""A custom duration distribution (docs/extending.md): anything with `mean` and `sample(rng, size)`.

    PYTHONPATH=. cxsim 'tiers.tier1.handle_time.voice={_target_: examples.distributions.Weibull, mean: 360, shape: 1.5}'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Weibull:
    """Weibull durations with a given mean (seconds) and shape k (k < 1: heavy tail, k = 1: exponential)."""

    mean: float
    shape: float

    def __post_init__(self) -> None:
        if self.mean <= 0 or self.shape <= 0:
            raise ValueError("mean and shape must be > 0")

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` independent durations from the stream cxsim passes in (never a global RNG)."""
        scale = self.mean / math.gamma(1.0 + 1.0 / self.shape)
        return scale * rng.weibull(self.shape, size)

"""Independent random streams named by what they drive, for common random numbers.

Each replication of an experiment gets its own SeedSequence child; inside it every source
of randomness (arrivals per channel, patience, handle times per tier, routing coin-flips ...)
draws from a stream keyed by its *name*, so two scenarios that differ only in staffing or
policy see exactly the same customers.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Streams:
    """The named generators of one replication (created lazily, cached)."""

    seed: int
    replication: int
    _cache: dict[str, np.random.Generator] = field(default_factory=dict, repr=False)

    def __call__(self, name: str) -> np.random.Generator:
        """The generator for `name`, e.g. 'arrivals/voice' or 'handle/tier1'."""
        rng = self._cache.get(name)
        if rng is None:
            key = (self.replication, zlib.crc32(name.encode()))
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))
            self._cache[name] = rng
        return rng

"""A custom satisfaction model (docs/extending.md): anything with `score(experience)`.

    PYTHONPATH=. cxsim 'satisfaction.model={_target_: examples.satisfaction.WaitAndResolution, patience_s: 300}'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxsim.satisfaction import Experience


@dataclass(frozen=True)
class WaitAndResolution:
    """P(satisfied) = p_resolved or p_unresolved, decaying with the wait: x exp(-wait / patience_s).

    Deferred contacts (email) are judged on lateness against their promise instead of raw wait.
    """

    patience_s: float = 300.0
    p_resolved: float = 0.9
    p_unresolved: float = 0.4
    p_abandoned: float = 0.1

    def score(self, e: Experience) -> np.ndarray:
        """One probability per contact, vectorised over the arrays of `e`."""
        wait = np.asarray(e.wait_s, dtype=float)
        if e.realtime is not None and e.promise_s is not None:
            wait = np.where(e.realtime, wait, np.maximum(wait - e.promise_s, 0.0))
        base = np.where(e.resolved, self.p_resolved, self.p_unresolved)
        p = base * np.exp(-wait / self.patience_s)
        return np.where(e.abandoned, self.p_abandoned, p)

"""cxsim: discrete-event simulation for capacity planning of customer-support operations.

import cxsim
scn = cxsim.load_scenario("baseline", overrides=["tiers.tier1.staff=42"])
res = cxsim.simulate(scn, replications=20, seed=7, workers=2)
res.summary  # scope, name, metric, mean, ci95, n

The names below are imported on first use, so the `cxsim` command can reject a bad
option without loading pandas and scipy first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cxsim.errors import ConfigError

if TYPE_CHECKING:
    from cxsim import analytic
    from cxsim.experiment import Results, simulate
    from cxsim.planning import plan_staffing
    from cxsim.scenario import Scenario, load_scenario, scenario_names

_LAZY = {
    "analytic": ("cxsim.analytic", None),
    "Results": ("cxsim.experiment", "Results"),
    "simulate": ("cxsim.experiment", "simulate"),
    "plan_staffing": ("cxsim.planning", "plan_staffing"),
    "Scenario": ("cxsim.scenario", "Scenario"),
    "load_scenario": ("cxsim.scenario", "load_scenario"),
    "scenario_names": ("cxsim.scenario", "scenario_names"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'cxsim' has no attribute '{name}'")
    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "ConfigError",
    "Results",
    "Scenario",
    "analytic",
    "load_scenario",
    "plan_staffing",
    "scenario_names",
    "simulate",
]
__version__ = "0.1.0"

"""cxsim: discrete-event simulation for capacity planning of customer-support operations.

import cxsim
scn = cxsim.load_scenario("baseline", overrides=["tiers.tier1.staff=42"])
res = cxsim.simulate(scn, replications=20, seed=7, workers=2)
res.summary  # scope, name, metric, mean, ci95, n
"""

from cxsim import analytic
from cxsim.errors import ConfigError
from cxsim.experiment import Results, simulate
from cxsim.planning import plan_staffing
from cxsim.scenario import Scenario, load_scenario, scenario_names

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

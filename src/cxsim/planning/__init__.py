"""Capacity planning: the staffing each tier needs per interval, found by simulation.

    plan = cxsim.plan_staffing(cxsim.load_scenario("baseline"), replications=20, seed=1, workers=2)
    plan.plan          # interval_start, tier, agents, heads, cost
    plan.save("out/")  # staffing_plan.csv, staffing_comparison.png, ...

docs/planning.md describes the algorithm, its stopping rule and statistical guard.
"""

from cxsim.planning.load import analytic_plan, heads_for, stages
from cxsim.planning.result import StaffingPlan, plan_frame
from cxsim.planning.search import Settings, plan_staffing

__all__ = ["Settings", "StaffingPlan", "analytic_plan", "heads_for", "plan_frame", "plan_staffing", "stages"]

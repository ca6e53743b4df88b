"""Shift scheduling: shifts from a catalogue that cover a staffing requirement at least cost,
simulated on fresh seeds and repaired where the service level misses.

    scn = cxsim.load_scenario("baseline")
    rules = rules_from()                     # the catalogue in configs/schedule.yaml
    schedule = schedule_shifts(scn, rules, requirement(None, scn), replications=20, seed=1)
    schedule.shifts(); schedule.coverage(); schedule.service_levels; schedule.save("out/")

docs/scheduling.md states the model, the solver and the repair rule.
"""

from cxsim.schedule.app import rules_from
from cxsim.schedule.catalogue import Rules, compile_rules
from cxsim.schedule.repair import schedule_shifts
from cxsim.schedule.requirement import requirement
from cxsim.schedule.result import Schedule

__all__ = ["Rules", "Schedule", "compile_rules", "requirement", "rules_from", "schedule_shifts"]

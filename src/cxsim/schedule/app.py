"""What `cxsim schedule` does with a composed config, as plain functions (no Hydra here).

`run_schedule` validates the scenario, the shift rules and the requirement, schedules, simulates
and repairs, then writes the schedule files and the last simulation's KPI tables.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from cxsim.paths import configs_dir, scenarios_dir
from cxsim.scenario import Scenario, omegaconf_error
from cxsim.schedule.catalogue import Rules, compile_rules
from cxsim.schedule.model import ShiftModel, grid_for
from cxsim.schedule.requirement import requirement
from cxsim.schedule.result import Schedule
from cxsim.schema import ScheduleConfig


def rules_from(block: Mapping[str, Any] | None = None) -> Rules:
    """Shift rules from a `schedule:` mapping merged onto its schema; None: configs/schedule.yaml's."""
    if block is None:
        block = OmegaConf.load(configs_dir() / "schedule.yaml").schedule
    try:
        merged = OmegaConf.merge(OmegaConf.structured(ScheduleConfig), block)
    except OmegaConfBaseException as exc:
        raise omegaconf_error(exc) from None
    return compile_rules(OmegaConf.to_container(merged, resolve=True))  # type: ignore[arg-type]


def check_config(cfg: DictConfig, scenario: Scenario) -> Rules:
    """The `schedule:` block's rules, the catalogue against the operating hours and the requirement
    file's shape (pre-flight: a mistake is one line naming the key)."""
    rules = compile_rules(OmegaConf.to_container(cfg.schedule, resolve=True))  # type: ignore[arg-type]
    h = scenario.horizon
    ShiftModel(rules, grid_for(rules, round(h.interval_s / 60), h.days)).check_coverable()
    requirement(cfg.schedule.requirement, scenario, scenarios_dir())
    return rules


def run_schedule(
    cfg: DictConfig, out_dir: Path, overrides: Sequence[str] = (), stream: TextIO = sys.stdout
) -> Schedule:
    """Validate, schedule, simulate and repair; write the schedule files and the KPI tables."""
    from cxsim.app import headline, validate
    from cxsim.outputs import SUMMARY_FILE, write_atomic, write_results
    from cxsim.schedule.repair import schedule_shifts

    scenario = validate(cfg)
    rules = check_config(cfg, scenario)
    required = requirement(cfg.schedule.requirement, scenario, scenarios_dir())
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if cfg.progress else None
    schedule = schedule_shifts(
        scenario, rules, required, cfg.replications, cfg.seed, cfg.workers, base_dir=scenarios_dir(), log=log
    )
    out = Path(out_dir)
    schedule.save(out)
    if schedule.kpis is not None:
        resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
        resolved.pop("hydra", None)
        write_results(schedule.kpis, out, resolved, overrides)
        print(headline(schedule.kpis), file=stream)
    else:
        write_atomic(out / SUMMARY_FILE, lambda p: schedule.cost_table().to_csv(p, index=False))
    print(schedule.describe(), file=stream)
    print(f"results: {out}", file=stream)
    return schedule


__all__ = ["check_config", "rules_from", "run_schedule"]

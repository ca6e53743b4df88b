"""What `cxsim staff` does with a composed config, and the `objective:` a sweep can minimise.

Plain functions (no Hydra): `run_task` is what a Hydra job calls when its config has a
`staffing:` block (plan the staffing) or an `objective:` block (return one number, for the
Optuna sweeper); `cxsim.cli` only dispatches here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from omegaconf import DictConfig, OmegaConf

from cxsim.errors import ConfigError
from cxsim.experiment import Results
from cxsim.planning.load import channel_targets
from cxsim.planning.result import StaffingPlan
from cxsim.planning.search import Settings, plan_staffing
from cxsim.scenario import Scenario
from cxsim.schema import planned

SCOPES = ("overall", "channel", "tier", "intent")


def settings_from_config(cfg: DictConfig) -> Settings:
    """The `staffing:` block as planner settings, checked (ConfigError names the key)."""
    block = OmegaConf.to_container(cfg.staffing, resolve=True) if cfg.get("staffing") is not None else {}
    block.pop("mode", None)  # hook for staffing.mode (roster | plan): whether a job plans, not how (cxsim.schema)
    settings = Settings(**block)  # type: ignore[arg-type]
    settings.check()
    return settings


def check_config(cfg: DictConfig, scenario: Scenario) -> None:
    """The rules of the `staffing:` and `objective:` blocks that types cannot express (pre-flight)."""
    if planned(cfg):
        settings = settings_from_config(cfg)
        if cfg.replications < 2:
            raise ConfigError("replications", f"the planner needs >= 2 replications (got {cfg.replications})")
        try:
            channel_targets(scenario, dict(settings.sla_targets or {}))
        except ValueError as exc:
            key, _, rule = str(exc).partition(": ")
            raise ConfigError(key, rule) from None
    if cfg.get("objective") is not None and cfg.objective.scope not in SCOPES:
        raise ConfigError("objective.scope", f"must be one of {', '.join(SCOPES)} (got '{cfg.objective.scope}')")


def objective_value(results: Results, objective: Any) -> float:
    """The KPI named by `objective` (mean over replications) plus `sla_penalty` times the SL
    shortfall summed over channels (day SL of each channel's entry queue vs its target)."""
    scope, name, metric = objective.scope, objective.name, objective.metric
    if scope not in SCOPES:
        raise ConfigError("objective.scope", f"must be one of {', '.join(SCOPES)} (got '{scope}')")
    try:
        value = results.kpi(metric, scope, name)
    except KeyError:
        raise ConfigError("objective.metric", f"no KPI {scope}/{name}/{metric} in summary.csv") from None
    shortfall = 0.0
    for channel in results.scenario.channels:
        try:
            sl = results.kpi("service_level", "channel", channel.name)
        except KeyError:
            continue
        if not math.isnan(sl):
            shortfall += max(0.0, channel.sla.target - sl)
    return float(value + objective.sla_penalty * shortfall)


def run_staffing(
    cfg: DictConfig, out_dir: Path, overrides: Sequence[str] = (), stream: TextIO = sys.stdout
) -> StaffingPlan:
    """Validate, plan the staffing, write staffing_plan.csv, the figure and the plan's KPI tables."""
    from cxsim.app import headline, validate
    from cxsim.outputs import write_results

    scenario = validate(cfg)
    settings = settings_from_config(cfg)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if cfg.progress else None
    plan = plan_staffing(
        scenario, replications=cfg.replications, seed=cfg.seed, workers=cfg.workers, log=log, **vars(settings)
    )
    out = Path(out_dir)
    plan.save(out)
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    resolved.pop("hydra", None)
    write_results(plan.kpis, out, resolved, overrides)
    if cfg.report.enabled:
        from cxsim.report import build_report

        build_report([out], out / "report.html")
    print(headline(plan.kpis), file=stream)
    print(plan.describe(), file=stream)
    print(f"results: {out}", file=stream)
    return plan


def run_task(cfg: DictConfig, out_dir: Path, overrides: Sequence[str] = ()) -> Any:
    """One Hydra job with a `staffing:` or `objective:` block: plan (or run), and return the
    objective's value when one is set, else the plan (or Results)."""
    if planned(cfg):
        plan = run_staffing(cfg, out_dir, overrides)
        results = plan.kpis
        outcome: Any = plan
    else:
        from cxsim.app import run

        results = run(cfg, out_dir, overrides)
        outcome = results
    if cfg.get("objective") is not None:
        value = objective_value(results, cfg.objective)
        print(f"objective: {value:.6g}", file=sys.stdout)
        return value
    return outcome


__all__ = ["check_config", "objective_value", "run_staffing", "run_task", "settings_from_config"]

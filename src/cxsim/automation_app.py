"""What `cxsim automate` does with a composed config (plain functions; `cxsim.cli` dispatches here)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from omegaconf import DictConfig, OmegaConf

from cxsim.automation import AutomationRanking, automatable_intents, check_request, rank_intents
from cxsim.scenario import Scenario


def _request(cfg: DictConfig, scenario: Scenario) -> dict[str, Any]:
    block = cfg.automate
    intents = list(block.intents) if block.intents else automatable_intents(scenario)
    return {"points": float(block.points), "intents": intents, "plans": int(block.plans)}


def check_config(cfg: DictConfig, scenario: Scenario) -> None:
    """The rules of the `automate:` block (pre-flight); the `staffing:` block is the planner's."""
    from cxsim.errors import ConfigError
    from cxsim.planning.app import check_config as check_staffing

    check_staffing(cfg, scenario)
    check_request(scenario, **_request(cfg, scenario))
    n = cfg.automate.evaluation_replications
    if n is not None and n < 2:
        raise ConfigError("automate.evaluation_replications", f"must be >= 2 or null (got {n})")


def run_automation(
    cfg: DictConfig, out_dir: Path, overrides: Sequence[str] = (), stream: TextIO = sys.stdout
) -> AutomationRanking:
    """Validate, rank the intents, write the ranking files and the scenario's own plan's KPI tables."""
    from cxsim.app import validate
    from cxsim.outputs import write_results
    from cxsim.planning.app import settings_from_config

    scenario = validate(cfg)
    check_config(cfg, scenario)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if cfg.progress else None
    ranking = rank_intents(
        scenario,
        **_request(cfg, scenario),
        replications=cfg.replications,
        evaluation_replications=cfg.automate.evaluation_replications,
        seed=cfg.seed,
        workers=cfg.workers,
        log=log,
        **vars(settings_from_config(cfg)),
    )
    out = Path(out_dir)
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    resolved.pop("hydra", None)
    write_results(ranking.base, out, resolved, overrides)
    ranking.save(out)
    if cfg.report.enabled:
        from cxsim.report import build_report

        build_report([out], out / "report.html")
    print(ranking.describe(), file=stream)
    print(f"results: {out}", file=stream)
    return ranking


__all__ = ["check_config", "run_automation"]

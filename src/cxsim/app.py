"""What the `cxsim` command does with a composed config, as plain functions (no Hydra here).

`run(cfg, out_dir)` validates, simulates, writes the result files and prints the headline
table; the CLI module wraps it for Hydra. Tests and notebooks can call it directly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from cxsim.budget import check_budget
from cxsim.paths import scenarios_dir
from cxsim.scenario import Scenario, compile_scenario, omegaconf_error
from cxsim.schema import RUN_KEYS, RunConfig, check_run_settings, check_staffing_mode, planned

if TYPE_CHECKING:  # imported in run(): validating a config needs neither pandas nor scipy
    from cxsim.experiment import Results


def scenario_from_config(cfg: DictConfig) -> Scenario:
    """Compile the scenario part of a composed config (run keys are ignored here)."""
    return compile_scenario(cfg, base_dir=scenarios_dir())


def check_run_keys(cfg: DictConfig) -> None:
    """Rules for the run settings that the schema's types cannot express."""
    check_run_settings(cfg.replications, cfg.workers, cfg.seed)
    check_staffing_mode(cfg)


def check_keys(cfg: DictConfig) -> None:
    """Every key resolves and is known to the schema: a key added with `+` or an interpolation
    that points nowhere fails here, like a misspelt one, instead of being silently ignored."""
    try:
        data = OmegaConf.to_container(cfg, resolve=True)
        assert isinstance(data, dict)
        data.pop("hydra", None)
        OmegaConf.merge(OmegaConf.structured(RunConfig), data)
    except OmegaConfBaseException as exc:
        raise omegaconf_error(exc) from None


def validate(cfg: DictConfig) -> Scenario:
    """Everything a run checks before simulating; raises ConfigError on the first broken rule."""
    check_keys(cfg)
    check_run_keys(cfg)
    try:
        scenario = scenario_from_config(cfg)
    except OmegaConfBaseException as exc:
        raise omegaconf_error(exc) from None
    check_budget(scenario, cfg.replications, cfg.workers, bool(cfg.output.contacts), bool(cfg.get("force", False)))
    return scenario


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned first column, right-aligned others, widths from the content."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
        for r in [header, *rows]
    ]


def headline(results: Results) -> str:
    """The short table printed at the end of a run: per channel offered, SL against its target
    (with the formula), the share of days meeting it, ASA, abandonment, backlog at the horizon and CSAT;
    per tier occupancy, utilisation, agents and wait; overall CSAT and costs. Values are means ±95% CI
    half-width; then, per channel, how often the SLA is met ("voice meets 80/20 on 62% of days")."""
    s = results.summary.set_index(["scope", "name", "metric"])

    def get(scope: str, name: str, metric: str) -> tuple[float, float]:
        try:
            row = s.loc[(scope, name, metric)]
        except KeyError:
            return float("nan"), float("nan")
        return float(row["mean"]), float(row["ci95"])

    def pm(value: tuple[float, float], fmt: str) -> str:
        mean, ci = value
        if mean != mean:
            return "-"
        return f"{mean:{fmt}}" + ("" if ci != ci else f" ±{ci:{fmt}}")

    scn = results.scenario
    reps = results.replications
    lines = [f"{scn.name}: {reps} replication{'s' if reps != 1 else ''}, seed {results.seed} (mean ±95% CI)"]
    rows = []
    for c in scn.channels:
        sl = get("channel", c.name, "service_level")
        flag = "" if sl[0] != sl[0] or sl[0] >= c.sla.target else " !"
        t = c.sla.answer_within_s
        within = f"{t / 3600:g} h" if t >= 3600 else f"{t:g} s"
        rows.append(
            [
                c.name + ("" if c.realtime else " (deferred)"),
                pm(get("channel", c.name, "offered"), ",.0f"),
                pm(sl, ".1%") + flag,
                f"{c.sla.target:.0%} in {within}",
                _share(get("channel", c.name, "p_meet_sla")[0]),
                pm(get("channel", c.name, "asa_s"), ",.1f"),
                pm(get("channel", c.name, "abandon_rate"), ".1%"),
                pm(get("channel", c.name, "backlog_end"), ",.0f"),
                pm(get("channel", c.name, "csat"), ".1%"),
            ]
        )
    lines += _table(["channel", "offered", "SL", "target", "days met", "ASA s", "abandon", "backlog end", "CSAT"], rows)
    for c in scn.channels:
        share = get("channel", c.name, "p_meet_sla")[0]
        if share == share:
            low, high = get("channel", c.name, "p_meet_sla_low")[0], get("channel", c.name, "p_meet_sla_high")[0]
            days = int(s.loc[("channel", c.name, "p_meet_sla"), "n"])
            lines.append(
                f"{c.name} meets {_sla_name(c.sla.target, c.sla.answer_within_s)} on {share:.0%} of days "
                f"(95% CI {low:.0%}-{high:.0%}, Wilson, {days} replication-days)"
            )
    rows = [
        [
            t.name,
            pm(get("tier", t.name, "occupancy"), ".1%"),
            pm(get("tier", t.name, "utilisation"), ".1%"),
            pm(get("tier", t.name, "agents"), ".1f"),
            pm(get("tier", t.name, "asa_s"), ",.1f"),
        ]
        for t in scn.tiers
    ]
    lines += _table(["tier", "occupancy", "utilisation", "agents", "ASA s"], rows)
    formulas = sorted({c.sla.formula for c in scn.channels})
    overall = [
        f"CSAT {pm(get('overall', 'all', 'csat'), '.1%')}",
        f"cost per contact {pm(get('overall', 'all', 'cost_per_contact'), ',.2f')}",
        f"total cost {pm(get('overall', 'all', 'cost_total'), ',.0f')}",
    ]
    lines.append("overall: " + ", ".join(overall))
    lines.append(f"SL = {' / '.join(SL_FORMULA_TEXT[f] for f in formulas)}; '!' below target; see docs/kpis.md")
    return "\n".join(lines)


def _share(value: float) -> str:
    return "-" if value != value else f"{value:.0%}"


def _sla_name(target: float, within_s: float) -> str:
    """The planners' short name of an SLA: 80/20 (seconds), or 90% in 24 h."""
    if within_s < 3600:
        return f"{100 * target:g}/{within_s:g}"
    return f"{target:.0%} in {within_s / 3600:g} h"


SL_FORMULA_TEXT = {
    "offered": "answered within T / offered",
    "answered": "answered within T / answered",
    "late_abandons": "answered within T / (answered + abandoned after T)",
    "short_abandons_met": "(answered + abandoned within T) / offered",
}


def plan_first(cfg: DictConfig, scenario: Scenario, out_dir: Path) -> tuple[Scenario, int, int, str, Results | None]:
    """staffing.mode=plan: plan the staffing with `cxsim staff`'s planner, save the plan into `out_dir`.

    Returns the scenario staffed by the plan, the seed and replications to measure it on, and the
    measurement when the planner's fresh-seed check already is it. The check runs on root seed +
    CHECK_SEED_OFFSET for every job, so planned scenarios compare paired (common random numbers)
    whatever each plan's search went through; its first `check_replications` are shared by all."""
    from cxsim.planning import plan_staffing
    from cxsim.planning.app import settings_from_config
    from cxsim.planning.search import CHECK_SEED_OFFSET

    settings = settings_from_config(cfg)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if cfg.progress else None
    plan = plan_staffing(
        scenario, replications=cfg.replications, seed=cfg.seed, workers=cfg.workers, log=log, **vars(settings)
    )
    plan.save(out_dir)
    replications = plan.stats["check_replications"]
    measured = plan.kpis if plan.kpis.replications == replications and not cfg.output.contacts else None
    return plan.planned, cfg.seed + CHECK_SEED_OFFSET, replications, plan.describe(), measured


def run(cfg: DictConfig, out_dir: Path, overrides: Sequence[str] = (), stream: TextIO = sys.stdout) -> Results:
    """Validate, simulate (after planning the staffing when staffing.mode=plan), write the result
    files into `out_dir` and print the headline table."""
    from cxsim.experiment import simulate
    from cxsim.outputs import write_results

    scenario = validate(cfg)
    seed, replications, described, results = cfg.seed, cfg.replications, "", None
    if planned(cfg):
        scenario, seed, replications, described, results = plan_first(cfg, scenario, out_dir)
    if results is None:
        results = simulate(
            scenario,
            replications=replications,
            seed=seed,
            workers=cfg.workers,
            contacts=bool(cfg.output.contacts),
            progress=bool(cfg.progress),
        )
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    resolved.pop("hydra", None)
    write_results(results, out_dir, resolved, overrides)
    if cfg.report.enabled:
        from cxsim.report import build_report

        build_report([out_dir], out_dir / "report.html")
    print(headline(results), file=stream)
    if described:
        print(described, file=stream)
    print(f"results: {out_dir}", file=stream)
    return results


__all__ = ["RUN_KEYS", "check_keys", "check_run_keys", "headline", "run", "scenario_from_config", "validate"]

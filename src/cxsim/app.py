"""What the `cxsim` command does with a composed config, as plain functions (no Hydra here).

`run(cfg, out_dir)` validates, simulates, writes the result files and prints the headline
table; the CLI module wraps it for Hydra. Tests and notebooks can call it directly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from omegaconf import DictConfig, OmegaConf

from cxsim.errors import ConfigError
from cxsim.experiment import Results, simulate
from cxsim.outputs import write_results
from cxsim.paths import scenarios_dir
from cxsim.scenario import Scenario, compile_scenario
from cxsim.schema import RUN_KEYS


def scenario_from_config(cfg: DictConfig) -> Scenario:
    """Compile the scenario part of a composed config (run keys are ignored here)."""
    return compile_scenario(cfg, base_dir=scenarios_dir())


def check_run_keys(cfg: DictConfig) -> None:
    """Rules for the run settings that the schema's types cannot express."""
    if cfg.replications < 1:
        raise ConfigError("replications", f"must be >= 1 (got {cfg.replications})")
    if cfg.workers < 1:
        raise ConfigError("workers", f"must be >= 1 (got {cfg.workers})")
    if cfg.seed < 0:
        raise ConfigError("seed", f"must be >= 0 (got {cfg.seed})")


def validate(cfg: DictConfig) -> Scenario:
    """Everything a run checks before simulating; raises ConfigError on the first broken rule."""
    check_run_keys(cfg)
    return scenario_from_config(cfg)


def headline(results: Results) -> str:
    """The short table printed at the end of a run: per channel SL vs target, ASA, abandonment;
    per tier occupancy; CSAT and cost per contact."""
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
    lines = [f"{scn.name}: {results.replications} replications, seed {results.seed} (mean ±95% CI)"]
    lines.append(f"{'channel':<12}{'SL':>16}{'target':>8}{'ASA s':>16}{'abandon':>16}{'CSAT':>14}")
    for c in scn.channels:
        sl = get("channel", c.name, "service_level")
        flag = "" if sl[0] != sl[0] or sl[0] >= c.sla.target else " !"
        lines.append(
            f"{c.name:<12}{pm(sl, '.1%') + flag:>16}{c.sla.target:>8.0%}{pm(get('channel', c.name, 'asa_s'), '.1f'):>16}"
            f"{pm(get('channel', c.name, 'abandon_rate'), '.1%'):>16}{pm(get('channel', c.name, 'csat'), '.1%'):>14}"
        )
    lines.append(f"{'tier':<12}{'occupancy':>16}{'agents':>16}")
    for t in scn.tiers:
        lines.append(
            f"{t.name:<12}{pm(get('tier', t.name, 'occupancy'), '.1%'):>16}"
            f"{pm(get('tier', t.name, 'agents'), '.1f'):>16}"
        )
    lines.append(
        f"overall: CSAT {pm(get('overall', 'all', 'csat'), '.1%')}, cost per contact "
        f"{pm(get('overall', 'all', 'cost_per_contact'), '.2f')}, total cost {pm(get('overall', 'all', 'cost_total'), ',.0f')}"
    )
    return "\n".join(lines)


def run(cfg: DictConfig, out_dir: Path, overrides: Sequence[str] = (), stream: TextIO = sys.stdout) -> Results:
    """Validate, simulate, write the result files into `out_dir` and print the headline table."""
    scenario = validate(cfg)
    results = simulate(
        scenario,
        replications=cfg.replications,
        seed=cfg.seed,
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
    print(f"results: {out_dir}", file=stream)
    return results


__all__ = ["RUN_KEYS", "check_run_keys", "headline", "run", "scenario_from_config", "validate"]

"""Differences in the report: paired intervals from per-replication differences when scenarios share
seed and replications (common random numbers), Welch's otherwise, each checked against the formula
worked by hand; ★ and winner lines never go to a scenario that misses a target, nor to a tie."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxsim.experiment import SUMMARY_KEYS, confidence_table
from cxsim.report.compare import Spec, headline_rows, rows
from cxsim.report.data import load_runs
from cxsim.report.stats import between
from cxsim.report.story import findings


def write_run(path: Path, name: str, seed: int, values: dict[tuple[str, str, str], list[float]]) -> Path:
    """A run directory as `cxsim` writes it: summary.csv, replications.csv, summary.json (one voice channel)."""
    path.mkdir(parents=True)
    per_rep = pd.DataFrame(
        [
            {"replication": r, "scope": s, "name": n, "metric": m, "value": v}
            for (s, n, m), vs in values.items()
            for r, v in enumerate(vs)
        ]
    )
    confidence_table(per_rep, SUMMARY_KEYS).to_csv(path / "summary.csv", index=False)
    per_rep.to_csv(path / "replications.csv", index=False)
    digest = {
        "scenario": name,
        "seed": seed,
        "replications": len(next(iter(values.values()))),
        "sla": {"voice": {"mode": "realtime", "answer_within_s": 20, "target": 0.8, "formula": "offered"}},
        "tiers": ["tier1"],
    }
    (path / "summary.json").write_text(json.dumps(digest))
    return path


COST_A = [10.0, 12.0, 11.0, 13.0]
COST_B = [9.0, 10.5, 10.0, 11.5]


def two_runs(tmp_path: Path, seed_b: int) -> list:
    sl = [0.85, 0.86, 0.84, 0.85]
    a = write_run(tmp_path / "a", "baseline", 1, {("overall", "all", "cost_total"): COST_A,
                                                   ("channel", "voice", "service_level"): sl})  # fmt: skip
    b = write_run(tmp_path / "b", "other", seed_b, {("overall", "all", "cost_total"): COST_B,
                                                     ("channel", "voice", "service_level"): sl})  # fmt: skip
    runs, _ = load_runs([a, b])
    return runs


def test_paired_interval_is_the_t_interval_of_per_replication_differences(tmp_path: Path) -> None:
    """Same seed and replications: d = (-1, -1.5, -1, -1.5), mean -1.25, sd 0.288675, t(3) = 3.182446,
    half-width 3.182446 x 0.288675 / 2 = 0.459347."""
    base, other = two_runs(tmp_path, seed_b=1)
    d = between(base, other, "cost_total")
    assert d.paired
    assert d.delta == pytest.approx(-1.25)
    assert d.ci95 == pytest.approx(3.182446 * math.sqrt(0.25 / 3) / 2, rel=1e-5)
    assert not d.within_noise


def test_independent_runs_get_welchs_interval(tmp_path: Path) -> None:
    """Another seed: Welch, s_a² = 5/3, s_b² = 3.25/3, n = 4 each, df from Welch–Satterthwaite;
    the interval is several times wider than the paired one."""
    base, other = two_runs(tmp_path, seed_b=2)
    d = between(base, other, "cost_total")
    va, vb = (5 / 3) / 4, (3.25 / 3) / 4
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 3)
    from scipy.stats import t  # scipy is a dependency of cxsim

    assert not d.paired
    assert d.delta == pytest.approx(-1.25)
    assert d.ci95 == pytest.approx(t.ppf(0.975, df) * math.sqrt(va + vb), rel=1e-9)
    assert d.within_noise  # the same numbers, taken as independent, cannot tell the two apart
    paired = between(*two_runs(tmp_path / "p", seed_b=1), "cost_total")
    assert d.ci95 > 3 * paired.ci95


def three_runs(tmp_path: Path, cost_c: list[float]) -> list:
    """A meets the voice target at cost ~100; B is cheapest but misses it; C meets it at `cost_c`."""
    rng = np.random.default_rng(0)
    noise = list(rng.normal(0, 1, 6))

    def run(name: str, sl: float, cost: list[float]) -> Path:
        return write_run(tmp_path / name, name, 7, {
            ("channel", "voice", "service_level"): [sl + 0.002 * e for e in noise],
            ("overall", "all", "cost_per_resolved"): cost,
            ("overall", "all", "csat"): [0.8 + 0.001 * e for e in noise],
        })  # fmt: skip

    a = run("baseline", 0.85, [100 + e for e in noise])
    b = run("cheap", 0.70, [50 + e for e in noise])
    c = run("dear", 0.86, cost_c)
    runs, _ = load_runs([a, b, c])
    return runs


def test_star_and_winner_never_go_to_a_scenario_missing_a_target(tmp_path: Path) -> None:
    """The cheapest scenario misses the voice target: the cost ★ and the winner line go to the cheapest
    scenario that meets every target."""
    runs = three_runs(tmp_path, [120 + 0.5 * k for k in range(6)])
    cost = rows(runs, 0, [Spec("Cost", "Cost per resolved issue", "cost_per_resolved", kind="money", better="low")])
    assert [c.best for c in cost[0].cells] == [True, False, False]
    lines = findings(runs, 0)
    assert any(line.startswith("Lowest cost per resolved issue: baseline") for line in lines)
    assert not any("cheap (" in line for line in lines)
    sl = next(r for r in headline_rows(runs, 0) if r.label == "Service level — voice")
    assert not sl.cells[1].best and sl.cells[1].status == "miss"


def test_no_star_for_a_tie(tmp_path: Path) -> None:
    """Two target-meeting scenarios whose paired difference is within noise: no ★, no winner named."""
    rng = np.random.default_rng(1)
    runs = three_runs(tmp_path, [100 + e for e in rng.normal(0, 1, 6)])
    cost = rows(runs, 0, [Spec("Cost", "Cost per resolved issue", "cost_per_resolved", kind="money", better="low")])
    assert not any(c.best for c in cost[0].cells)
    assert any("Lowest cost per resolved issue: no clear winner" in line for line in findings(runs, 0))

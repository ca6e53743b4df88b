"""The staffing planner: how long `cxsim staff` takes, and how exact it is where theory is exact.

Usage: python benchmarks/planner.py [--cases baseline,peak_season,mmc,chain] [--workers 2] [--seed 0]

- `baseline`, `peak_season`: the planner as users run it (`plan_staffing` with configs/staff.yaml's
  defaults: 40 replications, Erlang plans compared); wall and CPU time, simulations, replications,
  paid hours and cost, and whether the plan meets every target on fresh seeds.
- `mmc`: a flat M/M/c day (30 calls/min, AHT 60 s, 80/20), where Erlang C is exact (33 agents):
  the share of judged intervals where the plan equals Erlang C, and the most it is above.
- `chain`: two exponential tiers in series without abandonment (tests/data/chain.yaml), an open
  Jackson network: per tier, the share of intervals equal to the per-station Erlang C.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MMC_FLAT = ["channels.voice.volume_per_day=43200", "tiers.tier1.handle_time.voice.mean_s=60"]
CASES = ("baseline", "peak_season", "mmc", "chain")


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the planner's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def scenario_for(case: str):
    import cxsim

    if case == "mmc":
        return cxsim.load_scenario("mmc", MMC_FLAT)
    if case == "chain":
        return cxsim.load_scenario(REPO / "tests" / "data" / "chain.yaml")
    return cxsim.load_scenario(case)


def exactness(case: str, plan) -> str:
    """Share of judged intervals where the plan equals per-station Erlang C, and the largest excess."""
    from cxsim import analytic

    scn = plan.scenario
    live = np.arange(1, scn.horizon.n_intervals + 1) * scn.horizon.interval_s > scn.horizon.warmup_s
    heads = plan.heads().to_numpy()[live]
    lam = scn.channels[0].volumes.sum() / (scn.horizon.n_intervals * scn.horizon.interval_s)
    parts = []
    for k, tier in enumerate(scn.tiers):
        mu = 1.0 / tier.handle_time[0].mean
        erlang_c = analytic.staff_erlang_c(lam, mu, 20, 0.8)
        got = heads[:, k]
        parts.append(
            f"{tier.name}: Erlang C {erlang_c}, equal in {np.mean(got == erlang_c):.0%} of {len(got)} intervals, "
            f"max {int(got.max() - erlang_c):+d}, min {int(got.min() - erlang_c):+d}"
        )
        lam *= 1.0 - float(tier.resolution[0])
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replications", type=int, default=40)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from cxsim.planning import plan_staffing

    print(
        f"# planner benchmark: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
        f"workers {args.workers}, {args.replications} replications, seed {args.seed}"
    )
    for case in args.cases.split(","):
        scn = scenario_for(case)
        wall, cpu = time.perf_counter(), cpu_seconds()
        plan = plan_staffing(
            scn, replications=args.replications, seed=args.seed, workers=args.workers, compare=case in CASES[:2]
        )
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        row = plan.comparison.set_index("plan").loc["simulated"]
        s = plan.stats
        print(
            f"{case:<12} {wall:7.1f} s wall {cpu:7.1f} s CPU  {s['simulations']:>3} simulations "
            f"{s['replications_run']:>6} replications  paid h {row['paid_hours']:>9,.0f}  cost {row['cost']:>11,.0f}  "
            f"fresh-seed check: {'meets every target' if plan.meets_target else 'MISSES'} ({s['repairs']} repairs)"
        )
        if case in ("mmc", "chain"):
            print(f"{'':<12} {exactness(case, plan)}")
        else:
            c = plan.comparison.set_index("plan")
            for name in ("erlang_c", "erlang_a"):
                print(
                    f"{'':<12} {name}: paid h {c.loc[name, 'paid_hours']:,.0f}, cost {c.loc[name, 'cost']:,.0f}, "
                    f"{int(c.loc[name, 'intervals_missing'])} tier-intervals missing on the check's seeds"
                )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

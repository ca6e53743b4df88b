"""Profile one cxsim replication with pyinstrument and list the hot spots.

Usage: python benchmarks/hotspots.py {mmc50,week,baseline7} [--top N] [--html PATH] [--tree]

- mmc50: the M/M/50 workload of run.py (λ = 0.75/s, 60 s mean service, 2,000 min, ≈ 90k contacts)
- week: the 1,000,000-contact baseline week of scale.py
- baseline7: `baseline` with horizon.days=7 and nothing else changed (≈ 36k first contacts)

The profiled call is `cxsim.simulate(scn, replications=1, seed=7, workers=1)`, the full model
with its KPI tables; `load_scenario` is outside the profile.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from run import code_version, cxsim_overrides, import_cxsim, make_workloads, print_table


def build(workload: str) -> Any:
    """The compiled scenario of one named workload."""
    cxsim = import_cxsim()
    if workload == "mmc50":
        return cxsim.load_scenario("mmc", overrides=cxsim_overrides(make_workloads(2000.0, 120.0)["mmc50"]))
    if workload == "week":
        from scale import week_scenario

        return week_scenario(1_000_000)
    return cxsim.load_scenario("baseline", overrides=["horizon.days=7"])


def _key(frame: Any) -> str:
    """function  file:line of a pyinstrument frame."""
    return f"{frame.function}  {frame.file_path_short}:{frame.line_no}"


def hot_spots(root: Any) -> tuple[dict[str, float], dict[str, float]]:
    """Self time and inclusive time per function (inclusive counted once per call path)."""
    own: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)

    def walk(frame: Any, on_path: frozenset[str]) -> None:
        if frame.is_synthetic:  # pyinstrument's "[self]" leaves: already in the parent's total_self_time
            return
        key = _key(frame)
        own[key] += frame.total_self_time
        if key not in on_path:
            total[key] += frame.time
        for child in frame.children:
            walk(child, on_path | {key})

    walk(root, frozenset())
    return own, total


def main(argv: list[str] | None = None) -> int:
    """Profile the chosen workload and print pyinstrument's tree (optional) and two hot-spot tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=("mmc50", "week", "baseline7"))
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--interval", type=float, default=0.001, help="sampling interval in seconds")
    p.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    p.add_argument("--tree", action="store_true", help="print pyinstrument's call tree too")
    a = p.parse_args(argv)

    from pyinstrument import Profiler

    cxsim = import_cxsim()
    scn = build(a.workload)
    profiler = Profiler(interval=a.interval)
    t0 = time.perf_counter()
    profiler.start()
    res = cxsim.simulate(scn, replications=1, seed=7, workers=1)
    profiler.stop()
    wall = time.perf_counter() - t0
    contacts = res.kpi("offered") + res.kpi("contained")
    print(f"{a.workload}: {contacts:,.0f} contacts, {wall:.2f} s under the profiler; cxsim {code_version()}")
    if a.tree:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    if a.html:
        a.html.write_text(profiler.output_html())
    session = profiler.last_session
    root = session.root_frame()
    own, total = hot_spots(root)
    duration = root.time
    print(f"\nTop {a.top} by self time (% of {duration:.2f} s sampled):")
    print_table(
        ["self %", "function  file:line"],
        [[f"{100 * t / duration:.1f}", k] for k, t in sorted(own.items(), key=lambda kv: -kv[1])[: a.top]],
    )
    mine = {k: t for k, t in total.items() if "cxsim" in k.split("  ")[1]}
    print(f"\nTop {a.top} cxsim functions by inclusive time:")
    print_table(
        ["total %", "function  file:line"],
        [[f"{100 * t / duration:.1f}", k] for k, t in sorted(mine.items(), key=lambda kv: -kv[1])[: a.top]],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

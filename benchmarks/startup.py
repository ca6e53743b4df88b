"""Start-up benchmark: how long the `cxsim` command and the first `simulate()` take.

Usage: python benchmarks/startup.py [--rounds N]

(a) `cxsim --help`, whole process (wall and CPU);
(b) `cxsim scenario=mmc replications=1`, whole process, results into a temporary folder;
(c) the first `cxsim.simulate()` of a fresh process (imports included) against a second
    call in the same process, mmc, one replication; and before it, `import cxsim` plus
    `load_scenario`, since imports can move between the two.
Each figure is the median of N fresh processes. CPU time (user + sys of the child; in-process,
time.process_time) is shown beside wall time because a shared machine's load inflates wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CXSIM = shutil.which("cxsim") or str(Path(sys.executable).with_name("cxsim"))
FIRST_CALL = """
import json, time
def now():
    return time.perf_counter(), time.process_time()
t0 = now()
import cxsim
scn = cxsim.load_scenario("mmc")
t1 = now()
cxsim.simulate(scn, replications=1, seed=1)
t2 = now()
cxsim.simulate(scn, replications=1, seed=2)
t3 = now()
print(json.dumps({"load": [b - a for a, b in zip(t0, t1)], "first": [b - a for a, b in zip(t1, t2)],
                  "warm": [b - a for a, b in zip(t2, t3)]}))
"""


def timed(cmd: list[str], cwd: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + sys of the child) and stdout of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs: dict[str, list[tuple[float, float]]] = {"help": [], "run": [], "load": [], "first_extra": []}
        for i in range(args.rounds):
            wall, cpu, _ = timed([CXSIM, "--help"], tmp)
            runs["help"].append((wall, cpu))
            run = ["scenario=mmc", "replications=1", "progress=false", f"hydra.run.dir={tmp}/run{i}"]
            wall, cpu, _ = timed([CXSIM, *run], tmp)
            runs["run"].append((wall, cpu))
            _, _, out = timed([sys.executable, "-c", FIRST_CALL], tmp)
            figures = json.loads(out)
            runs["load"].append(tuple(figures["load"]))
            first, warm = figures["first"], figures["warm"]
            runs["first_extra"].append((first[0] - warm[0], first[1] - warm[1]))
        for name, values in runs.items():
            rows[name] = {
                "wall_s": statistics.median(w for w, _ in values),
                "cpu_s": statistics.median(c for _, c in values),
            }
    load = os.getloadavg()[0]
    print(f"median of {args.rounds} fresh processes; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'measure':52s} {'wall s':>8s} {'CPU s':>8s}")
    labels = {
        "help": "cxsim --help (whole process)",
        "run": "cxsim scenario=mmc replications=1 (whole process)",
        "load": "import cxsim + load_scenario('mmc') (in-process)",
        "first_extra": "first simulate() minus a warm one (in-process)",
    }
    for name, row in rows.items():
        print(f"{labels[name]:52s} {row['wall_s']:8.2f} {row['cpu_s']:8.2f}")


if __name__ == "__main__":
    main()

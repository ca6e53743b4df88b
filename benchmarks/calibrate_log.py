"""`cxsim calibrate` on a million-row contact log: CPU and wall time of each step, peak memory.

    python benchmarks/calibrate_log.py                # ~1.1M rows (7 days, leg format, ISO times)
    python benchmarks/calibrate_log.py --per-day 14000  # a smaller log (about a tenth)

The log comes from tests/loggen.py (the tests' independent generator), scaled up; generating and
writing it takes about two minutes and is not timed. The timed steps are those of the command:
reading and checking the log (the command does this twice, pre-flight and job), the estimates,
writing the scenario files and the report. The machine is shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from loggen import Truth, generate, to_log

from cxsim.calibrate.calibration import Settings, calibrate
from cxsim.calibrate.log import LogSpec, read_log
from cxsim.calibrate.report import write_report
from cxsim.calibrate.writer import write_calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=float, default=140000.0, help="first contacts a day (voice 2/3, chat 1/3)")
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    scale = args.per_day / 140000.0
    truth = Truth(
        days=args.days,
        per_day={"voice": 95000.0 * scale, "chat": 45000.0 * scale},
        staff={"tier1": max(1, round(560 * scale)), "tier2": max(1, round(120 * scale))},
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        legs, contacts = generate(truth, seed=1)
        log = to_log(truth, legs, contacts, layout="leg")
        log.to_csv(out / "log.csv", index=False)
        pd.DataFrame({t: [n] * 48 for t, n in truth.staff.items()}).to_csv(out / "roster.csv", index=False)
        print(
            f"log: {len(log):,} rows, {(out / 'log.csv').stat().st_size / 1e6:,.0f} MB; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        steps = []
        spec = LogSpec(timezone=truth.timezone, format="leg")

        def timed(name: str, fn):
            wall, cpu = time.perf_counter(), time.process_time()
            value = fn()
            steps.append((name, time.process_time() - cpu, time.perf_counter() - wall))
            return value

        data = timed("read and check the log", lambda: read_log(out / "log.csv", spec))
        cal = timed("estimate", lambda: calibrate(data, Settings(roster=str(out / "roster.csv"))))
        timed("write scenario files", lambda: write_calibration(cal, out / "run", "log.csv"))
        timed("write report", lambda: write_report(cal, out / "run" / "calibration.html", "log.csv"))
    for name, cpu, wall in steps:
        print(f"{name:24s} cpu {cpu:6.1f} s   wall {wall:6.1f} s")
    cpu = sum(s[1] for s in steps) + steps[0][1]
    print(
        f"the command's work (log read twice): cpu {cpu:.1f} s; "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )


if __name__ == "__main__":
    main()

"""Scale benchmark: a 1,000,000-contact week (time, worker scaling) and per-replication memory.

Usage: python benchmarks/scale.py [--quick] [--json PATH]

(a) `baseline` over `horizon.days=7`, every channel's `volume_per_day` and every tier's staff list
    scaled by one factor so that about 1,000,000 first contacts arrive in the week; `cxsim.simulate`
    with 20 replications, once with workers=1 and once with workers=2, each in a fresh process.
(b) peak RSS of one replication in a fresh process: 1M and 250k contacts, `contacts=False` and
    `contacts=True`, plus the engine alone (`simulate_replication`) at 1M.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from run import RESULT_TAG, _proc_status_mb, code_version, import_cxsim, print_table, write_json

DAYS = 7


# --------------------------------------------------------------------------- the scaled week


def week_overrides(contacts: float, days: int = DAYS) -> tuple[list[str], float]:
    """Overrides of `baseline` for a `days`-day horizon with about `contacts` first contacts.

    Volumes and staff are scaled by the same factor, so per-agent load stays that of the baseline
    (service gets a little better with the larger pools). Staff lists repeat per day, and a list
    override needs the whole list, so the first day's values are read from the compiled scenario.
    """
    cxsim = import_cxsim()
    base = cxsim.load_scenario("baseline", overrides=[f"horizon.days={days}"])
    expected = sum(float(c.volumes.sum()) for c in base.channels)
    factor = contacts / expected
    overrides = [f"horizon.days={days}"]
    for c in base.channels:
        per_day = float(base.config["channels"][c.name]["volume_per_day"])
        overrides.append(f"channels.{c.name}.volume_per_day={per_day * factor:.10g}")
    per_day = base.horizon.intervals_per_day
    for t in base.tiers:
        heads = [round(float(x) * factor) for x in t.staff[:per_day]]
        overrides.append(f"tiers.{t.name}.staff=[{','.join(map(str, heads))}]")
    return overrides, factor


def week_scenario(contacts: float, days: int = DAYS) -> Any:
    """The compiled scaled-week scenario."""
    overrides, _ = week_overrides(contacts, days)
    return import_cxsim().load_scenario("baseline", overrides=overrides)


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and of its reaped children (the worker pool)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _children_peak_mb() -> float:
    """Largest peak RSS among reaped child processes (the worker pool), in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def extrapolate(wall: float, stamps: list[float], reps: int, workers: int, target: int) -> float:
    """Wall time for `target` replications from a run of `reps` (itself when reps == target).

    The run goes in rounds of `workers` replications. The first round carries the start-up (the
    worker pool imports cxsim), so the estimate is: end of the first round + (rounds still to go)
    × the mean time of the later rounds + what followed the last replication (the KPI tables).
    With a single round it falls back to wall × target / reps, which also scales the start-up.
    """
    if reps == target:
        return wall
    rounds = reps // workers
    if rounds >= 2 and reps % workers == 0 and len(stamps) == reps:
        first = stamps[workers - 1]
        per_round = (stamps[-1] - first) / (rounds - 1)
        return first + (math.ceil(target / workers) - 1) * per_round + (wall - stamps[-1])
    return wall * target / reps


# --------------------------------------------------------------------------- child processes


def child_throughput(spec: dict[str, Any]) -> dict[str, Any]:
    """Time `cxsim.simulate` of the scaled week with `reps` replications in `workers` processes."""
    cxsim = import_cxsim()
    scn = cxsim.load_scenario("baseline", overrides=spec["overrides"])
    stamps: list[float] = []
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    res = cxsim.simulate(
        scn,
        replications=spec["reps"],
        seed=spec["seed"],
        workers=spec["workers"],
        progress=lambda done, total: stamps.append(time.perf_counter() - t0),
    )
    wall = time.perf_counter() - t0
    cpu = _cpu_s() - cpu0
    per = res.per_replication
    overall = per[(per.scope == "overall") & (per.name == "all")]
    # contacts that arrived in the week: offered to an agent queue plus contained by the bot
    contacts = float(overall[overall.metric.isin(["offered", "contained"])]["value"].sum())
    return {
        "workers": spec["workers"],
        "reps": spec["reps"],
        "wall_s": wall,
        "cpu_s": cpu,
        "stamps_s": stamps,
        "contacts": contacts,
        "peak_rss_mb": _proc_status_mb("VmHWM"),
        "workers_peak_rss_mb": _children_peak_mb(),
        "service_level": res.kpi("service_level"),
        "asa_s": res.kpi("asa_s"),
    }


def child_memory(spec: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS of one replication (full model with or without contact records, or the engine alone)."""
    cxsim = import_cxsim()
    from cxsim.world import simulate_replication

    scn = cxsim.load_scenario("baseline", overrides=spec["overrides"])
    base = _proc_status_mb("VmRSS")
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    if spec["mode"] == "engine":
        rec = simulate_replication(scn, spec["seed"], 0)
        wall = time.perf_counter() - t0
        peak = _proc_status_mb("VmHWM")
        out["n_contacts"] = int(rec.n_contacts)
        out["legs"] = len(rec.leg_contact)
        out["records_mb"] = rec.nbytes / 2**20
    else:
        res = cxsim.simulate(scn, replications=1, seed=spec["seed"], workers=1, contacts=spec["contacts"])
        wall = time.perf_counter() - t0
        peak = _proc_status_mb("VmHWM")
        if res.contacts is not None:
            out["n_contacts"] = len(res.contacts)
            out["frame_mb"] = float(res.contacts.memory_usage(deep=True).sum()) / 2**20
    cpu = _cpu_s() - cpu0
    return {**spec, **out, "wall_s": wall, "cpu_s": cpu, "base_rss_mb": base, "peak_rss_mb": peak}


def spawn(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its JSON result (or an error)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--spec", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    return {**spec, "error": tail}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the week throughput runs, then the memory runs, and print the tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="4 replications per setting, extrapolated to 20")
    p.add_argument("--reps", type=int, help="replications actually run per setting (default 20; quick 4)")
    p.add_argument("--target-reps", type=int, default=20, help="replications the figure is stated for")
    p.add_argument("--contacts", type=float, default=1_000_000, help="first contacts in the week")
    p.add_argument("--workers", default="1,2", help="comma list of worker counts")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--json", type=Path, help="also write all results as JSON here")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    a = p.parse_args(argv)

    if a.child:
        fn = {"throughput": child_throughput, "memory": child_memory}[a.child]
        print(RESULT_TAG + json.dumps(fn(json.loads(a.spec))), flush=True)
        return 0

    reps = a.reps or (4 if a.quick else a.target_reps)
    workers = [int(x) for x in a.workers.split(",") if x.strip()]
    overrides, factor = week_overrides(a.contacts)
    version = code_version()  # once: others may commit while this runs
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"baseline × {factor:.4f} over {DAYS} days (≈{a.contacts:,.0f} first contacts/replication), seed={a.seed}; "
        f"cxsim {version}"
    )
    doc: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "cxsim": version,
        "settings": {"contacts": a.contacts, "factor": factor, "days": DAYS, "reps": reps, "seed": a.seed},
        "overrides": overrides,
    }

    # ---- (a) the 1M-contact week, workers=1 vs 2
    if not a.skip_throughput:
        runs = []
        for w in workers:
            load = os.getloadavg()[0]
            r = spawn("throughput", {"overrides": overrides, "reps": reps, "workers": w, "seed": a.seed})
            r["load_before"], r["load_after"] = load, os.getloadavg()[0]
            runs.append(r)
            status = r.get("error") or f"{r['wall_s']:.1f} s for {reps} replications"
            status += f" (1-min load average {r['load_before']:.2f} before, {r['load_after']:.2f} after)"
            print(f"  workers={w}: {status}", flush=True)
        ok = [r for r in runs if "error" not in r]
        rows = []
        serial = next((r["wall_s"] for r in ok if r["workers"] == 1), None)
        for r in ok:
            scaled = extrapolate(r["wall_s"], r["stamps_s"], reps, r["workers"], a.target_reps)
            gaps = [b - c for b, c in zip(r["stamps_s"][1:], r["stamps_s"][:-1], strict=False)]
            r.update(
                {
                    "wall_target_s": scaled,
                    "extrapolated": reps != a.target_reps,
                    "contacts_per_s": r["contacts"] / r["wall_s"],
                    "speedup": serial / r["wall_s"] if serial else float("nan"),
                    "median_gap_s": statistics.median(gaps) if gaps else float("nan"),
                }
            )
            rows.append(
                [
                    str(r["workers"]),
                    str(r["reps"]),
                    f"{r['contacts'] / r['reps']:,.0f}",
                    f"{r['wall_s']:.1f}",
                    f"{scaled:.1f}{' (extrapolated)' if reps != a.target_reps else ''}",
                    f"{r['wall_s'] / reps:.2f}",
                    f"{r['cpu_s'] / reps:.2f}",
                    f"{r['contacts_per_s']:,.0f}",
                    f"{r['speedup']:.2f}" if serial else "n/a",
                    f"{r['peak_rss_mb']:.0f}",
                    f"{r['workers_peak_rss_mb']:.0f}" if r["workers"] > 1 else "—",
                    f"{r['load_before']:.1f}/{r['load_after']:.1f}",
                ]
            )
        print(
            f"\n{a.contacts:,.0f}-contact week, {reps} replications per setting (fresh process each; "
            "CPU = user + system of the process and its workers; load = 1-min load average):"
        )
        if rows:
            print_table(
                [
                    "workers",
                    "reps",
                    "contacts/rep",
                    "wall s",
                    f"wall s for {a.target_reps}",
                    "wall s/rep",
                    "CPU s/rep",
                    "contacts/s",
                    "speed-up",
                    "peak MB",
                    "worker peak MB",
                    "load before/after",
                ],
                rows,
            )
        for r in runs:
            if "error" in r:
                print(f"  workers={r['workers']}: {r['error']}")
        best = [r for r in ok if r["workers"] == 2]
        if best:
            t = best[0]["wall_target_s"]
            print(
                f"Target: {a.target_reps} replications with workers=2 under 180 s: {t:.0f} s → "
                f"{'PASS' if t < 180 else 'FAIL'}{' (extrapolated)' if reps != a.target_reps else ''}"
            )
        doc["throughput"] = runs

    # ---- (b) peak RSS of one replication in a fresh process
    if not a.skip_memory:
        small, _ = week_overrides(a.contacts / 4)
        cases = [
            ("full", a.contacts, False, overrides),
            ("full", a.contacts, True, overrides),
            ("engine", a.contacts, False, overrides),
            ("full", a.contacts / 4, False, small),
            ("full", a.contacts / 4, True, small),
        ]
        if a.quick:
            cases = cases[:2] + cases[3:4]
        mem = []
        for mode, n, keep, ov in cases:
            r = spawn("memory", {"mode": mode, "size": n, "contacts": keep, "overrides": ov, "seed": a.seed})
            mem.append(r)
            label = f"{mode} {n:,.0f} contacts={keep}"
            status = r.get("error") or f"{r['peak_rss_mb']:.0f} MB peak, {r['wall_s']:.1f} s"
            print(f"  {label}: {status}", flush=True)
        rows = []
        for r in mem:
            if "error" in r:
                continue
            what = "simulate_replication (engine)" if r["mode"] == "engine" else f"simulate(contacts={r['contacts']})"
            extra = ""
            if "records_mb" in r:
                extra = f"Records {r['records_mb']:.0f} MB ({r['n_contacts']:,} contacts, {r['legs']:,} legs)"
            elif "frame_mb" in r:
                extra = f"contacts frame {r['frame_mb']:.0f} MB ({r['n_contacts']:,} rows)"
            rows.append(
                [
                    f"{r['size']:,.0f}",
                    what,
                    f"{r['base_rss_mb']:.0f}",
                    f"{r['peak_rss_mb']:.0f}",
                    f"{r['peak_rss_mb'] - r['base_rss_mb']:.0f}",
                    f"{r['wall_s']:.1f}",
                    extra,
                ]
            )
        print("\nPeak RSS of one replication (fresh process; base = RSS after imports and load_scenario):")
        if rows:
            print_table(["first contacts", "run", "base MB", "peak MB", "run MB", "wall s", "notes"], rows)
        with_records = [
            r for r in mem if "error" not in r and r["mode"] == "full" and r["contacts"] and r["size"] == a.contacts
        ]
        if with_records:
            peak = with_records[0]["peak_rss_mb"]
            verdict = "PASS" if peak < 400 else "FAIL"
            print(f"Target: {a.contacts:,.0f} contacts with records under 400 MB: {peak:.0f} MB → {verdict}")
        doc["memory"] = mem

    if a.json:
        write_json(a.json, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

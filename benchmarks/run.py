"""Side-by-side M/M/c benchmark: cxsim vs minimal SimPy vs Ciw (speed, memory, correctness).

Usage: python benchmarks/run.py [--quick] [--json PATH]
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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from peers import PeerResult, ciw_model, simpy_minimal

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULT_TAG = "@@RESULT "
PEERS = ("simpy", "ciw")
# `cxsim` is the full model users run (cxsim.simulate, KPI tables included); `cxsim-engine` is
# world.simulate_replication alone (same sample path, no KPI reduction), to show what the tables cost.
CXSIM_MODELS = ("cxsim", "cxsim-engine")
ALL_MODELS = (*CXSIM_MODELS, *PEERS)
# targets: (what, workload, model, peer, minimum speed ratio)
SPEED_TARGETS = (
    ("full model vs minimal SimPy", "mmc50", "cxsim", "simpy", 1.0),
    ("full model vs Ciw", "mmc50", "cxsim", "ciw", 2.5),
    ("full model vs SimPy, reneging", "mmc50+renege", "cxsim", "simpy", 1.0),
)
FLATNESS_TARGET = 1.2


@dataclass(frozen=True)
class Workload:
    """One M/M/c(+M) workload; rates are per second so every model reads the same numbers."""

    name: str
    arrival_rate: float
    service_rate: float
    servers: int
    horizon_s: float
    patience_mean_s: float | None = None
    threshold_s: float = 20.0

    @property
    def expected_customers(self) -> float:
        """Mean number of arrivals, for sanity-checking the table."""
        return self.arrival_rate * self.horizon_s


def make_workloads(horizon_min: float, patience_mean_s: float) -> dict[str, Workload]:
    """The performance-target workload (M/M/50, 45/min, 60 s AHT), its reneging and ×10 variants."""
    base = Workload("mmc50", 0.75, 1.0 / 60.0, 50, horizon_min * 60.0)
    return {
        "mmc50": base,
        "mmc50+renege": replace(base, name="mmc50+renege", patience_mean_s=patience_mean_s),
        # Same per-agent load at 10× the agents; horizon /10 keeps the customer count equal, so
        # the µs/contact ratio isolates the cost of a larger pool, not of a longer run.
        "mmc500": replace(base, name="mmc500", arrival_rate=7.5, servers=500, horizon_s=base.horizon_s / 10),
    }


# --------------------------------------------------------------------------- cxsim adapter


def import_cxsim() -> Any:
    """Import cxsim, falling back to the in-tree src/ so an uninstalled checkout still works."""
    try:
        import cxsim
    except ImportError:
        sys.path.insert(0, str(REPO / "src"))
        import cxsim
    for attr in ("load_scenario", "simulate"):
        if not hasattr(cxsim, attr):
            raise ImportError(f"cxsim has no attribute {attr!r} yet")
    return cxsim


CXSIM_SLA_S = 20.0  # mmc.yaml: channels.voice.sla.answer_within_s
# 1440's divisors: horizon.interval_min must divide a day, and the horizon must be whole intervals
_DAY_DIVISORS = [d for d in range(1, 1441) if 1440 % d == 0]


def cxsim_interval_min(horizon_min: float) -> int:
    """Largest interval (≤ 30 min, mmc.yaml's default) dividing both a day and the horizon."""
    if not float(horizon_min).is_integer():
        raise ValueError(f"cxsim needs a whole number of minutes as horizon (got {horizon_min})")
    return max(d for d in _DAY_DIVISORS if d <= 30 and int(horizon_min) % d == 0)


def cxsim_overrides(w: Workload) -> list[str]:
    """The mmc.yaml overrides that make cxsim simulate workload `w`; the one place that knows the keys."""
    horizon_min = w.horizon_s / 60.0
    overrides = [
        # volume is per day; the flat intraday profile of mmc.yaml turns it into λ = volume/86400
        f"channels.voice.volume_per_day={w.arrival_rate * 86400.0:.10g}",
        f"tiers.tier1.staff={w.servers}",
        f"tiers.tier1.handle_time.voice.mean_s={1.0 / w.service_rate:.10g}",
        # a fractional day is fine as long as it is a whole number of intervals (2,000 min = 100 × 20 min)
        f"horizon.interval_min={cxsim_interval_min(horizon_min)}",
        f"horizon.days={horizon_min / 1440.0!r}",
        # the peers start empty and count every customer: no warm-up (mmc.yaml defaults to 60 min)
        "horizon.warmup_min=0",
    ]
    if w.patience_mean_s is not None:
        overrides.append(f"channels.voice.patience={{dist:exponential,mean_s:{w.patience_mean_s:.10g}}}")
    if w.threshold_s != CXSIM_SLA_S:
        overrides.append(f"channels.voice.sla.answer_within_s={w.threshold_s:.10g}")
    return overrides


def cxsim_run(w: Workload, seed: int, replications: int = 1) -> dict[str, Any]:
    """cxsim's full model as users run it: `cxsim.simulate` including the KPI tables, timed end to end."""
    cxsim = import_cxsim()
    scn = cxsim.load_scenario("mmc", overrides=cxsim_overrides(w))
    t0, c0 = time.perf_counter(), time.process_time()
    res = cxsim.simulate(scn, replications=replications, seed=seed, workers=1, contacts=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = res.summary
    overall = s[(s["scope"] == "overall") & (s["name"] == "all")].set_index("metric")

    def mean(metric: str) -> float:
        """Across-replication mean of one overall metric."""
        return float(overall.loc[metric, "mean"])

    def ci(metric: str) -> float:
        """95% CI half-width of one overall metric (nan with one replication)."""
        return float(overall.loc[metric, "ci95"])

    customers = round(mean("offered") * replications)
    return {
        "model": "cxsim",
        "customers": customers,
        "answered": round(mean("answered") * replications),
        "abandoned": round(mean("abandoned") * replications),
        "mean_wait_s": mean("asa_s"),
        "within_t": mean("service_level"),
        "threshold_s": w.threshold_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "customers_per_s": customers / wall,
        "ci95": {"mean_wait_s": ci("asa_s"), "within_t": ci("service_level")},
        "n": replications,
    }


def cxsim_engine_run(w: Workload, seed: int) -> dict[str, Any]:
    """cxsim's engine alone: `simulate_replication` (arrivals, draws, event loop, records), no KPI tables.

    Same seed and replication 0 as `cxsim_run`, so the same sample path; the KPIs for the table
    are reduced from the records after the clock stops.
    """
    cxsim = import_cxsim()
    from cxsim.world import simulate_replication

    scn = cxsim.load_scenario("mmc", overrides=cxsim_overrides(w))
    t0, c0 = time.perf_counter(), time.process_time()
    rec = simulate_replication(scn, seed, 0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    import numpy as np

    served = ~np.isnan(rec.leg_start)
    waits = (rec.leg_start - rec.leg_enqueued)[served]
    customers = int(rec.n_contacts)
    within = float(np.count_nonzero(waits <= w.threshold_s)) / customers if customers else float("nan")
    return {
        "model": "cxsim-engine",
        "customers": customers,
        "answered": int(served.sum()),
        "abandoned": int(np.count_nonzero(~served)),
        "mean_wait_s": float(waits.mean()) if len(waits) else float("nan"),
        "within_t": within,
        "threshold_s": w.threshold_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "customers_per_s": customers / wall,
        "n": 1,
    }


def cxsim_status() -> str | None:
    """None if cxsim's API is importable, else the reason it is not."""
    try:
        import_cxsim()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def code_version() -> str:
    """The commit benchmarked, marked when src/ has uncommitted changes (others edit it concurrently)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} + uncommitted src/ changes" if dirty else head


def load_average() -> float:
    """1-minute load average (other processes on the machine skew timings)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# --------------------------------------------------------------------------- child process


def _proc_status_mb(field: str) -> float:
    """A Vm* figure of this process in MB (VmHWM = peak RSS), via /proc or getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_model(model: str, w: Workload, seed: int) -> dict[str, Any]:
    """Run one model once on one workload in this process and return its result dict."""
    if model == "cxsim":
        return cxsim_run(w, seed)
    if model == "cxsim-engine":
        return cxsim_engine_run(w, seed)
    fn = {"simpy": simpy_minimal, "ciw": ciw_model}[model]
    res: PeerResult = fn(
        w.arrival_rate,
        w.service_rate,
        w.servers,
        w.horizon_s,
        seed,
        w.patience_mean_s,
        w.threshold_s,
    )
    return res.to_dict()


def child_main(model: str, workload_json: str, seed: int) -> None:
    """Subprocess entry: warm the model's imports, note base RSS, run once, print JSON result."""
    w = Workload(**json.loads(workload_json))
    if model in CXSIM_MODELS:
        import_cxsim()
        import cxsim.world  # noqa: F401
    elif model == "ciw":
        import ciw  # noqa: F401  (import cost belongs to the baseline, not the run)
    base = _proc_status_mb("VmRSS")
    out = run_model(model, w, seed)
    out["base_rss_mb"] = base
    out["peak_rss_mb"] = _proc_status_mb("VmHWM")
    print(RESULT_TAG + json.dumps(out), flush=True)


def spawn(model: str, w: Workload, seed: int) -> dict[str, Any]:
    """Run one (model, workload) in a fresh interpreter so peak RSS is that model's alone."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        model,
        "--workload",
        json.dumps(asdict(w)),
        "--seed",
        str(seed),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    return {"model": model, "error": tail}


# --------------------------------------------------------------------------- analytics


@dataclass(frozen=True)
class Exact:
    """Erlang C figures for one M/M/c."""

    p_wait: float
    asa: float
    service_level: float


def erlang_c(lam: float, mu: float, c: int, threshold: float) -> Exact:
    """Local Erlang C (stable Erlang B recursion) used as fallback and cross-check."""
    a = lam / mu
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    p_wait = b / (1.0 - rho * (1.0 - b))
    drain = c * mu - lam
    return Exact(p_wait, p_wait / drain, 1.0 - p_wait * math.exp(-drain * threshold))


def exact_for(w: Workload) -> tuple[Exact, str]:
    """Erlang C from cxsim.analytic.mmc when available (checked against the local formula)."""
    local = erlang_c(w.arrival_rate, w.service_rate, w.servers, w.threshold_s)
    try:
        import_cxsim()
        from cxsim.analytic import mmc

        r = mmc(w.arrival_rate, w.service_rate, w.servers, w.threshold_s)
        get = (lambda k: r[k]) if isinstance(r, dict) else (lambda k: getattr(r, k))
        theirs = Exact(float(get("p_wait")), float(get("asa")), float(get("service_level")))
    except Exception as exc:
        return local, f"local Erlang C (cxsim.analytic unavailable: {type(exc).__name__}: {exc})"
    for f in ("p_wait", "asa", "service_level"):
        if not math.isclose(getattr(theirs, f), getattr(local, f), rel_tol=1e-6):
            print(
                f"WARNING: cxsim.analytic.mmc {f}={getattr(theirs, f):.6g} "
                f"but local Erlang C gives {getattr(local, f):.6g}"
            )
    return theirs, "cxsim.analytic.mmc"


def mean_ci(xs: list[float]) -> tuple[float, float]:
    """Sample mean and Student-t 95% CI half-width across independent replications."""
    from scipy.stats import t

    n = len(xs)
    m = statistics.fmean(xs)
    if n < 2:
        return m, float("nan")
    return m, float(t.ppf(0.975, n - 1)) * statistics.stdev(xs) / math.sqrt(n)


def check_model(model: str, w: Workload, reps: int, seed: int) -> dict[str, Any]:
    """ASA and SL mean ± 95% CI over `reps` independent seeds of one model."""
    if model == "cxsim":
        r = cxsim_run(w, seed, replications=reps)
        return {
            "model": model,
            "n": reps,
            "asa": (r["mean_wait_s"], r["ci95"]["mean_wait_s"]),
            "sl": (r["within_t"], r["ci95"]["within_t"]),
        }
    runs = [run_model(model, w, seed + i) for i in range(reps)]
    return {
        "model": model,
        "n": reps,
        "asa": mean_ci([r["mean_wait_s"] for r in runs]),
        "sl": mean_ci([r["within_t"] for r in runs]),
    }


# --------------------------------------------------------------------------- reporting


def _fmt(x: Any, spec: str) -> str:
    """Format a number, or show n/a for missing values."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return format(x, spec)


def write_json(path: Path, doc: dict) -> None:
    """Write a benchmark document as strict JSON (NaN as null) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(doc), indent=2, allow_nan=False) + "\n")
    print(f"\nwrote {path}")


def _jsonable(x: Any) -> Any:
    """Recursively replace NaN/inf by None and tuples by lists so the JSON is strict."""
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Plain fixed-width table on stdout."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(wd) for h, wd in zip(headers, widths, strict=True)))
    for r in rows:
        print("  ".join(c.rjust(wd) for c, wd in zip(r, widths, strict=True)))


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median wall time over rounds (same seed, so the same sample path), max peak RSS."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1].get("error", "no runs")}
    wall = statistics.median(r["wall_s"] for r in ok)
    cpu = statistics.median(r.get("cpu_s", float("nan")) for r in ok)
    customers = ok[0]["customers"]
    return {
        "rounds": len(ok),
        "customers": customers,
        "wall_s": wall,
        "wall_s_all": [r["wall_s"] for r in ok],
        "cpu_s": cpu,
        "cpu_s_all": [r.get("cpu_s", float("nan")) for r in ok],
        "customers_per_s": customers / wall,
        "customers_per_cpu_s": customers / cpu,
        "us_per_contact": 1e6 * wall / customers,
        "cpu_us_per_contact": 1e6 * cpu / customers,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in ok),
        "base_rss_mb": statistics.median(r["base_rss_mb"] for r in ok),
        "asa_s": ok[0]["mean_wait_s"],
        "service_level": ok[0]["within_t"],
        "abandon_rate": ok[0]["abandoned"] / customers if customers else float("nan"),
    }


def evaluate_targets(
    agg: dict[tuple[str, str], dict[str, Any]], flat: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """The performance targets of the full cxsim model, as (target, measured, required, PASS/FAIL) rows."""
    out = []
    for what, workload, model, peer, minimum in SPEED_TARGETS:
        g, pg = agg.get((workload, model), {}), agg.get((workload, peer), {})
        if "customers_per_s" in g and "customers_per_s" in pg:
            ratio = g["customers_per_s"] / pg["customers_per_s"]
            cpu_ratio = g["customers_per_cpu_s"] / pg["customers_per_cpu_s"]
            out.append(
                {
                    "target": f"{what} ({workload})",
                    "measured": f"{ratio:.2f}×",
                    "cpu": f"{cpu_ratio:.2f}×",
                    "required": f"≥ {minimum:g}×",
                    "result": "PASS" if ratio >= minimum else "FAIL",
                }
            )
    for f in flat:
        if f["model"] == "cxsim":
            out.append(
                {
                    "target": "cost per contact, 500 vs 50 agents",
                    "measured": f"{f['ratio']:.2f}×",
                    "cpu": f"{f['cpu_ratio']:.2f}×",
                    "required": f"≤ {FLATNESS_TARGET:g}×",
                    "result": "PASS" if f["ratio"] <= FLATNESS_TARGET else "FAIL",
                }
            )
    for c in checks:
        if c["model"] == "cxsim":
            out.append(
                {
                    "target": "Erlang C agreement (ASA and SL in 95% CI)",
                    "measured": f"ASA {'in' if c['asa_ok'] else 'out'}, SL {'in' if c['sl_ok'] else 'out'}",
                    "cpu": "—",
                    "required": "both in",
                    "result": c["verdict"],
                }
            )
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the interleaved rounds, the flatness ratio and the Erlang C check."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small smoke run (200 min, 2 rounds)")
    p.add_argument("--json", type=Path, help="also write all results as JSON here")
    p.add_argument("--rounds", type=int, help="interleaved timing rounds (default 3; quick 2)")
    p.add_argument("--horizon-min", type=float, help="simulated minutes (default 2000; quick 200)")
    p.add_argument("--check-reps", type=int, help="seeds per model for Erlang C (10; quick 4)")
    p.add_argument("--patience-mean-s", type=float, default=120.0, help="renege variant patience")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--models", default=",".join(ALL_MODELS), help="comma list of models")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--workload", help=argparse.SUPPRESS)
    a = p.parse_args(argv)

    if a.child:
        child_main(a.child, a.workload, a.seed)
        return 0

    rounds = a.rounds or (2 if a.quick else 3)
    horizon_min = a.horizon_min or (200.0 if a.quick else 2000.0)
    check_reps = a.check_reps or (4 if a.quick else 10)
    workloads = make_workloads(horizon_min, a.patience_mean_s)
    models = [m.strip() for m in a.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in ALL_MODELS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(ALL_MODELS)}")
    if any(m in CXSIM_MODELS for m in models) and (reason := cxsim_status()) is not None:
        print(f"cxsim unavailable: {reason}")
        models = [m for m in models if m not in CXSIM_MODELS]

    version = code_version()  # once: others may commit while the rounds run
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs; rounds={rounds}, horizon={horizon_min:g} min, seed={a.seed}; "
        f"cxsim {version}; load average {load_average():.2f}"
    )
    load_start = load_average()
    for w in workloads.values():
        print(
            f"  {w.name}: M/M/{w.servers}, λ={w.arrival_rate:g}/s, mean service "
            f"{1 / w.service_rate:g} s, horizon {w.horizon_s / 60:g} min "
            f"(≈{w.expected_customers:,.0f} customers), patience "
            f"{'none' if w.patience_mean_s is None else f'exp mean {w.patience_mean_s:g} s'}"
        )

    # ---- interleaved timing rounds, one fresh subprocess per (round, workload, model)
    raw: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(rounds):
        for w in workloads.values():
            order = models[r % len(models) :] + models[: r % len(models)]
            for m in order:
                if m not in models:  # cxsim dropped earlier in this round
                    continue
                res = spawn(m, w, a.seed)
                raw.setdefault((w.name, m), []).append(res)
                status = res.get("error") or f"{res['wall_s']:.2f} s"
                print(f"  round {r + 1}/{rounds} {w.name:13s} {m:12s} {status}", flush=True)
                if "error" in res and m in CXSIM_MODELS:
                    print(f"{m} unavailable: {res['error']}")
                    models.remove(m)
    agg = {k: aggregate(v) for k, v in raw.items()}
    load_end = load_average()

    headers = [
        "workload",
        "model",
        "customers",
        "wall s",
        "CPU s",
        "cust/s",
        "cust/CPU-s",
        "µs/contact",
        "peak MB",
        "base MB",
        "ASA s",
        "SL",
        "aband%",
        "speed ×simpy",
        "speed ×ciw",
        "RSS ×simpy",
        "RSS ×ciw",
    ]
    rows, table, errors = [], [], []
    for w in workloads.values():
        for m in ALL_MODELS:
            g = agg.get((w.name, m))
            if g is None:
                continue
            if "error" in g:
                errors.append(f"  {w.name} {m}: {g['error']}")
                continue
            # ratios only on cxsim rows: this row's customers/s (peak RSS) ÷ the peer's
            speed_vs: dict[str, float] = {}
            rss_vs: dict[str, float] = {}
            if m in CXSIM_MODELS:
                for peer in PEERS:
                    pg = agg.get((w.name, peer), {})
                    if "customers_per_s" in pg:
                        speed_vs[peer] = g["customers_per_s"] / pg["customers_per_s"]
                        rss_vs[peer] = g["peak_rss_mb"] / pg["peak_rss_mb"]
            table.append({"workload": w.name, "model": m, **g, "speed_vs": speed_vs, "rss_vs": rss_vs})

            def ratio(d: dict[str, float], peer: str, m: str = m) -> str:
                """A ratio cell: dash on peer rows, n/a when the peer did not run."""
                return "—" if m not in CXSIM_MODELS else _fmt(d.get(peer, float("nan")), ".2f")

            rows.append(
                [
                    w.name,
                    m,
                    f"{g['customers']:,}",
                    f"{g['wall_s']:.2f}",
                    f"{g['cpu_s']:.2f}",
                    f"{g['customers_per_s']:,.0f}",
                    f"{g['customers_per_cpu_s']:,.0f}",
                    f"{g['us_per_contact']:.1f}",
                    f"{g['peak_rss_mb']:.0f}",
                    f"{g['base_rss_mb']:.0f}",
                    f"{g['asa_s']:.2f}",
                    f"{g['service_level']:.4f}",
                    f"{100 * g['abandon_rate']:.2f}",
                    ratio(speed_vs, "simpy"),
                    ratio(speed_vs, "ciw"),
                    ratio(rss_vs, "simpy"),
                    ratio(rss_vs, "ciw"),
                ]
            )
    print(
        "\nThroughput and memory (median wall over rounds; peak = VmHWM of the child; base = RSS after imports; "
        f"1-min load average {load_start:.2f} before the rounds, {load_end:.2f} after):"
    )
    if rows:
        print_table(headers, rows)
    for line in errors:
        print(line)

    # ---- cost-per-contact flatness: 500 vs 50 agents at the same per-agent load
    flat, frows = [], []
    for m in ALL_MODELS:
        g50, g500 = agg.get(("mmc50", m), {}), agg.get(("mmc500", m), {})
        if "us_per_contact" in g50 and "us_per_contact" in g500:
            ratio = g500["us_per_contact"] / g50["us_per_contact"]
            cpu_ratio = g500["cpu_us_per_contact"] / g50["cpu_us_per_contact"]
            flat.append(
                {
                    "model": m,
                    "us_50": g50["us_per_contact"],
                    "us_500": g500["us_per_contact"],
                    "ratio": ratio,
                    "cpu_ratio": cpu_ratio,
                }
            )
            frows.append(
                [m, f"{g50['us_per_contact']:.1f}", f"{g500['us_per_contact']:.1f}", f"{ratio:.2f}", f"{cpu_ratio:.2f}"]
            )
    if frows:
        print("\nCost-per-contact flatness (µs/contact at 500 agents ÷ at 50; 1.00 = flat; also on CPU time):")
        print_table(["model", "µs @50", "µs @500", "ratio", "CPU ratio"], frows)

    # ---- agreement with Erlang C (no-reneging workload), CI across independent seeds
    checks = []
    if check_reps > 0:
        w = workloads["mmc50"]
        exact, source = exact_for(w)
        print(
            f"\nErlang C check on {w.name} ({check_reps} seeds/model, source: {source}): "
            f"P(wait)={exact.p_wait:.4f}, ASA={exact.asa:.3f} s, "
            f"SL({w.threshold_s:g} s)={exact.service_level:.4f}"
        )
        crow = []
        # cxsim-engine runs the same sample paths as cxsim, so only the full model is checked
        for m in (m for m in models if m != "cxsim-engine"):
            try:
                c = check_model(m, w, check_reps, a.seed + 1000)
            except Exception as exc:
                print(f"  {m}: check failed: {type(exc).__name__}: {exc}")
                continue
            ok_asa = abs(c["asa"][0] - exact.asa) <= c["asa"][1]
            ok_sl = abs(c["sl"][0] - exact.service_level) <= c["sl"][1]
            verdict = "PASS" if ok_asa and ok_sl else "FAIL"
            checks.append(
                {
                    **c,
                    "exact_asa": exact.asa,
                    "exact_sl": exact.service_level,
                    "asa_ok": ok_asa,
                    "sl_ok": ok_sl,
                    "verdict": verdict,
                }
            )
            crow.append(
                [
                    m,
                    str(c["n"]),
                    f"{c['asa'][0]:.3f} ± {_fmt(c['asa'][1], '.3f')}",
                    f"{exact.asa:.3f}",
                    f"{c['sl'][0]:.4f} ± {_fmt(c['sl'][1], '.4f')}",
                    f"{exact.service_level:.4f}",
                    verdict,
                ]
            )
        if crow:
            print_table(["model", "n", "ASA s (95% CI)", "exact", "SL (95% CI)", "exact", "result"], crow)

    targets = evaluate_targets(agg, flat, checks)
    if targets:
        print("\nTargets (full cxsim model):")
        print_table(
            ["target", "measured (wall)", "(CPU)", "required", "result (wall)"],
            [[t["target"], t["measured"], t["cpu"], t["required"], t["result"]] for t in targets],
        )

    if a.json:
        doc = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "cxsim": version,
                "load_average": [load_start, load_end],
            },
            "settings": {
                "rounds": rounds,
                "horizon_min": horizon_min,
                "seed": a.seed,
                "check_reps": check_reps,
                "quick": a.quick,
            },
            "workloads": {k: asdict(v) for k, v in workloads.items()},
            "table": table,
            "flatness": flat,
            "erlang_c_check": checks,
            "targets": targets,
            "runs": [{"workload": k[0], **r} for k, v in raw.items() for r in v],
        }
        write_json(a.json, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

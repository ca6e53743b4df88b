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
ALL_MODELS = ("cxsim", *PEERS)


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


def cxsim_run(w: Workload, seed: int, replications: int = 1) -> dict[str, Any]:
    """Run the workload through cxsim's public API; the one place to adapt to mmc.yaml changes."""
    cxsim = import_cxsim()
    days = w.horizon_s / 86400.0
    overrides = [
        # volume is per day; the flat intraday profile of mmc.yaml turns it into λ = volume/86400
        f"channels.voice.volume_per_day={w.arrival_rate * 86400.0:.10g}",
        f"tiers.tier1.staff={w.servers}",
        f"tiers.tier1.handle_time.voice.mean_s={1.0 / w.service_rate:.10g}",
        f"horizon.days={int(days) if days.is_integer() else f'{days:.12g}'}",
    ]
    if w.patience_mean_s is not None:
        overrides.append(f"channels.voice.patience={{dist:exponential,mean_s:{w.patience_mean_s:.10g}}}")
    # mmc.yaml's SLA is answer_within_s: 20; the harness threshold must match it.
    assert w.threshold_s == 20.0, "adjust the cxsim SLA override if the threshold changes"
    scn = cxsim.load_scenario("mmc", overrides=overrides)
    t0 = time.perf_counter()
    res = cxsim.simulate(scn, replications=replications, seed=seed, workers=1)
    wall = time.perf_counter() - t0
    s = res.summary
    overall = s[s["scope"] == "overall"].drop_duplicates("metric").set_index("metric")

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
        "customers_per_s": customers / wall,
        "ci95": {"mean_wait_s": ci("asa_s"), "within_t": ci("service_level")},
        "n": replications,
    }


def cxsim_status() -> str | None:
    """None if cxsim's API is importable, else the reason it is not."""
    try:
        import_cxsim()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


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
    if model == "cxsim":
        import_cxsim()
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
    customers = ok[0]["customers"]
    return {
        "rounds": len(ok),
        "customers": customers,
        "wall_s": wall,
        "wall_s_all": [r["wall_s"] for r in ok],
        "customers_per_s": customers / wall,
        "us_per_contact": 1e6 * wall / customers,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in ok),
        "base_rss_mb": statistics.median(r["base_rss_mb"] for r in ok),
        "asa_s": ok[0]["mean_wait_s"],
        "service_level": ok[0]["within_t"],
        "abandon_rate": ok[0]["abandoned"] / customers if customers else float("nan"),
    }


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
    if "cxsim" in models and (reason := cxsim_status()) is not None:
        print(f"cxsim unavailable: {reason}")
        models.remove("cxsim")

    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs; rounds={rounds}, horizon={horizon_min:g} min, seed={a.seed}"
    )
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
                print(f"  round {r + 1}/{rounds} {w.name:13s} {m:6s} {status}", flush=True)
                if "error" in res and m == "cxsim":
                    print(f"cxsim unavailable: {res['error']}")
                    models.remove("cxsim")
    agg = {k: aggregate(v) for k, v in raw.items()}

    headers = [
        "workload",
        "model",
        "customers",
        "wall s",
        "cust/s",
        "µs/contact",
        "peak MB",
        "base MB",
        "ASA s",
        "SL",
        "aband%",
        "cxsim/peer speed",
        "cxsim/peer RSS",
    ]
    rows, table, errors = [], [], []
    for w in workloads.values():
        cx = agg.get((w.name, "cxsim"), {})
        for m in ALL_MODELS:
            g = agg.get((w.name, m))
            if g is None:
                continue
            if "error" in g:
                errors.append(f"  {w.name} {m}: {g['error']}")
                continue
            speed = rss = float("nan")
            if m != "cxsim" and "customers_per_s" in cx:
                speed = cx["customers_per_s"] / g["customers_per_s"]
                rss = cx["peak_rss_mb"] / g["peak_rss_mb"]
            table.append(
                {
                    "workload": w.name,
                    "model": m,
                    **g,
                    "cxsim_speed_ratio": speed,
                    "cxsim_rss_ratio": rss,
                }
            )
            rows.append(
                [
                    w.name,
                    m,
                    f"{g['customers']:,}",
                    f"{g['wall_s']:.2f}",
                    f"{g['customers_per_s']:,.0f}",
                    f"{g['us_per_contact']:.1f}",
                    f"{g['peak_rss_mb']:.0f}",
                    f"{g['base_rss_mb']:.0f}",
                    f"{g['asa_s']:.2f}",
                    f"{g['service_level']:.4f}",
                    f"{100 * g['abandon_rate']:.2f}",
                    "—" if m == "cxsim" else _fmt(speed, ".2f"),
                    "—" if m == "cxsim" else _fmt(rss, ".2f"),
                ]
            )
    print("\nThroughput and memory (median wall over rounds; peak = VmHWM of the child; base = RSS after imports):")
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
            flat.append(
                {
                    "model": m,
                    "us_50": g50["us_per_contact"],
                    "us_500": g500["us_per_contact"],
                    "ratio": ratio,
                }
            )
            frows.append([m, f"{g50['us_per_contact']:.1f}", f"{g500['us_per_contact']:.1f}", f"{ratio:.2f}"])
    if frows:
        print("\nCost-per-contact flatness (µs/contact at 500 agents ÷ at 50; 1.00 = flat):")
        print_table(["model", "µs @50", "µs @500", "ratio"], frows)

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
        for m in models:
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
        print_table(["model", "n", "ASA s (95% CI)", "exact", "SL (95% CI)", "exact", "result"], crow)

    if a.json:
        doc = {
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
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
            "runs": [{"workload": k[0], **r} for k, v in raw.items() for r in v],
        }
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(_jsonable(doc), indent=2, allow_nan=False) + "\n")
        print(f"\nwrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reading run and sweep directories into the scenarios a report compares.

A run directory (it has summary.csv) is one scenario. A sweep directory (job subdirectories
with summary.csv, as `cxsim -m` writes) is one scenario per job, labelled by the values the
sweep varied. Only complete runs count (summary.json, written last, exists); failed and
incomplete jobs are listed in the report's notes (and on stderr).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cxsim.rundirs import ERROR_FILE, is_complete

SUMMARY, INTERVALS, DIGEST, CONFIG, CONTACTS, REPLICATIONS = (
    "summary.csv",
    "intervals.csv",
    "summary.json",
    "config.yaml",
    "contacts.parquet",
    "replications.csv",
)
PLAN, PLAN_SEARCH = "staffing_plan.csv", "staffing_search.json"  # written by a planned job (staffing.mode=plan)
SUMMARY_COLUMNS = {"scope", "name", "metric", "mean", "ci95"}
RUN_KEYS = {
    "replications", "seed", "workers", "progress", "force", "output", "report", "staffing", "objective", "hydra"
}


class ReportInputError(ValueError):
    """A directory that cannot be reported on; the message is one line for the user."""


@dataclass
class Run:
    """One scenario of the comparison: its tables and what describes it."""

    label: str
    path: Path
    scenario: str
    description: str
    summary: pd.DataFrame
    intervals: pd.DataFrame | None
    digest: dict[str, Any]
    config: dict[str, Any]
    swept: dict[str, str] = field(default_factory=dict)  # key -> value the sweep set for this job
    sweep: Path | None = None
    per_replication: pd.DataFrame | None = None  # replications.csv: every summary KPI of every replication
    search: dict[str, Any] | None = None  # staffing_search.json of a planned job
    _index: dict[tuple[str, str, str], tuple[float, float]] | None = None
    _reps: dict[tuple[str, str, str], pd.Series] | None = None

    def kpi(self, metric: str, scope: str = "overall", name: str = "all") -> tuple[float, float]:
        """(mean, ci95) of one KPI; (nan, nan) when the run does not have it."""
        if self._index is None:
            s = self.summary
            self._index = {
                (sc, nm, mt): (float(m), float(c))
                for sc, nm, mt, m, c in zip(s["scope"], s["name"], s["metric"], s["mean"], s["ci95"], strict=True)
            }
        return self._index.get((scope, str(name), metric), (math.nan, math.nan))

    def mean(self, metric: str, scope: str = "overall", name: str = "all") -> float:
        return self.kpi(metric, scope, name)[0]

    def n(self, metric: str, scope: str = "overall", name: str = "all") -> int:
        """Replications behind one KPI's mean (0 when the run does not have it)."""
        rows = self.summary[
            (self.summary.scope == scope) & (self.summary.name == str(name)) & (self.summary.metric == metric)
        ]
        if rows.empty:
            return 0
        return int(rows["n"].iloc[0]) if "n" in rows.columns else int(self.replications or 0)

    def values(self, metric: str, scope: str = "overall", name: str = "all") -> pd.Series | None:
        """Per-replication values of one KPI, indexed by replication (None without replications.csv)."""
        if self.per_replication is None:
            return None
        if self._reps is None:
            t = self.per_replication
            self._reps = {
                key: group.set_index("replication")["value"].sort_index()
                for key, group in t.groupby(["scope", "name", "metric"], sort=False)
            }
        return self._reps.get((scope, str(name), metric))

    @property
    def seed(self) -> Any:
        return self.digest.get("seed", self.config.get("seed"))

    @property
    def replications(self) -> Any:
        return self.digest.get("replications", self.config.get("replications"))

    @property
    def planned(self) -> bool:
        """The job planned its staffing first (staffing.mode=plan, or `cxsim staff`)."""
        return (self.path / PLAN).is_file() or ((self.config.get("staffing") or {}).get("mode") == "plan")

    @property
    def currency(self) -> str:
        return str((self.config.get("costs") or {}).get("currency") or "")

    @property
    def fte_hours_per_day(self) -> float:
        return float((self.config.get("costs") or {}).get("fte_hours_per_day") or 8.0)

    @property
    def fte_hours(self) -> float:
        """Paid hours of one full-time equivalent over the measured horizon (costs.fte_hours_per_day x days)."""
        warm, end = self.horizon
        return self.fte_hours_per_day * (end - warm) / 86400.0

    def names(self, scope: str) -> list[str]:
        """Names in a scope (channels, tiers, intents), in the order the run wrote them."""
        return list(dict.fromkeys(self.summary.loc[self.summary.scope == scope, "name"].astype(str)))

    @property
    def channels(self) -> list[str]:
        return list(self.digest.get("sla") or {}) or self.names("channel")

    @property
    def tiers(self) -> list[str]:
        return list(self.digest.get("tiers") or []) or self.names("tier")

    def sla(self, channel: str) -> dict[str, Any]:
        """The channel's SLA: mode, answer_within_s, target, formula (from summary.json or config.yaml)."""
        sla = (self.digest.get("sla") or {}).get(channel)
        if sla:
            return sla
        ch = (self.config.get("channels") or {}).get(channel) or {}
        s = ch.get("sla") or {}
        return {
            "mode": ch.get("mode", "realtime"),
            "answer_within_s": s.get("answer_within_s", 20.0),
            "target": s.get("target", 0.8),
            "formula": s.get("formula", "offered"),
        }

    def series(self, metric: str, scope: str, name: str) -> pd.DataFrame:
        """Per-interval mean and ci95 of one KPI (empty without intervals.csv)."""
        cols = ["interval_start", "mean", "ci95", "n"]
        if self.intervals is None:
            return pd.DataFrame(columns=cols)
        t = self.intervals
        rows = t[(t["scope"] == scope) & (t["name"].astype(str) == name) & (t["metric"] == metric)]
        return rows[[c for c in cols if c in rows.columns]].sort_values("interval_start")

    @property
    def contacts_path(self) -> Path | None:
        path = self.path / CONTACTS
        return path if path.is_file() else None

    @property
    def horizon(self) -> tuple[float, float]:
        """(warm-up end, horizon end) in seconds, from the resolved config."""
        h = self.config.get("horizon") or {}
        days, warmup = float(h.get("days", 1.0)), float(h.get("warmup_min", 0.0))
        return warmup * 60.0, days * 86400.0

    @property
    def entry_tier(self) -> str | None:
        return self.tiers[0] if self.tiers else None

    def tier_for(self, channel: str) -> str | None:
        """The first tier serving a channel (where its contacts queue first)."""
        for name, tier in (self.config.get("tiers") or {}).items():
            skills = (tier or {}).get("skills") or []
            if not skills or channel in skills:
                return str(name)
        return self.entry_tier


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) if path.is_file() else None
    except (yaml.YAMLError, OSError):
        return None


def _job_overrides(job: Path) -> dict[str, str]:
    pairs = _read_yaml(job / ".hydra" / "overrides.yaml") or []
    out: dict[str, str] = {}
    for item in pairs:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = value
    return out


def _load_run(path: Path) -> Run:
    """Read one run directory (summary.csv required)."""
    try:
        summary = pd.read_csv(path / SUMMARY)
    except Exception as exc:  # unreadable or empty file: one line
        raise ReportInputError(f"{path / SUMMARY}: cannot read ({str(exc).splitlines()[0]})") from None
    missing = SUMMARY_COLUMNS - set(summary.columns)
    if missing:
        raise ReportInputError(f"{path / SUMMARY}: not a cxsim summary (missing columns {', '.join(sorted(missing))})")
    summary["name"] = summary["name"].astype(str)
    intervals = None
    if (path / INTERVALS).is_file():
        try:
            intervals = pd.read_csv(path / INTERVALS)
            intervals["name"] = intervals["name"].astype(str)
        except Exception:
            intervals = None
    try:
        digest = json.loads((path / DIGEST).read_text()) if (path / DIGEST).is_file() else {}
    except (json.JSONDecodeError, OSError):
        digest = {}
    config = _read_yaml(path / CONFIG) or {}
    scenario = str(digest.get("scenario") or config.get("name") or path.name)
    description = str(digest.get("description") or config.get("description") or "")
    run = Run(scenario, path, scenario, description, summary, intervals, digest, config)
    if (path / REPLICATIONS).is_file():
        try:
            reps = pd.read_csv(path / REPLICATIONS)
            reps["name"] = reps["name"].astype(str)
            run.per_replication = reps
        except Exception:  # unreadable: differences fall back to the independent formula
            run.per_replication = None
    if (path / PLAN_SEARCH).is_file():
        try:
            run.search = json.loads((path / PLAN_SEARCH).read_text())
        except (json.JSONDecodeError, OSError):
            run.search = None
    return run


def _jobs(sweep: Path) -> list[Path]:
    jobs = [p for p in sweep.iterdir() if p.is_dir() and ((p / SUMMARY).is_file() or (p / ".hydra").is_dir())]
    return sorted(jobs, key=lambda p: (len(p.name), p.name))


def short_key(key: str) -> str:
    """A swept key as a label: the last two parts (tiers.tier1.staff -> tier1.staff)."""
    parts = key.split(".")
    return ".".join(parts[-2:])


def _sweep_labels(swept: list[dict[str, str]]) -> list[str]:
    keys = list(dict.fromkeys(k for s in swept for k in s))
    varying = [k for k in keys if len({s.get(k) for s in swept}) > 1] or keys[:1]
    labels = []
    for s in swept:
        parts = []
        for k in varying:
            value = s.get(k, "-")
            parts.append(value if k == "scenario" else f"{short_key(k)}={value}")
        labels.append(", ".join(parts))
    return labels


def load_runs(dirs: Sequence[str | Path]) -> tuple[list[Run], list[str]]:
    """Every scenario in the given run or sweep directories, and notes (failed jobs)."""
    if not dirs:
        raise ReportInputError("report: give at least one run or sweep directory")
    runs: list[Run] = []
    notes: list[str] = []
    for d in dirs:
        path = Path(d)
        if not path.is_dir():
            raise ReportInputError(f"{path}: no such directory")
        if (path / SUMMARY).is_file() or (path / DIGEST).is_file() or (path / ".hydra").is_dir():
            if not is_complete(path):
                raise ReportInputError(f"{path}: incomplete run (no {DIGEST}: it was killed or is still running)")
            run = _load_run(path)
            run.swept = {k: v for k, v in _job_overrides(path).items() if k.split(".")[0] not in RUN_KEYS}
            runs.append(run)
            continue
        jobs = _jobs(path)
        if not jobs:
            raise ReportInputError(f"{path}: no summary.csv (not a cxsim run directory, nor a sweep of them)")
        loaded = []
        for job in jobs:
            if is_complete(job):
                loaded.append(_load_run(job))
                loaded[-1].swept = _job_overrides(job)
                loaded[-1].sweep = path
            elif (job / ERROR_FILE).is_file():
                error = (job / ERROR_FILE).read_text().strip().splitlines()
                notes.append(f"{path.name}/{job.name}: job failed, not shown ({error[0] if error else 'no results'})")
            else:
                why = f"no {DIGEST}: killed or still running"
                notes.append(f"{path.name}/{job.name}: incomplete job ({why}), not shown")
        if not loaded:
            raise ReportInputError(f"{path}: no job of this sweep is complete (all failed or incomplete?)")
        swept = [{k: v for k, v in r.swept.items() if k.split(".")[0] not in RUN_KEYS} for r in loaded]
        for run, label in zip(loaded, _sweep_labels(swept), strict=True):
            run.label = label or run.scenario
            run.swept = {k: v for k, v in run.swept.items() if k.split(".")[0] not in RUN_KEYS}
        runs.extend(loaded)
    if len(dirs) > 1:  # several sources: say which scenario a swept value belongs to
        for run in runs:
            if run.sweep is not None and run.scenario not in run.label:
                run.label = f"{run.scenario}: {run.label}"
    _unique_labels(runs)
    return runs, notes


def _unique_labels(runs: list[Run]) -> None:
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
    if all(n == 1 for n in seen.values()):
        return
    for run in runs:
        if seen[run.label] > 1:
            run.label = (
                f"{run.label} ({run.path.parent.name}/{run.path.name})"
                if run.sweep
                else f"{run.label} ({run.path.name})"
            )
    counts: dict[str, int] = {}
    for run in runs:  # still equal (same directory name twice): number them
        counts[run.label] = counts.get(run.label, 0) + 1
        if counts[run.label] > 1:
            run.label = f"{run.label} #{counts[run.label]}"


def pick_baseline(runs: list[Run], label: str | None = None) -> int:
    """Index of the reference scenario: the one labelled `label`, else the first named 'baseline', else the first."""
    if label is not None:
        for i, run in enumerate(runs):
            if run.label == label or run.scenario == label:
                return i
        raise ReportInputError(f"--baseline: no scenario labelled '{label}' ({', '.join(r.label for r in runs)})")
    for i, run in enumerate(runs):
        if run.scenario == "baseline":
            return i
    return 0


def resolution_times(run: Run) -> pd.DataFrame | None:
    """End-to-end resolution time of every issue first raised in the measured window, from
    contacts.parquet: first arrival -> end of the resolving contact (columns channel, seconds)."""
    path = run.contacts_path
    if path is None:
        return None
    cols = ["replication", "issue", "attempt", "channel", "arrival_s", "end_s", "outcome"]
    try:
        c = pd.read_parquet(path, columns=cols)
    except Exception:
        return None
    warm, end = run.horizon
    first = c[(c["attempt"] == 0) & (c["arrival_s"] >= warm) & (c["arrival_s"] < end)]
    done = c[c["outcome"].isin(["resolved", "contained"])].groupby(["replication", "issue"])["end_s"].min()
    key = pd.MultiIndex.from_arrays([first["replication"], first["issue"]])
    resolved_at = done.reindex(key).to_numpy()
    seconds = resolved_at - first["arrival_s"].to_numpy()
    out = pd.DataFrame({"channel": first["channel"].astype(str).to_numpy(), "seconds": seconds})
    out.attrs["issues"] = len(out)
    out = out[np.isfinite(out["seconds"])]
    return out

"""The combined table of a multirun: one `sweep_summary.csv` with the swept values as columns.

A Hydra callback: when the sweep ends it reads every job directory of this sweep (its
overrides and its summary.csv, or the error.txt a failed job leaves), so a failed job never
hides the others. A job counts as done only when complete (summary.json, written last);
folders an earlier sweep left in the same sweep folder are not reported as this sweep's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from cxsim.outputs import SUMMARY_FILE, write_atomic
from cxsim.rundirs import ERROR_FILE, is_complete

SWEEP_FILE = "sweep_summary.csv"


def _overrides(job_dir: Path) -> dict[str, str]:
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    pairs = yaml.safe_load(path.read_text()) or []
    out = {}
    for item in pairs:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = value
    return out


def job_dirs(sweep_dir: Path) -> list[Path]:
    """The job folders of a sweep folder, in job order."""
    return sorted(
        (p for p in sweep_dir.iterdir() if p.is_dir() and (p / ".hydra").is_dir()), key=lambda p: (len(p.name), p.name)
    )


def _stamp(job_dir: Path) -> int:
    """When Hydra last wrote the job's overrides (it rewrites them each time it runs the job)."""
    try:
        return (job_dir / ".hydra" / "overrides.yaml").stat().st_mtime_ns
    except OSError:
        return -1


def collect(sweep_dir: Path, exclude: set[str] = frozenset()) -> pd.DataFrame:
    """One long table over all job directories: job, the swept keys, status, error, KPI rows.

    Columns: `job`, one column per override key whose value differs between jobs (the swept
    axes), `status` (ok | failed | incomplete), `error` (why), the summary.csv columns (scope,
    name, metric, mean, ci95, n, p10, p50, p90), then one column per override key set to the same value in
    every job (e.g. replications=30), so every row still says how it was produced.
    """
    frames = []
    jobs = [p for p in job_dirs(sweep_dir) if p.name not in exclude]
    overrides = {job_dir.name: _overrides(job_dir) for job_dir in jobs}
    keys: list[str] = []
    for pairs in overrides.values():
        keys.extend(k for k in pairs if k not in keys)
    varying = [k for k in keys if len({pairs.get(k) for pairs in overrides.values()}) > 1]
    constant = [k for k in keys if k not in varying]
    for job_dir in jobs:
        swept = overrides[job_dir.name]
        meta: dict[str, Any] = {"job": job_dir.name, **{k: swept.get(k) for k in keys}}
        error_file = job_dir / ERROR_FILE
        if is_complete(job_dir):
            table = pd.read_csv(job_dir / SUMMARY_FILE)
            frames.append(table.assign(**meta, status="ok", error=""))
        elif error_file.is_file():
            text = error_file.read_text().strip()
            frames.append(pd.DataFrame([{**meta, "status": "failed", "error": text.splitlines()[0] if text else ""}]))
        else:
            error = "no summary.json: the job was killed, or never finished"
            frames.append(pd.DataFrame([{**meta, "status": "incomplete", "error": error}]))
    if not frames:
        return pd.DataFrame(columns=["job", "status", "error"])
    table = pd.concat(frames, ignore_index=True)
    first = ["job", *varying, "status", "error"]
    middle = [c for c in table.columns if c not in first and c not in constant]
    return table[first + middle + constant]


class SweepSummary(Callback):
    """Writes sweep_summary.csv when a multirun ends; exits 1 if any job failed or is incomplete."""

    def __init__(self) -> None:
        self.before: dict[str, int] = {}  # job folders present when the sweep started, and their stamps

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        self.before = {p.name: _stamp(p) for p in job_dirs(sweep_dir)} if sweep_dir.is_dir() else {}

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        stale = {p.name for p in job_dirs(sweep_dir) if self.before.get(p.name) == _stamp(p)}
        if stale:
            names = ", ".join(sorted(stale, key=lambda n: (len(n), n)))
            print(f"sweep: ignored job folders of an earlier sweep in {sweep_dir}: {names}", file=sys.stderr)
        table = collect(sweep_dir, exclude=stale)
        write_atomic(sweep_dir / SWEEP_FILE, lambda p: table.to_csv(p, index=False))
        jobs = table["job"].nunique()
        bad = {status: table.loc[table.status == status, "job"].unique() for status in ("failed", "incomplete")}
        done = jobs - len(bad["failed"]) - len(bad["incomplete"])
        print(f"sweep: {done} of {jobs} jobs succeeded; combined table: {sweep_dir / SWEEP_FILE}")
        if len(bad["failed"]):
            print(f"sweep: failed jobs: {', '.join(map(str, bad['failed']))} (see their error.txt)", file=sys.stderr)
        if len(bad["incomplete"]):
            jobs_text = ", ".join(map(str, bad["incomplete"]))
            hint = f"+resume={sweep_dir} reruns them"
            print(f"sweep: incomplete jobs (no summary.json): {jobs_text}; {hint}", file=sys.stderr)
        if len(bad["failed"]) or len(bad["incomplete"]):
            sys.exit(1)

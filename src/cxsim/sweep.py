"""The combined table of a multirun: one `sweep_summary.csv` with the swept values as columns.

A Hydra callback: when the sweep ends it reads every job directory (its overrides and its
summary.csv, or the error.txt a failed job leaves), so a failed job never hides the others.
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

ERROR_FILE = "error.txt"
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


def collect(sweep_dir: Path) -> pd.DataFrame:
    """One long table over all job directories: job, the swept keys, status, error, KPI rows.

    Columns: `job`, one column per override key whose value differs between jobs (the swept
    axes), `status` (ok | failed), `error` (why a job failed), the summary.csv columns (scope,
    name, metric, mean, ci95, n, p10, p50, p90), then one column per override key set to the same value in
    every job (e.g. replications=30), so every row still says how it was produced.
    """
    frames = []
    jobs = sorted(
        (p for p in sweep_dir.iterdir() if p.is_dir() and (p / ".hydra").is_dir()), key=lambda p: (len(p.name), p.name)
    )
    overrides = {job_dir.name: _overrides(job_dir) for job_dir in jobs}
    keys: list[str] = []
    for pairs in overrides.values():
        keys.extend(k for k in pairs if k not in keys)
    varying = [k for k in keys if len({pairs.get(k) for pairs in overrides.values()}) > 1]
    constant = [k for k in keys if k not in varying]
    for job_dir in jobs:
        swept = overrides[job_dir.name]
        meta: dict[str, Any] = {"job": job_dir.name, **{k: swept.get(k) for k in keys}}
        if (job_dir / SUMMARY_FILE).is_file():
            table = pd.read_csv(job_dir / SUMMARY_FILE)
            frames.append(table.assign(**meta, status="ok", error=""))
        else:
            error_file = job_dir / ERROR_FILE
            text = error_file.read_text().strip() if error_file.is_file() else ""
            error = text.splitlines()[0] if text else "no results (the job was killed or never started)"
            frames.append(pd.DataFrame([{**meta, "status": "failed", "error": error}]))
    if not frames:
        return pd.DataFrame(columns=["job", "status", "error"])
    table = pd.concat(frames, ignore_index=True)
    first = ["job", *varying, "status", "error"]
    middle = [c for c in table.columns if c not in first and c not in constant]
    return table[first + middle + constant]


class SweepSummary(Callback):
    """Writes sweep_summary.csv when a multirun ends; exits 1 if any job failed."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        table = collect(sweep_dir)
        write_atomic(sweep_dir / SWEEP_FILE, lambda p: table.to_csv(p, index=False))
        failed = table.loc[table.status == "failed", "job"].unique()
        jobs = table["job"].nunique()
        print(f"sweep: {jobs - len(failed)} of {jobs} jobs succeeded; combined table: {sweep_dir / SWEEP_FILE}")
        if len(failed):
            print(f"sweep: failed jobs: {', '.join(map(str, failed))} (see their error.txt)", file=sys.stderr)
            sys.exit(1)

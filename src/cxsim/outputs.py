"""Result files of a run: tables as CSV, a JSON digest, optional Parquet contacts.

Every file is written whole: to a temporary name in the same folder, then renamed, so a
crash or a kill never leaves a half-written table for a report or a sweep summary to read.
summary.json is written last: a run folder is complete once it exists (cxsim.rundirs).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cxsim.experiment import Results
from cxsim.rundirs import COMPLETE_FILE

SUMMARY_FILE, INTERVALS_FILE, DIGEST_FILE = "summary.csv", "intervals.csv", COMPLETE_FILE
REPLICATIONS_FILE = "replications.csv"  # every summary KPI of every replication: paired differences need them
CONFIG_FILE, CONTACTS_FILE = "config.yaml", "contacts.parquet"


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write through `write(tmp_path)`, then rename onto `path` (atomic on one file system)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_text(path: Path, text: str) -> Path:
    """Write a text file whole."""
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def _clean(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def digest(results: Results, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON digest: scenario, run settings, SLA targets and every summary KPI (mean, ci95, n, p10-p90)."""
    scn = results.scenario
    kpis: dict[str, Any] = {}
    spread = [c for c in ("p10", "p50", "p90") if c in results.summary]
    for row in results.summary.itertuples(index=False):
        entry = {"mean": _clean(float(row.mean)), "ci95": _clean(float(row.ci95)), "n": int(row.n)}
        entry.update({c: _clean(float(getattr(row, c))) for c in spread})
        kpis.setdefault(row.scope, {}).setdefault(row.name, {})[row.metric] = entry
    return {
        "scenario": scn.name,
        "description": scn.description,
        "seed": results.seed,
        "replications": results.replications,
        "overrides": list(overrides),
        "sla": {
            c.name: {
                "mode": "realtime" if c.realtime else "deferred",
                "answer_within_s": c.sla.answer_within_s,
                "target": c.sla.target,
                "formula": c.sla.formula,
            }
            for c in scn.channels
        },
        "tiers": [t.name for t in scn.tiers],
        "kpis": kpis,
    }


def write_results(
    results: Results, out_dir: Path, config: Mapping[str, Any] | None = None, overrides: Sequence[str] = ()
) -> dict[str, Path]:
    """Write summary.csv, replications.csv, intervals.csv, config.yaml (and contacts.parquet), then
    summary.json, the completion marker, into `out_dir`."""
    out_dir = Path(out_dir)
    per_rep = results.per_replication[["replication", "scope", "name", "metric", "value"]]
    written = {
        "summary": write_atomic(out_dir / SUMMARY_FILE, lambda p: results.summary.to_csv(p, index=False)),
        "replications": write_atomic(out_dir / REPLICATIONS_FILE, lambda p: per_rep.to_csv(p, index=False)),
        "intervals": write_atomic(out_dir / INTERVALS_FILE, lambda p: results.intervals.to_csv(p, index=False)),
        "config": write_text(
            out_dir / CONFIG_FILE, yaml.safe_dump(dict(config or results.scenario.config), sort_keys=False)
        ),
    }
    if results.contacts is not None:
        written["contacts"] = write_atomic(
            out_dir / CONTACTS_FILE, lambda p: results.contacts.to_parquet(p, index=False)
        )
    written["digest"] = write_text(out_dir / DIGEST_FILE, json.dumps(digest(results, overrides), indent=2))
    return written


def read_summary(run_dir: Path) -> pd.DataFrame:
    """The summary table of a finished run directory."""
    return pd.read_csv(Path(run_dir) / SUMMARY_FILE)

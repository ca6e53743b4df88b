"""The calibration as files cxsim runs as is: scenario.yaml, volumes.csv, staff.csv (+ empirical
handle-time files), plus estimates.csv and fits.csv with every number and its interval.

The scenario names its files by absolute path (cxsim reads relative paths from the directory
it runs in), and is also written as scenario/<name>.yaml so `cxsim --config-dir RUN_DIR
scenario=<name>` composes it like a shipped scenario.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cxsim.calibrate.calibration import PLACEHOLDER_HANDLE, Calibration
from cxsim.outputs import write_atomic, write_text

SCENARIO_FILE, VOLUME_FILE, STAFF_FILE = "scenario.yaml", "volumes.csv", "staff.csv"
ESTIMATES_FILE, FITS_FILE = "estimates.csv", "fits.csv"
REALTIME_SLA = {"answer_within_s": 20, "target": 0.8}
DEFERRED_SLA = {"answer_within_s": 86400, "target": 0.9}


def _round(x: float, digits: int = 4) -> float:
    return float(round(float(x), digits))


def scenario_dict(cal: Calibration, out: Path) -> dict[str, Any]:
    """The scenario mapping (paths absolute under `out`)."""
    vol, data = cal.volume, cal.data
    channels: dict[str, Any] = {}
    for ch in cal.channels:
        realtime = ch in cal.realtime
        spec: dict[str, Any] = {
            "mode": "realtime" if realtime else "deferred",
            "volume_file": str(out / VOLUME_FILE),
            "intents": _mix(vol.intents.get(ch, {})),
        }
        segments = _mix(vol.segments.get(ch, {}))
        if set(segments) != {"standard"}:
            spec["segments"] = segments
        fit = cal.patience.get(ch)
        spec["patience"] = fit.chosen.spec() if realtime and fit is not None else None
        spec["sla"] = dict(REALTIME_SLA if realtime else DEFERRED_SLA)
        spec["concurrency"] = cal.staffing.concurrency.get(ch, 1)
        channels[ch] = spec
    intents = sorted({i for mix in vol.intents.values() for i in mix} | set(cal.containment))
    intent_block: dict[str, Any] = {}
    for name in intents:
        block: dict[str, Any] = {}
        if name in cal.containment:
            block["bot_containment"] = _round(cal.containment[name].value)
        factor = cal.handle.used_factor.get(name, 1.0)
        if factor != 1.0:
            block["handle_time_factor"] = _round(factor)
        res = {t: _round(e.value) for t, e in cal.resolution_by_intent.get(name, {}).items() if e.n >= 30}
        if res:
            block["resolution"] = res
        intent_block[name] = block
    tiers: dict[str, Any] = {}
    for k, tier in enumerate(cal.tiers):
        skills = cal.skills[tier]
        handle = {}
        for ch in skills:
            fit = cal.handle.fits.get((tier, ch))
            if cal.settings.handle_times == "empirical" and (tier, ch) in cal.handle.samples:
                handle[ch] = {"dist": "empirical", "file": str(out / f"handle_{tier}_{ch}.csv")}
            elif fit is not None:
                handle[ch] = fit.chosen.spec()
            else:  # answered nowhere at this tier: a placeholder, listed in cal.notes
                handle[ch] = dict(PLACEHOLDER_HANDLE)
        last = k == len(cal.tiers) - 1
        resolution = cal.last_resolution if last else cal.resolution.get(tier)
        tiers[tier] = {
            "staff": str(out / STAFF_FILE),
            "shrinkage": 0.0,
            "skills": skills,
            "handle_time": handle,
            "wrap_up": None,
            "resolution": _round(resolution.value) if resolution is not None else 1.0,
        }
    rc = cal.recontacts
    scenario: dict[str, Any] = {
        "name": cal.settings.name,
        "description": f"Calibrated from a contact log of {data.days} day(s), {data.rows:,} rows, starting "
        f"{data.origin:%Y-%m-%d} ({data.origin.tz})",
        "horizon": {"days": data.days, "interval_min": cal.settings.interval_min, "warmup_min": 0},
        "channels": channels,
        "intents": intent_block,
        "bot": {
            "channels": {ch: {"containment": None} for ch in cal.bot_channels} or None,
            "handle_time": cal.bot_time.chosen.spec()
            if cal.bot_time
            else {"dist": "lognormal", "mean_s": 90.0, "cv": 0.8},
            "context_handoff_factor": 1.0,
        },
        "tiers": tiers,
        "routing": {"policy": "fifo"},
        "recontact": {"probability": 0.0, "delay": {"dist": "exponential", "mean_s": 86400.0}},
    }
    if rc.probability is not None and rc.delay_mean is not None:
        scenario["recontact"] = {
            "probability": _round(rc.probability.value),
            "delay": {"dist": "exponential", "mean_s": _round(rc.delay_mean.value, 1)},
        }
    return scenario


def _mix(shares: dict) -> dict[str, float]:
    """Shares rounded to 6 places, the largest absorbing the rounding so they sum to exactly 1."""
    if not shares:
        return {}
    values = {k: round(e.value, 6) for k, e in shares.items()}
    top = max(values, key=values.get)
    values[top] = round(1.0 - sum(v for k, v in values.items() if k != top), 6)
    return values


def write_calibration(cal: Calibration, out_dir: Path, log_path: str) -> dict[str, Path]:
    """Write the scenario, its volume and staff files and the estimate tables into `out_dir`."""
    out = Path(out_dir).resolve()
    written = {"volumes": write_atomic(out / VOLUME_FILE, lambda p: cal.volume.frame().to_csv(p, index=False))}
    staff = pd.DataFrame({"interval_start": cal.volume.starts.strftime("%Y-%m-%d %H:%M")})
    for tier, heads in cal.staffing.heads.items():
        staff[tier] = np.round(heads).astype(int)
    written["staff"] = write_atomic(out / STAFF_FILE, lambda p: staff.to_csv(p, index=False))
    if cal.settings.handle_times == "empirical":
        for (tier, ch), values in cal.handle.samples.items():
            text = "handle_s\n" + "\n".join(f"{v:.3f}" for v in values) + "\n"
            written[f"handle_{tier}_{ch}"] = write_text(out / f"handle_{tier}_{ch}.csv", text)
    header = (
        "# @package _global_\n"
        f"# Written by `cxsim calibrate` on {_dt.datetime.now():%Y-%m-%d %H:%M} from {log_path}\n"
        f"# Staff: {cal.staffing.source}. Every estimate with its 95% interval: estimates.csv;\n"
        f"# the distributions tried for each duration (AIC, Kolmogorov distance): fits.csv.\n"
        f"# Run it: cxsim --config-dir {out} scenario={cal.settings.name}\n"
    )
    body = yaml.safe_dump(scenario_dict(cal, out), sort_keys=False, default_flow_style=None, width=110)
    written["scenario"] = write_text(out / SCENARIO_FILE, header + body)
    write_text(out / "scenario" / f"{cal.settings.name}.yaml", header + body)
    written["estimates"] = write_atomic(out / ESTIMATES_FILE, lambda p: cal.estimates().to_csv(p, index=False))
    written["fits"] = write_atomic(out / FITS_FILE, lambda p: cal.fits().to_csv(p, index=False))
    return written

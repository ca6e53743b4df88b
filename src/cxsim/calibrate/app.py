"""What `cxsim calibrate` and `cxsim replay` do with a composed config, as plain functions (no Hydra).

`check_config` is the pre-flight: it reads and checks the whole log before Hydra creates the
run directory, so a bad log prints one line, exits 2 and leaves nothing behind. `run_task` is
what the Hydra job calls.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from cxsim.calibrate.calibration import Settings
from cxsim.calibrate.log import LogData, LogSpec, read_log
from cxsim.errors import ConfigError
from cxsim.scenario import Scenario

REPLAY_HANDLE = ("model", "logged")


def log_spec(cfg: DictConfig) -> LogSpec:
    """How to read the log, from the `calibrate:` block."""
    block = cfg.calibrate
    return LogSpec(columns=dict(block.columns), timezone=str(block.timezone), format=str(block.format))


def settings(cfg: DictConfig) -> Settings:
    """The estimation settings of the `calibrate:` block."""
    block: dict[str, Any] = OmegaConf.to_container(cfg.calibrate, resolve=True)  # type: ignore[assignment]
    for key in ("columns", "timezone", "format"):
        block.pop(key)
    return Settings(**block)


def _log_path(cfg: DictConfig) -> str:
    if not cfg.get("log"):
        command = "replay" if cfg.get("replay") is not None else "calibrate"
        raise ConfigError("log", f"is required: cxsim {command} log=PATH (a CSV or Parquet contact log)")
    return str(cfg.log)


def load_log(cfg: DictConfig) -> LogData:
    """Read and check the configured log."""
    spec = log_spec(cfg)
    spec.check()
    return read_log(_log_path(cfg), spec)


def check_config(cfg: DictConfig, scenario: Scenario) -> None:
    """Every rule of a calibrate or replay job, the whole log included (pre-flight)."""
    estimation = settings(cfg)
    estimation.check()
    data = load_log(cfg)
    if cfg.get("replay") is not None:
        from cxsim.calibrate.replay import check_fit

        if cfg.replay.handle_times not in REPLAY_HANDLE:
            raise ConfigError(
                "replay.handle_times", f"must be one of {', '.join(REPLAY_HANDLE)} (got '{cfg.replay.handle_times}')"
            )
        check_fit(data, scenario)
    elif estimation.roster:
        from cxsim.calibrate.flows import tier_order
        from cxsim.calibrate.staffing import read_roster

        per_day = 1440 // estimation.interval_min
        starts = pd.date_range(data.origin, periods=data.days * per_day, freq=f"{estimation.interval_min}min")
        read_roster(estimation.roster, tier_order(data), starts, per_day)


def run_calibration(cfg: DictConfig, out_dir: Path, stream: TextIO = sys.stdout) -> Path:
    """Calibrate from the log; write the scenario, its files, the estimate tables and the report."""
    from cxsim.calibrate.calibration import calibrate
    from cxsim.calibrate.report import write_report
    from cxsim.calibrate.writer import write_calibration

    data = load_log(cfg)
    cal = calibrate(data, settings(cfg))
    out = Path(out_dir)
    written = write_calibration(cal, out, _log_path(cfg))
    write_report(cal, out / "calibration.html", _log_path(cfg))
    print(
        f"calibrated {data.rows:,} rows ({len(data.contacts):,} contacts, {data.days} day(s)) from {cfg.log}",
        file=stream,
    )
    odd = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in data.odd.items() if v)
    if odd:
        print(f"odd rows (kept, see the report): {odd}", file=stream)
    print(f"staff: {cal.staffing.source}", file=stream)
    for note in cal.notes:
        print(f"note: {note}", file=stream)
    print(f"scenario: {written['scenario']}", file=stream)
    print(f"run it:   cxsim --config-dir {out.resolve()} scenario={cal.settings.name}", file=stream)
    return written["scenario"]


def run_task(cfg: DictConfig, out_dir: Path, overrides: Sequence[str] = ()) -> Any:
    """One Hydra job of `cxsim calibrate` or `cxsim replay`."""
    if cfg.get("replay") is not None:
        from cxsim.calibrate.replay import run_replay

        return run_replay(cfg, out_dir, overrides)
    return run_calibration(cfg, out_dir)


__all__ = ["check_config", "load_log", "log_spec", "run_calibration", "run_task", "settings"]

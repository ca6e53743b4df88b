"""`cxsim calibrate` and `cxsim replay` as a planner runs them: real subprocesses, results under tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_cli import cxsim_refused

from cxsim.cli import preflight, register_configs
from cxsim.errors import ConfigError

DATA = Path(__file__).parent / "data"
_BESIDE = Path(sys.executable).with_name("cxsim")
CXSIM = str(_BESIDE) if _BESIDE.is_file() else shutil.which("cxsim") or "cxsim"
SAMPLE = [
    f"log={DATA / 'sample_contact_log.csv'}",
    "calibrate.format=leg",
    "calibrate.timezone=Europe/Berlin",
    f"calibrate.roster={DATA / 'sample_roster.csv'}",
]


def cxsim(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [CXSIM, *args], cwd=tmp_path, capture_output=True, text=True, timeout=180, env=env, check=False
    )


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Path:
    """`cxsim calibrate` on the committed sample, into a fresh run directory."""
    tmp = tmp_path_factory.mktemp("calibrate")
    done = cxsim(tmp, "calibrate", *SAMPLE, f"hydra.run.dir={tmp / 'cal'}")
    assert done.returncode == 0, done.stderr
    assert "cxsim --config-dir" in done.stdout
    return tmp / "cal"


def test_calibrate_writes_a_scenario_cxsim_runs_as_is(calibrated: Path, tmp_path: Path):
    """scenario.yaml, its files, the tables and the report are written; `cxsim --config-dir` runs it."""
    for name in (
        "scenario.yaml",
        "scenario/calibrated.yaml",
        "volumes.csv",
        "staff.csv",
        "estimates.csv",
        "fits.csv",
        "calibration.html",
    ):
        assert (calibrated / name).is_file(), name
    html = (calibrated / "calibration.html").read_text()
    assert html.count("data:image/png;base64,") == 4 and "<script" not in html
    run = cxsim(
        tmp_path,
        "--config-dir",
        str(calibrated),
        "scenario=calibrated",
        "replications=2",
        "progress=false",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert run.returncode == 0, run.stderr
    summary = pd.read_csv(tmp_path / "run" / "summary.csv")
    assert {"voice", "chat"} <= set(summary.loc[summary.scope == "channel", "name"])


@pytest.mark.slow
def test_replay_command_writes_the_comparison(calibrated: Path, tmp_path: Path):
    """`cxsim replay` through the calibrated scenario writes replay.csv, replay_summary.csv and replay.png."""
    rep = cxsim(
        tmp_path,
        "replay",
        "--config-dir",
        str(calibrated),
        *SAMPLE,
        "scenario=calibrated",
        "replications=3",
        f"hydra.run.dir={tmp_path / 'replay'}",
    )
    assert rep.returncode == 0, rep.stderr
    days = pd.read_csv(tmp_path / "replay" / "replay_summary.csv")
    assert {"service_level", "asa_s", "abandon_rate", "occupancy"} <= set(days["metric"])
    assert (tmp_path / "replay" / "replay.csv").is_file() and (tmp_path / "replay" / "replay.png").is_file()


def test_a_bad_log_prints_one_line_exits_2_and_writes_nothing(tmp_path: Path, monkeypatch, capsys):
    log = tmp_path / "inputs" / "bad.csv"
    log.parent.mkdir()
    frame = pd.read_csv(DATA / "sample_contact_log.csv")
    frame.loc[3, "answer"] = "2026-03-01T23:00:00"
    frame.to_csv(log, index=False)
    args = ("calibrate", f"log={log}", "calibrate.format=leg", "calibrate.timezone=Europe/Berlin")
    code, _, err = cxsim_refused(tmp_path, monkeypatch, capsys, *args, f"hydra.run.dir={tmp_path / 'out'}")
    assert code == 2
    assert err.strip() == (
        "cxsim: error: log: column 'answer', data row 4: answer before arrival "
        f"(got answer 2026-03-01 23:00:00.000+0100 < arrival {frame.loc[3, 'arrival'].replace('T', ' ')}+0100)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs"]


def test_preflight_rejects_a_missing_log_and_a_bad_roster(tmp_path: Path):
    """The pre-flight check (what the command runs before Hydra makes a run directory) names the key."""
    register_configs()
    with pytest.raises(ConfigError, match="is required: cxsim calibrate log=PATH") as err:
        preflight("calibrate", [], False, None)
    assert err.value.key == "log"
    roster = tmp_path / "roster.csv"
    roster.write_text("interval_start,tier1\n2026-03-02 00:00,4\n")
    args = [a for a in SAMPLE if not a.startswith("calibrate.roster")]
    with pytest.raises(ConfigError, match="has no column 'tier2'") as err:
        preflight("calibrate", [*args, f"calibrate.roster={roster}"], False, None)
    assert err.value.key == "calibrate.roster"
    with pytest.raises(ConfigError) as err:
        preflight("replay", [*SAMPLE, "replay.handle_times=actual"], False, None)
    assert err.value.key == "replay.handle_times"

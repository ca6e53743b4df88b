"""Run and sweep folders: inside the results folder, unique, complete only with summary.json.

Through the real command (cwd = tmp_path, default folder patterns unless a test names one):
a `name` cannot escape results/, two runs started together get two folders, a killed run or
job is incomplete and ignored by the sweep table and the report, a sweep resumes, Ctrl-C
stops with one line and exit code 130.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import SWEEP
from test_cli import CXSIM, SHORT, cxsim, cxsim_refused

from cxsim.report.data import ReportInputError, load_runs
from cxsim.rundirs import safe_name
from cxsim.sweep import collect


def _runs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "results" / "runs").glob("*/*"))


def test_name_cannot_place_a_run_outside_results(tmp_path: Path) -> None:
    """`name=x/../../../../tmp/escaped` becomes one safe folder name under results/runs/."""
    work = tmp_path / "a" / "b" / "c"  # deep enough for the ../ to land inside tmp_path if it escaped
    work.mkdir(parents=True)
    out = cxsim(work, *SHORT, "replications=1", "name=x/../../../../tmp/escaped")
    assert out.returncode == 0, out.stderr
    [run] = _runs(work)
    assert run.name.split("_", 1)[1].startswith("x_tmp_escaped_"), run.name
    assert sorted(p.name for p in tmp_path.rglob("*") if p.name == "escaped") == []
    assert safe_name("../..") == "run" and safe_name("ACME / EU") == "ACME_EU"


def test_scenario_name_cannot_walk_out_of_the_scenario_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario choice is a name, not a path (refused by the command's entry point, in-process)."""
    code, _, err = cxsim_refused(tmp_path, monkeypatch, capsys, "scenario=../../etc/passwd")
    assert code == 2
    assert err.startswith("cxsim: error: scenario: '../../etc/passwd' is not a scenario name")
    assert not (tmp_path / "results").exists()


def test_concurrent_runs_get_their_own_folders(tmp_path: Path) -> None:
    """Two runs started in the same second with different seeds: two folders, each its own seed."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    procs = [
        subprocess.Popen(
            [CXSIM, *SHORT, "replications=1", f"seed={seed}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read() if p.stderr else ""
    runs = _runs(tmp_path)
    assert len(runs) == 2, runs
    seeds = sorted(json.loads((r / "summary.json").read_text())["seed"] for r in runs)
    assert seeds == [1, 2]


def _job(sweep: Path, num: int, staff: int, complete: bool) -> None:
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(f"- tiers.tier1.staff={staff}\n")
    (job / "summary.csv").write_text("scope,name,metric,mean,ci95,n\noverall,all,offered,10,1,2\n")
    if complete:
        (job / "summary.json").write_text(json.dumps({"scenario": "mmc", "overrides": []}))


def test_sweep_table_and_report_ignore_incomplete_jobs(tmp_path: Path) -> None:
    """A job with summary.csv but no summary.json (killed mid-write) is `incomplete`, never `ok`,
    and the report leaves it out and says so; an incomplete single run is refused."""
    sweep = tmp_path / "sweep"
    _job(sweep, 0, 10, complete=True)
    _job(sweep, 1, 12, complete=False)
    table = collect(sweep)
    status = table.groupby("job")["status"].first().to_dict()
    assert status == {"0": "ok", "1": "incomplete"}
    runs, notes = load_runs([sweep])
    assert [r.path.name for r in runs] == ["0"]
    assert any("1: incomplete job" in n for n in notes)
    with pytest.raises(ReportInputError, match="incomplete run"):
        load_runs([sweep / "1"])


def test_sweep_resumes_skipping_complete_jobs(
    mmc_sweep: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job whose summary.json is gone (killed) is re-run by +resume=DIR; complete ones are
    skipped; a smaller sweep into the same folder does not report the other's jobs as its own.
    (The sweep: a copy of conftest's real `cxsim -m` run, resumed with the overrides it was run with.)"""
    sweep = tmp_path / "sweep"
    shutil.copytree(mmc_sweep, sweep)
    before = (sweep / "0" / "summary.json").stat().st_mtime_ns
    (sweep / "1" / "summary.json").unlink()  # as a kill between summary.csv and the marker leaves it
    resumed = cxsim(tmp_path, *SWEEP, f"+resume={sweep}")
    assert resumed.returncode == 0, resumed.stderr
    assert "job 0 already complete" in resumed.stdout
    assert (sweep / "0" / "summary.json").stat().st_mtime_ns == before
    assert (sweep / "1" / "summary.json").is_file()
    assert "2 of 2 jobs succeeded" in resumed.stdout
    smaller = cxsim(tmp_path, *[a.replace("=9,11", "=9") for a in SWEEP], f"+resume={sweep}")
    assert smaller.returncode == 0, smaller.stderr
    assert "ignored job folders of an earlier sweep" in smaller.stderr
    assert set(pd.read_csv(sweep / "sweep_summary.csv")["job"]) == {0}
    code, _, err = cxsim_refused(tmp_path, monkeypatch, capsys, *SHORT, f"+resume={sweep}")
    assert code == 2 and err.startswith("cxsim: error: resume: resumes a sweep")


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [CXSIM, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "HYDRA_FULL_ERROR": "0"},
    )


LONG = ["scenario=baseline", "horizon.days=7", "replications=200", "progress=false"]


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), path


def test_ctrl_c_stops_with_one_line_and_exit_130(tmp_path: Path) -> None:
    """SIGINT to the whole process group (as a terminal's Ctrl-C): one line, exit code 130."""
    run = tmp_path / "run"
    proc = _start(tmp_path, *LONG, "workers=2", f"hydra.run.dir={run}")
    _wait_for(run / ".hydra")
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == [err.strip()] and err.startswith("cxsim: interrupted"), err
    assert not (run / "summary.json").exists()


def test_kill_9_leaves_an_incomplete_run_the_report_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL mid-run: no summary.json, no half-written table, and the report says incomplete."""
    run = tmp_path / "run"
    proc = _start(tmp_path, *LONG, f"hydra.run.dir={run}")
    _wait_for(run / ".hydra")
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (run / "summary.json").exists()
    code, _, err = cxsim_refused(tmp_path, monkeypatch, capsys, "report", str(run))
    assert code == 2 and "incomplete run" in err, err

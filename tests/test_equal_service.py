"""`staffing.mode=plan` through the real command: every job of a sweep plans its staffing, writes
the plan beside its KPI tables, measures it on seeds all jobs share, and the report compares the
jobs at equal service with paired differences; a bad mode is one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_cli import cxsim_refused

from cxsim.planning.search import CHECK_SEED_OFFSET
from cxsim.report import build_report

CLI = [sys.executable, "-m", "cxsim.cli"]
QUICK = ["horizon.days=0.25", "replications=4", "staffing.max_iterations=4", "staffing.max_repairs=0",
         "staffing.compare=false", "progress=false"]  # fmt: skip


@pytest.fixture(scope="module")
def planned_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mmc at 2,400 and 1,800 contacts a day (the second: a quarter of the calls automated away)."""
    out = tmp_path_factory.mktemp("plan") / "sweep"
    cmd = [*CLI, "-m", "scenario=mmc", "channels.voice.volume_per_day=2400,1800", "staffing.mode=plan", *QUICK,
           f"hydra.sweep.dir={out}"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=out.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def test_each_job_plans_then_reports_the_plan_on_shared_seeds(planned_sweep: Path) -> None:
    """Both jobs hold the plan's files; their KPI tables are the plan's fresh-seed check (root seed + offset,
    4 x replications), so the two share customers; the paid hours are the plan's heads x hours."""
    for job in ("0", "1"):
        d = planned_sweep / job
        for name in ("staffing_plan.csv", "staffing_check.csv", "summary.csv", "replications.csv"):
            assert (d / name).is_file(), (job, name)
        digest = json.loads((d / "summary.json").read_text())
        assert digest["seed"] == CHECK_SEED_OFFSET and digest["replications"] == 16
        plan = pd.read_csv(d / "staffing_plan.csv")
        summary = pd.read_csv(d / "summary.csv").set_index(["scope", "name", "metric"])
        warm_h = 1.0  # mmc's warm-up: paid hours count the measured window only
        clock = plan["time"].str.split(":", expand=True).astype(int)
        window = plan[(plan["day"] - 1) * 24 + clock[0] + clock[1] / 60 >= warm_h]
        assert summary.loc[("tier", "tier1", "paid_hours"), "mean"] == pytest.approx(window["tier1"].sum() * 0.5)
    less = pd.read_csv(planned_sweep / "1" / "staffing_plan.csv")["tier1"].sum()
    assert less < pd.read_csv(planned_sweep / "0" / "staffing_plan.csv")["tier1"].sum()


def test_report_compares_at_equal_service_with_paired_differences(planned_sweep: Path, tmp_path: Path) -> None:
    """The first screen says equal service; the equal-service table shows paid hours, FTE and cost
    per tier with Δ; differences are paired (same seed and replications)."""
    html = build_report([planned_sweep], tmp_path / "r.html").read_text()
    head = html[: html.index('<section id="headline">')]
    assert "EQUAL SERVICE" in head.upper() and "Comparison at equal service" in head
    assert '<section id="equal">' in html
    for label in ("Paid hours — tier1", "FTE — tier1", "Agent cost — tier1", "Cost per resolved issue"):
        assert label in html
    assert "paired 95% intervals" in html and "Δ −" in html
    assert "planned staff of tier1: paid hours" in html


def test_a_bad_mode_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cxsim_refused(tmp_path, monkeypatch, capsys, "staffing.mode=auto", f"hydra.run.dir={tmp_path / 'r'}")
    assert code == 2
    assert err == "cxsim: error: staffing.mode: must be roster or plan (got 'auto')\n"
    assert not (tmp_path / "r").exists()

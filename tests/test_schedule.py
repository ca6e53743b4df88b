"""Tests for cxsim.schedule: the MILP against brute force, the catalogue and requirement rules,
the files `cxsim schedule` writes, and bad input (one line, exit 2, nothing written).

Instances are tiny (a few shift types, hourly slots) so the solver proves optimality at once;
the `baseline` schedule is run by hand (docs/scheduling.md gives its numbers).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from test_cli import cxsim_refused

import cxsim
from cxsim.cli import preflight, register_configs
from cxsim.errors import ConfigError
from cxsim.paths import configs_dir
from cxsim.planning.result import wide_plan
from cxsim.schedule import requirement, rules_from, schedule_shifts
from cxsim.schedule.model import ShiftModel, grid_for
from cxsim.schedule.repair import raise_requirement
from cxsim.schedule.requirement import read_requirement

PENALTY = 1000.0
FULL = {
    "length_h": 8,
    "earliest_start": "00:00",
    "latest_start": "23:59",
    "part_time": False,
    "breaks": [{"name": "lunch", "length_min": 60, "paid": False, "earliest_min": 180, "latest_min": 240}],
}
PART = {"length_h": 4, "earliest_start": "00:00", "latest_start": "23:59", "part_time": True, "cost_factor": 1.25}


def tiny_rules(**extra):
    """Starts at 00:00, 08:00, 16:00; a full 8 h shift with a 1 h unpaid lunch at 3 h or 4 h; a 4 h part-time shift."""
    block = {
        "granularity_min": 480,
        "part_time_max_share": 0.5,
        "shortfall_penalty": PENALTY,
        "mip_gap": 0.0,
        "shifts": {"full": FULL, "part": PART},
        **extra,
    }
    return rules_from(block)


def brute_force(required: np.ndarray, rate: float, full_cap: int | None = None) -> float:
    """The least cost + penalty over every head count 0..3 of the 9 explicit columns
    (3 starts x 2 lunch hours for the full shift, 3 starts for the part-time one), hourly slots."""
    columns, costs, part = [], [], []
    for start in (0, 8, 16):
        for lunch in (3, 4):
            cover = np.zeros(24)
            cover[[(start + h) % 24 for h in range(8) if h != lunch]] = 1
            columns.append(cover), costs.append(7 * rate), part.append(False)
    for start in (0, 8, 16):
        cover = np.zeros(24)
        cover[[(start + h) % 24 for h in range(4)]] = 1
        columns.append(cover), costs.append(4 * rate * 1.25), part.append(True)
    a, cost, part = np.asarray(columns), np.asarray(costs), np.asarray(part)
    n = len(columns)
    counts = np.asarray(np.unravel_index(np.arange(4**n), (4,) * n), dtype=float).T
    heads = counts.sum(axis=1)
    ok = counts[:, part].sum(axis=1) <= 0.5 * heads
    if full_cap is not None:
        ok &= counts[:, ~part].sum(axis=1) <= full_cap
    short = np.maximum(0, required[None, :] - counts @ a).sum(axis=1)
    total = counts @ cost + PENALTY * rate * short
    return float(total[ok].min())


REQUIRED = np.asarray([1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 2, 2, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1], dtype=float)


@pytest.mark.parametrize("full_cap", [None, 2])
def test_solver_matches_brute_force_optimum(full_cap):
    """The MILP (implicit lunches, part-time share, a cap per shift type, priced shortfall) finds
    the optimum that enumerating every combination of explicit shift columns finds."""
    full = {**FULL, "max_count": full_cap}
    rules = tiny_rules(shifts={"full": full, "part": PART})
    model = ShiftModel(rules, grid_for(rules, 60, 1))
    sol = model.solve(REQUIRED, 30.0)
    objective = sol.cost + PENALTY * 30.0 * sol.short.sum()
    assert objective == pytest.approx(brute_force(REQUIRED, 30.0, full_cap))
    assert sol.status == "optimal"
    assert (sol.short > 0).any() == (full_cap is not None)  # two full shifts cannot cover 3 heads all day


def test_shifts_rebuild_the_coverage():
    """shifts.csv, read back, puts on the floor what coverage.csv says, and meets the requirement."""
    rules = tiny_rules(simulate=False)
    scn = cxsim.load_scenario("mmc", ["horizon.interval_min=60", "horizon.warmup_min=0"])
    sched = schedule_shifts(scn, rules, REQUIRED[None, :])
    shifts = sched.shifts()
    on_floor = np.zeros(24)
    for row in shifts.itertuples():
        start = int(row.start[:2])
        length = 8 if row.shift == "full" else 4
        lunch = int(row.breaks.split()[1][:2]) if row.breaks else None
        for h in range(start, start + length):
            if h % 24 != lunch:
                on_floor[h % 24] += row.count
    cov = sched.coverage()
    assert np.array_equal(on_floor, cov.scheduled.to_numpy())
    assert (cov.scheduled >= cov.required).all() and (cov.short == 0).all()
    assert sched.cost == pytest.approx((shifts.paid_hours * np.where(shifts["shift"] == "part", 1.25, 1.0)).sum() * 30)


def test_weekly_tours_take_their_days_off():
    """Tours work the same shift on 5 of 7 days with 2 consecutive days off, and cover every day."""
    rules = tiny_rules(days_off_per_week=2, simulate=False, part_time_max_share=0.0)
    scn = cxsim.load_scenario("mmc", ["horizon.interval_min=60", "horizon.warmup_min=0", "horizon.days=7"])
    sched = schedule_shifts(scn, rules, np.tile(REQUIRED, 7)[None, :])
    tours = sched.tours()
    assert tours["count"].sum() > 0
    for off in tours.days_off:
        a, b = (int(d) for d in off.split())
        assert (b - a) % 7 in (1, 6)
    per_day = sched.shifts().groupby("day")["count"].sum()
    assert (per_day == tours["count"].sum() * 5 / 7).all() or per_day.sum() == tours["count"].sum() * 5
    assert (sched.coverage().short == 0).all()


def test_repair_raises_the_entry_tier_above_what_was_on_the_floor():
    """A missed interval raises its tier's requirement to max(requirement, heads on the floor)
    + max(1, ceil(heads x SL shortfall)); intervals that meet, or are not judged, stay."""
    scn = cxsim.load_scenario("baseline")
    required = np.full((3, 48), 10.0)
    on_floor = np.full((3, 48), 12.0)
    sl = pd.DataFrame(
        {
            "day": 1,
            "time": ["09:00", "09:30", "10:00", "10:30"],
            "tier": ["tier1", "tier1", "tier2", "escalation"],
            "service_level": [0.5, 0.79, 0.9, 0.2],
            "target": 0.8,
            "meets": [False, False, True, True],
        }
    )
    raised = raise_requirement(scn, required, on_floor, sl)
    assert raised[0, 18] == 12 + 3  # ceil(10 x 0.3)
    assert raised[0, 19] == 12 + 1
    assert (np.delete(raised, [18 + 0, 19], axis=1) == 10).all() and (raised[1:] == 10).all()


def test_requirement_reads_the_wide_plan_and_staff_files(tmp_path):
    """The wide staffing plan (`<tier>` = heads beside agents, roster and gap) and a staff file with a
    column per tier both read as heads per interval; a clock that skips an interval is refused."""
    scn = cxsim.load_scenario("mmc")
    heads = np.arange(48) % 7 + 3
    plan = wide_plan(scn, heads[None, :])  # what `cxsim staff` writes as staffing_plan.csv
    assert {"day", "time", "tier1", "tier1_agents", "tier1_roster", "tier1_gap"} <= set(plan.columns)
    plan.to_csv(tmp_path / "plan.csv", index=False)
    assert np.array_equal(read_requirement(str(tmp_path / "plan.csv"), scn)[0], heads)
    plan.drop(columns=["day", "time"]).assign(interval_start="x").to_csv(tmp_path / "staff.csv", index=False)
    assert np.array_equal(requirement(str(tmp_path / "staff.csv"), scn)[0], heads)
    plan.iloc[[*range(10), *range(11, 48), 10]].to_csv(tmp_path / "shuffled.csv", index=False)
    with pytest.raises(ConfigError, match="row 12: time 05:30"):
        read_requirement(str(tmp_path / "shuffled.csv"), scn)
    assert np.array_equal(requirement(None, scn)[0], np.full(48, 10))


def _shipped_block(changes: dict[str, object]):
    """configs/schedule.yaml's `schedule:` block with `changes` (dotted keys) applied."""
    block = OmegaConf.load(configs_dir() / "schedule.yaml").schedule
    for key, value in changes.items():
        OmegaConf.update(block, key, value, merge=False)
    return block


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"shifts.part_4h.breaks.0.latest_min": 230}, "schedule.shifts.part_4h.breaks[0].latest_min: the break"),
        ({"shifts.full_8h.breaks.0.earliest_min": -10}, "schedule.shifts.full_8h.breaks[0].earliest_min: must be >="),
        ({"shifts.full_8h.breaks.1.earliest_min": 100}, "schedule.shifts.full_8h.breaks[1].earliest_min: breaks come"),
        (
            {"shifts.full_8h.length_h": 0},
            "schedule.shifts.full_8h.length_h: must be > 0 and at most 24 hours (got 0.0)",
        ),
        ({"shifts.full_8h.breaks.0.length_min": -15}, "schedule.shifts.full_8h.breaks[0].length_min: must be > 0"),
        ({"granularity_min": 0}, "schedule.granularity_min: must be > 0"),
        ({"operating_hours.close": "05:00", "operating_hours.open": "08:00"}, "operating_hours.close: must be after"),
        ({"operating_hours.open": "06:00", "operating_hours.close": "14:00"}, "full_8h.earliest_start: no start"),
        ({"shifts": {}}, "schedule.shifts: the catalogue has no shift type"),
    ],
)
def test_bad_catalogue_names_the_key(changes, message):
    """Breaks outside their shift or out of order, zero or negative lengths, a shift that fits
    nowhere in the operating hours: a ConfigError naming the key."""
    with pytest.raises(ConfigError) as err:
        rules_from(_shipped_block(changes))
    assert message in str(err.value)


@pytest.mark.parametrize(
    "overrides,message",
    [
        (
            ["schedule.shifts.full_8h.earliest_start=06:00", "schedule.shifts.full_8h.latest_start=10:00"],
            "schedule.shifts: the catalogue cannot cover 00:00-06:00 of the operating hours 00:00-24:00",
        ),
        (["schedule.requirement=scenarios/data/peak_week_staff.csv"], "schedule.requirement: "),
    ],
)
def test_preflight_refuses_uncoverable_hours_and_misshapen_requirement(overrides, message):
    """A catalogue that leaves part of the operating hours uncoverable, or a requirement file whose
    rows are not the horizon's intervals, stops `cxsim schedule` before anything runs."""
    register_configs()
    with pytest.raises(ConfigError) as err:
        preflight("schedule", overrides, False, None)
    assert message in str(err.value)


def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """The command's entry point: exit code 2, `cxsim: error: <key>: <rule>` on one line, no run folder."""
    bad = tmp_path / "req.csv"
    bad.write_text("time,tier1,tier2\n00:00,1,1\n")
    out = tmp_path / "run"
    code, _, err = cxsim_refused(
        tmp_path, monkeypatch, capsys, "schedule", f"schedule.requirement={bad}", f"hydra.run.dir={out}"
    )
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cxsim: error: schedule.requirement: "), err
    assert "escalation" in lines[0] and not out.exists()


def test_cxsim_schedule_writes_its_files(tmp_path):
    """The real `cxsim schedule` on an M/M/c day (10 heads: too few for 80/20): shifts, coverage, the
    figure, cost and the simulated SL per interval, the requirement raised where the SL missed."""
    out = tmp_path / "run"
    args = ["scenario=mmc", "replications=4", "progress=false", "schedule.max_rounds=1", "schedule.mip_gap=0.05"]
    proc = subprocess.run(
        [sys.executable, "-m", "cxsim.cli", "schedule", *args, f"hydra.run.dir={out}"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "schedule: cost" in proc.stdout and "simulated SL channel voice" in proc.stdout
    for name in ("shifts.csv", "coverage.csv", "coverage.png", "schedule_sl.csv", "schedule.json", "summary.csv"):
        assert (out / name).is_file(), name
    shifts = pd.read_csv(out / "shifts.csv")
    assert list(shifts.columns[:7]) == ["tier", "day", "shift", "start", "end", "breaks", "count"]
    rounds = json.loads((out / "schedule.json").read_text())["rounds"]
    assert len(rounds) == 2 and rounds[0]["misses"] > 20  # Erlang C: 10 agents give SL ~0.6 at 8.3 Erlangs
    assert rounds[1]["misses"] < rounds[0]["misses"] / 2 and rounds[1]["cost"] > rounds[0]["cost"]
    cov = pd.read_csv(out / "coverage.csv")
    assert (cov.required == 10).all() and (cov.repaired > 10).any()
    assert (cov.scheduled_min >= cov.repaired - 1e-9).all()
    sl = pd.read_csv(out / "schedule_sl.csv")
    assert sl.judged.sum() >= 40 and len(sl) == 48

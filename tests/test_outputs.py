"""Result files: written whole or not at all; the sweep table keeps failed jobs and their reason."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

import cxsim
from cxsim.outputs import write_atomic, write_results
from cxsim.sweep import ERROR_FILE, SWEEP_FILE, SweepSummary, collect


def test_write_atomic_never_leaves_a_partial_file(tmp_path: Path) -> None:
    """A writer that fails half-way leaves neither the target nor a temporary file behind,
    and an existing file keeps its old content."""
    target = tmp_path / "summary.csv"
    target.write_text("old\n")

    def fail(path: Path) -> None:
        path.write_text("half a ta")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, fail)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]
    write_atomic(target, lambda p: p.write_text("new\n"))
    assert target.read_text() == "new\n"


def test_write_results_layout(tmp_path: Path) -> None:
    """write_results writes the five tables (six with contacts) from the Python API too; replications.csv
    holds every replication's value of every summary KPI, whose mean is summary.csv's."""
    scn = cxsim.load_scenario("mmc", overrides=["horizon.days=0.25", "horizon.warmup_min=0"])
    res = cxsim.simulate(scn, replications=2, seed=3, contacts=True)
    written = write_results(res, tmp_path, overrides=["tiers.tier1.staff=10"])
    assert {p.name for p in written.values()} == {
        "summary.csv",
        "replications.csv",
        "intervals.csv",
        "config.yaml",
        "summary.json",
        "contacts.parquet",
    }
    digest = json.loads((tmp_path / "summary.json").read_text())
    assert digest["overrides"] == ["tiers.tier1.staff=10"] and digest["seed"] == 3
    assert digest["kpis"]["overall"]["all"]["offered"]["mean"] == pytest.approx(res.kpi("offered"))
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert len(summary) == len(res.summary) and list(summary.columns) == list(res.summary.columns)
    assert OmegaConf.load(tmp_path / "config.yaml").name == "mmc"
    reps = pd.read_csv(tmp_path / "replications.csv")
    assert sorted(reps["replication"].unique()) == [0, 1]
    offered = reps[(reps.scope == "overall") & (reps.metric == "offered")]["value"]
    assert offered.mean() == pytest.approx(res.kpi("offered"))


def _job(sweep: Path, num: int, overrides: list[str], summary: pd.DataFrame | None, error: str | None) -> None:
    """A job directory as Hydra and cxsim leave it."""
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if summary is not None:
        summary.to_csv(job / "summary.csv", index=False)
        (job / "summary.json").write_text("{}")  # written last: the job is complete
    if error is not None:
        (job / ERROR_FILE).write_text(error)


SUMMARY = pd.DataFrame(
    {
        "scope": ["overall", "channel"],
        "name": ["all", "voice"],
        "metric": ["service_level", "service_level"],
        "mean": [0.8, 0.8],
        "ci95": [0.01, 0.01],
        "n": [3, 3],
    }
)


def test_collect_reports_a_failed_job_and_keeps_the_others(tmp_path: Path) -> None:
    """A job without summary.csv is a `failed` row with the first line of its error.txt; a job
    with neither file is `incomplete`; the jobs that finished keep all their rows. The swept key comes
    right after `job`, the keys set to one value in every job go last."""
    _job(tmp_path, 0, ["scenario=mmc", "tiers.tier1.staff=10", "replications=3"], SUMMARY, None)
    _job(
        tmp_path,
        1,
        ["scenario=mmc", "tiers.tier1.staff=11", "replications=3"],
        None,
        "RuntimeError: policy exploded\n\nTraceback (most recent call last):\n  ...\n",
    )
    _job(tmp_path, 2, ["scenario=mmc", "tiers.tier1.staff=12", "replications=3"], SUMMARY, None)
    _job(tmp_path, 10, ["scenario=mmc", "tiers.tier1.staff=13", "replications=3"], None, None)
    table = collect(tmp_path)
    assert list(table.columns[:4]) == ["job", "tiers.tier1.staff", "status", "error"]
    assert list(table.columns[-2:]) == ["scenario", "replications"]
    assert list(dict.fromkeys(table.job)) == ["0", "1", "2", "10"], "jobs in numeric order"
    ok = table[table.status == "ok"]
    assert len(ok) == 2 * len(SUMMARY) and set(ok["tiers.tier1.staff"]) == {"10", "12"}
    failed = table[table.status == "failed"].set_index("job")
    assert failed.loc["1", "error"] == "RuntimeError: policy exploded"
    incomplete = table[table.status == "incomplete"].set_index("job")
    assert list(incomplete.index) == ["10"] and incomplete.loc["10", "error"].startswith("no summary.json")
    assert failed.loc["1", "tiers.tier1.staff"] == "11"


def test_sweep_summary_callback_writes_the_table_and_fails_the_command(tmp_path: Path) -> None:
    """The Hydra callback writes sweep_summary.csv and exits 1 when a job failed."""
    _job(tmp_path, 0, ["seed=1"], SUMMARY, None)
    _job(tmp_path, 1, ["seed=2"], None, "ConfigError: boom\n")
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    with pytest.raises(SystemExit) as exit_info:
        SweepSummary().on_multirun_end(config)
    assert exit_info.value.code == 1
    table = pd.read_csv(tmp_path / SWEEP_FILE)
    assert list(table.columns[:4]) == ["job", "seed", "status", "error"]
    assert (table.status == "failed").sum() == 1
    _job(tmp_path / "ok", 0, ["seed=1"], SUMMARY, None)
    SweepSummary().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path / "ok")}}}))
    assert (tmp_path / "ok" / SWEEP_FILE).is_file()


@pytest.mark.parametrize("formula", ["offered", "answered", "late_abandons", "short_abandons_met"])
def test_service_level_formulas_as_docs_kpis_states_them(formula: str) -> None:
    """Each `sla.formula` is the ratio docs/kpis.md gives, recomputed from contacts.parquet."""
    scn = cxsim.load_scenario(
        "mmc",
        overrides=[
            "horizon.days=0.25",
            "horizon.warmup_min=0",
            "tiers.tier1.staff=8",  # short-staffed: long waits and many abandons, quick and late
            "channels.voice.patience={dist: exponential, mean_s: 60}",
            f"channels.voice.sla.formula={formula}",
        ],
    )
    res = cxsim.simulate(scn, replications=1, seed=5, contacts=True)
    c = res.contacts
    c = c[c.queue_entry_s < scn.horizon.end_s]
    answered = c.first_answer_s.notna()
    wait = (c.first_answer_s.where(answered, c.end_s) - c.queue_entry_s).to_numpy()
    within = wait <= 20.0
    n_ans_in, n_ab_in = (answered & within).sum(), (~answered & within).sum()
    n_ab_late = (~answered & ~within).sum()
    expected = {
        "offered": n_ans_in / len(c),
        "answered": n_ans_in / answered.sum(),
        "late_abandons": n_ans_in / (answered.sum() + n_ab_late),
        "short_abandons_met": (n_ans_in + n_ab_in) / len(c),
    }[formula]
    assert n_ab_in > 0 and n_ab_late > 0, "the case must exercise both kinds of abandon"
    assert res.kpi("offered", "channel", "voice") == len(c)
    assert res.kpi("service_level", "channel", "voice") == pytest.approx(expected, rel=1e-12)

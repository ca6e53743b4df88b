"""The `cxsim` command as a planner runs it: a real subprocess, results under tmp_path.

Every run points `hydra.run.dir` / `hydra.sweep.dir` into tmp_path and runs with
cwd=tmp_path, so nothing lands in the repository's results/. Runs are kept short
(mmc for half a day, 2 replications) to keep the suite fast. User mistakes, refused before
Hydra starts, go through the command's entry point in-process (a subprocess spends ~3 s
importing); `-m slow` sends every one through the console script as well.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir

from cxsim import cli
from cxsim.cli import register_configs
from cxsim.paths import configs_dir, scenarios_dir

_BESIDE = Path(sys.executable).with_name("cxsim")  # the console script of the venv running the tests
CXSIM = str(_BESIDE) if _BESIDE.is_file() else shutil.which("cxsim") or "cxsim"
SHORT = ["scenario=mmc", "horizon.days=0.5", "horizon.warmup_min=0", "replications=2", "progress=false"]


def cxsim(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the installed `cxsim` console script in tmp_path."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [CXSIM, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, check=False
    )


class ReachedHydra(Exception):
    """Raised instead of starting Hydra: the input passed every check before the launch."""


def _no_launch(config_name: str, argv: list[str]) -> None:
    raise ReachedHydra(argv)


def cxsim_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """Run `cxsim ARGS` in tmp_path through its entry point (`cli.main`) in this process, for an
    input the command must refuse before Hydra starts; (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_hydra", _no_launch)
    capsys.readouterr()
    try:
        cli.main(list(args))
    except SystemExit as exc:
        out = capsys.readouterr()
        return int(exc.code or 0), out.out, out.err
    except ReachedHydra:
        pytest.fail(f"{args}: accepted, Hydra would have started")
    pytest.fail(f"{args}: returned without an exit code")


def created(tmp_path: Path) -> list[str]:
    """What a command left in tmp_path, apart from the inputs the test wrote."""
    return sorted(p.name for p in tmp_path.iterdir() if p.name not in {"inputs"})


# ---------------------------------------------------------------- runs


def test_single_run_writes_the_result_files(tmp_path: Path) -> None:
    """One run writes the resolved config, summary.csv, intervals.csv, summary.json and, when
    asked, contacts.parquet into its Hydra run directory, and prints the headline table."""
    run_dir = tmp_path / "run"
    out = cxsim(tmp_path, *SHORT, "output.contacts=true", f"hydra.run.dir={run_dir}")
    assert out.returncode == 0, out.stderr
    for name in ("config.yaml", "summary.csv", "intervals.csv", "summary.json", "contacts.parquet"):
        assert (run_dir / name).is_file(), name
    assert not list(run_dir.glob(".*.tmp")), "a temporary file was left behind"
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["replications"] == 2 and config["name"] == "mmc" and "hydra" not in config
    assert "${" not in (run_dir / "config.yaml").read_text(), "the saved config must be resolved"
    summary = pd.read_csv(run_dir / "summary.csv")
    assert list(summary.columns) == ["scope", "name", "metric", "mean", "ci95", "n", "p10", "p50", "p90"]
    assert {"service_level", "asa_s", "occupancy", "csat", "cost_per_contact"} <= set(summary.metric)
    assert set(pd.read_csv(run_dir / "intervals.csv").columns) >= {"interval_start", "metric", "mean", "ci95"}
    digest = json.loads((run_dir / "summary.json").read_text())
    assert digest["scenario"] == "mmc" and digest["replications"] == 2
    assert digest["sla"]["voice"]["formula"] == "offered"
    assert digest["kpis"]["channel"]["voice"]["service_level"]["n"] == 2
    contacts = pd.read_parquet(run_dir / "contacts.parquet")
    assert len(contacts) > 0 and set(contacts["replication"]) == {0, 1}
    assert "voice" in out.stdout and "SL" in out.stdout and str(run_dir) in out.stdout


def test_multirun_with_joblib_writes_every_job_and_the_sweep_table(tmp_path: Path) -> None:
    """`-m` with hydra/launcher=joblib runs each job in its own directory and the callback
    writes sweep_summary.csv with the swept key as a column right after `job`."""
    sweep_dir = tmp_path / "sweep"
    out = cxsim(
        tmp_path,
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep_dir}",
        *SHORT,
        "tiers.tier1.staff=10,12",
    )
    assert out.returncode == 0, out.stderr
    for job in ("0", "1"):
        for name in ("config.yaml", "summary.csv", "intervals.csv", "summary.json"):
            assert (sweep_dir / job / name).is_file(), f"{job}/{name}"
    table = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert list(table.columns[:4]) == ["job", "tiers.tier1.staff", "status", "error"]
    assert set(table["tiers.tier1.staff"]) == {10, 12} and set(table.status) == {"ok"}
    assert {"scenario", "replications"} <= set(table.columns[-5:]), "constant overrides stay, at the end"
    occupancy = table[(table.scope == "tier") & (table.metric == "occupancy")].set_index("tiers.tier1.staff")["mean"]
    assert occupancy[12] < occupancy[10], "more agents, lower occupancy (same customers: common random numbers)"
    assert "2 of 2 jobs succeeded" in out.stdout


def test_bot_rollout_containment_sweeps_from_the_command_line(tmp_path: Path) -> None:
    """The sweep the docs advertise works: bot.channels.chat.containment takes each value."""
    register_configs()
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        for value in (0.2, 0.6):
            cfg = compose("config", ["scenario=bot_rollout", f"bot.channels.chat.containment={value}"])
            assert cfg.bot.channels.chat.containment == value
    out = cxsim(
        tmp_path,
        "-m",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        "scenario=bot_rollout",
        "bot.channels.chat.containment=0.2,0.6",
        "replications=1",
        "progress=false",
    )
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(tmp_path / "sweep" / "sweep_summary.csv")
    chat = table[(table.scope == "channel") & (table.name == "chat")]
    count = chat.pivot(index="bot.channels.chat.containment", columns="metric", values="mean")
    # the rate the bot claims: true containments plus false ones (bot_rollout's bot is honest, 0.23 false)
    rate = (count["contained"] + count["false_contained"]) / count["bot_entered"]
    assert rate[0.2] == pytest.approx(0.2, abs=0.05) and rate[0.6] == pytest.approx(0.6, abs=0.05)


def test_launcher_presets_compose(tmp_path: Path) -> None:
    """+launcher=local selects Hydra's joblib launcher; the Ray and SLURM presets name theirs
    (composed only where the plugin is installed: they live in their own extras)."""
    register_configs()
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        cfg = compose("config", ["+launcher=local"], return_hydra_config=True)
        assert cfg.hydra.launcher._target_.endswith("JoblibLauncher")
    presets = {p.stem for p in (configs_dir() / "launcher").glob("*.yaml")}
    assert presets == {"local", "ray", "ray_cluster", "slurm"}
    cluster = yaml.safe_load((configs_dir() / "launcher" / "ray_cluster.yaml").read_text())
    assert cluster["hydra"]["launcher"]["ray"]["init"]["object_store_memory"] is None  # Hydra issue 2893


def _ray_launcher_missing() -> str | None:
    try:
        import hydra_plugins.hydra_ray_launcher  # noqa: F401
        import ray  # noqa: F401
    except ImportError as exc:
        return f"the Ray launcher is not installed here ({exc.name}); pip install -e '.[ray]' in its own venv"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_ray_launcher_missing() is not None, reason=str(_ray_launcher_missing()))
def test_multirun_on_a_local_ray_instance(tmp_path: Path) -> None:
    """+launcher=ray starts a local Ray instance, runs each job as a Ray task, and the results
    land in the absolute sweep directory (not in Ray's session folder)."""
    sweep_dir = tmp_path / "sweep"
    out = cxsim(tmp_path, "-m", "+launcher=ray", f"hydra.sweep.dir={sweep_dir}", *SHORT, "tiers.tier1.staff=10,12")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Ray Launcher is launching 2 jobs" in out.stdout + out.stderr
    for job in ("0", "1"):
        assert (sweep_dir / job / "summary.csv").is_file()
    table = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert set(table["tiers.tier1.staff"]) == {10, 12} and set(table.status) == {"ok"}


# ---------------------------------------------------------------- user mistakes


def _scenario_without_tier_for_chat(tmp_path: Path) -> str:
    """A user scenario (in a --config-dir) with a chat channel that no tier serves."""
    conf = tmp_path / "inputs" / "scenario"
    conf.mkdir(parents=True)
    text = (scenarios_dir() / "mmc.yaml").read_text()
    text = text.replace("tiers:\n", "  chat: {mode: realtime, volume_per_day: 100}\ntiers:\n", 1)
    (conf / "mine.yaml").write_text(text)
    return str(tmp_path / "inputs")


def _malformed_csv(tmp_path: Path) -> str:
    path = tmp_path / "inputs" / "volumes.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("interval_start,offered,aht_s\n00:00,12,300\n00:30,twelve,300\n")
    return str(path)


MISTAKES = {
    "unknown scenario": (["scenario=no_such_scenario"], "scenario: unknown scenario 'no_such_scenario'"),
    "unknown key": (["tiers.tier1.staf=40"], "tiers.tier1.staf: unknown key"),
    "unknown key added with +": (["+tiers.tier1.colour=red"], "tiers.tier1.colour: unknown key"),
    "negative staff": (["tiers.tier1.staff=-3"], "tiers.tier1.staff: must be >= 0"),
    "probability above 1": (["intents.billing.bot_containment=1.5"], "intents.billing.bot_containment: must be"),
    "mix not summing to 1": (["channels.voice.intents.billing=0.5"], "channels.voice.intents: shares must sum to 1"),
    "wrong type": (["horizon.days=soon"], "horizon.days: must be a number (got 'soon')"),
    "not a boolean": (["progress=maybe"], "progress: must be true or false (got 'maybe')"),
    "missing volume file": (["channels.voice.volume_file=nowhere.csv"], "channels.voice.volume_file: file"),
    "missing staff file": (["tiers.tier1.staff=nowhere.csv"], "tiers.tier1.staff: file"),
    "sweep with one bad value": (["-m", "tiers.tier2.staff=10,-1,12"], "tiers.tier2.staff: must be >= 0"),
    "sweep without -m": (["tiers.tier1.staff=10,12"], "tiers.tier1.staff: 'tiers.tier1.staff=10,12' sweeps"),
    "unknown launcher preset": (["-m", "+launcher=moon"], "launcher: unknown launcher preset 'moon'"),
    "zero replications": (["replications=0"], "replications: must be between 1 and 10,000"),
    "replications beyond the cap as 1e9": (
        ["replications=1e9"],
        "replications: must be a whole number between 1 and 10,000 (got 1e+09)",
    ),
    "sweep with replications=1e9": (
        ["-m", "replications=2,1e9"],
        "replications: must be a whole number between 1 and 10,000 (got 1e+09)",
    ),
    "false containment that always returns": (
        ["intents.billing.bot_false_containment=1.0"],
        "intents.billing.bot_false_containment: must be below 1",
    ),
    "automate without a bot": (["automate", "scenario=mmc"], "bot.channels: the scenario has no bot"),
    "automate zero points": (["automate", "automate.points=0"], "automate.points: must be in (0, 100]"),
    "automate unknown intent": (["automate", "automate.intents=[nope]"], "automate.intents: 'nope' is not an intent"),
    "key through a list": (
        ["scenario=mmc", "bot.channels=[voice]", "bot.channels.voice.containment=0.3"],
        "bot.channels.voice.containment: cannot be set",
    ),
    "policy class not importable": (
        ["routing.policy={_target_: nowhere.Policy}"],
        "routing.policy._target_: cannot find 'nowhere.Policy': no module 'nowhere' (is it importable",
    ),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_user_mistake_prints_one_line_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """A user mistake prints `cxsim: error: <key path>: <rule>`, exits 2, creates nothing."""
    args, expected = MISTAKES[case]
    code, out, err = cxsim_refused(
        tmp_path,
        monkeypatch,
        capsys,
        *args,
        f"hydra.run.dir={tmp_path / 'run'}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"cxsim: error: {expected}"), lines[0]
    assert out == ""
    assert created(tmp_path) == [], "nothing may be written before the input is valid"


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_user_mistake_through_the_console_script(tmp_path: Path, case: str) -> None:
    """The same mistakes through the installed console script in a subprocess (the default run
    sends one through it: test_channel_no_tier_serves)."""
    args, expected = MISTAKES[case]
    out = cxsim(tmp_path, *args, f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"cxsim: error: {expected}"), lines[0]
    assert out.stdout == ""
    assert created(tmp_path) == [], "nothing may be written before the input is valid"


def test_channel_no_tier_serves(tmp_path: Path) -> None:
    """A user's own scenario (via --config-dir) whose chat channel no tier serves."""
    conf = _scenario_without_tier_for_chat(tmp_path)
    out = cxsim(tmp_path, "--config-dir", conf, "scenario=mine", f"hydra.run.dir={tmp_path / 'run'}")
    assert out.returncode == 2
    assert out.stderr.strip() == "cxsim: error: channels.chat: no tier serves it (add it to a tier's skills)"
    assert created(tmp_path) == []


def test_malformed_volume_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A volume file with a non-number names the key, the file and the row."""
    path = _malformed_csv(tmp_path)
    args = ("scenario=mmc", f"channels.voice.volume_file={path}", f"hydra.run.dir={tmp_path / 'run'}")
    code, _, err = cxsim_refused(tmp_path, monkeypatch, capsys, *args)
    assert code == 2
    rule = f"'{path}' row 3: offered='twelve' is not a number"
    assert err.strip() == f"cxsim: error: channels.voice.volume_file: {rule}"
    assert created(tmp_path) == []

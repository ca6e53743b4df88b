"""Every shipped scenario composes through Hydra, validates and simulates to sensible KPIs,
so no scenario in scenarios/ can rot; plus the sample WFM volume file and a custom policy."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

import cxsim
from cxsim.app import validate
from cxsim.cli import register_configs
from cxsim.paths import configs_dir, scenarios_dir
from cxsim.profiles import read_volume_file

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.stem for p in scenarios_dir().glob("*.yaml"))
# overall occupancy each scenario is built to show (the operation as its comment block describes it)
OCCUPANCY = {
    "mmc": (0.75, 0.92),  # a = 8.33 Erlang on 10 agents
    "baseline": (0.6, 0.9),
    "bot_rollout": (0.6, 0.9),
    "peak_season": (0.7, 0.95),
    "tier2_bottleneck": (0.7, 0.95),
    "email_heavy": (0.8, 0.97),
}


def test_the_library_is_complete() -> None:
    """The scenarios the docs and the issue promise are shipped, each with a test range."""
    assert set(SHIPPED) >= {"mmc", "baseline", "bot_rollout", "peak_season", "tier2_bottleneck", "email_heavy"}
    assert set(SHIPPED) == set(OCCUPANCY), "give a new scenario its expected occupancy range here"


@pytest.mark.parametrize("name", SHIPPED)
def test_scenario_file_says_what_it_is(name: str) -> None:
    """Each file is a `_global_` package, opens with a comment block, and `name` is its file name."""
    lines = (scenarios_dir() / f"{name}.yaml").read_text().splitlines()
    assert lines[0] == "# @package _global_"
    block = []
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        block.append(line)
    assert len(block) >= 5, "say what the scenario represents and where its numbers come from"
    assert f"name: {name}" in lines


@pytest.mark.parametrize("name", SHIPPED)
def test_scenario_composes_validates_and_simulates(name: str) -> None:
    """Compose `cxsim scenario=NAME` with Hydra, validate like the command, simulate one replication
    of the full horizon and check the KPIs are those of a working operation."""
    register_configs()
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        cfg = compose("config", [f"scenario={name}", "replications=1", "progress=false"])
    scenario = validate(cfg)
    res = cxsim.simulate(scenario, replications=1, seed=1)
    kpi = res.kpi
    assert kpi("offered") > 0
    # every offered contact ends answered or abandoned (the run goes on until all have an outcome)
    assert kpi("answered") + kpi("abandoned") == pytest.approx(kpi("offered"))
    low, high = OCCUPANCY[name]
    assert low <= kpi("occupancy") <= high, kpi("occupancy")
    for tier in scenario.tiers:
        occupancy, utilisation = kpi("occupancy", "tier", tier.name), kpi("utilisation", "tier", tier.name)
        assert 0.2 <= occupancy <= 1.0, (tier.name, occupancy)
        # busy (at least one contact in hand) can never be less than the share of slots in use
        assert occupancy >= utilisation - 1e-9, (tier.name, occupancy, utilisation)
    for channel in scenario.channels:
        sl = kpi("service_level", "channel", channel.name)
        assert 0.4 <= sl <= 1.0, (channel.name, sl)
        assert kpi("abandon_rate", "channel", channel.name) < 0.15
    assert 0.5 < kpi("csat") < 0.95
    assert kpi("cost_per_contact") > 0


def test_peak_season_staffing_and_volume_rise_toward_the_peak() -> None:
    """peak_season reads a week of WFM volumes and a roster that rises on the peak days."""
    scn = cxsim.load_scenario("peak_season")
    assert scn.horizon.n_intervals == 7 * 48
    voice = scn.channels[scn.channel_index("voice")].volumes.reshape(7, 48).sum(1)
    assert voice.argmax() == 3, "Thursday is the peak"
    tier1 = scn.tiers[scn.tier_index("tier1")].staff.reshape(7, 48).sum(1)
    assert tier1[3] > tier1[0] > tier1[6]


def test_email_heavy_backlog_builds_overnight_and_drains() -> None:
    """email_heavy: nobody works at night, so the email backlog is high at 08:00 and low by 14:00."""
    scn = cxsim.load_scenario("email_heavy")
    res = cxsim.simulate(scn, replications=1, seed=1)
    iv = res.intervals
    backlog = iv[(iv.scope == "channel") & (iv.name == "email") & (iv.metric == "backlog")].set_index("interval_start")[
        "mean"
    ]
    day2 = 86400.0
    # backlog at the end of the 07:30 interval (i.e. at 08:00) and of the 13:30 one
    assert backlog[day2 + 7.5 * 3600] > 100
    assert backlog[day2 + 13.5 * 3600] < 0.2 * backlog[day2 + 7.5 * 3600]


def test_sample_wfm_volume_file_reads_as_per_interval_volumes() -> None:
    """The sample export (interval_start, offered, aht_s) gives one volume per interval."""
    path = scenarios_dir() / "data" / "peak_week_voice.csv"
    header = next(line for line in path.read_text().splitlines() if not line.startswith("#"))
    assert header == "interval_start,offered,aht_s"
    volumes = read_volume_file(str(path), "voice", 336, 48, "channels.voice.volume_file")
    assert volumes.shape == (336,) and volumes.sum() > 15000 and np.all(volumes >= 0)


def test_custom_policy_from_examples_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worked example of docs/extending.md: a `select` policy named by `_target_`."""
    monkeypatch.syspath_prepend(str(REPO))
    sys.modules.pop("examples.policies", None)
    scaled = "{_target_: examples.policies.LongestWaitFirst, scale_s: {voice: 20, chat: 60, email: 86400}}"
    scn = cxsim.load_scenario("baseline", overrides=[f"routing.policy={scaled}"])
    assert type(scn.policy).__name__ == "LongestWaitFirst" and scn.policy.scale_s["chat"] == 60
    short = ["horizon.days=0.5"]
    plain_policy = "routing.policy={_target_: examples.policies.LongestWaitFirst}"
    plain = cxsim.load_scenario("baseline", overrides=[plain_policy, *short])
    res = cxsim.simulate(plain, replications=1, seed=1)
    base = cxsim.simulate(cxsim.load_scenario("baseline", overrides=short), replications=1, seed=1)
    assert res.kpi("offered") == pytest.approx(base.kpi("offered"), rel=0.05)
    assert res.kpi("answered") + res.kpi("abandoned") == pytest.approx(res.kpi("offered"))
    # plain longest-wait-first is FIFO over the tier: email no longer waits behind every call and chat
    assert res.kpi("asa_s", "channel", "email") < base.kpi("asa_s", "channel", "email")
    assert res.kpi("asa_s", "channel", "voice") > base.kpi("asa_s", "channel", "voice")


def test_custom_distribution_and_satisfaction_model_from_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/extending.md's other two examples: a `_target_` handle time and satisfaction model."""
    monkeypatch.syspath_prepend(str(REPO))
    for module in ("examples.distributions", "examples.satisfaction"):
        sys.modules.pop(module, None)
    weibull = "{_target_: examples.distributions.Weibull, mean: 300, shape: 1.5}"
    scn = cxsim.load_scenario(
        "mmc",
        overrides=[
            f"tiers.tier1.handle_time.voice={weibull}",  # merges onto {dist, mean_s}: those keys are dropped
            "satisfaction.model={_target_: examples.satisfaction.WaitAndResolution, patience_s: 300}",
            "horizon.days=0.25",
        ],
    )
    handle = scn.tiers[0].handle_time[0]
    assert type(handle).__name__ == "Weibull" and handle.mean == 300
    draws = handle.sample(np.random.default_rng(0), 200_000)
    assert draws.mean() == pytest.approx(300, rel=0.01)
    res = cxsim.simulate(scn, replications=1, seed=2)
    assert res.kpi("aht_s") == pytest.approx(300, rel=0.1)
    assert 0.0 < res.kpi("csat") <= 0.9

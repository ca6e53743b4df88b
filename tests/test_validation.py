"""Bad input is refused before simulating, with one ConfigError naming the key path and the rule."""

from __future__ import annotations

import pytest

import cxsim
from cxsim import ConfigError


@pytest.mark.parametrize(
    ("overrides", "key", "rule"),
    [
        (["tiers.tier1.staf=3"], "tiers.tier1.staf", "unknown key"),
        (["tiers.tier1.staff=-1"], "tiers.tier1.staff", ">= 0"),
        (["tiers.tier1.shrinkage=1.2"], "tiers.tier1.shrinkage", "probability"),
        (["channels.voice.sla.target=1.5"], "channels.voice.sla.target", "probability"),
        (["channels.voice.intents.billing=0.5"], "channels.voice.intents", "sum to 1"),
        (["channels.voice.mode=fax"], "channels.voice.mode", "realtime or deferred"),
        (["channels.voice.patience={dist:weibull,mean_s:60}"], "channels.voice.patience.dist", "not one of"),
        (["channels.voice.patience={dist:lognormal,mean_s:60}"], "channels.voice.patience.cv", "required"),
        (["channels.email.patience={dist:exponential,mean_s:60}"], "channels.email.patience", "do not abandon"),
        (
            ["tiers.tier1.skills=[voice,chat]", "tiers.tier2.skills=[voice]", "tiers.escalation.skills=[voice]"],
            "tiers.tier1.handle_time.email",
            "not among the tier's skills",
        ),
        (["horizon.interval_min=7"], "horizon.interval_min", "whole intervals"),
        (["horizon.warmup_min=5000"], "horizon.warmup_min", "shorter than the horizon"),
        (["tiers.tier1.staff=[1,2,3]"], "tiers.tier1.staff", "one value per interval"),
        (["tiers.tier2.staff=missing.csv"], "tiers.tier2.staff", "does not exist"),
        (["channels.chat.profile=no_such_curve"], "channels.chat.profile", "neither a named profile"),
        (["routing.policy=random"], "routing.policy", "not one of"),
        (["routing.priorities.fax=0"], "routing.priorities.fax", "not a channel"),
        (["intents.billing.resolution.tier9=0.5"], "intents.billing.resolution.tier9", "not a tier"),
        (["bot.channels=[fax]"], "bot.channels[0]", "not a channel"),
        (["costs.agent_hour.tier9=3"], "costs.agent_hour.tier9", "not a tier"),
        (["satisfaction.coefficients.mood=1"], "satisfaction.coefficients.mood", "unknown coefficient"),
        (["channels.voice.concurrency=0"], "channels.voice.concurrency", ">= 1"),
        (["channels.voice.concurrency=1.5"], "channels.voice.concurrency", "must be a whole number (got 1.5)"),
        (["horizon.days=soon"], "horizon.days", "must be a number (got 'soon')"),
    ],
)
def test_bad_input_names_the_key(overrides: list[str], key: str, rule: str) -> None:
    """Each mistake raises ConfigError whose key is the dotted path and whose rule says why."""
    with pytest.raises(ConfigError) as info:
        cxsim.load_scenario("baseline", overrides)
    assert info.value.key == key, str(info.value)
    assert rule in info.value.rule, str(info.value)
    assert "\n" not in str(info.value)


def test_a_channel_no_tier_serves_is_refused() -> None:
    """Every channel needs a tier that has it among its skills."""
    with pytest.raises(ConfigError, match="no tier serves it"):
        cxsim.load_scenario("mmc", ["+channels.chat={mode:realtime,volume_per_day:10}"])


def test_unknown_scenario_lists_the_shipped_ones() -> None:
    """An unknown name says which scenarios exist."""
    with pytest.raises(ConfigError, match=r"unknown scenario 'nope'.*baseline"):
        cxsim.load_scenario("nope")


def test_malformed_volume_file(tmp_path) -> None:
    """A CSV with a non-number is refused naming the file, the row and the column."""
    bad = tmp_path / "volumes.csv"
    bad.write_text("interval_start,offered\n00:00,12\n00:30,abc\n")
    with pytest.raises(ConfigError, match="row 3: offered='abc' is not a number") as info:
        cxsim.load_scenario("mmc", [f"channels.voice.volume_file={bad}"])
    assert info.value.key == "channels.voice.volume_file"


def test_volume_file_sets_volumes(tmp_path) -> None:
    """A per-interval CSV of one day is repeated over the horizon and overrides volume_per_day."""
    good = tmp_path / "volumes.csv"
    good.write_text("interval_start,offered\n" + "".join(f"{i},{i % 5}\n" for i in range(48)))
    scn = cxsim.load_scenario("mmc", [f"channels.voice.volume_file={good}", "horizon.days=2"])
    assert scn.channels[0].volumes.tolist() == [i % 5 for i in range(48)] * 2


def test_staff_and_shrinkage_give_productive_agents() -> None:
    """Scheduled heads x (1 - shrinkage) are the agents on the floor on average (attendance.py draws them)."""
    scn = cxsim.load_scenario("baseline", ["tiers.tier1.staff=40"])
    assert scn.tiers[0].agents.tolist() == [28] * 48


@pytest.mark.slow
def test_every_sweep_job_is_validated_beyond_a_thousand() -> None:
    """A 2,002-job sweep whose bad value only appears from job 1,001 on is refused before any job
    runs (8 s of checks: the default run refuses a bad middle job of a short sweep in test_cli)."""
    from cxsim.cli import preflight, register_configs

    register_configs()
    with pytest.raises(ConfigError) as info:
        preflight("config", ["tiers.tier2.staff=5,-1", "tiers.tier1.staff=range(1,1002)"], True, None)
    assert info.value.key == "tiers.tier2.staff" and ">= 0" in info.value.rule


def test_a_rule_across_two_swept_keys_is_checked_on_each_combination() -> None:
    """Warm-up vs horizon: one bad combination of two swept keys is refused; all-valid ones pass."""
    from cxsim.cli import preflight, register_configs

    register_configs()
    with pytest.raises(ConfigError) as info:
        preflight("config", ["horizon.days=1,0.5", "horizon.warmup_min=0,1000"], True, None)
    assert info.value.key == "horizon.warmup_min"
    preflight("config", ["horizon.days=1,2", "horizon.warmup_min=0,1000"], True, None)  # every combination valid

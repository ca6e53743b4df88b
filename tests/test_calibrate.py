"""Calibration from a contact log, held to logs whose parameters are known.

The logs come from tests/loggen.py (a plain numpy event loop, no cxsim code) and from cxsim
itself (contacts.parquet turned into a log). Every check is an estimate's 95% interval,
widened by 1.68 (the 99.9% normal quantile over the 95% one) because each test makes about a
dozen checks at once: a Bonferroni bound keeps the chance of any false alarm near 1%.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from loggen import Truth, generate, to_log

import cxsim
import cxsim.streams
from cxsim.calibrate.calibration import Settings, calibrate
from cxsim.calibrate.durations import fit_durations
from cxsim.calibrate.estimates import Estimate
from cxsim.calibrate.log import LogSpec, read_log
from cxsim.calibrate.replay import actual_intervals, compare, replay, trace
from cxsim.calibrate.writer import write_calibration

WIDEN = 3.29 / 1.96  # 99.9% over 95% normal quantiles


def covers(est: Estimate, truth: float) -> bool:
    """The truth lies in the estimate's interval widened by WIDEN about the estimate."""
    low = est.value - WIDEN * (est.value - est.low)
    high = est.value + WIDEN * (est.high - est.value)
    return low <= truth <= high


@pytest.fixture(scope="module")
def truth() -> Truth:
    return Truth()


@pytest.fixture(scope="module")
def generated_log(tmp_path_factory, truth: Truth) -> Path:
    legs, contacts = generate(truth, seed=3)
    path = tmp_path_factory.mktemp("log") / "log.csv"
    to_log(truth, legs, contacts, layout="leg").to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def roster(tmp_path_factory, truth: Truth) -> Path:
    path = tmp_path_factory.mktemp("roster") / "roster.csv"
    pd.DataFrame({t: [n] * 48 for t, n in truth.staff.items()}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def calibration(generated_log: Path, roster: Path, truth: Truth):
    data = read_log(generated_log, LogSpec(timezone=truth.timezone, format="leg"))
    return calibrate(data, Settings(roster=str(roster)))


def test_fit_recovers_censored_exponential_and_picks_the_right_family():
    """Censored ML recovers an exponential mean under heavy censoring; AIC picks lognormal for lognormal data."""
    rng = np.random.default_rng(0)
    patience, wait = rng.exponential(200, 20000), rng.exponential(100, 20000)
    fit = fit_durations("p", np.minimum(patience, wait), wait < patience)
    exp = next(f for f in fit.candidates if f.family == "exponential")
    assert covers(exp.mean, 200.0)
    assert fit.censored > fit.events  # most were answered: the naive mean of abandons would be far off
    s2 = math.log1p(0.8**2)
    lognormal = rng.lognormal(math.log(300) - s2 / 2, math.sqrt(s2), 5000)
    fit = fit_durations("h", lognormal)
    assert fit.chosen.family == "lognormal"
    assert covers(fit.chosen.mean, 300.0) and covers(fit.chosen.cv, 0.8)
    assert fit.chosen.ks < 0.03


def test_calibration_recovers_the_generators_parameters(calibration, truth: Truth):
    """Handle times, patience, containment, resolution, recontacts and volume fall in their intervals."""
    cal = calibration
    for (tier, channel), (mean, cv) in truth.handle.items():
        fit = cal.handle.fits[(tier, channel)]
        assert fit.chosen.family == "lognormal", (tier, channel)
        assert covers(fit.chosen.mean, mean), fit.chosen.mean
        assert covers(fit.chosen.cv, cv), fit.chosen.cv
    for channel, (_family, mean, _cv) in truth.patience.items():
        assert covers(cal.patience[channel].chosen.mean, mean), cal.patience[channel].chosen.mean
    assert covers(cal.patience["chat"].chosen.cv, truth.patience["chat"][2])
    for intent, p in truth.containment.items():
        assert covers(cal.containment[intent], p), cal.containment[intent]
    assert covers(cal.resolution["tier1"], truth.resolution_tier1)
    assert cal.last_resolution is not None and cal.last_resolution.high == 1.0  # tier 2 resolves everything
    assert covers(cal.recontacts.probability, truth.recontact_p), cal.recontacts.probability
    assert covers(cal.recontacts.delay_mean, truth.recontact_mean_s), cal.recontacts.delay_mean
    for channel, per_day in truth.per_day.items():
        assert covers(cal.volume.per_day[channel], per_day), cal.volume.per_day[channel]
    assert covers(cal.volume.intents["voice"]["billing"], truth.intents["billing"])
    assert cal.tiers == ["tier1", "tier2"]
    assert cal.staffing.concurrency == {"chat": 1, "voice": 1}
    assert cal.bot_channels == ["chat"]


def test_written_scenario_loads_and_keeps_the_estimates(calibration, tmp_path: Path):
    """scenario.yaml compiles as is, with the log's horizon, volumes and the roster's staff."""
    write_calibration(calibration, tmp_path, "log.csv")
    scn = cxsim.load_scenario(tmp_path / "scenario.yaml")
    assert scn.horizon.days == 2 and scn.horizon.n_intervals == 96
    voice = scn.channels[scn.channel_index("voice")]
    assert voice.volumes.sum() == pytest.approx(calibration.volume.expected["voice"].sum(), rel=1e-3)
    assert scn.tiers[0].agents.tolist() == [17] * 96
    assert (tmp_path / "scenario" / "calibrated.yaml").read_text() == (tmp_path / "scenario.yaml").read_text()
    estimates = pd.read_csv(tmp_path / "estimates.csv")
    assert {"estimate", "value", "low", "high", "n", "method"} <= set(estimates.columns)
    fits = pd.read_csv(tmp_path / "fits.csv")
    assert fits.groupby("duration")["chosen"].sum().eq(1).all()


def _true_scenario(truth: Truth, tmp_path: Path) -> cxsim.Scenario:
    """The generator's centre written as a cxsim scenario by hand (tier 2 without patience is the one
    difference: cxsim applies a contact's patience at every queue, so only tier-1 KPIs are compared)."""
    patience = {
        ch: ({"dist": f, "mean_s": m} if f == "exponential" else {"dist": f, "mean_s": m, "cv": cv})
        for ch, (f, m, cv) in truth.patience.items()
    }
    handle = {
        t: {ch: {"dist": "lognormal", "mean_s": m, "cv": cv} for (tt, ch), (m, cv) in truth.handle.items() if tt == t}
        for t in truth.staff
    }
    spec = {
        "name": "truth",
        "horizon": {"days": truth.days, "interval_min": 30},
        "channels": {
            ch: {
                "volume_per_day": v,
                "profile": list(truth.profile),
                "intents": truth.intents,
                "patience": patience[ch],
            }
            for ch, v in truth.per_day.items()
        },
        "intents": {
            i: {"bot_containment": p, "resolution": {"tier1": truth.resolution_tier1}}
            for i, p in truth.containment.items()
        },
        "bot": {
            "channels": list(truth.bot_channels),
            "handle_time": {"dist": "lognormal", "mean_s": truth.bot_time[0], "cv": truth.bot_time[1]},
        },
        "tiers": {t: {"staff": n, "handle_time": handle[t], "resolution": 1.0} for t, n in truth.staff.items()},
    }
    import yaml

    path = tmp_path / "truth.yaml"
    path.write_text(yaml.safe_dump(spec))
    return cxsim.load_scenario(path)


def test_replay_with_the_true_parameters_matches_the_log(generated_log: Path, truth: Truth, tmp_path: Path):
    """Replaying the logged arrivals through the true parameters puts the log's day KPIs inside the
    simulation's 95% prediction interval for one day (widened as above): SL, ASA, abandonment, occupancy."""
    scn = _true_scenario(truth, tmp_path)
    data = read_log(generated_log, LogSpec(timezone=truth.timezone, format="leg"))
    _, reps = replay(scn, trace(data, scn, logged_handle=False), replications=10, seed=1)
    per_interval, days = compare(actual_intervals(data, scn), reps, 86400.0)
    overall = days[(days["day"] == "all")].set_index(["scope", "name", "metric"])
    checked = [("channel", ch, m) for ch in truth.per_day for m in ("service_level", "asa_s", "abandon_rate")]
    checked.append(("tier", "tier1", "occupancy"))
    for key in checked:
        row = overall.loc[key]
        assert abs(row["difference"]) <= WIDEN * row["pi95"], (key, row.to_dict())
    voice_offered = overall.loc[("channel", "voice", "offered")]
    assert voice_offered["difference"] == 0  # no bot on voice: the trace fixes its offered contacts exactly
    assert per_interval["interval_start"].nunique() == 96


def _cxsim_log(scn: cxsim.Scenario, seed: int) -> pd.DataFrame:
    """A cxsim run's contact records written as a contact log (one row per contact, epoch seconds)."""
    res = cxsim.simulate(scn, replications=1, seed=seed, contacts=True)
    c = res.contacts[res.contacts["arrival_s"] < scn.horizon.end_s]  # an export covers the days it names
    origin = pd.Timestamp("2026-03-02", tz="UTC").timestamp()
    outcome = c["outcome"].astype(str).replace({"resolved": "answered", "unresolved": "answered"})
    return pd.DataFrame(
        {
            "contact_id": c["contact"],
            "customer_id": c["issue"],
            "channel": c["channel"].astype(str),
            "arrival": c["arrival_s"] + origin,
            "queue_entry": c["queue_entry_s"] + origin,
            "answer": c["first_answer_s"] + origin,
            "end": c["end_s"] + origin,
            "outcome": outcome,
            "tier": c["last_tier"].astype(str).where(c["queue_entry_s"].notna()),
        }
    )


def test_a_scenario_calibrated_from_a_cxsim_log_reproduces_its_kpis(tmp_path: Path):
    """Erlang A centre with recontacts -> cxsim log -> calibrate (roster = the true staff) -> simulate:
    the parameters fall in their intervals and SL, ASA and abandonment match the original's."""
    overrides = [
        "horizon.days=3",
        "horizon.warmup_min=0",
        "channels.voice.patience={dist:exponential,mean_s:150}",
        "tiers.tier1.staff=9",
        "recontact.probability=0.3",
        "recontact.delay={dist:exponential,mean_s:1800}",
    ]
    original = cxsim.load_scenario("mmc", overrides)
    log = tmp_path / "cxsim_log.csv"
    _cxsim_log(original, seed=5).to_csv(log, index=False)
    roster = tmp_path / "roster.csv"
    pd.DataFrame({"tier1": [9] * 48}).to_csv(roster, index=False)
    cal = calibrate(read_log(log), Settings(roster=str(roster)))
    assert covers(cal.patience["voice"].chosen.mean, 150.0)
    assert covers(cal.handle.fits[("tier1", "voice")].chosen.mean, 300.0)
    assert covers(cal.recontacts.probability, 0.3) and covers(cal.recontacts.delay_mean, 1800.0)
    write_calibration(cal, tmp_path / "cal", str(log))
    fitted = cxsim.load_scenario(tmp_path / "cal" / "scenario.yaml")
    a = cxsim.simulate(original, replications=8, seed=11)
    b = cxsim.simulate(fitted, replications=8, seed=11)
    for metric in ("service_level", "asa_s", "abandon_rate"):
        ma, mb = a.kpi(metric, "channel", "voice"), b.kpi(metric, "channel", "voice")
        ca = a.summary.set_index(["scope", "name", "metric"]).loc[("channel", "voice", metric), "ci95"]
        cb = b.summary.set_index(["scope", "name", "metric"]).loc[("channel", "voice", metric), "ci95"]
        # the calibrated parameters carry their own estimation error: allow the two runs' CIs plus 5% of the value
        assert abs(ma - mb) <= WIDEN * math.hypot(ca, cb) + 0.05 * abs(ma), (metric, ma, mb)


def test_empirical_handle_times_are_written_as_files(calibration, tmp_path: Path):
    """calibrate.handle_times=empirical writes each cell's observed values and the scenario resamples them."""
    empirical = dataclasses.replace(calibration, settings=Settings(handle_times="empirical"))
    write_calibration(empirical, tmp_path, "log.csv")
    scn = cxsim.load_scenario(tmp_path / "scenario.yaml")
    voice = scn.tiers[0].handle_time[scn.channel_index("voice")]
    assert type(voice).__name__ == "Empirical"
    assert voice.mean == pytest.approx(calibration.handle.samples[("tier1", "voice")].mean(), rel=1e-3)


def test_logged_handle_times_reach_the_world(generated_log: Path, truth: Truth, tmp_path: Path):
    """replay.handle_times=logged: every answered leg's draw is its logged handle time, the rest the model's."""
    scn = _true_scenario(truth, tmp_path)
    data = read_log(generated_log, LogSpec(timezone=truth.timezone, format="leg"))
    source = trace(data, scn, logged_handle=True)
    arrivals, draws = source(scn, cxsim.streams.Streams(0, 0))
    served = data.legs[(data.legs["tier"] == "tier1") & data.legs["answer"].notna()]
    logged = np.sort((served["end"] - served["answer"]).to_numpy())
    known = ~np.isnan(source.handle[0])
    assert known.sum() == len(served)
    np.testing.assert_allclose(np.sort(draws.handle[0][known]), logged, rtol=1e-6)
    assert np.isfinite(draws.handle[0][arrivals.channel == scn.channel_index("voice")]).all()


def test_volume_profile_pools_same_weekdays_or_kinds_of_day(tmp_path: Path):
    """Two weeks: each interval is its same-weekday mean. A few days: each day keeps its total, shaped by
    the pooled profile (so a day's expected volume sums to what it logged)."""
    small = Truth(days=14, per_day={"voice": 200.0, "chat": 100.0}, staff={"tier1": 6, "tier2": 2})
    legs, contacts = generate(small, seed=4)
    path = tmp_path / "two_weeks.csv"
    to_log(small, legs, contacts, layout="leg", times="epoch").to_csv(path, index=False)
    data = read_log(path, LogSpec(timezone=small.timezone, format="leg"))
    first = ~calibrate(data, Settings()).recontacts.is_recontact
    from cxsim.calibrate.volume import volume

    vol = volume(data, first, 30)
    assert vol.pooled_over == "the same weekday"
    observed = vol.observed["voice"].reshape(14, 48)
    np.testing.assert_allclose(vol.expected["voice"].reshape(14, 48)[:7], (observed[:7] + observed[7:]) / 2)
    few = dataclasses.replace(data, days=3, contacts=data.contacts[data.contacts["arrival"] < 3 * 86400])
    vol = volume(few, np.ones(len(few.contacts), bool), 30)
    assert vol.pooled_over.startswith("the same kind of day")
    np.testing.assert_allclose(
        vol.expected["voice"].reshape(3, 48).sum(axis=1), vol.observed["voice"].reshape(3, 48).sum(axis=1)
    )
    assert (
        np.ptp(
            vol.expected["voice"].reshape(3, 48) / vol.expected["voice"].reshape(3, 48).sum(axis=1, keepdims=True),
            axis=0,
        ).max()
        < 1e-12
    )

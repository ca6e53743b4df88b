"""Risk outputs: p10/p50/p90 are the spread of the replications, p_meet_sla the binomial share of
replication-days meeting the SLA target with Wilson's interval, and the console says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special, stats
from stats_helpers import within_ci
from test_cli import cxsim_refused

import cxsim
from cxsim import analytic
from cxsim.app import headline
from cxsim.experiment import run_replication
from cxsim.forecast import realised_volumes
from cxsim.risk import wilson
from cxsim.streams import Streams

LAMBDA, MU = 100 / 3600, 1 / 300  # mmc.yaml
REPS, SEED = 40, 5


@pytest.fixture(scope="module")
def risky() -> cxsim.Results:
    """M/M/12 at 8.33 Erlang with a gamma day multiplier (cv 0.1), one day per replication."""
    scn = cxsim.load_scenario("mmc", ["tiers.tier1.staff=12", "channels.voice.forecast_error={cv:0.1}"])
    return cxsim.simulate(scn, replications=REPS, seed=SEED)


def _day_multipliers(scn: cxsim.Scenario) -> np.ndarray:
    """The day multiplier each replication of `risky` drew (its own stream, replayed)."""
    per_day = scn.horizon.intervals_per_day
    volumes = scn.channels[0].volumes
    return np.asarray(
        [realised_volumes(scn.channels, None, per_day, Streams(SEED, r))[0][0] / volumes[0] for r in range(REPS)]
    )


def _erlang_sl(g: float, c: int = 12) -> float:
    """Erlang C SL (80/20) of M/M/c at the forecast rate times g (0 where the queue is unstable)."""
    return 0.0 if LAMBDA * g >= c * MU else analytic.mmc(LAMBDA * g, MU, c, threshold=20).service_level


def test_mmc_with_gamma_multiplier_averages_erlang_c(risky: cxsim.Results) -> None:
    """Each day's SL is Erlang C at the day's drawn rate, so the mean SL is Erlang C averaged over the gamma
    (scipy quadrature): 0.843, against 0.862 at the forecast rate."""
    g = _day_multipliers(risky.scenario)
    sl = risky.values("service_level")
    assert stats.spearmanr(g, sl).statistic < -0.5  # busier days answer later: the rate really moved
    # given the drawn rate the day is M/M/c: the paired difference has only within-day noise
    ok, msg = within_ci(sl - np.asarray([_erlang_sl(x) for x in g]), 0.0, slack=0.005)
    assert ok, f"day SL - Erlang C at the day's rate: {msg}"
    mean, _ = integrate.quad(lambda x: _erlang_sl(x) * stats.gamma.pdf(x, 100, scale=0.01), 0, 12 * MU / LAMBDA)
    ok, msg = within_ci(sl, mean, slack=0.005)  # a day of finite length starts empty: slightly better SL
    assert ok, f"mean SL vs quadrature: {msg}"


def test_wilson_matches_scipy() -> None:
    """Our Wilson score interval is scipy's (binomtest ... proportion_ci(method='wilson'))."""
    for k, n in ((0, 20), (3, 20), (20, 20), (31, 40), (1, 1)):
        low, high = wilson(np.asarray([k / n]), np.asarray([n]))
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert np.allclose([low[0], high[0]], [ci.low, ci.high], atol=1e-12)


def test_spread_columns_are_quantiles_of_replications(risky: cxsim.Results) -> None:
    """p10, p50, p90 of a KPI are the quantiles of its per-replication values; the mean and CI stay."""
    row = risky.summary.set_index(["scope", "name", "metric"]).loc[("channel", "voice", "service_level")]
    values = risky.values("service_level", "channel", "voice")
    assert np.allclose([row.p10, row.p50, row.p90], np.quantile(values, [0.1, 0.5, 0.9]))
    assert row["mean"] == pytest.approx(values.mean()) and row.n == 40
    assert list(risky.summary.columns) == ["scope", "name", "metric", "mean", "ci95", "n", "p10", "p50", "p90"]


def test_p_meet_sla_is_the_share_of_days_at_target_with_wilson_bounds(risky: cxsim.Results) -> None:
    """p_meet_sla = days with SL >= target / days; its low/high rows are Wilson's 95% interval, ci95 covers it;
    per interval, the share of replications whose interval SL met the target."""
    s = risky.summary.set_index(["scope", "name", "metric"])
    sl = risky.values("service_level", "channel", "voice")
    k, n = int((sl >= 0.8).sum()), len(sl)
    share = s.loc[("channel", "voice", "p_meet_sla")]
    assert share["mean"] == pytest.approx(k / n) and share.n == n
    low, high = wilson(np.asarray([k / n]), np.asarray([n]))
    assert s.loc[("channel", "voice", "p_meet_sla_low"), "mean"] == pytest.approx(low[0])
    assert s.loc[("channel", "voice", "p_meet_sla_high"), "mean"] == pytest.approx(high[0])
    assert share.ci95 == pytest.approx(max(k / n - low[0], high[0] - k / n))
    small = cxsim.simulate(risky.scenario, replications=6, seed=SEED)
    iv = small.intervals
    for start in (36000.0, 54000.0):
        one = iv[(iv.scope == "channel") & (iv.metric == "p_meet_sla") & (iv.interval_start == start)].iloc[0]
        met = []
        for r in range(6):
            rep = run_replication(risky.scenario, SEED, r, False)[1]
            value = rep[(rep.scope == "channel") & (rep.metric == "service_level") & (rep.interval_start == start)]
            met.append(float(value["value"].iloc[0]) >= 0.8)
        assert one["mean"] == pytest.approx(np.mean(met)) and one.n == 6


def test_p_meet_sla_is_binomially_consistent_with_theory(risky: cxsim.Results) -> None:
    """Days meet 80/20 when Erlang C at the day's rate (plus within-day noise, measured) reaches 0.8: the
    count of days met is a Binomial(40, p) draw with p from quadrature over the gamma multiplier."""
    g = _day_multipliers(risky.scenario)
    erlang = _erlang_sl
    sl = risky.values("service_level", "channel", "voice")
    noise = float(np.std(sl - np.asarray([erlang(x) for x in g]), ddof=1))
    p, _ = integrate.quad(
        lambda x: special.ndtr((erlang(x) - 0.8) / noise) * stats.gamma.pdf(x, 100, scale=0.01), 0.5, 1.6, limit=200
    )
    k = round(risky.kpi("p_meet_sla", "channel", "voice") * REPS)
    assert stats.binomtest(k, REPS, p).pvalue > 0.001, (k, p)


def test_days_are_counted_per_replication_day() -> None:
    """A two-day replication is two days: p_meet_sla counts 2 x replications, in halves per replication."""
    scn = cxsim.load_scenario("mmc", ["horizon.days=2", "tiers.tier1.staff=11", "channels.voice.volume_per_day=600"])
    res = cxsim.simulate(scn, replications=3, seed=1)
    assert res.summary.set_index(["scope", "name", "metric"]).loc[("channel", "voice", "p_meet_sla"), "n"] == 6
    assert set(res.values("p_meet_sla", "channel", "voice")) <= {0.0, 0.5, 1.0}


def test_console_says_how_often_the_sla_is_met(risky: cxsim.Results) -> None:
    """The headline names the share of days next to the mean SL: 'voice meets 80/20 on N% of days'."""
    text = headline(risky)
    share = risky.kpi("p_meet_sla", "channel", "voice")
    assert f"voice meets 80/20 on {share:.0%} of days" in text
    assert "days met" in text.splitlines()[1]


def test_cli_rejects_bad_risk_settings_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative cv: `cxsim: error: <key>: <rule>` on one line, exit 2, nothing written (the other rules are
    checked through the API in test_forecast.py)."""
    args = ("scenario=mmc", "channels.voice.forecast_error={cv:-0.2}", "progress=false")
    code, out, err = cxsim_refused(tmp_path, monkeypatch, capsys, *args)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cxsim: error: "), lines
    assert lines[0].startswith("cxsim: error: channels.voice.forecast_error.cv: must be >= 0")
    assert not (tmp_path / "results").exists() and not (tmp_path / "outputs").exists()

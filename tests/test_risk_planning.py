"""Planning to a risk level (`staffing.confidence_of_meeting`): the judge holds the share of
replication-days meeting the SL target to the required share, with a binomial standard error; on
M/M/c with a gamma day multiplier the plan is Erlang C at the multiplier's quantile; null is the
mean-based planner unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtri
from test_planning import SHORT_MMC, _cxsim

import cxsim
from cxsim import analytic
from cxsim.errors import ConfigError
from cxsim.planning import plan_staffing
from cxsim.planning.evaluate import Evaluation
from cxsim.planning.risk_judge import share_of_days
from cxsim.planning.search import Search, Settings

GAMMA_CV = 0.1  # forecast error of the anchor: a gamma day multiplier, mean 1, cv 10%


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1])
def test_confidence_of_meeting_must_be_a_share_strictly_between_0_and_1(share: float) -> None:
    """0 would ask nothing and 1 every day without exception (no finite plan can prove it)."""
    with pytest.raises(ConfigError, match=r"staffing\.confidence_of_meeting"):
        Settings(confidence_of_meeting=share).check()
    with pytest.raises(ConfigError, match=r"staffing\.confidence_of_meeting"):
        plan_staffing(cxsim.load_scenario("mmc", SHORT_MMC), confidence_of_meeting=share)


def test_cxsim_staff_rejects_a_bad_share_in_one_line(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    done = _cxsim(
        "staff", "scenario=mmc", "staffing.confidence_of_meeting=1.5", f"hydra.run.dir={run_dir}", cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "staffing.confidence_of_meeting" in done.stderr
    assert not run_dir.exists()


def synthetic(meeting: int, days: int, met_num: float = 85, missed_num: float = 70) -> Evaluation:
    """An evaluation of SHORT_MMC's one queue without simulating: 100 contacts in the SL's
    denominator in every interval of every replication, `meeting` of `days` replications answering
    `met_num` of them in time (SL above 80%), the others `missed_num`."""
    n_int = 12
    data = np.zeros((days, 6, 1, n_int))
    data[:, 1] = data[:, 3] = 100.0  # SL denominator, offered
    data[:, 0] = np.where(np.arange(days) < meeting, met_num, missed_num)[:, None, None]
    data[:, 4], data[:, 5] = 50.0, 100.0  # busy, present agent-seconds (occupancy is not judged here)
    return Evaluation(plan=np.full((1, n_int), 12), seed=0, data=data, n_cells=1, n_tiers=1)


def search_for(share: float | None, target: str = "interval", confidence: float = 0.95) -> Search:
    settings = Settings(target=target, confidence=confidence, confidence_of_meeting=share)
    return Search(cxsim.load_scenario("mmc", SHORT_MMC), settings, 10, 0, lambda _msg: None)


def test_share_of_days_and_its_standard_error() -> None:
    """q = met / n; the standard error sits at the Agresti-Coull centre (met + 2) / (n + 4), so a share
    of 1 (or 0) still has noise; a day nobody reached counts as met."""
    num = np.array([85.0] * 7 + [70.0] * 3)
    den = np.full(10, 100.0)
    q, se = share_of_days(num, den, 0.8)
    assert q == pytest.approx(0.7)
    assert se == pytest.approx(np.sqrt(9 / 14 * 5 / 14 / 14))
    q, se = share_of_days(np.full(10, 85.0), den, 0.8)
    assert q == 1 and se == pytest.approx(np.sqrt(12 / 14 * 2 / 14 / 14)) and se > 0
    q, _ = share_of_days(np.array([80.0, 0.0, 79.0]), np.array([100.0, 0.0, 100.0]), 0.8)
    assert q == pytest.approx(2 / 3)  # exactly at the target meets it; an empty day meets it


@pytest.mark.parametrize("target", ["interval", "day"])
def test_judge_holds_the_share_of_days_to_the_required_share(target: str) -> None:
    """7 of 10 days meet 80/20 in every interval (q = 0.7): at p = 0.9 the upper bound
    q + z x se = 0.911 (z = 1.645) still reaches 0.9, a close call; 70 of 100 days give 0.775, a
    clear miss; at p = 0.6 the share passes. Per interval with target=interval, for the day's SL
    (each replication's intervals summed) with target=day. The mean SL, 80.5%, meets the target."""
    z = float(ndtri(0.95))
    live = np.arange(12) >= 2  # SHORT_MMC: the first two intervals are the warm-up
    for meeting, days, share, verdict in ((7, 10, 0.9, "close"), (70, 100, 0.9, "clear"), (7, 10, 0.6, "pass")):
        centre = (meeting + 2) / (days + 4)
        bound = meeting / days + z * np.sqrt(centre * (1 - centre) / (days + 4))
        assert (bound < share) == (verdict == "clear")  # the z-bound says so, computed here by hand
        j = search_for(share, target).judge(synthetic(meeting, days))
        fail, close = (j.fail[0], j.close[0]) if target == "interval" else (j.day_fail, j.day_close)
        if target == "interval":
            assert not fail[~live].any() and not close[~live].any()  # the warm-up is never judged
            fail, close = fail[live], close[live]
        assert fail.all() == (verdict == "clear") and fail.any() == (verdict == "clear"), (meeting, days, share)
        assert close.all() == (verdict == "close") and close.any() == (verdict == "close"), (meeting, days, share)
    mean = search_for(None, target).judge(synthetic(70, 100))
    assert mean.feasible and not mean.close.any() and not mean.day_close.any()


def test_a_share_miss_adds_staff_where_the_missed_days_fall_short() -> None:
    """The step of added heads follows the SL a cell lacks on its (1 - p)-worst day: 8 points short
    (SL 72% for 80%) adds one head, 30 points short (SL 50%) three, as the mean-based rule would.
    The day misses too (its share is also 0.7), which adds one head where the missed days fall short."""
    search = search_for(0.9)
    for missed, step in ((72.0, 1), (50.0, 3)):
        ev = synthetic(70, 100, missed_num=missed)
        j = search.judge(ev)
        assert j.shortfall[0, 2:] == pytest.approx(0.8 - missed / 100) and j.day_fail.all()
        plan = search.add_where_missing(ev.plan, ev, j)
        assert (plan[0, 2:] - ev.plan[0, 2:] == step + 1).all(), (missed, plan)
        assert (plan[0, :2] == ev.plan[0, :2]).all()  # the warm-up keeps its staffing


def test_null_plans_by_the_mean_as_before() -> None:
    """confidence_of_meeting null is today's planner: the same heads as the mean-based plan a risk-based
    run shows beside its own, no risk columns, and no extra plan in the comparison."""
    scn = cxsim.load_scenario("mmc", [*SHORT_MMC, f"channels.voice.forecast_error={{cv: {GAMMA_CV}}}"])
    kwargs = {"replications": 10, "seed": 3, "check_replications": 20, "max_repairs": 0}
    mean = plan_staffing(scn, **kwargs)
    risky = plan_staffing(scn, confidence_of_meeting=0.6, **kwargs)
    assert np.array_equal(risky.heads("simulated_mean").to_numpy(), mean.heads().to_numpy())
    assert list(mean.comparison.plan) == ["simulated", "erlang_a", "erlang_c"]
    assert not any(c.startswith(("days_met", "worst_interval_days_met")) for c in mean.comparison.columns)
    assert "days_met" not in mean.check.columns
    assert list(risky.comparison.plan) == ["simulated", "erlang_a", "erlang_c", "simulated_mean"]
    assert {"days_met_voice", "worst_interval_days_met_voice"} <= set(risky.comparison.columns)
    assert "mean-based" in risky.describe() and "days met" in risky.describe()


def erlang_c_at_quantile(lam: float, mu: float, share: float) -> int:
    """Fewest agents meeting 80/20 (Erlang C) at the forecast rate times the gamma's `share` quantile."""
    shape = 1 / GAMMA_CV**2
    return analytic.staff_erlang_c(lam * stats.gamma.ppf(share, shape, scale=1 / shape), mu, 20, 0.8)


@pytest.mark.slow
def test_day_plan_at_90_percent_is_erlang_c_at_the_gammas_90_percent_quantile() -> None:
    """M/M/c, 30 calls a minute, 60 s handle time (30 Erlang), gamma day multiplier G (cv 0.1),
    target over the day, p = 0.9. A day's SL is Erlang C at the day's rate plus a little within-day
    noise, so P(day meets 80/20) = P(SL_c(lambda G) >= 0.8) = P(G <= g*(c)); it reaches 0.9 at the
    fewest c with SL_c(lambda G_0.9) >= 0.8, G_0.9 the gamma's 90% quantile (1.130): c = 37 (36
    meets on 85% of days, 38 on 95%). Tolerance ±1 head: the search decides shares on 40-80
    replications (standard error 0.03-0.05, the width of one head's 5-10 points of share) and the
    check lets pass a share within its noise of 0.9. The mean-based plan (G's mean, about 35) is
    lower."""
    scn = cxsim.load_scenario(
        "mmc",
        [
            "channels.voice.volume_per_day=43200",
            "tiers.tier1.handle_time.voice.mean_s=60",
            "horizon.days=0.125",
            "horizon.warmup_min=30",
            f"channels.voice.forecast_error={{cv: {GAMMA_CV}}}",
        ],
    )
    plan = plan_staffing(scn, replications=40, seed=3, target="day", confidence_of_meeting=0.9)
    c = erlang_c_at_quantile(0.5, 1 / 60, 0.9)
    assert c == 37
    judged = np.arange(1, scn.horizon.n_intervals + 1) * scn.horizon.interval_s > scn.horizon.warmup_s
    heads = plan.heads().to_numpy()[judged, 0]
    mean_heads = plan.heads("simulated_mean").to_numpy()[judged, 0]
    assert abs(heads.mean() - c) <= 1, heads
    assert mean_heads.mean() < heads.mean(), (mean_heads, heads)
    row = plan.comparison.set_index("plan")
    assert row.loc["simulated", "days_met_voice"] > row.loc["simulated_mean", "days_met_voice"]
    assert plan.meets_target

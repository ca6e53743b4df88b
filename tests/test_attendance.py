"""Shrinkage and absence turn scheduled heads into productive agents whose mean is what planners mean:
heads x (1 - absence) x (1 - shrinkage), with binomial spread (attendance.py)."""

from __future__ import annotations

import numpy as np
from stats_helpers import within_ci

import cxsim
from cxsim.attendance import expected_agents, present_heads, productive_agents

LIGHT = ["channels.voice.volume_per_day=240", "tiers.tier1.handle_time.voice.mean_s=60"]  # few, short contacts


def _binomial_ok(k: int, n: int, p: float, sigmas: float = 4.5) -> bool:
    """Is a count `k` of `n` trials within `sigmas` binomial standard deviations of n p?"""
    return abs(k - n * p) <= sigmas * np.sqrt(n * p * (1 - p)) + 1e-9


def test_productive_agents_have_mean_heads_times_one_minus_shrinkage() -> None:
    """x = heads x (1 - s) gives floor(x) or floor(x) + 1, the latter with probability frac(x): mean x."""
    heads = np.asarray([5, 7, 10, 13, 3, 1])
    x = expected_agents(heads, 0.3)  # 3.5, 4.9, 7.0, 9.1, 2.1, 0.7
    n = 20_000
    draws = productive_agents(np.tile(heads, n), 0.3, np.random.default_rng(1)).reshape(n, len(heads))
    for j, xj in enumerate(x):
        low = np.floor(round(xj, 9))
        assert set(np.unique(draws[:, j])) <= {low, low + 1}
        frac = round(xj - low, 9)
        assert _binomial_ok(int((draws[:, j] == low + 1).sum()), n, frac), (heads[j], draws[:, j].mean(), xj)
    assert (draws[:, 2] == 7).all()  # 10 heads at 30%: exactly 7 (no rounding trap at 6.999...)


def test_whole_agents_are_not_random() -> None:
    """Without shrinkage, whole heads are the agents: nothing is left to chance."""
    heads = np.asarray([0, 4, 12])
    assert productive_agents(heads, 0.0, np.random.default_rng(0)).tolist() == [0, 4, 12]


def test_absence_is_binomial_per_head_and_day() -> None:
    """Each head scheduled on a day is away all day with probability a: every interval's present heads
    are Binomial(h, 1 - a); within a day an interval with more heads never has fewer present."""
    day = np.asarray([0.0, 3, 10, 10, 6, 2])
    n_days, a = 5_000, 0.2
    present = present_heads(np.tile(day, n_days), a, len(day), np.random.default_rng(2)).reshape(n_days, len(day))
    for j, h in enumerate(day):
        mean, var = present[:, j].mean(), present[:, j].var(ddof=1)
        assert abs(mean - h * (1 - a)) <= 4.5 * np.sqrt(h * a * (1 - a) / n_days) + 1e-12
        if h:
            assert abs(var / (h * a * (1 - a)) - 1) < 0.1
    assert (present[:, 2] == present[:, 3]).all()  # the same ten people all day
    assert (present[:, 4] <= present[:, 2]).all() and (present[:, 1] <= present[:, 4]).all()


def test_simulated_agents_follow_the_shrinkage_rule() -> None:
    """In a run, 10 heads at 25% shrinkage put 7.5 agents on the floor on average (7 or 8 each interval)."""
    scn = cxsim.load_scenario("mmc", [*LIGHT, "tiers.tier1.shrinkage=0.25"])
    assert scn.tiers[0].agents.tolist() == [7.5] * 48
    res = cxsim.simulate(scn, replications=10, seed=3)
    per_interval = res.intervals.query("scope == 'tier' and metric == 'agents'")["mean"]
    assert per_interval.between(7.0, 8.0).all()
    ok, msg = within_ci(res.values("agents", "tier", "tier1"), 7.5, slack=0.02)  # leavers finish their contact
    assert ok, msg


def test_simulated_absence_removes_whole_heads_for_the_day() -> None:
    """10 flat heads with absence 0.1: each replication-day has 10 - Binomial(10, 0.1) agents all day."""
    scn = cxsim.load_scenario("mmc", [*LIGHT, "tiers.tier1.absence=0.1"])
    res = cxsim.simulate(scn, replications=40, seed=4)
    agents = res.values("agents", "tier", "tier1")
    assert np.allclose(agents, np.round(agents), atol=1e-9)
    ok, msg = within_ci(agents, 9.0)
    assert ok, msg
    assert 0.3 < agents.var(ddof=1) / 0.9 < 2.0  # Binomial(10, 0.1) variance 0.9 (chi-square/39 at 99.9%: 0.46-1.83)

"""The simulator held to queueing theory: Erlang C, Erlang A, Jackson networks, Little's law.

Each check runs independent replications with a fixed seed and asks that the theoretical
value lie inside the 99.9% t-interval of the replication mean (conftest.within_ci), so a
failure means a real disagreement, not noise; horizons are long and a warm-up removes the
empty-start bias.
"""

from __future__ import annotations

import pytest
from stats_helpers import DATA, within_ci

import cxsim
from cxsim import analytic

LAMBDA = 100 / 3600  # mmc.yaml: 2,400 contacts/day
MU = 1 / 300


@pytest.fixture(scope="module")
def erlang_c_run() -> cxsim.Results:
    scn = cxsim.load_scenario("mmc", ["horizon.days=4", "horizon.warmup_min=120"])
    return cxsim.simulate(scn, replications=20, seed=11)


def test_mmc_matches_erlang_c_asa_and_service_level(erlang_c_run: cxsim.Results) -> None:
    """M/M/10 at 8.33 Erlang: ASA and SL = 1 - C e^{-(c mu - lambda) T} as Erlang C predicts."""
    theory = analytic.mmc(LAMBDA, MU, 10, threshold=20)
    for metric, expected in (("asa_s", theory.asa), ("service_level", theory.service_level)):
        ok, msg = within_ci(erlang_c_run.values(metric), expected)
        assert ok, f"{metric}: {msg}"


def test_mmc_occupancy_is_offered_load_over_agents(erlang_c_run: cxsim.Results) -> None:
    """Busy agent-time / staffed agent-time converges to a / c (Little's law on the servers)."""
    ok, msg = within_ci(erlang_c_run.values("occupancy", "tier", "tier1"), LAMBDA / MU / 10)
    assert ok, msg


def test_mmc_probability_of_wait_matches_erlang_c() -> None:
    """With T = 0, SL is the share answered without waiting: 1 - C(c, a)."""
    scn = cxsim.load_scenario(
        "mmc", ["horizon.days=4", "horizon.warmup_min=120", "channels.voice.sla.answer_within_s=0"]
    )
    res = cxsim.simulate(scn, replications=20, seed=12)
    ok, msg = within_ci(res.values("service_level"), 1 - analytic.erlang_c(10, LAMBDA / MU))
    assert ok, msg


@pytest.mark.parametrize("staff", [9, pytest.param(12, marks=pytest.mark.slow)])
def test_erlang_c_across_staffing(staff: int) -> None:
    """The agreement holds at heavy (92.6%) and light (69.4%, -m slow: 10 agents are checked above) occupancy."""
    scn = cxsim.load_scenario("mmc", ["horizon.days=4", "horizon.warmup_min=120", f"tiers.tier1.staff={staff}"])
    res = cxsim.simulate(scn, replications=20, seed=13)
    theory = analytic.mmc(LAMBDA, MU, staff, threshold=20)
    ok, msg = within_ci(res.values("service_level"), theory.service_level)
    assert ok, msg


def test_mmc_with_patience_matches_erlang_a() -> None:
    """M/M/c+M: abandonment rate, P(wait) and the answered SL follow Erlang A (exact birth-death)."""
    common = [
        "horizon.days=4",
        "horizon.warmup_min=120",
        "tiers.tier1.staff=9",
        "channels.voice.patience={dist:exponential,mean_s:180}",
    ]
    theory = analytic.erlang_a(LAMBDA, MU, 9, 1 / 180, threshold=20)
    res = cxsim.simulate(cxsim.load_scenario("mmc", common), replications=20, seed=21)
    ok, msg = within_ci(res.values("abandon_rate"), theory.p_abandon)
    assert ok, f"abandon_rate: {msg}"
    ok, msg = within_ci(res.values("service_level"), theory.service_level)
    assert ok, f"service_level: {msg}"
    ok, msg = within_ci(res.values("wait_mean_s"), theory.mean_wait)
    assert ok, f"wait_mean_s: {msg}"
    no_wait = cxsim.simulate(
        cxsim.load_scenario("mmc", [*common, "channels.voice.sla.answer_within_s=0"]), replications=20, seed=21
    )
    ok, msg = within_ci(
        1 - no_wait.values("service_level") - no_wait.values("abandon_rate"), theory.p_wait - theory.p_abandon
    )
    assert ok, f"P(wait and answered): {msg}"


def test_overloaded_queue_with_patience_is_stable_and_matches_erlang_a() -> None:
    """lambda > c mu: without patience the queue explodes; with it Erlang A still holds."""
    overrides = [
        "horizon.days=3",
        "horizon.warmup_min=120",
        "tiers.tier1.staff=7",
        "channels.voice.patience={dist:exponential,mean_s:120}",
    ]
    res = cxsim.simulate(cxsim.load_scenario("mmc", overrides), replications=15, seed=22)
    theory = analytic.erlang_a(LAMBDA, MU, 7, 1 / 120, threshold=20)
    ok, msg = within_ci(res.values("abandon_rate"), theory.p_abandon)
    assert ok, msg


@pytest.fixture(scope="module")
def jackson_run() -> tuple[cxsim.Results, list[analytic.JacksonNode]]:
    scn = cxsim.load_scenario(DATA / "jackson.yaml")
    nodes = analytic.tier_chain(
        0.05,
        escalation=[0.3, 0.4],
        service_rates=[1 / 300, 1 / 500, 1 / 400],
        servers=[18, 10, 4],
        thresholds=[30, 30, 30],
    )
    return cxsim.simulate(scn, replications=20, seed=31), nodes


@pytest.mark.parametrize(("k", "tier"), [(0, "tier1"), (1, "tier2"), (2, "escalation")])
def test_tier_chain_matches_jackson_network(jackson_run, k: int, tier: str) -> None:
    """Each tier is M/M/c at its effective arrival rate: per-tier mean waits and offered volumes."""
    res, nodes = jackson_run
    ok, msg = within_ci(res.values("asa_s", "tier", tier), nodes[k].metrics.asa)
    assert ok, f"{tier} ASA: {msg}"
    window_s = 4 * 86400 - 7200
    ok, msg = within_ci(res.values("offered", "tier", tier), nodes[k].arrival_rate * window_s)
    assert ok, f"{tier} offered: {msg}"


def test_littles_law_on_the_queue() -> None:
    """Time-average queue length per interval equals arrival rate x mean wait (L = lambda W)."""
    scn = cxsim.load_scenario("mmc", ["horizon.days=2", "horizon.warmup_min=60", "tiers.tier1.staff=9"])
    res = cxsim.simulate(scn, replications=10, seed=41)
    iv = res.intervals
    queue = iv[(iv.scope == "channel") & (iv.metric == "queue_mean")]["mean"].mean()
    theory = analytic.mmc(LAMBDA, MU, 9)
    # both sides from the same runs: L (time average) vs lambda x W (customer average)
    lam_w = LAMBDA * res.kpi("wait_mean_s")
    assert queue == pytest.approx(lam_w, rel=0.05), (queue, lam_w)
    assert queue == pytest.approx(theory.mean_queue, rel=0.25), (queue, theory.mean_queue)

"""The projected-satisfaction model: its shape, its calibration anchors, overrides, a swapped-in
model, NPS, and that more staff never projects lower CSAT under common random numbers."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import cxsim
from cxsim.errors import ConfigError
from cxsim.satisfaction import DefaultCoefficients, DefaultSatisfaction, Experience, nps_from_csat

MODEL = DefaultSatisfaction()


def experience(n: int = 1, **values) -> Experience:
    """A reference experience (answered at once by a person, resolved, first contact), with changes."""
    base = {
        "wait_s": np.zeros(n),
        "abandoned": np.zeros(n, bool),
        "contained": np.zeros(n, bool),
        "bot_handoff": np.zeros(n, bool),
        "transfers": np.zeros(n, int),
        "resolved": np.ones(n, bool),
        "attempt": np.zeros(n, int),
        "hold_s": np.zeros(n),
        "realtime": np.ones(n, bool),
        "promise_s": np.full(n, 20.0),
    }
    base.update({k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in values.items()})
    return Experience(**base)


def p(**values) -> float:
    return float(MODEL.score(experience(**values))[0])


# ---------------------------------------------------------------- shape


def test_csat_is_flat_within_tolerance_then_falls_with_wait() -> None:
    """Waits up to the tolerance (2 min) cost nothing; beyond it CSAT falls strictly with every second."""
    waits = np.arange(0, 3601, 5.0)
    scores = MODEL.score(experience(len(waits), wait_s=waits))
    inside = waits <= DefaultCoefficients().tolerance_s
    assert np.all(scores[inside] == scores[0])
    assert np.all(np.diff(scores[~inside]) < 0)


def test_hold_after_a_transfer_counts_as_waiting() -> None:
    """Time queued at the next tier adds to the perceived wait."""
    assert p(wait_s=100, hold_s=200) == pytest.approx(p(wait_s=300))
    assert p(wait_s=100, hold_s=200) < p(wait_s=100)


def test_csat_falls_with_each_transfer_and_with_abandonment() -> None:
    """Each transfer lowers CSAT; abandoning is worse than an unresolved answer, which is worse than resolved."""
    by_transfers = [p(transfers=k) for k in range(5)]
    assert all(a > b for a, b in pairwise(by_transfers))
    assert p(abandoned=True, resolved=False, wait_s=200) < p(resolved=False, wait_s=200) < p(wait_s=200)
    by_attempt = [p(attempt=k) for k in range(4)]
    assert all(a > b for a, b in pairwise(by_attempt))


def test_bot_paths_rank_as_documented() -> None:
    """Straight to a person > contained by the bot > handed off after a failed bot attempt."""
    assert p() > p(contained=True) > p(bot_handoff=True)


def test_deferred_contacts_are_judged_against_the_promised_answer_time() -> None:
    """An email answered within its promise (hours) costs nothing; each hour late costs CSAT."""
    email = {"realtime": False, "promise_s": 86400.0}
    assert p(wait_s=80000, **email) == p()
    assert p(wait_s=86400 + 3600, **email) < p(wait_s=86400, **email)
    assert p(wait_s=86400 + 7200, **email) < p(wait_s=86400 + 3600, **email)


@settings(max_examples=200, deadline=None)
@given(
    wait=st.floats(0, 7200),
    extra_wait=st.floats(0, 3600),
    transfers=st.integers(0, 4),
    attempt=st.integers(0, 3),
    abandoned=st.booleans(),
    resolved=st.booleans(),
    bot=st.sampled_from(["none", "contained", "handoff"]),
    realtime=st.booleans(),
)
def test_more_wait_more_transfers_or_abandoning_never_raise_csat(
    wait, extra_wait, transfers, attempt, abandoned, resolved, bot, realtime
) -> None:
    """Property: from any experience, waiting longer, one more transfer, or abandoning never raises CSAT."""
    resolved = resolved and not abandoned
    e = experience(
        wait_s=wait,
        transfers=transfers,
        attempt=attempt,
        abandoned=abandoned,
        resolved=resolved,
        contained=bot == "contained",
        bot_handoff=bot == "handoff",
        realtime=realtime,
        promise_s=20.0 if realtime else 3600.0,
    )
    score = MODEL.score(e)[0]
    assert 0.0 < score < 1.0
    assert MODEL.score(replace(e, wait_s=e.wait_s + extra_wait))[0] <= score
    assert MODEL.score(replace(e, transfers=e.transfers + 1))[0] < score
    assert MODEL.score(replace(e, abandoned=np.ones(1, bool), resolved=np.zeros(1, bool)))[0] <= score


# ---------------------------------------------------------------- calibration anchors (docs/satisfaction.md)


def test_reference_contact_and_fcr_ratio() -> None:
    """Reference contact ~0.85; resolved first contacts ~33% above not-first-contact-resolved (SQM)."""
    assert p() == pytest.approx(0.85, abs=0.005)
    assert p() / p(resolved=False) == pytest.approx(1.33, abs=0.01)
    assert p() / p(attempt=1) == pytest.approx(1.33, abs=0.01)


def test_transferred_callers_about_12_percent_lower() -> None:
    """With SQM's mix (19% transferred, their FCR 14% lower, overall FCR 70% assumed), transferred
    callers project ~12% lower CSAT than the others, the lower FCR included."""
    fcr, share = 0.70, 0.19
    fcr_direct = fcr / ((1 - share) + share * 0.86)
    fcr_transferred = 0.86 * fcr_direct
    direct = fcr_direct * p() + (1 - fcr_direct) * p(resolved=False)
    transferred = fcr_transferred * p(transfers=1) + (1 - fcr_transferred) * p(transfers=1, resolved=False)
    assert transferred / direct == pytest.approx(0.88, abs=0.005)


def test_five_minute_wait_about_15_percent_lower() -> None:
    """A 5-minute wait projects ~15% lower CSAT than an immediate answer (SQM's hold effect, by analogy)."""
    assert p(wait_s=300) / p() == pytest.approx(0.85, abs=0.005)


def test_contained_and_handoff_levels() -> None:
    """Bot-contained ~0.80; a handoff costs as much as a transfer (the documented assumptions)."""
    assert p(contained=True) == pytest.approx(0.80, abs=0.005)
    assert p(bot_handoff=True) == pytest.approx(p(transfers=1))


def test_nps_mapping() -> None:
    """NPS = 100 (0.6 p - 0.8 (1 - p)): +60 when everyone is satisfied, -80 when no one is."""
    assert nps_from_csat(np.asarray([1.0, 0.0, 0.85])) == pytest.approx([0.6, -0.8, 0.39])


# ---------------------------------------------------------------- in scenarios

SHORT = ["horizon.days=0.5", "horizon.warmup_min=30"]


def test_coefficient_overrides_reach_the_model() -> None:
    """`satisfaction.coefficients.X=...` changes the projection; a value that is not a number fails clearly."""
    scn = cxsim.load_scenario("mmc", [*SHORT, "satisfaction.coefficients.base=0.0"])
    res = cxsim.simulate(scn, replications=2, seed=1)
    assert scn.satisfaction.coefficients.base == 0.0
    assert res.kpi("csat") <= 0.5
    with pytest.raises(ConfigError, match=r"satisfaction\.coefficients\.transfer"):
        cxsim.load_scenario("mmc", ["+satisfaction.coefficients.transfer=abc"])


class ConstantModel:
    """A researcher's model: everyone is satisfied with the same probability."""

    def __init__(self, probability: float = 0.5) -> None:
        self.probability = probability

    def score(self, experience: Experience) -> np.ndarray:
        return np.full(len(experience.wait_s), self.probability)


def test_a_researcher_swaps_the_model_with_target() -> None:
    """`satisfaction.model: {_target_: ...}` builds the class; its scores are what CSAT averages,
    and NPS falls back to the documented mapping."""
    scn = cxsim.load_scenario(
        "mmc",
        [
            *SHORT,
            "satisfaction.model={_target_:test_satisfaction.ConstantModel,probability:0.3}",
            "satisfaction.nps=true",
        ],
    )
    assert isinstance(scn.satisfaction, ConstantModel)
    res = cxsim.simulate(scn, replications=2, seed=1)
    assert np.allclose(res.values("csat"), 0.3)
    assert np.allclose(res.values("nps"), 100 * (0.6 * 0.3 - 0.8 * 0.7))
    assert np.allclose(res.values("csat", "tier", "tier1"), 0.3)
    with pytest.raises(ConfigError, match=r"satisfaction\.model"):
        cxsim.load_scenario("mmc", ["satisfaction.model={_target_:test_satisfaction.NoSuchModel}"])


def test_nps_only_when_asked_and_consistent_with_csat() -> None:
    """`satisfaction.nps=true` adds `nps` (points) everywhere CSAT is; with the default mapping,
    NPS = 100 (1.4 CSAT - 0.8) exactly, per replication and scope."""
    plain = cxsim.simulate(cxsim.load_scenario("mmc", SHORT), replications=2, seed=1)
    assert "nps" not in set(plain.summary.metric)
    res = cxsim.simulate(cxsim.load_scenario("mmc", [*SHORT, "satisfaction.nps=true"]), replications=2, seed=1)
    for scope, name in (("overall", "all"), ("channel", "voice"), ("tier", "tier1")):
        assert np.allclose(res.values("nps", scope, name), 100 * (1.4 * res.values("csat", scope, name) - 0.8))
    assert "nps" in set(res.intervals.metric)


def test_transferred_contacts_pull_tier_csat_down() -> None:
    """Contacts reaching tier2 were transferred at least once, so tier2's projected CSAT is below tier1's."""
    res = cxsim.simulate(cxsim.load_scenario("baseline"), replications=2, seed=2)
    assert res.kpi("csat", "tier", "tier2") < res.kpi("csat", "tier", "tier1")


def _paired_check(low: cxsim.Results, high: cxsim.Results) -> None:
    """More staff never projects lower CSAT: every replication's paired difference (same seed, so
    the same customers) is above -tol, and the mean difference is above +tol, where tol is the
    half-width of the 99% t-interval of the mean paired difference (the noise of the comparison)."""
    d = high.values("csat") - low.values("csat")
    tol = stats.t.ppf(0.995, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    assert d.min() > -tol, f"differences {d}, tolerance {tol:.2g}"
    assert d.mean() > tol, f"differences {d}, tolerance {tol:.2g}"


def test_more_staff_never_projects_lower_csat_mmc() -> None:
    """M/M/c+M, 9 vs 10 agents, common random numbers."""
    over = [*SHORT, "channels.voice.patience={dist:exponential,mean_s:180}"]
    low = cxsim.simulate(cxsim.load_scenario("mmc", [*over, "tiers.tier1.staff=9"]), replications=5, seed=3)
    high = cxsim.simulate(cxsim.load_scenario("mmc", [*over, "tiers.tier1.staff=10"]), replications=5, seed=3)
    _paired_check(low, high)


def test_more_staff_never_projects_lower_csat_baseline() -> None:
    """The baseline with tier1 staff +20% in every interval, common random numbers."""
    scn = cxsim.load_scenario("baseline")
    more = [round(x * 1.2) for x in scn.config["tiers"]["tier1"]["staff"]]
    bigger = cxsim.load_scenario("baseline", [f"tiers.tier1.staff=[{','.join(map(str, more))}]"])
    _paired_check(cxsim.simulate(scn, replications=5, seed=3), cxsim.simulate(bigger, replications=5, seed=3))

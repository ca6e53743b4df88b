"""Costs against hand-computed numbers: paid heads x hours x rate per tier, bot conversations,
cost per contact and per resolved issue, per interval and in total."""

from __future__ import annotations

import numpy as np
import pytest

import cxsim

HALF_DAY = ["horizon.days=0.5", "horizon.warmup_min=0"]


def run(name: str, overrides: list[str], replications: int = 2, **kwargs) -> cxsim.Results:
    return cxsim.simulate(cxsim.load_scenario(name, overrides), replications=replications, seed=4, **kwargs)


def test_fixed_staff_costs_heads_times_hours_times_rate() -> None:
    """mmc, 10 heads for 12 h at 30/h: 3,600 exactly, 150 per 30-minute interval, 120 paid hours;
    cost per contact is that over each replication's arrivals."""
    res = run("mmc", HALF_DAY)
    assert np.all(res.values("cost_total") == 10 * 12 * 30)
    assert np.all(res.values("cost_agents") == 3600) and np.all(res.values("cost_bot") == 0)
    assert np.all(res.values("cost_total", "tier", "tier1") == 3600)
    assert np.all(res.values("paid_hours", "tier", "tier1") == 120)
    assert np.allclose(res.values("cost_per_contact"), 3600 / res.values("arrivals"))
    per_interval = res.intervals[(res.intervals.scope == "overall") & (res.intervals.metric == "cost_total")]
    assert len(per_interval) == 24 and np.allclose(per_interval["mean"], 150)
    tier_interval = res.intervals[(res.intervals.scope == "tier") & (res.intervals.metric == "cost_total")]
    assert np.allclose(tier_interval["mean"], 150)


def test_shrinkage_is_paid() -> None:
    """Shrinkage lowers productive agents, not the bill: 10 heads at 30% shrinkage still cost 10 heads."""
    res = run("mmc", [*HALF_DAY, "tiers.tier1.shrinkage=0.3"])
    assert np.all(res.values("cost_total") == 3600)
    assert res.kpi("agents", "tier", "tier1") == pytest.approx(7.0)


def test_warm_up_is_not_costed() -> None:
    """A 45-minute warm-up leaves 11 h 15 min measured: the second interval counts for 15 minutes."""
    res = run("mmc", ["horizon.days=0.5", "horizon.warmup_min=45"])
    assert np.allclose(res.values("cost_total"), 10 * 11.25 * 30)
    per_interval = res.intervals[(res.intervals.scope == "overall") & (res.intervals.metric == "cost_total")]
    assert per_interval["mean"].iloc[0] == pytest.approx(10 * 0.25 * 30)


def test_staff_per_interval_and_several_tiers() -> None:
    """Baseline: sum over tiers and intervals of heads x 0.5 h x rate, plus 0.40 per bot conversation."""
    scn = cxsim.load_scenario("baseline")
    res = cxsim.simulate(scn, replications=2, seed=4)
    rates = scn.config["costs"]["agent_hour"]
    expected_agents = {name: sum(tier["staff"]) * 0.5 * rates[name] for name, tier in scn.config["tiers"].items()}
    for name, cost in expected_agents.items():
        assert np.allclose(res.values("cost_total", "tier", name), cost)
    bot = res.values("bot_entered") * 0.40
    assert np.allclose(res.values("cost_bot"), bot)
    assert np.allclose(res.values("cost_total"), sum(expected_agents.values()) + bot)


def test_cost_per_resolved_counts_issues_resolved_on_any_contact() -> None:
    """With tier1 resolving 60% and every unresolved customer calling back after 10 minutes, the
    denominator is issues first raised in the window and resolved by any contact, counted here
    from the contact rows: more than the first-contact resolutions."""
    res = run(
        "mmc",
        [
            *HALF_DAY,
            "tiers.tier1.resolution=0.6",
            "recontact.probability=1",
            "recontact.delay={dist:fixed,mean_s:600}",
        ],
        contacts=True,
    )
    c = res.contacts
    end = 12 * 3600
    for r, cost in enumerate(res.values("cost_total")):
        rows = c[c.replication == r]
        resolved_issues = set(rows.loc[rows.outcome == "resolved", "issue"])
        first = rows[(rows.attempt == 0) & (rows.arrival_s < end)]
        resolved = first.contact.isin(resolved_issues).sum()
        first_contact_resolved = (first.outcome == "resolved").sum()
        assert resolved > first_contact_resolved
        assert res.values("cost_per_resolved")[r] == pytest.approx(cost / resolved)

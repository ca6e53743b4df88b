"""The simulation engine's invariants: flow conservation, determinism, common random numbers,
arrivals following their profile, staffing changes, concurrency, routing, bot and recontacts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from stats_helpers import DATA, within_ci

import cxsim
from cxsim import analytic
from cxsim.metrics import span_integral, step_integral
from cxsim.records import ABANDONED, ESCALATED, RESOLVED, UNRESOLVED
from cxsim.world import simulate_replication


@pytest.fixture(scope="module")
def baseline_records():
    scn = cxsim.load_scenario("baseline")
    return scn, simulate_replication(scn, seed=5, replication=0)


def test_every_contact_ends_exactly_once(baseline_records) -> None:
    """Contacts ending in the bot (contained, falsely contained, gave up) have no tier leg; every
    other contact has exactly one terminal leg (resolved, unresolved or abandoned), and all its
    earlier legs are escalations."""
    _, rec = baseline_records
    n = rec.n_contacts
    terminal = np.isin(rec.leg_outcome, [RESOLVED, UNRESOLVED, ABANDONED])
    terminal_per_contact = np.bincount(rec.leg_contact[terminal], minlength=n)
    legs_per_contact = np.bincount(rec.leg_contact, minlength=n)
    in_bot = rec.contained | (rec.bot_left > 0)
    assert np.all(terminal_per_contact[in_bot] == 0)
    assert np.all(legs_per_contact[in_bot] == 0)
    assert np.all(terminal_per_contact[~in_bot] == 1)
    escalated = np.bincount(rec.leg_contact[rec.leg_outcome == ESCALATED], minlength=n)
    assert np.array_equal(escalated + terminal_per_contact, legs_per_contact)


def test_escalations_arrive_at_the_next_tier(baseline_records) -> None:
    """What tier k escalates is exactly what tier k+1 receives (every tier serves every channel)."""
    scn, rec = baseline_records
    for k in range(len(scn.tiers) - 1):
        sent = np.sum((rec.leg_tier == k) & (rec.leg_outcome == ESCALATED))
        received = np.sum(rec.leg_tier == k + 1)
        assert sent == received, (scn.tiers[k].name, sent, received)


def test_recontacts_follow_unresolved_and_abandoned_contacts() -> None:
    """With recontact probability 1, every unresolved or abandoned contact comes back exactly once
    per failure, as a new contact of the same issue, after the delay."""
    scn = cxsim.load_scenario(
        "mmc",
        [
            "horizon.days=1",
            "tiers.tier1.staff=8",
            "tiers.tier1.resolution=0.7",
            "channels.voice.patience={dist:exponential,mean_s:60}",
            "recontact.probability=1.0",
            "recontact.delay={dist:fixed,mean_s:600}",
        ],
    )
    rec = simulate_replication(scn, seed=3, replication=0)
    failures = np.isin(rec.leg_outcome, [UNRESOLVED, ABANDONED]).sum()
    recontacts = rec.attempt > 0
    assert recontacts.sum() == failures
    parents_end = rec.leg_end[np.isin(rec.leg_outcome, [UNRESOLVED, ABANDONED])]
    assert np.allclose(np.sort(rec.arrival[recontacts]), np.sort(parents_end + 600.0))
    assert np.all(rec.issue[recontacts] < rec.attempt.size)
    assert np.all(rec.attempt[rec.issue[recontacts]] == 0)


def test_same_seed_same_numbers_whatever_the_workers() -> None:
    """Replication r always uses the streams of (seed, r): 1 or 2 processes give identical tables."""
    scn = cxsim.load_scenario("baseline")
    one = cxsim.simulate(scn, replications=3, seed=9, workers=1)
    two = cxsim.simulate(scn, replications=3, seed=9, workers=2)
    assert one.summary.to_csv() == two.summary.to_csv()
    assert one.intervals.to_csv() == two.intervals.to_csv()
    other = cxsim.simulate(scn, replications=3, seed=10, workers=1)
    assert one.summary.to_csv() != other.summary.to_csv()


def test_common_random_numbers_across_staffing() -> None:
    """Two staffing levels with the same seed see the same customers: identical first-contact
    arrivals, channels and intents, and a paired ASA difference far tighter than unpaired."""
    low = cxsim.load_scenario("baseline", ["tiers.tier1.staff=30"])
    high = cxsim.load_scenario("baseline", ["tiers.tier1.staff=36"])
    a = simulate_replication(low, seed=4, replication=2)
    b = simulate_replication(high, seed=4, replication=2)
    first_a, first_b = a.attempt == 0, b.attempt == 0
    assert np.array_equal(a.arrival[first_a], b.arrival[first_b])
    assert np.array_equal(a.intent[first_a], b.intent[first_b])
    assert np.array_equal(a.contained[first_a], b.contained[first_b])
    ra = cxsim.simulate(low, replications=8, seed=4)
    rb = cxsim.simulate(high, replications=8, seed=4)
    paired = np.std(ra.values("asa_s") - rb.values("asa_s"), ddof=1)
    unpaired = np.sqrt(np.var(ra.values("asa_s"), ddof=1) + np.var(rb.values("asa_s"), ddof=1))
    assert paired < unpaired
    assert np.all(rb.values("asa_s") <= ra.values("asa_s"))


def test_arrivals_follow_the_intraday_profile() -> None:
    """Offered per interval matches volume x profile share: chi-square over 48 intervals of the
    means of 30 replications stays below its 99.9% quantile."""
    scn = cxsim.load_scenario(
        "mmc", ["channels.voice.profile=retail_weekday", "horizon.warmup_min=0", "tiers.tier1.staff=40"]
    )
    res = cxsim.simulate(scn, replications=30, seed=6)
    iv = res.intervals
    offered = iv[(iv.scope == "channel") & (iv.metric == "offered")].sort_values("interval_start")
    expected = scn.channels[0].volumes
    chi2 = np.sum((offered["mean"].to_numpy() - expected) ** 2 / (expected / 30))
    assert chi2 < stats.chi2.ppf(0.999, len(expected)), chi2
    assert offered["mean"].to_numpy().argmax() == expected.argmax() or abs(
        offered["mean"].to_numpy().max() - expected.max()
    ) < 3 * np.sqrt(expected.max() / 30)


def test_warm_up_excludes_early_contacts() -> None:
    """Only contacts arriving after the warm-up are counted: offered ~ lambda x (horizon - warm-up)."""
    scn = cxsim.load_scenario("mmc", ["horizon.warmup_min=360"])
    res = cxsim.simulate(scn, replications=20, seed=7)
    ok, msg = within_ci(res.values("offered"), 2400 * 18 / 24)
    assert ok, msg


def test_chat_concurrency_is_a_pool_of_slots() -> None:
    """Agents holding two chats each, without slowdown, behave as M/M/(2 x agents)."""
    res = cxsim.simulate(cxsim.load_scenario(DATA / "concurrency.yaml"), replications=20, seed=8)
    theory = analytic.mmc(120 / 3600, 1 / 300, 12, threshold=30)
    ok, msg = within_ci(res.values("service_level"), theory.service_level)
    assert ok, msg
    ok, msg = within_ci(res.values("utilisation", "tier", "tier1"), theory.occupancy)
    assert ok, f"slot utilisation {msg}"
    assert res.kpi("occupancy", "tier", "tier1") > res.kpi("utilisation", "tier", "tier1")


def test_slowdown_stretches_concurrent_chats() -> None:
    """With a slowdown per extra chat, handle time grows and service level falls."""
    plain = cxsim.simulate(cxsim.load_scenario(DATA / "concurrency.yaml"), replications=5, seed=8)
    slow = cxsim.simulate(
        cxsim.load_scenario(DATA / "concurrency.yaml", ["channels.chat.concurrency_slowdown=0.3"]),
        replications=5,
        seed=8,
    )
    assert slow.kpi("aht_s") > plain.kpi("aht_s") * 1.1
    assert slow.kpi("service_level") < plain.kpi("service_level")


def test_agents_finish_their_contact_when_staff_drops() -> None:
    """After a drop from 12 to 4 agents, work started after the change never occupies more than
    4 agents at once, while contacts started before it run to completion."""
    scn = cxsim.load_scenario(
        "mmc",
        [
            "horizon.days=0.0833333333333333333",
            "horizon.interval_min=60",
            "horizon.warmup_min=0",
            "tiers.tier1.staff=[12,4]",
        ],
    )
    rec = simulate_replication(scn, seed=1, replication=0)
    served = ~np.isnan(rec.leg_start)
    start, end = rec.leg_start[served], rec.leg_end[served]
    late = start >= 3600
    assert late.any() and (~late & (end > 3600)).any()
    s, e = start[late], end[late]
    active = [(np.sum((s <= t) & (e > t))) for t in s]
    assert max(active) <= 4
    early = ~late
    assert np.all(end[early] > start[early])


def test_overflow_caps_the_wait_at_the_first_tier() -> None:
    """A contact waiting 30 s at an overloaded tier1 may be taken by an idle tier2: waits beyond
    30 s nearly vanish compared to the same scenario without overflow."""
    base = [
        "horizon.days=1",
        "tiers.tier1.staff=8",
        "+tiers.tier2={staff:6,skills:[voice],handle_time:{voice:{dist:exponential,mean_s:300}},resolution:1.0}",
    ]
    plain = cxsim.load_scenario("mmc", base)
    over = cxsim.load_scenario(
        "mmc", [*base, "routing.policy=overflow", "routing.overflow=[{from_tier:tier1,to_tier:tier2,after_s:30}]"]
    )
    ra, rb = simulate_replication(plain, 2, 0), simulate_replication(over, 2, 0)
    wait_a = ra.leg_start - ra.leg_enqueued
    wait_b = rb.leg_start - rb.leg_enqueued
    assert np.mean(wait_a > 60) > 0.2
    assert np.mean(wait_b > 60) < 0.02
    assert np.sum(rb.leg_tier == 1) > 0


def test_segment_priority_serves_vip_first() -> None:
    """Under segment priority VIP contacts wait far less than standard ones on the same queue."""
    scn = cxsim.load_scenario(
        "mmc",
        [
            "tiers.tier1.staff=9",
            "channels.voice.segments={standard:0.8,vip:0.2}",
            "routing.policy=segment_priority",
            "routing.segment_priorities={vip:0,standard:1}",
        ],
    )
    rec = simulate_replication(scn, 3, 0)
    wait = rec.leg_start - rec.leg_enqueued
    vip = rec.segment[rec.leg_contact] == scn.segments.index("vip")
    assert np.nanmean(wait[vip]) < 0.25 * np.nanmean(wait[~vip])


def test_bot_containment_and_context_handoff() -> None:
    """The bot truly resolves each intent with its containment probability less the false
    containments; handed-off contacts take `context_handoff_factor` x the handle time."""
    scn = cxsim.load_scenario("baseline")
    res = cxsim.simulate(scn, replications=10, seed=2)
    chat = scn.channels[scn.channel_index("chat")]
    true_rate = chat.bot_containment * (1.0 - chat.bot_false_containment)
    ok, msg = within_ci(res.values("containment_rate", "channel", "chat"), float(chat.intent_mix @ true_rate))
    assert ok, msg
    fixed = cxsim.load_scenario(
        "mmc",
        [
            "bot.channels=[voice]",
            "intents={general:{bot_containment:0.0}}",
            "bot.context_handoff_factor=0.5",
            "bot.handle_time={dist:fixed,mean_s:30,cv:null}",
            "tiers.tier1.staff=20",
        ],
    )
    rec = simulate_replication(fixed, 1, 0)
    handle = rec.leg_end - rec.leg_start
    assert np.mean(handle) == pytest.approx(150, rel=0.05)
    assert np.allclose(rec.leg_enqueued[np.argsort(rec.leg_contact)], (rec.arrival + 30.0)[np.unique(rec.leg_contact)])


def test_deferred_work_waits_and_never_abandons() -> None:
    """Email queues behind voice under channel priority, is answered later, and never abandons."""
    res = cxsim.simulate(cxsim.load_scenario("baseline"), replications=3, seed=1)
    assert res.kpi("abandoned", "channel", "email") == 0
    assert res.kpi("asa_s", "channel", "email") > res.kpi("asa_s", "channel", "voice")


def test_span_and_step_integrals() -> None:
    """The interval integrals used for queue length and occupancy, on hand-checked cases."""
    edges = np.array([0.0, 10.0, 20.0])
    assert np.allclose(span_integral(np.array([5.0, 0.0]), np.array([15.0, 20.0]), edges), [15.0, 15.0])
    assert np.allclose(step_integral(np.array([0.0, 5.0]), np.array([2.0, 4.0]), edges), [30.0, 40.0])


def test_group_quantile_matches_pandas() -> None:
    """The per-group p90 used for resolution times equals pandas' groupby quantile (linear)."""
    import pandas as pd

    from cxsim.metrics import group_quantile

    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 5, 10_000)
    values = rng.exponential(100, 10_000)
    keep = codes >= 0
    expected = pd.Series(values[keep]).groupby(codes[keep]).quantile(0.9)
    got = group_quantile(codes, values, 6, 0.9)
    assert np.allclose(got[:5], expected.to_numpy())
    assert np.isnan(got[5])

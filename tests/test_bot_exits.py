"""The honest bot: false containments and give-ups leave the bot unresolved and come back.

Held to: conservation (every bot conversation ends exactly one way, every one that left
unresolved comes back exactly once), the configured shares (binomial intervals), the delays,
common random numbers for first contacts, and the satisfaction model's own formula.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import cxsim
from cxsim.errors import ConfigError
from cxsim.metrics import bot_recontact, contact_view, replication_tables
from cxsim.records import BOT_GAVE_UP, FALSE_CONTAINED
from cxsim.satisfaction import DefaultCoefficients
from cxsim.streams import Streams
from cxsim.world import World, simulate_replication

# the shipped baseline's bot is honest already; start from a bot whose containments all hold
PLAIN = [
    f"intents.{i}.{key}=0"
    for i in ("order_status", "returns", "billing", "technical")
    for key in ("bot_false_containment", "bot_giveup")
]
HONEST = [
    *PLAIN,
    "intents.order_status.bot_false_containment=0.3",
    "intents.billing.bot_giveup=0.25",
    "bot.channels.chat.giveup=0.1",  # the channel's value replaces every intent's on chat
    "bot.false_containment_delay={dist:fixed,mean_s:600}",
    "bot.giveup_delay={dist:fixed,mean_s:300}",
]


@pytest.fixture(scope="module")
def honest():
    scn = cxsim.load_scenario("baseline", HONEST)
    return scn, simulate_replication(scn, seed=11, replication=0)


def _share_ok(hits: int, n: int, p: float) -> tuple[bool, str]:
    """Is p inside the 99.9% Clopper-Pearson interval of hits / n?"""
    lo, hi = stats.binomtest(hits, n).proportion_ci(0.999)
    return lo <= p <= hi, f"{hits}/{n} = {hits / n:.4f}, 99.9% CI [{lo:.4f}, {hi:.4f}] vs {p}"


def test_every_bot_conversation_ends_one_way_and_leavers_come_back_once(honest) -> None:
    scn, rec = honest
    n = rec.n_contacts
    reached_agent = np.bincount(rec.leg_contact, minlength=n) > 0
    false, gave_up = rec.bot_left == FALSE_CONTAINED, rec.bot_left == BOT_GAVE_UP
    ends = rec.contained.astype(int) + false + gave_up + reached_agent
    assert np.all(ends[rec.bot] == 1)
    assert not (rec.contained | (rec.bot_left > 0))[~rec.bot].any()
    assert false.sum() > 100 and gave_up.sum() > 100
    # each leaver's follow-up: same issue, next attempt, after the bot time plus the fixed delay
    returned = bot_recontact(rec)
    assert returned.sum() == (rec.bot_left > 0).sum()
    order = np.lexsort((rec.attempt, rec.issue))
    parent, child = order[:-1], order[1:]
    pair = rec.issue[parent] == rec.issue[child]
    parent, child = parent[pair], child[pair]
    assert np.array_equal(np.sort(child[rec.bot_left[parent] > 0]), np.flatnonzero(returned))
    assert np.all(rec.attempt[child] == rec.attempt[parent] + 1)
    delay = np.where(rec.bot_left[parent] == FALSE_CONTAINED, 600.0, 300.0)
    left = rec.bot_left[parent] > 0
    np.testing.assert_allclose(
        rec.arrival[child][left], (rec.arrival[parent] + rec.bot_time[parent] + delay)[left], rtol=0, atol=1e-6
    )
    # the summary counts them the same way: over the whole run the leavers equal their returns
    summary, _ = replication_tables(scn, rec)
    overall = summary[summary.scope == "overall"].set_index("metric")["value"]
    assert overall["bot_entered"] == (
        overall["contained"] + overall["false_contained"] + overall["bot_giveups"] + overall["bot_handoffs"]
    )


def test_shares_follow_the_intent_and_channel_rates(honest) -> None:
    scn, rec = honest
    chat, voice = scn.channel_index("chat"), scn.channel_index("voice")
    order_status, billing = scn.intents.index("order_status"), scn.intents.index("billing")
    claimed = rec.contained | (rec.bot_left == FALSE_CONTAINED)
    handed = rec.bot & ~claimed
    cases = [  # (contacts, which of them, expected share)
        (claimed & (rec.intent == order_status), rec.bot_left == FALSE_CONTAINED, 0.3),
        (claimed & (rec.intent == billing), rec.bot_left == FALSE_CONTAINED, 0.0),
        (handed & (rec.channel == voice) & (rec.intent == billing), rec.bot_left == BOT_GAVE_UP, 0.25),
        (handed & (rec.channel == voice) & (rec.intent == order_status), rec.bot_left == BOT_GAVE_UP, 0.0),
        (handed & (rec.channel == chat), rec.bot_left == BOT_GAVE_UP, 0.1),
    ]
    for among, which, p in cases:
        hits, n = int((among & which).sum()), int(among.sum())
        if p == 0:
            assert hits == 0
        else:
            ok, msg = _share_ok(hits, n, p)
            assert ok, msg


def test_first_contacts_see_the_same_customers_and_bot_verdicts(honest) -> None:
    """The exits draw from their own stream: first contacts keep their arrivals, bot times and the
    bot's claimed verdict; with every rate 0 that stream is never created."""
    _, rec = honest
    plain_scn = cxsim.load_scenario("baseline", PLAIN)
    world = World(plain_scn, Streams(11, 0))
    plain = world.run()
    assert not any("bot_exit" in name for name in world.streams._cache)
    assert not plain.bot_left.any()
    a, b = rec.attempt == 0, plain.attempt == 0
    for name in ("arrival", "channel", "intent", "bot", "bot_time"):
        assert np.array_equal(getattr(rec, name)[a], getattr(plain, name)[b]), name
    assert np.array_equal((rec.contained | (rec.bot_left == FALSE_CONTAINED))[a], plain.contained[b])


def test_satisfaction_scores_leavers_as_unresolved(honest) -> None:
    """A false containment scores as a bot contact that did not resolve; a give-up as an unresolved
    contact that left unserved; their returns carry the repeat-contact effect."""
    scn, rec = honest
    v = contact_view(scn, rec)
    c = DefaultCoefficients()

    def p(logit: float) -> float:
        return 1.0 / (1.0 + np.exp(-logit))

    first = rec.attempt == 0
    false = first & (rec.bot_left == FALSE_CONTAINED)
    gave_up = first & (rec.bot_left == BOT_GAVE_UP)
    contained = first & rec.contained
    np.testing.assert_allclose(v.csat[false], p(c.base + c.contained + c.unresolved))
    np.testing.assert_allclose(v.csat[gave_up], p(c.base + c.unresolved + c.abandoned))
    np.testing.assert_allclose(v.csat[contained], p(c.base + c.contained))
    assert not v.resolved[false].any() and v.resolved[contained].all()
    back = bot_recontact(rec) & rec.contained & (rec.attempt == 1)
    np.testing.assert_allclose(v.csat[back], p(c.base + c.contained + c.repeat_contact))


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("intents.billing.bot_giveup=1.0", "intents.billing.bot_giveup"),
        ("intents.billing.bot_false_containment=-0.1", "intents.billing.bot_false_containment"),
        ("bot.channels.chat.false_containment=1.0", "bot.channels.chat.false_containment"),
        ("+bot.channels.chat.handoff=0.1", "bot.channels.chat.handoff"),
        ("bot.giveup_delay={dist:exponential,mean_s:-5}", "bot.giveup_delay"),
    ],
)
def test_bad_bot_rates_name_the_key(override: str, key: str) -> None:
    extra = ["intents.billing.bot_giveup=0.1"] if "giveup_delay" in override else []
    with pytest.raises(ConfigError) as err:
        cxsim.load_scenario("baseline", [*extra, override])
    assert err.value.key.startswith(key), err.value


def test_intent_economics_add_up_to_the_totals() -> None:
    """One tier, fixed handle time, no bot: an intent's agent-hours are its answered contacts x the
    handle time, and the tier's paid hours and cost are shared in that proportion."""
    scn = cxsim.load_scenario(
        "mmc",
        [
            "channels.voice.intents={a:0.3,b:0.7}",
            "tiers.tier1.handle_time.voice={dist:fixed,mean_s:300}",
            "tiers.tier1.staff=12",
        ],
    )
    summary, _ = replication_tables(scn, simulate_replication(scn, seed=2, replication=0))
    by = summary.set_index(["scope", "name", "metric"])["value"]
    hours = np.asarray([by["intent", i, "agent_hours"] for i in ("a", "b")])
    answered = np.asarray([by["intent", i, "answered"] for i in ("a", "b")])
    np.testing.assert_allclose(hours, answered * 300 / 3600)
    paid = np.asarray([by["intent", i, "paid_hours"] for i in ("a", "b")])
    cost = np.asarray([by["intent", i, "cost_total"] for i in ("a", "b")])
    np.testing.assert_allclose(paid.sum(), by["tier", "tier1", "paid_hours"])
    np.testing.assert_allclose(cost.sum(), by["overall", "all", "cost_total"])
    np.testing.assert_allclose(paid / paid.sum(), hours / hours.sum())


def test_intent_costs_sum_to_the_total_with_bot_and_tiers() -> None:
    scn = cxsim.load_scenario("baseline", HONEST)
    summary, _ = replication_tables(scn, simulate_replication(scn, seed=3, replication=1))
    intent = summary[summary.scope == "intent"].pivot(index="name", columns="metric", values="value")
    overall = summary[summary.scope == "overall"].set_index("metric")["value"]
    tiers = summary[(summary.scope == "tier") & (summary.metric == "paid_hours")]["value"]
    assert intent["cost_total"].sum() == pytest.approx(overall["cost_total"], rel=1e-9)
    assert intent["paid_hours"].sum() == pytest.approx(tiers.sum(), rel=1e-9)

"""What to automate next: the containment variants, the paired comparison and the ranking.

The planner is exercised for real in the slow test; the default tests replace it by "keep the
scenario's own roster", which makes the paid-hours saving exactly 0 and lets the bot's extra
resolutions be held to the binomial law.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import cxsim
from cxsim import automation
from cxsim.automation import automatable_intents, raise_containment, rank_intents
from cxsim.errors import ConfigError

TINY = [
    "bot.channels=[voice]",
    "intents={a:{bot_containment:0.2},b:{bot_containment:0.0,handle_time_factor:2.0},c:{bot_containment:1.0}}",
    "channels.voice.intents={a:0.45,b:0.45,c:0.1}",
    "horizon.days=0.25",
    "horizon.warmup_min=0",
    "channels.voice.volume_per_day=4800",
    "tiers.tier1.staff=26",
]


@pytest.fixture(scope="module")
def tiny():
    return cxsim.load_scenario("mmc", TINY)


def test_variant_raises_one_intent_on_bot_channels_only() -> None:
    scn = cxsim.load_scenario("baseline", ["bot.channels.chat.containment=0.95"])
    var = raise_containment(scn, "billing", 10)
    b = scn.intents.index("billing")
    for old, new in zip(scn.channels, var.channels, strict=True):
        if old.bot_containment is None:
            assert new.bot_containment is None
            continue
        expected = old.bot_containment.copy()
        expected[b] = min(1.0, expected[b] + 0.10)
        np.testing.assert_allclose(new.bot_containment, expected)
        np.testing.assert_array_equal(new.bot_false_containment, old.bot_false_containment)
    assert var.channels[scn.channel_index("chat")].bot_containment[b] == 1.0  # capped


def test_request_rules_name_the_key(tiny) -> None:
    assert automatable_intents(tiny) == ["a", "b"]  # c is fully contained already
    for kwargs, key in (
        ({"points": 0}, "automate.points"),
        ({"intents": ["c"]}, "automate.intents"),
        ({"intents": ["zzz"]}, "automate.intents"),
        ({"plans": 0}, "automate.plans"),
    ):
        with pytest.raises(ConfigError) as err:
            rank_intents(tiny, **kwargs)
        assert err.value.key == key
    with pytest.raises(ConfigError) as err:
        rank_intents(cxsim.load_scenario("mmc"))
    assert err.value.key == "bot.channels"


class _Roster:
    """Stands in for a staffing plan: the scenario's own roster."""

    def __init__(self, scn) -> None:
        self.planned, self.meets_target = scn, True


def test_paired_comparison_at_a_fixed_roster(tiny, monkeypatch, tmp_path) -> None:
    """Same roster for scenario and variant: nothing saved in paid hours; the bot's extra
    resolutions follow Binomial(contacts of the intent, +points) (common random numbers: the same
    coin decides, so exactly the coins in [c, c + 0.2) change); CSAT changes are paired."""
    monkeypatch.setattr(automation, "plan_staffing", lambda scn, **_: _Roster(scn))
    ranking = rank_intents(tiny, points=20, intents=["a", "b"], plans=2, replications=6, seed=4)
    t = ranking.table.set_index("intent")
    assert (t["paid_hours_saved"] == 0).all() and (t["paid_hours_saved_ci95"] == 0).all()
    assert list(ranking.table["rank"]) == [1, 2]
    assert t.loc["a", "containment_to"] == pytest.approx(0.4)
    # extra bot resolutions: each of the intent's bot contacts not contained before is now with
    # probability 0.2 / (1 - base): in total Binomial(n, 0.2) over all its contacts, on average
    for intent in ("a", "b"):
        n = t.loc[intent, "arrivals"]
        mean, half = t.loc[intent, "resolved_by_bot_change"], t.loc[intent, "resolved_by_bot_change_ci95"]
        assert abs(mean - 0.2 * n) <= half + 3 * np.sqrt(n * 0.2 * 0.8 / 12), (intent, mean, half, n)
    # the CSAT change is the mean of the per-replication differences, its interval their t-interval
    base = [v.results.values("csat") for v in _variants(ranking, None)]
    var = [v.results.values("csat") for v in _variants(ranking, "b")]
    d = 100 * (np.concatenate(var) - np.concatenate(base))
    assert t.loc["b", "csat_change_pts"] == pytest.approx(d.mean())
    _report_shows_the_ranking(ranking, tmp_path)
    assert t.loc["b", "csat_change_pts_ci95"] == pytest.approx(
        stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    )


def _report_shows_the_ranking(ranking, out) -> None:
    """`cxsim report` on an automate run directory adds the ranking section with its figure."""
    from cxsim.outputs import write_results
    from cxsim.report import build_report

    write_results(ranking.base, out)
    ranking.save(out)
    html = build_report([out], out / "report.html").read_text()
    section = html[html.index('<section id="automation">') :]
    section = section[: section.index("</section>")]
    assert "What to automate next" in section and "data:image/png;base64," in section
    first, second = ranking.table["intent"]
    assert section.index(f"<td>1</td><td>{first}</td>") < section.index(f"<td>2</td><td>{second}</td>")


def _variants(ranking, intent):
    """The evaluated variants of one intent (None: the scenario as is), in planner-seed order."""
    return [v for v in ranking.variants if v.intent == intent]


@pytest.mark.slow
def test_ranking_with_the_planner(tiny, tmp_path) -> None:
    """Real plans: cost saved is the paid hours saved at the one tier's rate (no bot cost), the
    intent with the heavier handle time saves more, the files are written."""
    ranking = rank_intents(
        tiny, points=20, plans=2, replications=3, evaluation_replications=4, seed=1, compare=False, check_replications=6
    )
    t = ranking.table.set_index("intent")
    np.testing.assert_allclose(t["cost_saved"], 30.0 * t["paid_hours_saved"])
    assert t.loc["b", "agent_hours_saved"] > t.loc["a", "agent_hours_saved"]
    written = ranking.save(tmp_path)
    assert {p.name for p in written.values()} >= {"automation_ranking.csv", "automation_ranking.png"}

"""Cost of a replication: paid agent hours per tier and bot conversations.

- Agent cost = scheduled heads (`tiers.<t>.staff`, before shrinkage: shrinkage is paid time too)
  x the hours of each interval inside the measured window (horizon minus warm-up)
  x `costs.agent_hour.<t>`. The drain after the horizon, when the last interval's agents finish
  the remaining work, is not costed: the roster you pay is the planned horizon.
- Bot cost = conversations entering the bot (by front-door arrival time, recontacts included)
  x `costs.bot_contact`.
- cost_per_contact = cost_total / contacts arriving in the window (bot-contained included).
- cost_per_resolved = cost_total / issues first raised in the window and resolved by any of
  their contacts (escalations and recontacts included).
- Per intent (what automating it saves): agent_hours = handle + wrap-up hours at every tier of
  contacts arriving in the window; each tier's paid hours and agent cost are shared out over the
  intents in proportion to the agent capacity their contacts used there (handle + wrap-up, a chat
  at concurrency 2 using half an agent), plus the intent's bot conversations x `costs.bot_contact`.
  Summed over intents they give the overall paid hours and cost_total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxsim.records import Records
from cxsim.scenario import Scenario


@dataclass
class CostTables:
    """Cost KPIs keyed by metric name: overall (1 value), per tier, per interval, per tier and interval."""

    overall: dict[str, np.ndarray]
    tier: dict[str, np.ndarray]
    interval: dict[str, np.ndarray]
    tier_interval: np.ndarray  # agent cost, tiers x intervals


def paid_hours(scn: Scenario, window_s: np.ndarray) -> np.ndarray:
    """Paid agent hours per tier and interval: scheduled heads x hours of the interval in the window."""
    staff = np.stack([t.staff for t in scn.tiers]).astype(float)
    return staff * np.asarray(window_s, dtype=float)[None, :] / 3600.0


def agent_cost(scn: Scenario, window_s: np.ndarray) -> np.ndarray:
    """Agent cost per tier and interval: paid hours x the tier's hourly rate."""
    rate = np.asarray([t.agent_hour_cost for t in scn.tiers], dtype=float)
    return paid_hours(scn, window_s) * rate[:, None]


def _per_interval(codes: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    keep = codes >= 0
    w = None if weights is None else np.asarray(weights, dtype=float)[keep]
    return np.bincount(codes[keep], weights=w, minlength=size).astype(float)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def intent_costs(scn: Scenario, rec: Records, window_s: np.ndarray, door_interval: np.ndarray) -> dict[str, np.ndarray]:
    """Per intent: agent_hours worked, paid_hours and cost_total allocated by capacity used, cost_per_contact."""
    n_i, n_t = len(scn.intents), len(scn.tiers)
    served = ~np.isnan(rec.leg_start)
    served &= door_interval[rec.leg_contact] >= 0
    contact = rec.leg_contact[served]
    intent, tier = rec.intent[contact], rec.leg_tier[served]
    work = (rec.leg_end - rec.leg_start + rec.leg_wrap)[served] / 3600.0
    share_of_agent = np.asarray(  # (tiers, channels): the part of an agent one contact takes
        [
            [1.0 / scn.channels[c].concurrency if c in t.skills else 0.0 for c in range(len(scn.channels))]
            for t in scn.tiers
        ]
    )
    used = np.zeros((n_t, n_i))
    np.add.at(used, (tier, intent), work * share_of_agent[tier, rec.channel[contact]])
    share = np.nan_to_num(_ratio(used, used.sum(1, keepdims=True)))  # a tier that did no work shares nothing
    hours = paid_hours(scn, window_s).sum(1)
    agents = agent_cost(scn, window_s).sum(1)
    bot = _per_interval(np.where(door_interval >= 0, rec.intent, -1), n_i, rec.bot) * scn.bot_contact_cost
    cost = agents @ share + bot
    arrivals = _per_interval(np.where(door_interval >= 0, rec.intent, -1), n_i)
    return {
        "agent_hours": np.bincount(intent, weights=work, minlength=n_i).astype(float),
        "paid_hours": hours @ share,
        "cost_total": cost,
        "cost_per_contact": _ratio(cost, arrivals),
    }


def cost_tables(
    scn: Scenario, rec: Records, window_s: np.ndarray, door_interval: np.ndarray, issue_resolved: np.ndarray
) -> CostTables:
    """Cost KPIs of one replication.

    `window_s`: measured seconds of each interval; `door_interval`: each contact's arrival
    interval (-1 outside the window); `issue_resolved[i]`: issue i (its first contact's id)
    was resolved by some contact.
    """
    n_int = len(window_s)
    hours = paid_hours(scn, window_s)
    agents = agent_cost(scn, window_s)
    bot = _per_interval(door_interval, n_int, rec.bot) * scn.bot_contact_cost
    arrivals = _per_interval(door_interval, n_int)
    first_in = np.where(rec.attempt == 0, door_interval, -1)
    resolved = _per_interval(first_in, n_int, issue_resolved)
    per_interval = agents.sum(0) + bot
    total = np.asarray([per_interval.sum()])
    return CostTables(
        overall={
            "cost_total": total,
            "cost_agents": np.asarray([agents.sum()]),
            "cost_bot": np.asarray([bot.sum()]),
            "paid_hours": np.asarray([hours.sum()]),
            "cost_per_contact": _ratio(total, np.asarray([arrivals.sum()])),
            "cost_per_resolved": _ratio(total, np.asarray([resolved.sum()])),
        },
        tier={"cost_total": agents.sum(1), "paid_hours": hours.sum(1)},
        interval={
            "cost_total": per_interval,
            "cost_per_contact": _ratio(per_interval, arrivals),
        },
        tier_interval=agents,
    )

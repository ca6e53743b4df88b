"""The load reaching each tier per interval, and the analytic staffing on it (Erlang C, Erlang A).

The approximations (docs/planning.md states them for users):
- Arrival rate of channel c in interval j: its expected volume / interval length (stationary
  within the interval, independent between intervals: the "SIPP" assumption of workforce tools).
- A contact reaches a channel's entry tier unless the bot contains it (per intent), and the next
  tier of the channel's chain with probability 1 - resolution (per intent) of the tier before.
  Escalations count in the interval the contact arrived in; bot time and recontacts are ignored
  (the simulation accounts for them).
- Agent-seconds per contact at a tier: mean handle time (intent mix at that stage, handle-time
  factors, the bot-handoff factor) stretched by the concurrency slowdown at full concurrency, plus
  wrap-up, divided by the channel's concurrency (a chat at concurrency 2 holds half an agent).
- A tier serving several channels is one pooled queue: arrival rate the sum, mean agent-time the
  load-weighted mean, abandonment rate (Erlang A) the arrival-weighted mean of 1 / mean patience
  (0 for channels nobody abandons); the tier needs the most agents any of its channels' SLAs asks
  for on that pooled queue. Priorities between channels are ignored here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxsim import analytic
from cxsim.attendance import expected_agents
from cxsim.profiles import fit_to_horizon
from cxsim.scenario import Scenario, Tier


@dataclass(frozen=True)
class Stage:
    """A queue a channel's contacts wait in: its tier, the channel and the position in the chain."""

    tier: int
    channel: int
    stage: int  # 0: the entry queue; 1, 2 ...: after escalations
    rate: np.ndarray  # arrivals per second per interval
    agent_s: float  # agent-seconds per contact (concurrency and wrap-up included)
    threshold_s: float  # the SLA's answer_within_s for this queue
    targets: np.ndarray  # SL target per interval


def chains(scn: Scenario) -> list[list[int]]:
    """The tiers each channel's contacts pass through, in order (the world's escalation path)."""
    return [[k for k, t in enumerate(scn.tiers) if c in t.skills] for c in range(len(scn.channels))]


def channel_targets(scn: Scenario, sla_targets: dict | None = None) -> np.ndarray:
    """SL target per channel and interval: the channel's `sla.target`, or `sla_targets[channel]`
    (a number, or a list per interval of the horizon or of one day)."""
    h = scn.horizon
    out = np.asarray([[c.sla.target] * h.n_intervals for c in scn.channels], dtype=float).reshape(
        len(scn.channels), h.n_intervals
    )
    for name, value in (sla_targets or {}).items():
        names = [c.name for c in scn.channels]
        if name not in names:
            raise ValueError(f"staffing.sla_targets.{name}: not a channel ({', '.join(names)})")
        values = np.atleast_1d(np.asarray(value, dtype=float))
        if len(values) == 1:
            values = np.full(h.n_intervals, values[0])
        else:
            values = fit_to_horizon(
                values, h.n_intervals, h.intervals_per_day, f"staffing.sla_targets.{name}", "a list"
            )
        if np.any((values < 0) | (values > 1)):
            raise ValueError(f"staffing.sla_targets.{name}: targets must be in [0, 1]")
        out[names.index(name)] = values
    return out


def stages(scn: Scenario, targets: np.ndarray, transfer_sla: dict | None = None) -> list[Stage]:
    """Every (tier, channel, stage) queue with its expected load per interval."""
    h = scn.horizon
    out = []
    for c, ch in enumerate(scn.channels):
        contained = ch.bot_containment if ch.bot_containment is not None else np.zeros(len(scn.intents))
        weights = ch.intent_mix * (1.0 - contained)  # per intent, per arriving contact
        handoff = scn.context_handoff_factor if ch.bot_containment is not None else 1.0
        for s, k in enumerate(chains(scn)[c]):
            tier = scn.tiers[k]
            share = float(weights.sum())
            if share > 0:
                factor = float(np.dot(weights, scn.handle_time_factor)) / share * handoff
                handle = tier.handle_time[c].mean * factor * (1.0 + ch.slowdown * (ch.concurrency - 1))
            else:
                handle = tier.handle_time[c].mean
            wrap = tier.wrap_up.mean if tier.wrap_up is not None else 0.0
            threshold, stage_targets = ch.sla.answer_within_s, targets[c]
            if s > 0 and transfer_sla:
                threshold = float(transfer_sla.get("answer_within_s", threshold))
                if transfer_sla.get("target") is not None:
                    stage_targets = np.full(h.n_intervals, float(transfer_sla["target"]))
            out.append(
                Stage(
                    tier=k,
                    channel=c,
                    stage=s,
                    rate=ch.volumes * share / h.interval_s,
                    agent_s=(handle + wrap) / ch.concurrency,
                    threshold_s=threshold,
                    targets=np.asarray(stage_targets, dtype=float),
                )
            )
            weights = weights * (1.0 - tier.resolution)
    return out


def pooled(scn: Scenario, stage_list: list[Stage], k: int, j: int) -> tuple[float, float, float]:
    """Arrival rate, service rate and abandonment rate of tier k's pooled queue in interval j."""
    rate = sum(s.rate[j] for s in stage_list if s.tier == k)
    if rate <= 0:
        return 0.0, 1.0, 0.0
    work = sum(s.rate[j] * s.agent_s for s in stage_list if s.tier == k)
    impatience = 0.0
    for s in stage_list:
        patience = scn.channels[s.channel].patience
        if s.tier == k and patience is not None and patience.mean > 0:
            impatience += s.rate[j] / patience.mean
    return rate, rate / work, impatience / rate


def analytic_agents(
    scn: Scenario,
    stage_list: list[Stage],
    k: int,
    j: int,
    erlang: str = "A",
    max_occupancy: float | None = None,
    max_abandon: float | None = None,
    min_agents: int = 0,
) -> int:
    """Fewest agents at tier k in interval j meeting every SLA on its pooled queue (Erlang A or C)."""
    lam, mu, theta = pooled(scn, stage_list, k, j)
    if lam <= 0:
        return min_agents
    theta = theta if erlang == "A" else 0.0
    need = min_agents
    for s in stage_list:
        if s.tier != k or s.rate[j] <= 0:
            continue
        target = float(s.targets[j])
        threshold = min(s.threshold_s, 1e7)  # a deferred SLA of days: stability is what binds
        if theta > 0:
            n = analytic.staff_erlang_a(lam, mu, theta, threshold, target, max_abandon, max_occupancy)
        else:
            n = analytic.staff_erlang_c(lam, mu, threshold, target, max_occupancy)
        need = max(need, n)
    return need


def analytic_plan(
    scn: Scenario,
    stage_list: list[Stage],
    erlang: str = "A",
    max_occupancy: float | None = None,
    max_abandon: float | None = None,
    min_agents: int = 0,
) -> np.ndarray:
    """Agents per tier (rows) and interval (columns) from Erlang A (patience used) or Erlang C."""
    n_t, n_int = len(scn.tiers), scn.horizon.n_intervals
    plan = np.zeros((n_t, n_int), dtype=np.int64)
    for k in range(n_t):
        for j in range(n_int):
            plan[k, j] = analytic_agents(scn, stage_list, k, j, erlang, max_occupancy, max_abandon, min_agents)
    return plan


def analytic_sl(scn: Scenario, stage_list: list[Stage], k: int, j: int, agents: int) -> dict[int, float]:
    """Erlang A service level of each stage of tier k in interval j with `agents` agents."""
    lam, mu, theta = pooled(scn, stage_list, k, j)
    out = {}
    for i, s in enumerate(stage_list):
        if s.tier != k:
            continue
        if lam <= 0:
            out[i] = 1.0
        elif agents <= 0 or (theta == 0 and lam >= agents * mu):
            out[i] = 0.0
        else:
            out[i] = analytic.erlang_a(lam, mu, agents, theta, min(s.threshold_s, 1e7)).service_level
    return out


def productive_share(tier: Tier) -> float:
    """Share of a tier's scheduled heads productive on average: (1 - absence) x (1 - shrinkage)."""
    return float(expected_agents(np.ones(1), tier.shrinkage, tier.absence)[0])


def heads_for(agents: np.ndarray, shrinkage: float) -> np.ndarray:
    """Scheduled heads for productive agents, the planners' convention: ceil(agents / (1 - shrinkage))
    (`shrinkage` here counts absence too). Their expected productive capacity, heads x (1 - shrinkage),
    is the fewest that reaches `agents`.
    """
    keep = 1.0 - shrinkage
    return np.ceil(np.asarray(agents, dtype=float) / keep - 1e-9).astype(np.int64)

"""KPI tables of one replication, computed vectorised from its records.

Definitions (docs/kpis.md states them for users):
- offered: contacts reaching an agent queue (after the bot) in the window, by queue-entry time;
  answered / abandoned refer to that first queue; contained: truly resolved by the bot (a false
  containment is not); false_contained / bot_giveups: left the bot unresolved and come back later
  (bot_recontacts: the contacts they come back with).
- service_level: per the channel's `sla.formula` (default answered within T / offered).
- asa_s: mean wait of answered; wait_mean_s: mean wait of all offered (abandoned until leaving).
- aht_s: handle + wrap-up per served tier leg. occupancy: busy agent-time / staffed agent-time
  (busy = at least one contact in hand); utilisation: contact slots in use / slots staffed.
- fcr: issues resolved by their first contact / issues; resolution_time: issue start -> resolving
  contact's end, across escalations and recontacts; backlog: contacts waiting at an instant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxsim.costs import cost_tables, intent_costs
from cxsim.records import ABANDONED, BOT_GAVE_UP, ESCALATED, FALSE_CONTAINED, RESOLVED, UNRESOLVED, Records
from cxsim.risk import DAY_S, METRIC, meets_target, share_of_days_meeting
from cxsim.satisfaction import Experience, project_nps, score_in_chunks
from cxsim.scenario import Scenario

SUMMARY_COLUMNS = ["scope", "name", "metric", "value"]
INTERVAL_COLUMNS = ["interval_start", "scope", "name", "metric", "value"]


def span_integral(
    starts: np.ndarray, ends: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Total (weighted) length of the spans [start, end) falling in each bin between `edges`."""
    if len(starts) == 0:
        return np.zeros(len(edges) - 1)
    w = np.ones(len(starts)) if weights is None else weights

    def cumulative(points: np.ndarray) -> np.ndarray:
        order = np.argsort(points)
        p, pw = points[order], w[order]
        cw, cpw = np.r_[0.0, np.cumsum(pw)], np.r_[0.0, np.cumsum(p * pw)]
        k = np.searchsorted(p, edges, side="right")
        return cw[k] * edges - cpw[k]

    return np.diff(cumulative(starts) - cumulative(ends))


def step_integral(times: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Integral over each bin of a step function that takes `values[i]` from `times[i]` on."""
    if len(times) == 0:
        return np.zeros(len(edges) - 1)
    breaks = np.r_[times, edges[-1]]
    area = np.r_[0.0, np.cumsum(values * np.diff(np.maximum.accumulate(breaks)))]
    cumulative = np.interp(edges, np.maximum.accumulate(breaks), area, left=0.0)
    return np.diff(cumulative)


def count_at(enter: np.ndarray, leave: np.ndarray, instants: np.ndarray) -> np.ndarray:
    """How many spans [enter, leave) contain each instant."""
    return np.searchsorted(np.sort(enter), instants, side="right") - np.searchsorted(
        np.sort(leave), instants, side="right"
    )


@dataclass
class ContactView:
    """Per-contact arrays derived from the legs: first queue, outcome, work, satisfaction."""

    has_leg: np.ndarray
    enq: np.ndarray
    answered: np.ndarray
    abandoned: np.ndarray
    wait: np.ndarray
    first_response: np.ndarray
    transfers: np.ndarray
    work: np.ndarray
    served_legs: np.ndarray
    resolved: np.ndarray
    end: np.ndarray
    threshold: np.ndarray
    sl_num: np.ndarray
    sl_den: np.ndarray
    csat: np.ndarray
    nps: np.ndarray | None  # expected promoter minus detractor share, when the scenario asks for NPS


def _per_contact_legs(rec: Records) -> dict[str, np.ndarray]:
    """Each contact's first and last leg, escalations and agent work (leg-sized temporaries die here)."""
    n = rec.n_contacts
    order = np.lexsort((rec.leg_enqueued, rec.leg_contact))
    lc = rec.leg_contact[order]
    first = np.r_[True, lc[1:] != lc[:-1]] if len(lc) else np.zeros(0, bool)
    last = np.r_[lc[1:] != lc[:-1], True] if len(lc) else np.zeros(0, bool)
    out: dict[str, np.ndarray] = {"has_leg": np.zeros(n, bool)}
    out["has_leg"][lc[first]] = True
    for name, column, pick in (
        ("enq", rec.leg_enqueued, first),
        ("start", rec.leg_start, first),
        ("first_end", rec.leg_end, first),
        ("last_end", rec.leg_end, last),
    ):
        out[name] = np.full(n, np.nan)
        out[name][lc[pick]] = column[order[pick]]
    out["last_out"] = np.full(n, -1, dtype=np.int8)
    out["last_out"][lc[last]] = rec.leg_outcome[order[last]]
    served = ~np.isnan(rec.leg_start)
    out["transfers"] = np.bincount(rec.leg_contact[rec.leg_outcome == ESCALATED], minlength=n).astype(np.int32)
    work = (rec.leg_end - rec.leg_start + rec.leg_wrap)[served]
    out["work"] = np.bincount(rec.leg_contact[served], weights=work, minlength=n)
    out["served_legs"] = np.bincount(rec.leg_contact[served], minlength=n).astype(np.int32)
    # waiting at every tier queue; the first queue's wait is `wait`, the rest is hold after transfers
    leg_wait = np.where(served, rec.leg_start, rec.leg_end) - rec.leg_enqueued
    out["queued"] = np.bincount(rec.leg_contact, weights=leg_wait, minlength=n)
    return out


def contact_view(scn: Scenario, rec: Records) -> ContactView:
    """Derive each contact's experience from its tier legs."""
    legs = _per_contact_legs(rec)
    has_leg, enq, start = legs.pop("has_leg"), legs.pop("enq"), legs.pop("start")
    last_out, transfers = legs.pop("last_out"), legs.pop("transfers")
    answered = has_leg & ~np.isnan(start)
    wait = np.where(answered, start - enq, legs.pop("first_end") - enq)
    first_response = np.where(answered, start - rec.arrival, np.nan)
    del start
    hold = np.where(has_leg, np.maximum(legs.pop("queued") - wait, 0.0), 0.0)
    in_bot = rec.contained | (rec.bot_left > 0)  # ended in the bot: contained, falsely contained or gave up
    end = np.where(has_leg, legs.pop("last_end"), np.where(in_bot, rec.arrival + rec.bot_time, np.nan))
    abandoned = has_leg & (last_out == ABANDONED)
    first_abandoned = has_leg & ~answered
    resolved = rec.contained | (last_out == RESOLVED)
    threshold = np.asarray([c.sla.answer_within_s for c in scn.channels])[rec.channel]

    def uses(formula: str) -> np.ndarray:
        return np.asarray([c.sla.formula == formula for c in scn.channels])[rec.channel]

    within = wait <= threshold
    num = answered & within
    num = np.where(uses("short_abandons_met"), num | (first_abandoned & within), num)
    den = has_leg.copy()
    den = np.where(uses("answered"), answered, den)
    den = np.where(uses("late_abandons"), answered | (first_abandoned & ~within), den)
    experience = Experience(
        wait_s=np.where(has_leg, wait, 0.0),
        abandoned=abandoned | (rec.bot_left == BOT_GAVE_UP),  # giving up in the bot is leaving unserved
        contained=rec.contained | (rec.bot_left == FALSE_CONTAINED),  # ended in the bot as contained
        bot_handoff=rec.bot & ~in_bot,
        transfers=transfers,
        resolved=resolved,
        attempt=rec.attempt,
        hold_s=hold,
        realtime=np.asarray([c.realtime for c in scn.channels])[rec.channel],
        promise_s=threshold,
    )
    csat = score_in_chunks(scn.satisfaction, experience)
    nps = project_nps(scn.satisfaction, experience, csat) if scn.nps else None
    return ContactView(
        has_leg=has_leg,
        enq=enq,
        answered=answered,
        abandoned=first_abandoned,
        wait=wait,
        first_response=first_response,
        transfers=transfers,
        work=legs["work"],
        served_legs=legs["served_legs"],
        resolved=resolved,
        end=end,
        threshold=threshold,
        sl_num=num,
        sl_den=den,
        csat=csat,
        nps=nps,
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _sums(codes: np.ndarray, size: int, values: np.ndarray | None = None) -> np.ndarray:
    """Per-group sums (counts without values) over contacts with code >= 0."""
    keep = codes >= 0
    weights = None if values is None else np.asarray(values, dtype=float)[keep]
    return np.bincount(codes[keep], weights=weights, minlength=size).astype(float)


def queue_metrics(v: ContactView, rec: Records, codes: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Offered-based KPIs per group; `codes` is the group of each offered contact, -1 elsewhere."""
    codes = np.where(v.has_leg, codes, -1)
    offered = _sums(codes, size)
    answered = _sums(codes, size, v.answered)
    abandoned = _sums(codes, size, v.abandoned)
    wait = np.nan_to_num(v.wait)
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "service_level": _ratio(_sums(codes, size, v.sl_num), _sums(codes, size, v.sl_den)),
        "asa_s": _ratio(_sums(codes, size, np.where(v.answered, wait, 0)), answered),
        "wait_mean_s": _ratio(_sums(codes, size, wait), offered),
        "abandon_rate": _ratio(abandoned, offered),
        "aht_s": _ratio(_sums(codes, size, v.work), _sums(codes, size, v.served_legs)),
        "escalation_rate": _ratio(_sums(codes, size, v.answered & (v.transfers > 0)), answered),
        "first_response_mean_s": _ratio(_sums(codes, size, np.nan_to_num(v.first_response)), answered),
    }


def door_metrics(v: ContactView, rec: Records, codes: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Front-door KPIs per group (every arriving contact, bot-contained ones included)."""
    contained = _sums(codes, size, rec.contained)
    arrivals = _sums(codes, size)
    bot = _sums(codes, size, rec.bot)
    out = {
        "arrivals": arrivals,
        "bot_entered": bot,
        "contained": contained,
        "containment_rate": _ratio(contained, bot),
        "csat": _ratio(_sums(codes, size, v.csat), arrivals),
    }
    if v.nps is not None:  # NPS in points, -100..100
        out["nps"] = 100.0 * _ratio(_sums(codes, size, v.nps), arrivals)
    return out


def bot_metrics(rec: Records, returned: np.ndarray, codes: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """How bot conversations end, per group of front-door codes: every one entering the bot is
    contained, falsely contained, given up or handed off; bot_recontacts are the contacts that come
    back after a false containment or a give-up (`returned`, counted by their own arrival)."""
    contained = _sums(codes, size, rec.contained)
    false = _sums(codes, size, rec.bot_left == FALSE_CONTAINED)
    gave_up = _sums(codes, size, rec.bot_left == BOT_GAVE_UP)
    return {
        "false_contained": false,
        "bot_giveups": gave_up,
        "bot_handoffs": _sums(codes, size, rec.bot) - contained - false - gave_up,
        "bot_recontacts": _sums(codes, size, returned),
    }


def bot_recontact(rec: Records) -> np.ndarray:
    """Per contact: it is the return of a contact that left the bot unresolved. Each contact has at
    most one follow-up (same issue, next attempt), so the previous attempt of the issue is its parent."""
    order = np.lexsort((rec.attempt, rec.issue))
    same = rec.issue[order][1:] == rec.issue[order][:-1]
    out = np.zeros(rec.n_contacts, bool)
    out[order[1:][same]] = rec.bot_left[order[:-1][same]] > 0
    return out


def issue_metrics(v: ContactView, rec: Records, codes: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Issue KPIs per group of the issue's first contact: FCR and end-to-end resolution time."""
    first = rec.attempt == 0
    n_issues = int(first.sum())
    res_end = np.full(n_issues, np.nan)
    resolved = v.resolved
    res_end[rec.issue[resolved]] = v.end[resolved]
    issue_codes = codes[first]
    time = res_end - rec.arrival[first]
    fcr = _ratio(_sums(issue_codes, size, resolved[first]), _sums(issue_codes, size))
    ok = ~np.isnan(time)
    mean = _ratio(
        _sums(np.where(ok, issue_codes, -1), size, np.nan_to_num(time)), _sums(np.where(ok, issue_codes, -1), size)
    )
    return {
        "fcr": fcr,
        "resolution_time_mean_s": mean,
        "resolution_time_p90_s": group_quantile(np.where(ok, issue_codes, -1), time, size, 0.9),
    }


def group_quantile(codes: np.ndarray, values: np.ndarray, size: int, q: float) -> np.ndarray:
    """The `q` quantile (linear interpolation) of `values` per group code >= 0; nan for empty groups."""
    keep = codes >= 0
    g, x = codes[keep], values[keep]
    order = np.lexsort((x, g))
    g, x = g[order], x[order]
    bounds = np.searchsorted(g, np.arange(size + 1))
    out = np.full(size, np.nan)
    for k in range(size):
        if bounds[k + 1] > bounds[k]:
            out[k] = np.quantile(x[bounds[k] : bounds[k + 1]], q)
    return out


def _interval_of(times: np.ndarray, scn: Scenario) -> np.ndarray:
    """Reporting interval of each time; -1 outside [warm-up, horizon end)."""
    h = scn.horizon
    idx = np.floor(np.nan_to_num(times, nan=-1.0) / h.interval_s).astype(np.int64)
    inside = (times >= h.warmup_s) & (times < h.end_s)
    return np.where(inside, idx, -1)


def _tier_time(scn: Scenario, rec: Records, edges: np.ndarray) -> dict[str, np.ndarray]:
    """Per tier and bin: busy agent-time, slot-time in use and staffed agent-time (tiers x bins)."""
    n_t, bins = len(scn.tiers), len(edges) - 1
    busy, slots, present = np.zeros((n_t, bins)), np.zeros((n_t, bins)), np.zeros((n_t, bins))
    served = ~np.isnan(rec.leg_start)
    for k, tier in enumerate(scn.tiers):
        legs = served & (rec.leg_tier == k)
        starts, ends = rec.leg_start[legs], rec.leg_end[legs] + rec.leg_wrap[legs]
        capacity = np.lcm.reduce([scn.channels[c].concurrency for c in tier.skills])
        units = np.asarray(
            [capacity // scn.channels[c].concurrency if c in tier.skills else 0 for c in range(len(scn.channels))]
        )[rec.channel[rec.leg_contact[legs]]]
        slots[k] = span_integral(starts, ends, edges, units / capacity)
        if capacity == 1:
            busy[k] = slots[k]
        else:
            mine = rec.busy_tier == k
            busy[k] = span_integral(rec.busy_start[mine], rec.busy_end[mine], edges)
        mine = rec.present_tier == k
        present[k] = step_integral(rec.present_time[mine], rec.present_count[mine].astype(float), edges)
    return {"busy": busy, "slots": slots, "present": present}


def replication_tables(scn: Scenario, rec: Records) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary and per-interval KPI rows of one replication (value column, not yet averaged)."""
    h = scn.horizon
    v = contact_view(scn, rec)
    n_c, n_t, n_i = len(scn.channels), len(scn.tiers), len(scn.intents)
    n_int = h.n_intervals
    q_int = _interval_of(v.enq, scn)  # offered by queue-entry time
    d_int = _interval_of(rec.arrival, scn)  # front door by arrival time
    q_in, d_in = q_int >= 0, d_int >= 0
    edges = np.r_[np.maximum(np.arange(n_int) * h.interval_s, h.warmup_s), h.end_s]
    edges = np.maximum.accumulate(edges)
    starts = np.arange(n_int) * h.interval_s
    live = edges[1:] > edges[:-1]  # intervals with any time after the warm-up

    summary: list[tuple] = []
    intervals: list[pd.DataFrame] = []

    def add(scope: str, names: list[str], metrics: dict[str, np.ndarray]) -> None:
        for metric, values in metrics.items():
            for g, name in enumerate(names):
                summary.append((scope, name, metric, float(values[g])))

    def add_intervals(scope: str, names: list[str], metrics: dict[str, np.ndarray]) -> None:
        g = len(names)
        for metric, values in metrics.items():
            grid = np.asarray(values, dtype=float).reshape(n_int, g)[live]
            intervals.append(
                pd.DataFrame(
                    {
                        "interval_start": np.repeat(starts[live], g),
                        "scope": scope,
                        "name": np.tile(names, int(live.sum())),
                        "metric": metric,
                        "value": grid.ravel(),
                    }
                )
            )

    returned = bot_recontact(rec)

    def kpis(codes_q: np.ndarray, codes_d: np.ndarray, size: int) -> dict[str, np.ndarray]:
        return {
            **queue_metrics(v, rec, codes_q, size),
            **door_metrics(v, rec, codes_d, size),
            **bot_metrics(rec, returned, codes_d, size),
            **issue_metrics(v, rec, codes_d, size),
        }

    channels = [c.name for c in scn.channels]
    tier_names = [t.name for t in scn.tiers]
    overall = kpis(np.where(q_in, 0, -1), np.where(d_in, 0, -1), 1)
    by_channel = kpis(np.where(q_in, rec.channel, -1), np.where(d_in, rec.channel, -1), n_c)
    by_intent = kpis(np.where(q_in, rec.intent, -1), np.where(d_in, rec.intent, -1), n_i)

    # backlog: contacts waiting in agent queues at the end of the horizon and of each interval
    waiting_until = np.where(np.isnan(rec.leg_start), rec.leg_end, rec.leg_start)
    leg_channel = rec.channel[rec.leg_contact]
    backlog_end = np.asarray(
        [
            count_at(rec.leg_enqueued[leg_channel == c], waiting_until[leg_channel == c], np.asarray([h.end_s]))[0]
            for c in range(n_c)
        ],
        dtype=float,
    )
    overall["backlog_end"] = np.asarray([backlog_end.sum()])
    by_channel["backlog_end"] = backlog_end
    targets = np.asarray([c.sla.target for c in scn.channels])
    by_channel[METRIC] = _days_meeting_sla(scn, v, q_in, rec.channel, targets)

    # agents: occupancy, utilisation; costs (costs.py)
    time = _tier_time(scn, rec, edges)
    window = edges[1:] - edges[:-1]
    staff = np.stack([t.staff for t in scn.tiers])  # scheduled (paid) heads per interval
    issue_resolved = np.zeros(rec.n_contacts, bool)
    issue_resolved[rec.issue[v.resolved]] = True  # by any of its contacts, recontacts included
    costs = cost_tables(scn, rec, window, d_int, issue_resolved)
    by_intent.update(intent_costs(scn, rec, window, d_int))
    leg_int = _interval_of(rec.leg_enqueued, scn)  # interval each tier leg joined its queue; -1 outside
    tiers = {
        **_tier_queue(v, rec, np.where(leg_int >= 0, rec.leg_tier, -1), n_t),
        "occupancy": _ratio(time["busy"].sum(1), time["present"].sum(1)),
        "utilisation": _ratio(time["slots"].sum(1), time["present"].sum(1)),
        "agents": _ratio(time["present"].sum(1), np.full(n_t, window.sum())),
        **_tier_satisfaction(v, rec, leg_int >= 0, n_t),
        **costs.tier,
    }
    overall.update(
        {
            "occupancy": _ratio(np.atleast_1d(time["busy"].sum()), np.atleast_1d(time["present"].sum())),
            "utilisation": _ratio(np.atleast_1d(time["slots"].sum()), np.atleast_1d(time["present"].sum())),
            **costs.overall,
        }
    )
    add("overall", ["all"], overall)
    add("channel", channels, by_channel)
    add("tier", tier_names, tiers)
    add("intent", list(scn.intents), by_intent)

    # per interval
    add_intervals(
        "overall",
        ["all"],
        {
            **{k: x for k, x in queue_metrics(v, rec, q_int, n_int).items() if k in _INTERVAL_QUEUE},
            **door_metrics(v, rec, d_int, n_int),
            **costs.interval,
        },
    )
    cq = np.where(q_in, q_int * n_c + rec.channel, -1)
    cd = np.where(d_in, d_int * n_c + rec.channel, -1)
    per_channel = {k: x for k, x in queue_metrics(v, rec, cq, n_int * n_c).items() if k in _INTERVAL_QUEUE}
    per_channel.update(door_metrics(v, rec, cd, n_int * n_c))
    queue_time = np.stack(
        [span_integral(rec.leg_enqueued[leg_channel == c], waiting_until[leg_channel == c], edges) for c in range(n_c)],
        axis=1,
    )
    per_channel["queue_mean"] = _ratio(queue_time, window[:, None]).ravel()
    per_channel[METRIC] = meets_target(per_channel["service_level"], np.tile(targets, n_int))
    per_channel["backlog"] = (
        np.stack(
            [
                count_at(rec.leg_enqueued[leg_channel == c], waiting_until[leg_channel == c], edges[1:])
                for c in range(n_c)
            ],
            axis=1,
        )
        .ravel()
        .astype(float)
    )
    add_intervals("channel", channels, per_channel)
    tier_queue = _tier_queue(v, rec, np.where(leg_int >= 0, leg_int * n_t + rec.leg_tier, -1), n_int * n_t)
    add_intervals(
        "tier",
        tier_names,
        {
            "occupancy": _ratio(time["busy"], time["present"]).T.ravel(),
            "utilisation": _ratio(time["slots"], time["present"]).T.ravel(),
            "agents": _ratio(time["present"], window[None, :]).T.ravel(),
            "staff": staff.T.ravel(),
            "cost_total": costs.tier_interval.T.ravel(),
            **{metric: values for metric, values in tier_queue.items() if metric in _INTERVAL_QUEUE},
        },
    )
    summary_df = pd.DataFrame(summary, columns=SUMMARY_COLUMNS)
    intervals_df = pd.concat(intervals, ignore_index=True) if intervals else pd.DataFrame(columns=INTERVAL_COLUMNS)
    return summary_df, intervals_df


def _days_meeting_sla(
    scn: Scenario, v: ContactView, inside: np.ndarray, channel: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Per channel, the share of this replication's days whose service level met the target (risk.py)."""
    n_c, n_days = len(scn.channels), math.ceil(scn.horizon.end_s / DAY_S)
    day = (np.nan_to_num(v.enq) // DAY_S).astype(np.int64)
    codes = np.where(inside, day * n_c + channel, -1)
    day_sl = _ratio(_sums(codes, n_days * n_c, v.sl_num), _sums(codes, n_days * n_c, v.sl_den))
    return share_of_days_meeting(day_sl.reshape(n_days, n_c), targets)


_INTERVAL_QUEUE = ("offered", "answered", "abandoned", "service_level", "asa_s", "abandon_rate", "aht_s")


def _tier_queue(v: ContactView, rec: Records, codes: np.ndarray, n_t: int) -> dict[str, np.ndarray]:
    """Queue KPIs per group of legs (`codes`: tier, or interval x tier): every wait at a tier,
    escalations included, judged against the contact's channel threshold."""
    served = ~np.isnan(rec.leg_start)
    wait = np.where(served, rec.leg_start, rec.leg_end) - rec.leg_enqueued
    within = wait <= v.threshold[rec.leg_contact]
    offered = _sums(codes, n_t)
    answered = _sums(codes, n_t, served)
    abandoned = _sums(codes, n_t, rec.leg_outcome == ABANDONED)
    work = np.where(served, rec.leg_end - rec.leg_start + rec.leg_wrap, 0.0)
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "resolved": _sums(codes, n_t, rec.leg_outcome == RESOLVED),
        "escalated": _sums(codes, n_t, rec.leg_outcome == ESCALATED),
        "unresolved": _sums(codes, n_t, rec.leg_outcome == UNRESOLVED),
        "service_level": _ratio(_sums(codes, n_t, served & within), offered),
        "asa_s": _ratio(_sums(codes, n_t, np.where(served, wait, 0.0)), answered),
        "wait_mean_s": _ratio(_sums(codes, n_t, wait), offered),
        "abandon_rate": _ratio(abandoned, offered),
        "aht_s": _ratio(_sums(codes, n_t, work), answered),
        "escalation_rate": _ratio(_sums(codes, n_t, rec.leg_outcome == ESCALATED), answered),
    }


def _tier_satisfaction(v: ContactView, rec: Records, inside: np.ndarray, n_t: int) -> dict[str, np.ndarray]:
    """Projected CSAT (and NPS) of the contacts that reached each tier (once per tier, by queue entry;
    `inside`: the legs that joined their queue in the reporting window)."""
    n = rec.n_contacts
    csat, nps = np.full(n_t, np.nan), np.full(n_t, np.nan)
    for k in range(n_t):
        reached = np.zeros(n, bool)
        reached[rec.leg_contact[inside & (rec.leg_tier == k)]] = True
        if reached.any():
            csat[k] = v.csat[reached].mean()
            if v.nps is not None:
                nps[k] = 100.0 * v.nps[reached].mean()
    return {"csat": csat, **({"nps": nps} if v.nps is not None else {})}

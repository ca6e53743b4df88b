"""Where contacts go: bot containment per intent, resolution (1 - escalation) per tier, recontacts.

A recontact is the same customer_id arriving again within `window_s` of the end of an earlier
contact. cxsim brings back abandoned and unresolved customers with one probability and one
delay distribution; the log shows a comeback only if it happened before the log ends, so the
probability p and the exponential delay mean are fitted together by maximum likelihood with
that censoring (a cure model: a customer who has not come back by time c is either one who
never will, 1 - p, or one whose delay exceeds c, p * e^(-c/mean)). Answered contacts that
come back estimate p * (1 - resolution) of the last tier, which identifies that resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from cxsim.calibrate.durations import _hessian
from cxsim.calibrate.estimates import Z95, Estimate, share
from cxsim.calibrate.log import LogData


@dataclass
class Recontacts:
    """Comebacks: which contacts are recontacts, and the fitted probability and delay."""

    is_recontact: np.ndarray  # per row of LogData.contacts
    probability: Estimate | None
    delay_mean: Estimate | None
    answered_comeback: Estimate | None  # p * (1 - resolution of the last tier)
    delays: np.ndarray  # observed comeback delays after abandoned contacts (s)


def _cure_fit(
    what: str, observed: np.ndarray, followed: np.ndarray, mean: float | None = None
) -> tuple[Estimate, Estimate | None] | None:
    """ML of (p, delay mean) from delays (followed) and follow-up times without a comeback.

    With `mean` given only p is fitted. Returns (p, mean) Estimates, or None without events."""
    d, c = observed[followed], observed[~followed]
    if len(d) < 2 or len(observed) < 5:
        return None

    def nll(theta: np.ndarray) -> float:
        p = special.expit(theta[0])
        m = math.exp(theta[1]) if mean is None else mean
        ll = len(d) * math.log(p) - len(d) * math.log(m) - d.sum() / m
        ll += np.log1p(-p + p * np.exp(-c / m)).sum()
        return -ll

    p0 = min(max(len(d) / len(observed), 1e-3), 1 - 1e-3)
    theta0 = np.array([special.logit(p0), math.log(max(d.mean(), 1.0))])[: 1 if mean is not None else 2]
    theta = optimize.minimize(nll, theta0, method="L-BFGS-B").x
    try:
        se = np.sqrt(np.clip(np.diag(np.linalg.inv(_hessian(nll, theta))), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(len(theta), np.nan)
    how = "cure model ML (comebacks censored at the log's end), 95% from observed information"
    n = len(observed)
    p = Estimate(
        f"{what} probability",
        float(special.expit(theta[0])),
        float(special.expit(theta[0] - Z95 * se[0])),
        float(special.expit(theta[0] + Z95 * se[0])),
        n,
        how,
    )
    if mean is not None:
        return p, None
    m = Estimate(
        f"{what} delay mean_s",
        math.exp(theta[1]),
        math.exp(theta[1] - Z95 * se[1]),
        math.exp(theta[1] + Z95 * se[1]),
        len(d),
        how,
    )
    return p, m


def recontacts(data: LogData, window_s: float, last_tier_answered: np.ndarray) -> Recontacts:
    """Find comebacks (same customer within `window_s` of an earlier contact's end) and fit them.

    `last_tier_answered`: per contact row, whether its last leg was answered at the last tier."""
    c = data.contacts
    order = np.lexsort((c["arrival"].to_numpy(), c["customer"].to_numpy()))
    cust = c["customer"].to_numpy()[order]
    arrival = c["arrival"].to_numpy()[order]
    end = c["end"].to_numpy()[order]
    same_next = np.r_[cust[1:] == cust[:-1], False]
    gap_next = np.r_[arrival[1:] - end[:-1], np.nan]
    comes_back = same_next & (gap_next >= 0) & (gap_next <= window_s)
    is_rc = np.zeros(len(c), bool)
    is_rc[order[1:]] = comes_back[:-1]
    # follow-up time of each contact: the gap to its comeback, else until the window or the log closes
    follow = np.where(comes_back, gap_next, np.minimum(window_s, data.span_s - end))
    outcome = c["outcome"].to_numpy()[order]
    abandoned = (outcome == "abandoned") & (follow > 0)
    fit = _cure_fit("recontact", follow[abandoned], comes_back[abandoned])
    probability = delay = answered = None
    if fit is not None:
        probability, delay = fit
        answered_mask = last_tier_answered[order] & (follow > 0)
        sub = _cure_fit("comeback after an answer", follow[answered_mask], comes_back[answered_mask], delay.value)
        if sub is not None:
            answered = sub[0]
        elif answered_mask.any():
            answered = share(
                "comeback after an answer probability", int(comes_back[answered_mask].sum()), int(answered_mask.sum())
            )
    return Recontacts(is_rc, probability, delay, answered, follow[abandoned & comes_back])


def containment(data: LogData) -> dict[str, Estimate]:
    """Bot containment per intent (over every channel the bot fronts): contained / entered the bot."""
    c = data.contacts
    in_bot = c["bot_end"].notna() | (c["outcome"] == "contained")
    return {
        str(intent): share(f"bot containment {intent}", int((g["outcome"] == "contained").sum()), len(g))
        for intent, g in c[in_bot].groupby("intent", observed=True)
    }


def tier_order(data: LogData) -> list[str]:
    """Tiers in escalation order: by the mean position of their legs within contacts, then by volume."""
    g = data.legs.groupby("tier", observed=True)["leg"].agg(["mean", "size"])
    return [str(t) for t in g.sort_values(["mean", "size"], ascending=[True, False]).index]


def resolution(data: LogData, tiers: list[str]) -> tuple[dict[str, Estimate], dict[str, dict[str, Estimate]]]:
    """Per tier (and per intent and tier) the share of answered legs not escalated, for tiers with a next tier."""
    legs = data.legs[data.legs["outcome"].isin(["answered", "escalated"])]
    intent = data.contacts.set_index("contact")["intent"]
    legs = legs.assign(intent=intent.reindex(legs["contact"]).to_numpy())
    per_tier: dict[str, Estimate] = {}
    per_intent: dict[str, dict[str, Estimate]] = {}
    for tier in tiers[:-1]:
        g = legs[legs["tier"] == tier]
        per_tier[tier] = share(f"resolution {tier}", int((g["outcome"] == "answered").sum()), len(g))
        for name, gi in g.groupby("intent", observed=True):
            per_intent.setdefault(str(name), {})[tier] = share(
                f"resolution {tier}/{name}", int((gi["outcome"] == "answered").sum()), len(gi)
            )
    return per_tier, per_intent


def last_leg_answered_at(data: LogData, tier: str) -> np.ndarray:
    """Per contact row: its last leg was answered (not escalated) at `tier`."""
    legs = data.legs.sort_values(["contact", "queue_entry"])
    last = legs.groupby("contact", sort=False).tail(1)
    hit = last.loc[(last["tier"] == tier) & (last["outcome"] == "answered"), "contact"].to_numpy()
    return np.isin(data.contacts["contact"].to_numpy(), hit)

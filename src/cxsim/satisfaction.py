"""Projected customer satisfaction: each contact's experience -> probability of a satisfied answer.

A model is anything with `score(experience) -> ndarray` of probabilities in [0, 1], where
`experience` is an `Experience` (equal-length arrays, one entry per contact). It may also have
`nps(experience) -> ndarray` (expected promoter minus detractor, in [-1, 1]); without it,
projected NPS uses `nps_from_csat` on its scores.

The default is a logistic model whose coefficients are assumptions calibrated on published
relative effects (docs/satisfaction.md gives each source, its trust level and the arithmetic);
every coefficient can be overridden from the scenario (`satisfaction.coefficients.transfer=-0.6`),
and a researcher swaps the whole model with `satisfaction.model: {_target_: my.module.MyModel}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from cxsim.errors import ConfigError
from cxsim.plugins import Contract, build


@dataclass(frozen=True)
class Experience:
    """What each customer lived through, one entry per contact (times in seconds)."""

    wait_s: np.ndarray  # time in the first agent queue before the answer (or until abandoning)
    abandoned: np.ndarray  # bool: left a queue before being answered, or gave up in the bot
    contained: np.ndarray  # bool: ended in the bot as contained (`resolved` says if it truly was)
    bot_handoff: np.ndarray  # bool: went through the bot and was handed to an agent
    transfers: np.ndarray  # number of escalations to another tier within this contact
    resolved: np.ndarray  # bool: the issue was resolved by this contact
    attempt: np.ndarray  # 0 first contact, 1.. repeat contacts about the same issue
    hold_s: np.ndarray | None = None  # time in later tiers' queues after a transfer (None: 0)
    realtime: np.ndarray | None = None  # bool: a realtime channel (None: all realtime)
    promise_s: np.ndarray | None = None  # the channel's promised answer time, sla.answer_within_s

    def __len__(self) -> int:
        return len(self.wait_s)


@dataclass(frozen=True)
class DefaultCoefficients:
    """Logit-scale effects of the default model. Each is an assumption; docs/satisfaction.md
    names its source and trust level and shows how the value was derived."""

    # level: P(satisfied) of a resolved first contact with a person, answered within tolerance
    base: float = 1.73  # logit(0.85); a level, not a relation: only differences are meaningful
    # waiting (realtime channels): perceived = minutes**exponent (Antonides et al. 2002, power law);
    # the penalty grows with perceived minus acceptable wait
    tolerance_s: float = 120.0  # acceptable wait: ~2/3 of callers wait at most 2 min (Arise survey)
    wait_exponent: float = 0.8  # concave perception of longer waits (shape: Antonides; value assumed)
    wait_per_min: float = -0.41  # per perceived minute past tolerance: 5 min wait -> -15% (SQM hold)
    # deferred channels (email, tickets): customers hold the company to its promised answer time
    deferred_late_per_hour: float = -0.10  # per hour past sla.answer_within_s (assumption, no source)
    # outcome of the contact
    unresolved: float = -1.16  # not resolved by this contact: FCR contacts ~33% higher CSAT (SQM)
    abandoned: float = -0.80  # extra for leaving the queue unserved (Feinberg et al.: significant)
    transfer: float = -0.40  # per escalation: transferred callers ~12% lower top-box CSAT (SQM)
    repeat_contact: float = -1.16  # per earlier contact about the issue: not first-contact resolved (SQM)
    # bot
    bot_handoff: float = -0.40  # failed bot attempt then a person: a bot-to-human transfer (SQM, analogy)
    contained: float = -0.35  # resolved by the bot, not a person: 0.85 -> 0.80 (Gartner 2023 survey)
    # projected NPS from P(satisfied): promoter = a*p, detractor = d*(1 - p)
    nps_promoter: float = 0.60  # share of satisfied customers who are promoters (assumption)
    nps_detractor: float = 0.80  # share of unsatisfied customers who are detractors (assumption)


def perceived_minutes(wait_s: np.ndarray, exponent: float) -> np.ndarray:
    """Perceived wait in minutes: a power function of the actual wait (Antonides et al. 2002)."""
    return (np.maximum(np.nan_to_num(np.asarray(wait_s, dtype=float)), 0.0) / 60.0) ** exponent


def nps_from_csat(p: np.ndarray, promoter: float = 0.60, detractor: float = 0.80) -> np.ndarray:
    """Expected promoter minus detractor share per contact, from its P(satisfied) (an assumption)."""
    p = np.asarray(p, dtype=float)
    return promoter * p - detractor * (1.0 - p)


@dataclass(frozen=True)
class DefaultSatisfaction:
    """Logistic projected-satisfaction model: P(satisfied) = 1 / (1 + exp(-(base + effects)))."""

    coefficients: DefaultCoefficients = field(default_factory=DefaultCoefficients)

    def logit(self, e: Experience) -> np.ndarray:
        """The linear predictor of each contact."""
        c = self.coefficients
        n = len(e)
        hold = np.zeros(n) if e.hold_s is None else np.nan_to_num(np.asarray(e.hold_s, dtype=float))
        waited = np.nan_to_num(np.asarray(e.wait_s, dtype=float)) + hold
        realtime = np.ones(n, bool) if e.realtime is None else np.asarray(e.realtime, bool)
        promise = np.full(n, np.inf) if e.promise_s is None else np.asarray(e.promise_s, dtype=float)
        excess = np.maximum(
            perceived_minutes(waited, c.wait_exponent) - perceived_minutes(np.asarray(c.tolerance_s), c.wait_exponent),
            0.0,
        )
        late_h = np.maximum(waited - promise, 0.0) / 3600.0
        resolved = np.asarray(e.resolved, bool)
        return (
            c.base
            + np.where(realtime, c.wait_per_min * excess, c.deferred_late_per_hour * late_h)
            + c.unresolved * ~resolved
            + c.abandoned * np.asarray(e.abandoned, bool)
            + c.transfer * np.asarray(e.transfers, dtype=float)
            + c.repeat_contact * np.asarray(e.attempt, dtype=float)
            + c.bot_handoff * np.asarray(e.bot_handoff, bool)
            + c.contained * np.asarray(e.contained, bool)
        )

    def score(self, e: Experience) -> np.ndarray:
        """Probability that each contact answers the survey 'satisfied'."""
        return 1.0 / (1.0 + np.exp(-self.logit(e)))

    def nps(self, e: Experience) -> np.ndarray:
        """Expected promoter minus detractor share of each contact (see `nps_from_csat`)."""
        c = self.coefficients
        return nps_from_csat(self.score(e), c.nps_promoter, c.nps_detractor)


def score_in_chunks(model: Any, e: Experience, chunk: int = 1 << 17) -> np.ndarray:
    """`model.score(e)`, a slice of contacts at a time: the model's temporaries stay small at a
    million contacts, and the result is the same as one call for any per-contact model."""
    n = len(e.wait_s)
    if n <= chunk:
        return np.asarray(model.score(e), dtype=float)
    names = [f.name for f in fields(e)]
    out = np.empty(n)
    for lo in range(0, n, chunk):
        part = Experience(**{name: getattr(e, name)[lo : lo + chunk] for name in names})
        out[lo : lo + chunk] = model.score(part)
    return out


def project_nps(model: Any, e: Experience, scores: np.ndarray) -> np.ndarray:
    """Per-contact expected promoter minus detractor share from any model (its `nps`, or the mapping)."""
    method = getattr(model, "nps", None)
    return np.asarray(method(e), dtype=float) if callable(method) else nps_from_csat(scores)


CONTRACT = Contract("a satisfaction model", methods=("score",))


def build_model(spec: Mapping[str, Any]) -> Any:
    """The satisfaction model a scenario asks for, with coefficient overrides applied."""
    model = spec.get("model", "default")
    overrides = dict(spec.get("coefficients") or {})
    if hasattr(model, "get") and model.get("_target_"):
        if overrides:
            raise ConfigError("satisfaction.coefficients", "apply to the default model; pass a custom model's own")
        return build(model, CONTRACT, "satisfaction.model")
    if model != "default":
        raise ConfigError("satisfaction.model", f"'{model}' is not 'default' or a {{_target_: ...}}")
    known = {f.name for f in fields(DefaultCoefficients)}
    for name in overrides:
        if name not in known:
            raise ConfigError(f"satisfaction.coefficients.{name}", f"unknown coefficient ({', '.join(sorted(known))})")
    values = {}
    for name, value in overrides.items():
        try:
            values[name] = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"satisfaction.coefficients.{name}", f"must be a number, got '{value}'") from None
        if not np.isfinite(values[name]):
            raise ConfigError(f"satisfaction.coefficients.{name}", "must be finite")
    coefficients = DefaultCoefficients(**values)
    if coefficients.tolerance_s < 0:
        raise ConfigError("satisfaction.coefficients.tolerance_s", "must be >= 0")
    if coefficients.wait_exponent <= 0:
        raise ConfigError("satisfaction.coefficients.wait_exponent", "must be > 0")
    for name in ("nps_promoter", "nps_detractor"):
        if not 0.0 <= getattr(coefficients, name) <= 1.0:
            raise ConfigError(f"satisfaction.coefficients.{name}", "must be a share in [0, 1]")
    return DefaultSatisfaction(coefficients)

"""Projected customer satisfaction: each contact's experience -> probability of a satisfied answer.

A model is anything with `score(experience) -> ndarray` of probabilities in [0, 1], where
`experience` is a mapping of equal-length arrays (see `Experience`). The default is a
logistic model whose coefficients are assumptions built on published relations, listed
with their sources in docs/satisfaction.md; every coefficient can be overridden from the
scenario (`satisfaction.coefficients.wait_per_min=-0.3`), and a researcher swaps the whole
model with `satisfaction.model: {_target_: my.module.MyModel}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from cxsim.errors import ConfigError


@dataclass(frozen=True)
class Experience:
    """What a customer lived through, one entry per contact."""

    wait_s: np.ndarray  # time in agent queues before the first answer (or until abandoning)
    abandoned: np.ndarray  # bool
    contained: np.ndarray  # bool: the bot resolved it
    bot_handoff: np.ndarray  # bool: went through the bot and was handed to an agent
    transfers: np.ndarray  # number of escalations to another tier
    resolved: np.ndarray  # bool: the issue was resolved by this contact
    attempt: np.ndarray  # 0 first contact, 1.. repeat contacts about the same issue


@dataclass(frozen=True)
class DefaultCoefficients:
    """Logit-scale effects; see docs/satisfaction.md for each source and how far to trust it."""

    base: float = 1.70  # logit of P(satisfied) for a resolved first contact answered at once (~0.85)
    tolerance_s: float = 120.0  # wait accepted without penalty (about two-thirds accept <= 2 min)
    wait_per_min: float = -0.25  # per minute of perceived wait beyond the tolerance
    wait_exponent: float = 0.8  # perceived wait = actual^exponent (power law of perceived wait)
    abandoned: float = -1.60  # abandoned the queue
    unresolved: float = -1.40  # not resolved by this contact (FCR is the strongest driver)
    transfer: float = -0.50  # per escalation/transfer (about 12% lower top-box CSAT)
    bot_handoff: float = -0.35  # a failed bot attempt before reaching an agent
    contained: float = -0.10  # resolved by the bot instead of a person (preference for humans)
    repeat_contact: float = -0.40  # per earlier contact about the same issue


@dataclass(frozen=True)
class DefaultSatisfaction:
    """Logistic projected-satisfaction model: P = 1 / (1 + exp(-(base + effects)))."""

    coefficients: DefaultCoefficients = field(default_factory=DefaultCoefficients)

    def score(self, e: Experience) -> np.ndarray:
        """Probability that each contact answers the survey 'satisfied'."""
        c = self.coefficients
        over = np.maximum(np.nan_to_num(e.wait_s) - c.tolerance_s, 0.0) / 60.0
        logit = (
            c.base
            + c.wait_per_min * over**c.wait_exponent
            + c.abandoned * e.abandoned
            + c.unresolved * (~e.resolved & ~e.abandoned)
            + c.transfer * e.transfers
            + c.bot_handoff * e.bot_handoff
            + c.contained * e.contained
            + c.repeat_contact * e.attempt
        )
        return 1.0 / (1.0 + np.exp(-logit))


def build_model(spec: Mapping[str, Any]) -> Any:
    """The satisfaction model a scenario asks for, with coefficient overrides applied."""
    model = spec.get("model", "default")
    overrides = dict(spec.get("coefficients") or {})
    if hasattr(model, "get") and model.get("_target_"):
        from hydra.utils import instantiate

        try:
            built = instantiate(dict(model))
        except Exception as exc:  # the researcher's class failed: one line
            raise ConfigError("satisfaction.model", f"cannot build {model.get('_target_')}: {exc}") from None
        if not callable(getattr(built, "score", None)):
            raise ConfigError("satisfaction.model", "a satisfaction model needs score(experience)")
        return built
    if model != "default":
        raise ConfigError("satisfaction.model", f"'{model}' is not 'default' or a {{_target_: ...}}")
    known = {f.name for f in fields(DefaultCoefficients)}
    for name in overrides:
        if name not in known:
            raise ConfigError(f"satisfaction.coefficients.{name}", f"unknown coefficient ({', '.join(sorted(known))})")
    coefficients = DefaultCoefficients(**{k: float(v) for k, v in overrides.items()})
    if coefficients.tolerance_s < 0:
        raise ConfigError("satisfaction.coefficients.tolerance_s", "must be >= 0")
    return DefaultSatisfaction(coefficients)

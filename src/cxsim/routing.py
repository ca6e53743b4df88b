"""Routing policies: which waiting contact an idle agent takes, and where waiting contacts overflow.

The contract is small so the hot path stays fast. A policy gives each contact a *rank* at a
tier (lower is served first; FIFO among equal ranks, oldest head first) once per
(tier, channel, segment, intent) combination before the run, and may list overflow rules.
For a dynamic rule, also define `select(heads, now)`: it is called with the heads of the
non-empty queues an idle agent could take, as `(rank, enqueued_at, channel)` tuples, and
returns the index of the one to serve. Name a policy in a scenario with
`routing: {policy: {_target_: my.module.MyPolicy, ...}}`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING, OmegaConf

from cxsim.errors import ConfigError
from cxsim.plugins import Contract, build


@dataclass(frozen=True)
class OverflowRule:
    """A contact waiting `after_s` at `from_tier` may also be answered by `to_tier`."""

    from_tier: str
    to_tier: str
    after_s: float


@dataclass
class FifoPolicy:
    """First come, first served across every channel a tier serves."""

    overflow: Sequence[OverflowRule] = ()

    def rank(self, tier: str, channel: str, segment: str, intent: str) -> int:
        return 0


@dataclass
class ChannelPriorityPolicy:
    """Strict priority by channel (`priorities`: channel -> rank, 0 first); live before deferred
    when no ranks are given."""

    priorities: Mapping[str, int] = field(default_factory=dict)
    deferred: frozenset[str] = frozenset()
    overflow: Sequence[OverflowRule] = ()

    def rank(self, tier: str, channel: str, segment: str, intent: str) -> int:
        if channel in self.priorities:
            return int(self.priorities[channel])
        return 1 if channel in self.deferred else 0


@dataclass
class SegmentPriorityPolicy(ChannelPriorityPolicy):
    """Customer segment first (`segment_priorities`, e.g. vip: 0), then channel priority."""

    segment_priorities: Mapping[str, int] = field(default_factory=dict)

    def rank(self, tier: str, channel: str, segment: str, intent: str) -> int:
        channel_rank = super().rank(tier, channel, segment, intent)
        return int(self.segment_priorities.get(segment, 1_000)) * 1_000 + channel_rank


BUILTIN = ("fifo", "priority", "segment_priority", "overflow")
CONTRACT = Contract("a routing policy", methods=("rank",))


def _overflow_rules(routing: Any, tiers: Sequence[str]) -> tuple[OverflowRule, ...]:
    rules = []
    for i, rule in enumerate(routing.get("overflow") or []):
        key = f"routing.overflow[{i}]"
        if not hasattr(rule, "get"):
            raise ConfigError(key, "must be a mapping {from_tier, to_tier, after_s}")
        for field_name in ("from_tier", "to_tier", "after_s"):
            missing = OmegaConf.is_missing(rule, field_name) if OmegaConf.is_config(rule) else None
            if missing or rule.get(field_name, MISSING) == MISSING:
                raise ConfigError(f"{key}.{field_name}", "is required")
        for side in ("from_tier", "to_tier"):
            if rule.get(side) not in tiers:
                raise ConfigError(f"{key}.{side}", f"'{rule.get(side)}' is not a tier ({', '.join(tiers)})")
        if rule.get("from_tier") == rule.get("to_tier"):
            raise ConfigError(key, "from_tier and to_tier must differ")
        try:
            after = float(rule.get("after_s"))
        except (TypeError, ValueError):
            raise ConfigError(f"{key}.after_s", f"must be a number (got '{rule.get('after_s')}')") from None
        if not math.isfinite(after) or after < 0:
            raise ConfigError(f"{key}.after_s", f"must be a finite number >= 0 (got {after})")
        rules.append(OverflowRule(rule.get("from_tier"), rule.get("to_tier"), after))
    return tuple(rules)


def build_policy(routing: Any, channels: Mapping[str, bool], tiers: Sequence[str]) -> Any:
    """Build the routing policy from the `routing` config; `channels` maps name -> is realtime."""
    policy = routing.get("policy") or "fifo"
    rules = _overflow_rules(routing, tiers)
    priorities = dict(routing.get("priorities") or {})
    for name in priorities:
        if name not in channels:
            raise ConfigError(f"routing.priorities.{name}", "is not a channel of the scenario")
    deferred = frozenset(name for name, live in channels.items() if not live)
    if hasattr(policy, "get") and policy.get("_target_"):
        built = build(policy, CONTRACT, "routing.policy")
        if rules and not getattr(built, "overflow", None):
            built.overflow = rules
        return built
    if policy not in BUILTIN:
        raise ConfigError("routing.policy", f"'{policy}' is not one of {', '.join(BUILTIN)} or a {{_target_: ...}}")
    if policy == "overflow" and not rules:
        raise ConfigError("routing.overflow", "the overflow policy needs at least one rule")
    if policy == "fifo":
        return FifoPolicy(overflow=rules)
    if policy == "segment_priority":
        return SegmentPriorityPolicy(
            priorities=priorities,
            deferred=deferred,
            overflow=rules,
            segment_priorities=dict(routing.get("segment_priorities") or {}),
        )
    if policy == "overflow" and not priorities:
        return FifoPolicy(overflow=rules)
    return ChannelPriorityPolicy(priorities=priorities, deferred=deferred, overflow=rules)

"""A custom routing policy, as a researcher writes one (docs/extending.md walks through it).

Use it from the command line (the directory holding `examples/` must be importable):

    PYTHONPATH=. cxsim routing.policy='{_target_: examples.policies.LongestWaitFirst, scale_s: {voice: 20, chat: 60}}'

or from Python:

    scn = cxsim.load_scenario("baseline", overrides=["routing.policy={_target_: examples.policies.LongestWaitFirst}"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LongestWaitFirst:
    """An idle agent takes the contact that has waited longest, measured against its channel.

    Every contact gets the same rank, so each channel keeps one queue; `select` then looks at
    the oldest contact of each queue the agent could take and picks the largest
    `(now - enqueued) / scale_s[channel]`. With no scales that is plain longest-wait-first
    across channels (FIFO over the tier); with each channel's SLA threshold as its scale, a
    voice call 30 s old (1.5 x its 20 s) goes before a chat 60 s old (1.0 x its 60 s).
    """

    scale_s: Mapping[str, float] = field(default_factory=dict)  # channel -> seconds (default 1)
    overflow: Sequence[Any] = ()  # the scenario's routing.overflow rules are put here

    def rank(self, tier: str, channel: str, segment: str, intent: str) -> int:
        """Called once per combination before the run: one rank for all, one queue per channel."""
        return 0

    def select(self, heads: Sequence[tuple[int, float, str]], now: float) -> int:
        """Index of the head to serve among `(rank, enqueued_at, channel)` of the waiting queues."""
        best, best_score = 0, float("-inf")
        for i, (_rank, enqueued, channel) in enumerate(heads):
            score = (now - enqueued) / float(self.scale_s.get(channel, 1.0))
            if score > best_score:
                best, best_score = i, score
        return best

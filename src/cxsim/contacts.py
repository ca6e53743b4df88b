"""Customers as columns: the arrival stream (non-homogeneous Poisson, exact per interval) and
every random attribute a contact carries, drawn vectorised before the event loop starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxsim.forecast import realised_volumes
from cxsim.records import BOT_GAVE_UP, FALSE_CONTAINED
from cxsim.scenario import Scenario
from cxsim.streams import Streams


@dataclass
class Arrivals:
    """Front-door arrivals of one replication, sorted by time."""

    time: np.ndarray
    channel: np.ndarray
    intent: np.ndarray
    segment: np.ndarray

    def __len__(self) -> int:
        return len(self.time)


@dataclass
class Draws:
    """Per-contact random attributes, aligned with the contacts they were drawn for."""

    bot: np.ndarray  # bool: the channel has a bot
    contained: np.ndarray  # bool: the bot resolves it
    bot_left: np.ndarray  # int8: leaves the bot unresolved (FALSE_CONTAINED, BOT_GAVE_UP) and comes back; 0 else
    bot_return_delay: np.ndarray  # seconds from leaving the bot unresolved until coming back (inf: stays)
    bot_time: np.ndarray  # seconds in the bot (0 without bot)
    patience: np.ndarray  # seconds (inf: never abandons)
    handle: list[np.ndarray]  # per tier: handle seconds (nan where the tier lacks the skill)
    wrap: list[np.ndarray]  # per tier: wrap-up seconds
    resolve_u: list[np.ndarray]  # per tier: uniform coin for resolution
    recontact_u: np.ndarray  # uniform coin for coming back
    recontact_delay: np.ndarray  # seconds until the recontact


def _categorical(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    """Category codes (small ints) drawn with the given probabilities."""
    if len(probs) == 1:
        return np.zeros(size, dtype=np.int16)
    codes = np.searchsorted(np.cumsum(probs), rng.random(size) * probs.sum(), side="right")
    return codes.clip(0, len(probs) - 1).astype(np.int16)


def generate_arrivals(scenario: Scenario, streams: Streams) -> Arrivals:
    """Poisson counts per interval, uniform times within it: exact for piecewise-constant rates
    (the rates this replication drew around the forecast, forecast.py)."""
    interval = scenario.horizon.interval_s
    starts = np.arange(scenario.horizon.n_intervals) * interval
    rates = realised_volumes(
        scenario.channels, scenario.forecast_correlation, scenario.horizon.intervals_per_day, streams
    )
    parts = []
    for c, channel in enumerate(scenario.channels):
        rng = streams(f"arrivals/{channel.name}")
        counts = rng.poisson(rates[c])
        n = int(counts.sum())
        times = np.sort(np.repeat(starts, counts) + rng.random(n) * interval)
        parts.append(
            (
                times,
                np.full(n, c, dtype=np.int16),
                _categorical(rng, channel.intent_mix, n),
                _categorical(rng, channel.segment_mix, n),
            )
        )
    time, channel, intent, segment = (np.concatenate(cols) for cols in zip(*parts, strict=True))
    order = np.argsort(time, kind="stable")
    return Arrivals(time[order], channel[order], intent[order], segment[order])


def _bot_exits(
    scenario: Scenario,
    streams: Streams,
    prefix: str,
    channel: np.ndarray,
    intent: np.ndarray,
    bot: np.ndarray,
    contained: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Who leaves the bot unresolved and comes back, and after how long; updates `contained` in place
    (a false containment is not resolved). Nothing is drawn when no channel has these rates, so
    scenarios without them keep their numbers."""
    n = len(channel)
    left = np.zeros(n, dtype=np.int8)
    delay = np.full(n, np.inf, dtype=np.float32)
    if scenario.false_containment_delay is None and scenario.giveup_delay is None:
        return left, delay
    p_false, p_giveup = np.zeros(n), np.zeros(n)
    for c, ch in enumerate(scenario.channels):
        mask = channel == c
        if ch.bot_false_containment is not None and ch.bot_giveup is not None:
            p_false[mask] = ch.bot_false_containment[intent[mask]]
            p_giveup[mask] = ch.bot_giveup[intent[mask]]
    rng = streams(f"{prefix}bot_exit")
    u = rng.random(n)
    false = contained & (u < p_false)
    gave_up = bot & ~contained & (u < p_giveup)
    contained &= ~false
    left[false], left[gave_up] = FALSE_CONTAINED, BOT_GAVE_UP
    for who, dist in ((false, scenario.false_containment_delay), (gave_up, scenario.giveup_delay)):
        if dist is not None and who.any():
            delay[who] = dist.sample(rng, int(who.sum()))
    return left, delay


def draw_attributes(
    scenario: Scenario, streams: Streams, channel: np.ndarray, intent: np.ndarray, prefix: str = ""
) -> Draws:
    """Draw every random attribute for contacts of the given channels and intents.

    Each source has its own stream (prefix distinguishes recontacts from first contacts, so
    recontacts never shift the draws of first contacts between scenarios).
    """
    n = len(channel)
    bot = np.zeros(n, dtype=bool)
    contained = np.zeros(n, dtype=bool)
    bot_time = np.zeros(n)
    patience = np.full(n, np.inf, dtype=np.float32)
    rng_bot = streams(f"{prefix}bot")
    bot_u = rng_bot.random(n)
    for c, ch in enumerate(scenario.channels):
        mask = channel == c
        if ch.bot_containment is not None:
            bot[mask] = True
            contained[mask] = bot_u[mask] < ch.bot_containment[intent[mask]]
        if ch.patience is not None:
            patience[mask] = ch.patience.sample(streams(f"{prefix}patience/{ch.name}"), int(mask.sum()))
    del bot_u
    if bot.any() and scenario.bot_handle_time is not None:
        bot_time[bot] = scenario.bot_handle_time.sample(rng_bot, int(bot.sum()))
    bot_left, return_delay = _bot_exits(scenario, streams, prefix, channel, intent, bot, contained)
    # durations and coins are kept in 4-byte floats: ample precision, half the memory of a million-contact day
    factor = (scenario.handle_time_factor[intent] * np.where(bot, scenario.context_handoff_factor, 1.0)).astype(
        np.float32
    )
    handle, wrap, resolve_u = [], [], []
    for tier in scenario.tiers:
        rng = streams(f"{prefix}handle/{tier.name}")
        h = np.full(n, np.nan, dtype=np.float32)
        for c, dist in tier.handle_time.items():
            mask = channel == c
            h[mask] = dist.sample(rng, int(mask.sum()))
        h *= factor
        handle.append(h)
        wrap.append(
            tier.wrap_up.sample(streams(f"{prefix}wrap/{tier.name}"), n).astype(np.float32)
            if tier.wrap_up
            else np.zeros(n, dtype=np.float32)
        )
        resolve_u.append(streams(f"{prefix}routing/{tier.name}").random(n, dtype=np.float32))
    rng_rc = streams(f"{prefix}recontact")
    recontact_u = rng_rc.random(n, dtype=np.float32)
    delay = (
        scenario.recontact_delay.sample(rng_rc, n).astype(np.float32)
        if scenario.recontact_delay
        else np.full(n, np.inf, dtype=np.float32)
    )
    return Draws(
        bot, contained, bot_left, return_delay, bot_time, patience, handle, wrap, resolve_u, recontact_u, delay
    )

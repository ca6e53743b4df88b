"""The SimPy world: contacts flow through the bot, tier queues and agents.

Speed is designed in. Every state change is a SimPy event whose callback does the work (no
generator process per customer): a contact that is answered at once costs one arrival and
one agent-free event; patience, overflow and escalation events exist only for contacts that
need them. Random attributes are drawn vectorised before the loop (contacts.py); the loop
only appends to compact columnar buffers (records.py).
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable
from math import inf

import numpy as np
import simpy
from simpy.events import NORMAL, Event

from cxsim.attendance import floor_agents
from cxsim.contacts import Arrivals, Draws, draw_attributes, generate_arrivals
from cxsim.records import ABANDONED, ESCALATED, RESOLVED, UNRESOLVED, Records, column, packed
from cxsim.scenario import Scenario
from cxsim.streams import Streams

RECONTACT_BATCH = 64  # recontact attributes drawn this many at a time per (channel, intent)

ContactSource = Callable[[Scenario, Streams], tuple[Arrivals, Draws]]


def model_contacts(scenario: Scenario, streams: Streams) -> tuple[Arrivals, Draws]:
    """First contacts as the scenario's model draws them: the default source of a World
    (`cxsim replay` passes one that yields a log's arrivals instead)."""
    arr = generate_arrivals(scenario, streams)
    return arr, draw_attributes(scenario, streams, arr.channel, arr.intent)


class _Call(Event):
    """A callback scheduled `delay` from now: the cheapest event SimPy processes."""

    def __init__(self, env: simpy.Environment, delay: float, fn, value) -> None:
        self.env = env
        self.callbacks = [fn]
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay)


class TierState:
    """A tier during the run: its agents, its queues (one deque per rank and channel)."""

    def __init__(self, index: int, scenario: Scenario, policy) -> None:
        tier = scenario.tiers[index]
        self.index = index
        self.name = tier.name
        n_channels = len(scenario.channels)
        concurrency = {c: scenario.channels[c].concurrency for c in tier.skills}
        self.capacity = math.lcm(*concurrency.values())
        self.pooled = self.capacity == 1  # every agent holds one contact: agents are a count
        self.units = [self.capacity // concurrency[c] if c in concurrency else 0 for c in range(n_channels)]
        self.slowdown = [scenario.channels[c].slowdown for c in range(n_channels)]
        self.resolution = tier.resolution.tolist()
        self.next_tier = [
            next((j for j in range(index + 1, len(scenario.tiers)) if c in scenario.tiers[j].skills), -1)
            for c in range(n_channels)
        ]
        # queue classes: (rank, channel); rank groups served in order, oldest head first within
        n_seg, n_int = len(scenario.segments), len(scenario.intents)
        keys = {}
        self.class_of = [-1] * (n_channels * n_seg * n_int)
        for c in range(n_channels):
            for s in range(n_seg):
                for i in range(n_int):
                    rank = policy.rank(tier.name, scenario.channels[c].name, scenario.segments[s], scenario.intents[i])
                    keys.setdefault((rank, c), len(keys))
                    self.class_of[(c * n_seg + s) * n_int + i] = keys[(rank, c)]
        self.queues: list[deque] = [deque() for _ in keys]
        self.queue_units = [self.units[c] for (_, c) in keys]
        ranks = sorted({rank for rank, _ in keys})
        self.groups = [[self.queues[q] for (rank, _), q in keys.items() if rank == r] for r in ranks]
        self.group_units = [[self.queue_units[q] for (rank, _), q in keys.items() if rank == r] for r in ranks]
        self.queue_channel = [c for (_, c) in keys]
        self.queue_rank = [rank for (rank, _) in keys]
        self.entries = 0  # entries in the deques, stale ones included
        self.overflow: list[tuple[float, int]] = []  # (after_s, target tier)
        # agents
        self.present = 0
        self.free = 0  # pooled: idle agents
        self.leaving = 0  # agents still to release when they next finish work
        self.load: list[int] = []  # concurrent: units in hand per agent
        self.count: list[int] = []  # concurrent: contacts in hand per agent
        self.busy_since: list[float] = []
        self.by_load: list[set[int]] = [set() for _ in range(self.capacity + 1)]
        self.leaving_agents: set[int] = set()
        self.spare_ids: list[int] = []


class World:
    """One replication of a scenario: build, run to completion, return the records."""

    def __init__(self, scenario: Scenario, streams: Streams, contact_source: ContactSource = model_contacts) -> None:
        self.scenario = scenario
        self.streams = streams
        self.contact_source = contact_source
        self.env = simpy.Environment()
        self.policy = scenario.policy
        self.select = getattr(self.policy, "select", None)
        self.tiers = [TierState(k, scenario, self.policy) for k in range(len(scenario.tiers))]
        for rule in getattr(self.policy, "overflow", ()) or ():
            source = scenario.tier_index(rule.from_tier)
            self.tiers[source].overflow.append((rule.after_s, scenario.tier_index(rule.to_tier)))
        self.entry_tier = [
            next(k for k, t in enumerate(scenario.tiers) if c in t.skills) for c in range(len(scenario.channels))
        ]
        self.n_seg, self.n_int = len(scenario.segments), len(scenario.intents)
        self.recontact_p = scenario.recontact_probability
        self.recontact_pool: dict[tuple[int, int], list] = {}
        # leg and agent buffers
        self.leg_contact, self.leg_tier, self.leg_outcome = array("i"), array("h"), array("b")
        self.leg_enq, self.leg_start, self.leg_end, self.leg_wrap = array("d"), array("d"), array("d"), array("f")
        self.busy_tier, self.busy_start, self.busy_end = array("h"), array("d"), array("d")
        self.present_tier, self.present_time, self.present_count = array("h"), array("d"), array("i")

    # ------------------------------------------------------------ set-up

    def _load_contacts(self) -> None:
        """Draw first contacts and their attributes; keep them as compact per-contact columns
        (8-byte floats for times, 4-byte floats for durations and coins, small ints for codes)."""
        scn = self.scenario
        arr, draws = self.contact_source(scn, self.streams)
        n = len(arr)
        self.arrival, self.bot_time = packed("d", arr.time), packed("d", draws.bot_time)
        self.channel, self.intent, self.segment = (
            packed("h", arr.channel),
            packed("h", arr.intent),
            packed("h", arr.segment),
        )
        self.issue, self.attempt = packed("i", np.arange(n)), packed("h", np.zeros(n))
        self.bot, self.contained = packed("b", draws.bot), packed("b", draws.contained)
        self.bot_left, self.bot_return = packed("b", draws.bot_left), packed("f", draws.bot_return_delay)
        self.patience = packed("f", draws.patience)
        self.handle = [packed("f", h) for h in draws.handle]
        self.wrap = [packed("f", w) for w in draws.wrap]
        self.resolve_u = [packed("f", u) for u in draws.resolve_u]
        self.recontact_u, self.recontact_delay = packed("f", draws.recontact_u), packed("f", draws.recontact_delay)
        self.visit = array("i", bytes(4 * n))  # queue entries so far, per contact
        self.waiting = array("i", [-1]) * n  # visit number while waiting, else -1
        # the arrival stream at the agent queues: handed-off and bot-less contacts by queue entry time
        entry = arr.time + draws.bot_time
        live = np.flatnonzero(~draws.contained & (draws.bot_left == 0))
        order = live[np.argsort(entry[live], kind="stable")]
        self.entry_order, self.entry_time = packed("i", order), packed("d", entry[order])

    def _append_recontact(self, parent: int, now: float) -> int:
        """Add a recontact about the same issue; its attributes come from the recontact streams."""
        ch, it = self.channel[parent], self.intent[parent]
        d, i = self._recontact_draws(ch, it)
        cid = len(self.arrival)
        self.arrival.append(now)
        self.channel.append(ch)
        self.intent.append(it)
        self.segment.append(self.segment[parent])
        self.issue.append(self.issue[parent])
        self.attempt.append(self.attempt[parent] + 1)
        self.bot.append(int(d.bot[i]))
        self.contained.append(int(d.contained[i]))
        self.bot_left.append(int(d.bot_left[i]))
        self.bot_return.append(float(d.bot_return_delay[i]))
        self.bot_time.append(float(d.bot_time[i]))
        self.patience.append(float(d.patience[i]))
        for k in range(len(self.tiers)):
            self.handle[k].append(float(d.handle[k][i]))
            self.wrap[k].append(float(d.wrap[k][i]))
            self.resolve_u[k].append(float(d.resolve_u[k][i]))
        self.recontact_u.append(float(d.recontact_u[i]))
        self.recontact_delay.append(float(d.recontact_delay[i]))
        self.visit.append(0)
        self.waiting.append(-1)
        return cid

    def _recontact_draws(self, channel: int, intent: int) -> tuple[Draws, int]:
        """The next pre-drawn recontact attributes for (channel, intent), drawn in batches (one
        vectorised draw per batch instead of per recontact)."""
        pool = self.recontact_pool.get((channel, intent))
        if pool is None or pool[1] == RECONTACT_BATCH:
            size = RECONTACT_BATCH
            draws = draw_attributes(
                self.scenario, self.streams, np.full(size, channel), np.full(size, intent), prefix="re/"
            )
            pool = [draws, 0]
            self.recontact_pool[(channel, intent)] = pool
        pool[1] += 1
        return pool[0], pool[1] - 1

    def _schedule_bot_returns(self) -> None:
        """First contacts who leave the bot unresolved (false containment, give-up) come back later."""
        for cid in np.flatnonzero(column(self.bot_left)).tolist():
            _Call(self.env, self.arrival[cid] + self.bot_time[cid] + self.bot_return[cid], self._on_recontact, cid)

    def _schedule_staffing(self) -> None:
        horizon = self.scenario.horizon
        for k, tier in enumerate(self.scenario.tiers):
            agents = floor_agents(
                tier.staff, tier.shrinkage, tier.absence, horizon.intervals_per_day, self.streams, tier.name
            ).tolist()
            state = self.tiers[k]
            self._set_staff(state, agents[0])
            for j in range(1, len(agents)):
                if agents[j] != agents[j - 1]:
                    _Call(self.env, j * horizon.interval_s, self._on_staffing, (state, agents[j]))
            if agents[-1] == 0:  # run on with the staff of the last staffed interval (one if none drew any)
                last = next((a for a in reversed(agents) if a > 0), 1)
                _Call(self.env, horizon.end_s, self._on_staffing, (state, last))

    # ------------------------------------------------------------ run

    def run(self) -> Records:
        """Simulate until every contact has an outcome; return the columnar records."""
        self._load_contacts()
        self._schedule_bot_returns()
        self._schedule_staffing()
        if self.entry_order:
            _Call(self.env, self.entry_time[0], self._on_arrival, 0)
        self.env.run()
        return self._records()

    def _records(self) -> Records:
        return Records(
            arrival=column(self.arrival),
            channel=column(self.channel),
            intent=column(self.intent),
            segment=column(self.segment),
            issue=column(self.issue),
            attempt=column(self.attempt),
            bot=column(self.bot).view(bool),
            contained=column(self.contained).view(bool),
            bot_time=column(self.bot_time),
            bot_left=column(self.bot_left),
            leg_contact=column(self.leg_contact),
            leg_tier=column(self.leg_tier),
            leg_enqueued=column(self.leg_enq),
            leg_start=column(self.leg_start),
            leg_end=column(self.leg_end),
            leg_wrap=column(self.leg_wrap),
            leg_outcome=column(self.leg_outcome),
            busy_tier=column(self.busy_tier),
            busy_start=column(self.busy_start),
            busy_end=column(self.busy_end),
            present_tier=column(self.present_tier),
            present_time=column(self.present_time),
            present_count=column(self.present_count),
            end_time=float(self.env.now),
        )

    # ------------------------------------------------------------ contacts

    def _on_arrival(self, event: Event) -> None:
        """The next contact reaches the agent queues; schedule the one after it."""
        i = event._value
        cid = self.entry_order[i]
        self._enter(cid, self.tiers[self.entry_tier[self.channel[cid]]])
        i += 1
        if i < len(self.entry_order):
            _Call(self.env, self.entry_time[i] - self.env._now, self._on_arrival, i)

    def _enter(self, cid: int, tier: TierState) -> None:
        """A contact joins a tier: answered at once by a free agent, or queued."""
        now = self.env._now
        agent = self._claim_agent(tier, cid)
        if agent is not None:
            self._start(cid, tier, now, now, agent)
            return
        visit = self.visit[cid] + 1
        self.visit[cid] = visit
        self.waiting[cid] = visit
        entry = (now, cid, visit, tier.index)
        self._queue(tier, entry)
        patience = self.patience[cid]
        if patience != inf:
            _Call(self.env, patience, self._on_abandon, entry)
        for after, target in tier.overflow:
            if self.tiers[target].units[self.channel[cid]]:
                _Call(self.env, after, self._on_overflow, (entry, self.tiers[target]))

    def _claim_agent(self, tier: TierState, cid: int) -> int | None:
        """Reserve an agent who can take the contact now: -1 for a pooled agent, an agent id under
        concurrency, None when nobody is free."""
        if tier.pooled:
            if tier.free:
                tier.free -= 1
                return -1
            return None
        agent = self._agent_for(tier, tier.units[self.channel[cid]])
        return agent if agent >= 0 else None

    def _queue(self, tier: TierState, entry: tuple) -> None:
        """Append a waiting entry to the tier's queue for its contact's class."""
        cid = entry[1]
        tier.queues[
            tier.class_of[(self.channel[cid] * self.n_seg + self.segment[cid]) * self.n_int + self.intent[cid]]
        ].append(entry)
        tier.entries += 1

    def _start(self, cid: int, tier: TierState, enqueued: float, now: float, agent: int) -> None:
        """An agent takes the contact: decide resolution now, schedule the agent's release."""
        k = tier.index
        handle = self.handle[k][cid]
        if agent >= 0:
            in_hand = tier.count[agent] + 1
            tier.count[agent] = in_hand
            units = tier.units[self.channel[cid]]
            if tier.load[agent] == 0:
                tier.busy_since[agent] = now
            self._move(tier, agent, tier.load[agent] + units)
            if in_hand > 1:
                handle *= 1.0 + self.slowdown_of(tier, cid) * (in_hand - 1)
        end = now + handle
        if self.resolve_u[k][cid] < tier.resolution[self.intent[cid]]:
            outcome = RESOLVED
        else:
            nxt = tier.next_tier[self.channel[cid]]
            if nxt >= 0:
                outcome = ESCALATED
                _Call(self.env, handle, self._on_escalate, (cid, self.tiers[nxt]))
            else:
                outcome = UNRESOLVED
                self._maybe_recontact(cid, end)
        wrap = self.wrap[k][cid]
        self.leg_contact.append(cid)
        self.leg_tier.append(k)
        self.leg_enq.append(enqueued)
        self.leg_start.append(now)
        self.leg_end.append(end)
        self.leg_wrap.append(wrap)
        self.leg_outcome.append(outcome)
        if agent < 0:
            _Call(self.env, handle + wrap, self._on_pooled_free, tier)
        else:
            _Call(self.env, handle + wrap, self._on_agent_free, (tier, agent, units))

    def slowdown_of(self, tier: TierState, cid: int) -> float:
        """Handle-time stretch per extra contact in hand, for this contact's channel."""
        return tier.slowdown[self.channel[cid]]

    def _on_escalate(self, event: Event) -> None:
        cid, tier = event._value
        self._enter(cid, tier)

    def _on_abandon(self, event: Event) -> None:
        """Patience ran out: leave the queue if still waiting (entries are removed lazily)."""
        enqueued, cid, visit, k = event._value
        if self.waiting[cid] != visit:
            return
        self.waiting[cid] = -1
        now = self.env._now
        self.leg_contact.append(cid)
        self.leg_tier.append(k)
        self.leg_enq.append(enqueued)
        self.leg_start.append(math.nan)
        self.leg_end.append(now)
        self.leg_wrap.append(0.0)
        self.leg_outcome.append(ABANDONED)
        self._maybe_recontact(cid, now)

    def _on_overflow(self, event: Event) -> None:
        """Waited long enough at its tier: another tier may now answer it too."""
        entry, target = event._value
        cid = entry[1]
        if self.waiting[cid] != entry[2]:
            return
        agent = self._claim_agent(target, cid)
        if agent is not None:
            self._take(entry, target, agent)
        else:
            self._queue(target, entry)

    def _maybe_recontact(self, cid: int, at: float) -> None:
        """An unresolved or abandoned customer may come back about the same issue."""
        if self.recontact_p and self.recontact_u[cid] < self.recontact_p:
            delay = at - self.env._now + self.recontact_delay[cid]
            _Call(self.env, delay, self._on_recontact, cid)

    def _on_recontact(self, event: Event) -> None:
        now = self.env._now
        cid = self._append_recontact(event._value, now)
        if self.bot_left[cid]:  # unresolved in the bot again: comes back once more
            _Call(self.env, self.bot_time[cid] + self.bot_return[cid], self._on_recontact, cid)
            return
        if self.contained[cid]:
            return
        if self.bot[cid] and self.bot_time[cid] > 0:
            _Call(
                self.env, self.bot_time[cid], self._on_escalate, (cid, self.tiers[self.entry_tier[self.channel[cid]]])
            )
        else:
            self._enter(cid, self.tiers[self.entry_tier[self.channel[cid]]])

    # ------------------------------------------------------------ agents

    def _take(self, entry: tuple, tier: TierState, agent: int) -> None:
        """Serve a queued entry."""
        cid = entry[1]
        self.waiting[cid] = -1
        self._start(cid, tier, entry[0], self.env._now, agent)

    def _pop(self, tier: TierState, room: int) -> tuple | None:
        """The next entry an agent with `room` free units takes: best rank, then oldest head."""
        waiting = self.waiting
        for group, units in zip(tier.groups, tier.group_units, strict=True):
            best = None
            for q, u in zip(group, units, strict=True):
                while q:
                    head = q[0]
                    if waiting[head[1]] == head[2]:
                        break
                    q.popleft()
                    tier.entries -= 1
                if q and u <= room and (best is None or q[0][0] < best[0][0]):
                    best = q
            if best is not None:
                tier.entries -= 1
                return best.popleft()
        return None

    def _pop_selected(self, tier: TierState, room: int) -> tuple | None:
        """The policy's own choice among the heads an agent with `room` units could take."""
        waiting = self.waiting
        heads = []
        for q, u, rank, c in zip(tier.queues, tier.queue_units, tier.queue_rank, tier.queue_channel, strict=True):
            while q and waiting[q[0][1]] != q[0][2]:
                q.popleft()
                tier.entries -= 1
            if q and u <= room:
                heads.append((q, (rank, q[0][0], self.scenario.channels[c].name)))
        if not heads:
            return None
        choice = self.select([h for _, h in heads], self.env._now)
        if choice is None:
            return self._pop(tier, room)
        tier.entries -= 1
        return heads[choice][0].popleft()

    def _next_entry(self, tier: TierState, room: int) -> tuple | None:
        if not tier.entries:
            return None
        return self._pop_selected(tier, room) if self.select else self._pop(tier, room)

    def _on_pooled_free(self, event: Event) -> None:
        """A pooled agent finished a contact: leave if the shift shrank, else take the next."""
        tier = event._value
        if tier.leaving:
            tier.leaving -= 1
            self._log_present(tier, tier.present - 1)
            return
        entry = self._next_entry(tier, 1) if tier.entries else None
        if entry is None:
            tier.free += 1
        else:
            self._take(entry, tier, -1)

    def _agent_for(self, tier: TierState, units: int) -> int:
        """The least-loaded agent with room for `units`, or -1."""
        for load in range(tier.capacity - units + 1):
            agents = tier.by_load[load]
            if agents:
                return next(iter(agents))
        return -1

    def _move(self, tier: TierState, agent: int, load: int) -> None:
        """Set an available agent's load, keeping the load buckets in step."""
        tier.by_load[tier.load[agent]].discard(agent)
        tier.load[agent] = load
        if agent not in tier.leaving_agents:
            tier.by_load[load].add(agent)

    def _on_agent_free(self, event: Event) -> None:
        """A concurrent agent finished one contact: refill its free room, or leave."""
        tier, agent, units = event._value
        tier.count[agent] -= 1
        if tier.leaving and agent not in tier.leaving_agents:
            tier.leaving -= 1
            tier.by_load[tier.load[agent]].discard(agent)
            tier.leaving_agents.add(agent)
        self._move(tier, agent, tier.load[agent] - units)
        if agent in tier.leaving_agents:
            if tier.load[agent] == 0:
                self._agent_idle(tier, agent)
                self._retire(tier, agent)
            return
        since = tier.busy_since[agent]
        self._fill(tier, agent)
        if tier.load[agent] == 0:
            self._agent_idle(tier, agent)
        else:  # refilled without a break (a new contact at load 0 restarts busy_since): keep the span whole
            tier.busy_since[agent] = since

    def _fill(self, tier: TierState, agent: int) -> None:
        while tier.entries:
            entry = self._next_entry(tier, tier.capacity - tier.load[agent])
            if entry is None:
                return
            self._take(entry, tier, agent)

    def _agent_idle(self, tier: TierState, agent: int) -> None:
        self.busy_tier.append(tier.index)
        self.busy_start.append(tier.busy_since[agent])
        self.busy_end.append(self.env._now)

    def _retire(self, tier: TierState, agent: int) -> None:
        tier.leaving_agents.discard(agent)
        tier.by_load[0].discard(agent)
        tier.spare_ids.append(agent)
        self._log_present(tier, tier.present - 1)

    # ------------------------------------------------------------ staffing

    def _log_present(self, tier: TierState, present: int) -> None:
        tier.present = present
        self.present_tier.append(tier.index)
        self.present_time.append(self.env._now)
        self.present_count.append(present)

    def _on_staffing(self, event: Event) -> None:
        tier, agents = event._value
        self._set_staff(tier, agents)

    def _set_staff(self, tier: TierState, target: int) -> None:
        """Move to `target` agents: new agents start at once; leavers finish the work in hand."""
        on_duty = tier.present - tier.leaving - len(tier.leaving_agents)
        if target > on_duty:
            self._add_agents(tier, target - on_duty)
        elif target < on_duty:
            self._remove_agents(tier, on_duty - target)

    def _add_agents(self, tier: TierState, n: int) -> None:
        back = min(n, tier.leaving)  # cancel releases not yet made
        tier.leaving -= back
        n -= back
        while n and tier.leaving_agents:  # keep agents who were finishing their last contacts
            agent = tier.leaving_agents.pop()
            tier.by_load[tier.load[agent]].add(agent)
            n -= 1
            self._fill(tier, agent)
        if not n:
            return
        self._log_present(tier, tier.present + n)
        if tier.pooled:
            tier.free += n
            while tier.free and tier.entries:
                entry = self._next_entry(tier, 1)
                if entry is None:
                    break
                tier.free -= 1
                self._take(entry, tier, -1)
            return
        for _ in range(n):
            if tier.spare_ids:
                agent = tier.spare_ids.pop()
            else:
                agent = len(tier.load)
                tier.load.append(0)
                tier.count.append(0)
                tier.busy_since.append(0.0)
            tier.by_load[0].add(agent)
            self._fill(tier, agent)

    def _remove_agents(self, tier: TierState, n: int) -> None:
        idle = min(n, tier.free if tier.pooled else len(tier.by_load[0]))
        if idle:
            if tier.pooled:
                tier.free -= idle
            else:
                for _ in range(idle):
                    tier.spare_ids.append(tier.by_load[0].pop())
            self._log_present(tier, tier.present - idle)
        tier.leaving += n - idle


def simulate_replication(scenario: Scenario, seed: int, replication: int) -> Records:
    """Run one replication of `scenario` with the streams of (`seed`, `replication`)."""
    return World(scenario, Streams(seed, replication)).run()


__all__ = ["ContactSource", "World", "model_contacts", "simulate_replication"]

"""The staffing search: start from Erlang, correct by simulation with common random numbers.

Interval target (`target="interval"`): every queue of every channel must meet its SLA target in
every interval. 1) Start: Erlang A per tier and interval (Erlang C where nobody abandons).
2) Add: simulate the whole horizon; wherever a tier-interval misses, add agents there (1, or 2-3
for a large shortfall), re-simulate, until nothing misses. 3) Remove: in rounds, take one agent
from every tier-interval j with j = r (mod `spacing`) that is not locked, re-simulate the whole
horizon with the same seeds; a miss in interval m is blamed on the latest removal at or before m
in the same tier (queues carry over forward in time only, and removals are `spacing` intervals
apart, so the blame is unambiguous), which is reverted and locked; repeat until the round is
clean. Stop when `spacing` consecutive rounds remove nothing: every remaining single removal
was tried and made some interval miss. Day target (`target="day"`): the day's SL per channel and
queue must meet the target; removals are taken greedily in order of analytic SL loss per unit
of cost saved, in batches halved on failure; a removal that fails alone is locked.

Statistical guard: during the search a target counts as met only if the one-sided lower bound
(`confidence`, default 95%) of the SL pooled over the replications reaches it (upper bounds for
abandonment and occupancy caps). The final plan is then re-simulated with fresh seeds (a
different root seed, so independent replications); where an estimate misses there, an agent is
added, the search's guard is applied again over the search seed's replications plus as many new
ones (adding where it fails), and the check repeats with new seeds, at most `max_repairs` times.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from cxsim.errors import ConfigError
from cxsim.planning.evaluate import Evaluation, Evaluator, staffed_scenario
from cxsim.planning.load import (
    Stage,
    analytic_plan,
    analytic_sl,
    channel_targets,
    heads_for,
    stages,
)
from cxsim.planning.result import StaffingPlan
from cxsim.scenario import Scenario
from cxsim.schema import check_run_settings

CHECK_SEED_OFFSET = 1_000_003  # fresh-seed checks use root seed + k * this: independent replications
TARGETS = ("interval", "day")


@dataclass
class Judgement:
    """Which tier-intervals miss (and by how much), and which day-level cells miss."""

    fail: np.ndarray  # (tiers, intervals) bool
    shortfall: np.ndarray  # (tiers, intervals) worst target - estimate
    day_fail: np.ndarray  # (cells,) bool (day target only)

    @property
    def feasible(self) -> bool:
        return not (self.fail.any() or self.day_fail.any())


@dataclass
class Settings:
    """The planner's knobs (the `staffing:` block of `cxsim staff`)."""

    target: str = "interval"
    confidence: float = 0.95
    max_occupancy: float | None = None
    max_abandon: float | None = None
    sla_targets: Mapping[str, Any] | None = None
    transfer_sla: Mapping[str, Any] | None = None
    interval_floor: float | None = None
    min_agents: int = 0
    min_contacts: int = 30
    max_iterations: int = 80
    spacing: int = 4
    check_replications: int | None = None
    max_repairs: int = 5
    compare: bool = True

    def check(self) -> None:
        """Raise ConfigError naming the key for a setting out of range."""
        if self.target not in TARGETS:
            raise ConfigError("staffing.target", f"must be interval or day (got '{self.target}')")
        if not 0.5 <= self.confidence < 1:
            raise ConfigError("staffing.confidence", f"must be in [0.5, 1) (got {self.confidence})")
        for key in ("max_occupancy", "max_abandon", "interval_floor"):
            value = getattr(self, key)
            if value is not None and not 0 < value <= 1:
                raise ConfigError(f"staffing.{key}", f"must be in (0, 1] or null (got {value})")
        for key in ("min_agents", "min_contacts", "max_repairs"):
            if getattr(self, key) < 0:
                raise ConfigError(f"staffing.{key}", f"must be >= 0 (got {getattr(self, key)})")
        if self.max_iterations < 1:
            raise ConfigError("staffing.max_iterations", f"must be >= 1 (got {self.max_iterations})")
        if self.spacing < 1:
            raise ConfigError("staffing.spacing", f"must be >= 1 (got {self.spacing})")
        if self.check_replications is not None and self.check_replications < 2:
            raise ConfigError("staffing.check_replications", f"must be >= 2 or null (got {self.check_replications})")
        if self.sla_targets is not None and not isinstance(self.sla_targets, Mapping):
            raise ConfigError("staffing.sla_targets", "must be a mapping {channel: target or list per interval}")
        if self.transfer_sla is not None and not isinstance(self.transfer_sla, Mapping):
            raise ConfigError("staffing.transfer_sla", "must be a mapping {answer_within_s: ..., target: ...}")
        if self.transfer_sla is not None:
            unknown = set(self.transfer_sla) - {"answer_within_s", "target"}
            if unknown:
                raise ConfigError(f"staffing.transfer_sla.{sorted(unknown)[0]}", "unknown key")


class Search:
    """One planning run: the scenario, its queues, the evaluator and the judging rules."""

    def __init__(self, scn: Scenario, settings: Settings, replications: int, seed: int, log: Callable) -> None:
        self.scn, self.s, self.replications, self.seed = scn, settings, replications, seed
        self.base_replications = replications
        self.ev: Evaluator  # set by plan_staffing once the process pool is up
        self.log = log
        try:
            self.targets = channel_targets(scn, dict(settings.sla_targets or {}))
        except ValueError as exc:
            key, _, rule = str(exc).partition(": ")
            raise ConfigError(key, rule) from None
        self.stages: list[Stage] = stages(scn, self.targets, dict(settings.transfer_sla or {}) or None)
        h = scn.horizon
        self.n_t, self.n_int = len(scn.tiers), h.n_intervals
        self.cell_tier = np.asarray([st.tier for st in self.stages])
        self.cell_targets = np.stack([st.targets for st in self.stages])  # (cells, intervals)
        self.realtime = np.asarray([scn.channels[st.channel].realtime for st in self.stages])
        # intervals wholly inside the warm-up keep the analytic answer: their simulated start is artificial
        self.frozen = (np.arange(1, self.n_int + 1) * h.interval_s) <= h.warmup_s + 1e-9
        self.cost_per_head = np.asarray([t.agent_hour_cost * h.interval_s / 3600.0 for t in scn.tiers])
        self.history: list[dict[str, Any]] = []

    # ---------------------------------------------------------------- judging

    def judge(self, ev: Evaluation, bound: bool = True) -> Judgement:
        """Apply the constraints to an evaluation; `bound` uses confidence bounds, else estimates."""
        s = self.s
        # the margin is that of the search's R replications: z x (sigma / sqrt(R)), also when a
        # repair judges on more replications (their estimate is sharper, the margin stays)
        z = float(ndtri(s.confidence)) * math.sqrt(ev.data.shape[0] / self.base_replications) if bound else 0.0
        live = ~self.frozen
        fail = np.zeros((self.n_t, self.n_int), dtype=bool)
        short = np.zeros((self.n_t, self.n_int))
        day_fail = np.zeros(len(self.stages), dtype=bool)

        def mark(cells_bad: np.ndarray, gap: np.ndarray) -> None:
            for i in np.flatnonzero(cells_bad.any(1)):
                k = self.cell_tier[i]
                bad = cells_bad[i] & live
                fail[k] |= bad
                short[k] = np.where(bad, np.maximum(short[k], gap[i]), short[k])

        ev.live = live  # day totals leave out the warm-up, as summary.csv does
        est, se = ev.service_level()
        # an interval is judged only with enough contacts (pooled over replications) to say anything
        dense = ev.counted() >= s.min_contacts
        lower = np.where(dense, est - z * se, np.nan)
        offered = ev.offered()
        weights = np.where(offered.sum(1, keepdims=True) > 0, offered, 1.0)
        day_target = (self.cell_targets * weights).sum(1) / weights.sum(1)
        d_est, d_se = ev.service_level(day=True)
        # the day's SL: the target with target=day, a check on the sparse intervals with target=interval
        day_fail |= np.nan_to_num(d_est[:, 0] - z * d_se[:, 0], nan=1.0) < day_target - 1e-12
        if s.target == "interval":
            mark(np.nan_to_num(lower, nan=1.0) < self.cell_targets - 1e-12, self.cell_targets - est)
        elif s.interval_floor is not None:
            mark(np.nan_to_num(lower, nan=1.0) < s.interval_floor - 1e-12, s.interval_floor - est)
        if s.max_abandon is not None:
            a_est, a_se = ev.abandon_rate(day=s.target == "day")
            upper = np.nan_to_num(a_est + z * a_se, nan=0.0)
            bad = (upper > s.max_abandon + 1e-12) & self.realtime[:, None]
            if s.target == "interval":
                bad &= dense
                mark(bad, a_est - s.max_abandon)
            else:
                day_fail |= bad[:, 0]
        if s.max_occupancy is not None:
            o_est, o_se = ev.occupancy()
            bad = (np.nan_to_num(o_est + z * o_se, nan=0.0) > s.max_occupancy + 1e-12) & live
            fail |= bad
            short = np.where(bad, np.maximum(short, 0.05), short)
        return Judgement(fail, short, day_fail)

    # ---------------------------------------------------------------- helpers

    def cost(self, plan: np.ndarray) -> float:
        heads = np.stack([heads_for(plan[k], t.shrinkage) for k, t in enumerate(self.scn.tiers)])
        return float((heads * self.cost_per_head[:, None]).sum())

    def evaluate(self, plan: np.ndarray, phase: str) -> tuple[Evaluation, Judgement]:
        ev = self.ev.run(plan, self.seed, self.replications)
        judgement = self.judge(ev)
        self.history.append(
            {
                "simulation": self.ev.simulations,
                "phase": phase,
                "agent_intervals": int(plan.sum()),
                "cost": self.cost(plan),
                "missing": int(judgement.fail.sum() + judgement.day_fail.sum()),
                "feasible": judgement.feasible,
            }
        )
        self.log(
            f"  sim {self.ev.simulations:>3} {phase:<7} agent-intervals {int(plan.sum()):>5}  "
            f"cost {self.cost(plan):>10,.0f}  misses {self.history[-1]['missing']}"
        )
        return ev, judgement

    def budget_left(self) -> bool:
        return self.ev.simulations < self.s.max_iterations

    def add_where_missing(self, plan: np.ndarray, ev: Evaluation, j: Judgement) -> np.ndarray:
        """More agents where the plan misses: per tier-interval, or for a day-level miss the
        intervals of that tier whose SL is below the day target (else its worst eighth)."""
        plan = plan.copy()
        step = 1 + (j.shortfall > 0.10) + (j.shortfall > 0.25)
        plan[j.fail] += step[j.fail]
        if j.day_fail.any():
            est, _ = ev.service_level()
            for i in np.flatnonzero(j.day_fail):
                k = self.cell_tier[i]
                gap = np.where(self.frozen, -np.inf, np.nan_to_num(self.cell_targets[i] - est[i], nan=-np.inf))
                low = gap > 0
                if not low.any():
                    low = np.zeros(self.n_int, dtype=bool)
                    low[np.argsort(-gap)[: max(1, self.n_int // 8)]] = True
                plan[k, low & ~self.frozen] += 1
        return plan

    def removable(self, plan: np.ndarray, ev: Evaluation) -> np.ndarray:
        """Tier-intervals where one agent less may be tried: above `min_agents`, outside the warm-up,
        and either judged (enough contacts) or above the analytic start, which sparse intervals keep."""
        dense = np.zeros_like(plan, dtype=bool)
        counted = ev.counted() >= self.s.min_contacts
        for i, k in enumerate(self.cell_tier):
            dense[k] |= counted[i]
        return (plan > self.s.min_agents) & ~self.frozen[None, :] & (dense | (plan > self.start))

    def add_phase(self, plan: np.ndarray, phase: str = "start", limit: int | None = None) -> tuple:
        """Simulate, and add agents wherever the plan misses until nothing does (or the budget ends)."""
        if phase == "start":
            self.start = plan.copy()
        stop = self.s.max_iterations if limit is None else self.ev.simulations + limit
        ev, j = self.evaluate(plan, phase)
        while not j.feasible and self.ev.simulations < stop:
            plan = self.add_where_missing(plan, ev, j)
            ev, j = self.evaluate(plan, "add")
        return plan, ev, j

    # ---------------------------------------------------------------- interval target

    def blame(self, fail: np.ndarray, removed: np.ndarray) -> np.ndarray:
        """The removals to revert: for each miss, the latest removal at or before it, same tier first."""
        blamed = np.zeros_like(removed)
        for k, m in zip(*np.nonzero(fail), strict=True):
            same = np.flatnonzero(removed[k, : m + 1])
            if len(same):
                blamed[k, same[-1]] = True
                continue
            best = None
            for kk in range(self.n_t):
                prior = np.flatnonzero(removed[kk, : m + 1])
                if len(prior) and (best is None or prior[-1] > best[1]):
                    best = (kk, prior[-1])
            if best is not None:
                blamed[best] = True
        return blamed

    def remove_by_interval(self, plan: np.ndarray, ev: Evaluation, j: Judgement) -> tuple[np.ndarray, Evaluation]:
        locked = np.zeros_like(plan, dtype=bool)
        column = np.arange(self.n_int)[None, :]
        idle, r = 0, 0
        while idle < self.s.spacing and self.budget_left():
            cand = self.removable(plan, ev) & ~locked & (column % self.s.spacing == r)
            r = (r + 1) % self.s.spacing
            if not cand.any():
                idle += 1
                continue
            removed = cand.copy()
            ev_t, j_t = self.evaluate(plan - removed, "remove")
            while not j_t.feasible and removed.any() and self.budget_left():
                blamed = self.blame(j_t.fail, removed)
                if not blamed.any():
                    break
                removed &= ~blamed
                locked |= blamed
                if removed.any():
                    ev_t, j_t = self.evaluate(plan - removed, "revert")
            if removed.any() and j_t.feasible:
                plan, ev = plan - removed, ev_t
                idle = 0
            else:
                locked |= removed
                idle += 1
        return plan, ev

    # ---------------------------------------------------------------- day target

    def removal_scores(self, plan: np.ndarray, ev: Evaluation, cand: list[tuple[int, int]]) -> np.ndarray:
        """Analytic loss of contacts answered in time, as a share of each queue's day slack, per cost."""
        z = float(ndtri(self.s.confidence))
        d_est, d_se = ev.service_level(day=True)
        offered = ev.offered()
        day_offered = offered.sum(1)
        weights = np.where(day_offered[:, None] > 0, offered, 1.0)
        day_target = (self.cell_targets * weights).sum(1) / weights.sum(1)
        slack = np.maximum((np.nan_to_num(d_est[:, 0] - z * d_se[:, 0], nan=1.0) - day_target) * day_offered, 1e-9)
        scores = np.empty(len(cand))
        for n, (k, jj) in enumerate(cand):
            now = analytic_sl(self.scn, self.stages, k, jj, int(plan[k, jj]))
            less = analytic_sl(self.scn, self.stages, k, jj, int(plan[k, jj]) - 1)
            harm = max(
                ((now[i] - less[i]) * offered[i, jj] / slack[i] for i in now),
                default=0.0,
            )
            tier = self.scn.tiers[k]
            saved = (
                heads_for(np.asarray([plan[k, jj]]), tier.shrinkage)[0]
                - heads_for(np.asarray([plan[k, jj] - 1]), tier.shrinkage)[0]
            ) * self.cost_per_head[k]
            scores[n] = harm / max(saved, 1e-9)
        return scores

    def remove_for_day(self, plan: np.ndarray, ev: Evaluation, j: Judgement) -> tuple[np.ndarray, Evaluation]:
        locked = np.zeros_like(plan, dtype=bool)
        batch = max(1, int(self.removable(plan, ev).sum()) // 4)
        while self.budget_left():
            cand = [(int(k), int(jj)) for k, jj in zip(*np.nonzero(self.removable(plan, ev) & ~locked), strict=True)]
            if not cand:
                break
            order = np.argsort(self.removal_scores(plan, ev, cand), kind="stable")
            chosen = [cand[i] for i in order[:batch]]
            trial = plan.copy()
            for k, jj in chosen:
                trial[k, jj] -= 1
            ev_t, j_t = self.evaluate(trial, "remove")
            if j_t.feasible:
                plan, ev = trial, ev_t
                batch = min(len(cand), batch * 2)
            elif len(chosen) == 1:
                locked[chosen[0]] = True
            else:
                batch = max(1, len(chosen) // 2)
        return plan, ev

    # ---------------------------------------------------------------- check

    def check(self, plan: np.ndarray, replications: int) -> tuple[np.ndarray, Evaluation, Judgement, int]:
        """Re-simulate with fresh seeds; repair misses by adding agents, at most `max_repairs` times."""
        for attempt in range(self.s.max_repairs + 1):
            seed = self.seed + CHECK_SEED_OFFSET * (attempt + 1)
            ev = self.ev.run(plan, seed, replications, tables=True)
            j = self.judge(ev, bound=False)
            self.log(
                f"  check {attempt + 1}: seed {seed}, {replications} replications: "
                f"{'meets every target' if j.feasible else f'{int(j.fail.sum() + j.day_fail.sum())} misses'}"
            )
            self.history.append(
                {
                    "simulation": self.ev.simulations,
                    "phase": "check",
                    "agent_intervals": int(plan.sum()),
                    "cost": self.cost(plan),
                    "missing": int(j.fail.sum() + j.day_fail.sum()),
                    "feasible": j.feasible,
                }
            )
            if j.feasible or attempt == self.s.max_repairs:
                return plan, ev, j, attempt
            # repair: an agent where the check missed, then the search's guard again over a larger
            # decision set (the search seed's replications plus as many new ones as the check ran),
            # so cells accepted on lucky search replications are judged on fresh evidence too
            plan = self.add_where_missing(plan, ev, j)
            self.replications += replications
            plan, _, _ = self.add_phase(plan, "repair", limit=4)
        raise AssertionError("unreachable")


def plan_staffing(
    scenario: Scenario,
    replications: int = 20,
    seed: int = 0,
    workers: int = 1,
    max_occupancy: float | None = None,
    max_abandon: float | None = None,
    target: str = "interval",
    confidence: float = 0.95,
    sla_targets: Mapping[str, Any] | None = None,
    transfer_sla: Mapping[str, Any] | None = None,
    interval_floor: float | None = None,
    min_agents: int = 0,
    min_contacts: int = 30,
    max_iterations: int = 80,
    spacing: int = 4,
    check_replications: int | None = None,
    max_repairs: int = 5,
    compare: bool = True,
    log: Callable[[str], None] | None = None,
) -> StaffingPlan:
    """The fewest agents per tier and interval meeting every channel's SLA, found by simulation.

    Starts from Erlang A (Erlang C where nobody abandons) on the load reaching each tier, corrects
    by simulation with common random numbers (`replications` of root `seed`), then re-checks the
    plan with fresh seeds. See docs/planning.md for the algorithm, its stopping rule and guard.
    """
    settings = Settings(
        target=target,
        confidence=confidence,
        max_occupancy=max_occupancy,
        max_abandon=max_abandon,
        sla_targets=dict(sla_targets or {}),
        transfer_sla=None if transfer_sla is None else dict(transfer_sla),
        interval_floor=interval_floor,
        min_agents=min_agents,
        min_contacts=min_contacts,
        max_iterations=max_iterations,
        spacing=spacing,
        check_replications=check_replications,
        max_repairs=max_repairs,
        compare=compare,
    )
    settings.check()
    check_run_settings(replications, workers, seed)
    if replications < 2:
        raise ConfigError("replications", f"the planner needs >= 2 replications for its guard (got {replications})")
    say = log or (lambda _msg: None)
    started = time.perf_counter()
    search = Search(scenario, settings, replications, seed, say)
    with Evaluator(scenario, search.stages, workers) as evaluator:
        search.ev = evaluator
        args = (settings.max_occupancy, settings.max_abandon, settings.min_agents)
        erlang_c = analytic_plan(scenario, search.stages, "C", *args)
        erlang_a = analytic_plan(scenario, search.stages, "A", *args)
        say(f"{scenario.name}: planning {search.n_t} tiers x {search.n_int} intervals, target per {target}")
        plan, ev, j = search.add_phase(erlang_a.copy())
        if j.feasible:
            if target == "interval":
                plan, ev = search.remove_by_interval(plan, ev, j)
            else:
                plan, ev = search.remove_for_day(plan, ev, j)
        searched = evaluator.simulations
        check_reps = check_replications or 4 * replications
        plan, check_ev, check_j, repairs = search.check(plan, check_reps)
        compared = {}
        if settings.compare:
            for name, other in (("erlang_c", erlang_c), ("erlang_a", erlang_a)):
                other_ev = evaluator.run(other, check_ev.seed, check_ev.data.shape[0], tables=False)
                compared[name] = (other_ev, search.judge(other_ev, bound=False))
        elapsed = time.perf_counter() - started
        say(
            f"{scenario.name}: {evaluator.simulations} simulations ({evaluator.replications} replications) "
            f"in {elapsed:.1f} s"
        )
        return StaffingPlan.build(
            scenario=scenario,
            planned=staffed_scenario(scenario, plan),
            search=search,
            plans={"simulated": plan, "erlang_a": erlang_a, "erlang_c": erlang_c},
            check=(check_ev, check_j),
            compared=compared,
            stats={
                "simulations": evaluator.simulations,
                "search_simulations": searched,
                "replications_run": evaluator.replications,
                "repairs": repairs,
                "seconds": round(elapsed, 2),
                "replications": replications,
                "check_replications": check_reps,
                "seed": seed,
                "check_seed": check_ev.seed,
            },
        )


__all__ = ["CHECK_SEED_OFFSET", "Settings", "plan_staffing"]

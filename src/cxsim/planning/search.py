"""The staffing search: start from Erlang, correct by simulation with common random numbers.

Interval target (`target="interval"`): every queue of every channel must meet its SLA target in
every interval. 1) Start: Erlang A per tier and interval (Erlang C where nobody abandons).
2) Add: simulate the whole horizon; wherever a tier-interval misses, add agents there (1, or 2-3
for a large shortfall), re-simulate, until nothing misses. 3) Remove: in rounds, take one agent
from every tier-interval j with j = r (mod `spacing`) that is not locked, re-simulate the whole
horizon with the same seeds; a miss in interval m is blamed on the latest removal at or before m
in the same tier (queues carry over forward in time only, and removals are `spacing` intervals
apart, so the blame is unambiguous), which is reverted and locked; the other removals are kept
(one simulation per round). Stop when `spacing` consecutive rounds remove nothing: every remaining single removal
was tried and made some interval miss. Day target (`target="day"`): the day's SL per channel and
queue must meet the target; removals are taken greedily in order of analytic SL loss per unit
of cost saved, in batches halved on failure; a removal that fails alone is locked.

Close calls get more replications, and the burden of proof is on the change (sequential
sampling with common random numbers): a cell whose estimate misses its target by more than the
noise (estimate + z x standard error still short, z from `confidence`) is a clear miss; one that
misses within the noise is a close call. Cells a removal round may move settle their close calls
with more replications of the same plan (the first ones kept) up to 2 x `replications`, where the
estimate decides; elsewhere close calls are no miss (staffing is added only where it clearly
misses). The search's plan is then re-simulated with fresh seeds (a different root seed:
independent replications, `check_replications` of them); where a clear miss remains, a head is
added and the repaired plan is simulated again on the same seeds, at most `max_repairs` times. A
plan that passes misses no target by more than the noise of its check.

The plan is in scheduled heads, the unit a roster is written in and paid for; the scenario's
shrinkage rule turns them into productive agents, in the search as in any run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import ndtri

from cxsim.errors import ConfigError
from cxsim.planning import risk_judge
from cxsim.planning.evaluate import Evaluation, Evaluator, staffed_scenario
from cxsim.planning.load import (
    Stage,
    analytic_plan,
    analytic_sl,
    channel_targets,
    heads_for,
    productive_share,
    stages,
)
from cxsim.planning.result import StaffingPlan
from cxsim.scenario import Scenario, require_scenario
from cxsim.schema import check_run_settings

CHECK_SEED_OFFSET = 1_000_003  # the fresh-seed check uses root seed + this: independent replications
TARGETS = ("interval", "day")
SEARCH_CAP = 2  # close calls in the search get up to this many times `replications`


@dataclass
class Judgement:
    """Which tier-intervals miss (and by how much), and which day-level cells miss."""

    fail: np.ndarray  # (tiers, intervals) bool: clear misses
    shortfall: np.ndarray  # (tiers, intervals) worst target - estimate
    day_fail: np.ndarray  # (cells,) bool: clear misses over the day
    close: np.ndarray  # (tiers, intervals) bool: misses within the noise (close calls)
    day_close: np.ndarray  # (cells,) bool
    doubt: np.ndarray  # (tiers, intervals) bool: passes within the noise
    day_doubt: np.ndarray  # (cells,) bool

    def deciding(self, strict: np.ndarray) -> Judgement:
        """Close calls where `strict` (tiers x intervals) count as misses (and the day's when any is)."""
        day = self.day_close if strict.any() else np.zeros_like(self.day_close)
        return replace(self, fail=self.fail | (self.close & strict), day_fail=self.day_fail | day)

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
    max_replications: int | None = None
    fte_hours_per_week: float = 37.5
    confidence_of_meeting: float | None = None

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
        if self.max_replications is not None and self.max_replications < 2:
            raise ConfigError("staffing.max_replications", f"must be >= 2 or null (got {self.max_replications})")
        if not self.fte_hours_per_week > 0:
            raise ConfigError("staffing.fte_hours_per_week", f"must be > 0 (got {self.fte_hours_per_week})")
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
        share = self.confidence_of_meeting
        if share is not None and not 0 < share < 1:
            raise ConfigError("staffing.confidence_of_meeting", f"must be in (0, 1) or null (got {share})")


class Search:
    """One planning run: the scenario, its queues, the evaluator and the judging rules."""

    def __init__(self, scn: Scenario, settings: Settings, replications: int, seed: int, log: Callable) -> None:
        self.scn, self.s, self.replications, self.seed = scn, settings, replications, seed
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
        self.suspects = np.zeros((self.n_t, self.n_int), dtype=bool)  # cells the search lowered (the check)
        self.cost_per_head = np.asarray([t.agent_hour_cost * h.interval_s / 3600.0 for t in scn.tiers])
        self.keep = np.asarray([productive_share(t) for t in scn.tiers])
        self.min_heads = np.asarray([heads_for(np.asarray([settings.min_agents]), 1 - k)[0] for k in self.keep])
        self.check_replications = settings.check_replications or 4 * replications
        self.max_replications = settings.max_replications or self.check_replications
        self.history: list[dict[str, Any]] = []

    # ---------------------------------------------------------------- judging

    def z(self, ev: Evaluation, family: bool = False) -> float:
        """Standard errors a miss must exceed to be clear: one-sided `confidence` per cell, or for all
        of an evaluation's judged cells together (Bonferroni over the intervals and the day totals;
        with target=day only the day totals, unless an interval floor or occupancy cap judges the
        intervals too)."""
        s = self.s
        alpha = 1.0 - s.confidence
        if family:
            intervals = 0
            if s.target == "interval" or s.interval_floor is not None or s.max_occupancy is not None:
                intervals = int(((ev.counted() >= s.min_contacts) & ~self.frozen[None, :]).sum())
            alpha /= max(intervals + len(self.stages), 1)
        return float(ndtri(1.0 - alpha))

    def judge(self, ev: Evaluation, family: bool = False, suspects: np.ndarray | None = None) -> Judgement:
        """Apply the constraints to an evaluation. A cell fails on a clear miss: its estimate misses
        the target by more than the noise (estimate + z x standard error still short of it, z from
        `confidence`); a miss within the noise is a close call (`Judgement.close`), which more
        replications would tell. With `family` (the fresh-seed check), `confidence` holds for all
        judged cells together (Bonferroni): the check tests hundreds of cells, and at 95% each, a
        plan that meets every target exactly would still show a few clear misses on every check;
        `suspects` (tiers x intervals) keep the per-cell confidence even then."""
        s = self.s
        z_day = self.z(ev, family)
        z_tier = np.full((self.n_t, self.n_int), z_day)
        if suspects is not None:
            z_tier[suspects] = self.z(ev)
        live = ~self.frozen
        shape = (self.n_t, self.n_int)
        fail, close, doubt = (np.zeros(shape, dtype=bool) for _ in range(3))
        short = np.zeros(shape)
        day_fail, day_close, day_doubt = (np.zeros(len(self.stages), dtype=bool) for _ in range(3))

        def misses(est: np.ndarray, se: np.ndarray, limit: np.ndarray | float, below: bool, z: Any) -> tuple:
            """Clear misses, close calls (misses within the noise) and doubtful passes of an
            estimate against `limit` (below it for SL, above it for caps)."""
            gap = (1.0 if below else -1.0) * (np.asarray(limit) - est)  # > 0: misses
            point = np.nan_to_num(gap, nan=-1.0) > 1e-12
            clear = np.nan_to_num(gap - z * se, nan=-1.0) > 1e-12
            sure = np.nan_to_num(gap + z * se, nan=-1.0) <= 1e-12
            return clear, point & ~clear, ~point & ~sure

        def mark(cells: tuple, gap: np.ndarray) -> None:
            clear, near, unsure = cells
            for i in np.flatnonzero((clear | near | unsure).any(1)):
                k = self.cell_tier[i]
                fail[k] |= clear[i] & live
                close[k] |= near[i] & live
                doubt[k] |= unsure[i] & live
                short[k] = np.where(clear[i] & live, np.maximum(short[k], gap[i]), short[k])

        def mark_day(cells: tuple) -> None:
            day_fail[:] |= cells[0]
            day_close[:] |= cells[1]
            day_doubt[:] |= cells[2]

        ev.live = live  # day totals leave out the warm-up, as summary.csv does
        z_cell = z_tier[self.cell_tier]
        # an interval is judged only with enough contacts (pooled over replications) to say anything
        dense = ev.counted() >= s.min_contacts
        # the day's SL: the target with target=day, a check on the sparse intervals with target=interval
        d = self.sl_terms(ev, self.day_target(ev), day=True)
        mark_day(misses(d.estimate, d.se, d.limit, below=True, z=z_day))
        floor = self.cell_targets if s.target == "interval" else s.interval_floor
        if floor is not None:
            t = self.sl_terms(ev, floor)
            mark(misses(np.where(dense & live, t.estimate, np.nan), t.se, t.limit, below=True, z=z_cell), t.shortfall)
        if s.max_abandon is not None:
            a_est, a_se = ev.abandon_rate(day=s.target == "day")
            z_ab = z_cell if s.target == "interval" else z_day
            if s.target == "interval":
                a_est = np.where(dense & live, a_est, np.nan)
            bad = tuple(m & self.realtime[:, None] for m in misses(a_est, a_se, s.max_abandon, below=False, z=z_ab))
            if s.target == "interval":
                mark(bad, a_est - s.max_abandon)
            else:
                mark_day(tuple(m[:, 0] for m in bad))
        if s.max_occupancy is not None:
            o_est, o_se = ev.occupancy()
            clear, near, unsure = misses(np.where(live, o_est, np.nan), o_se, s.max_occupancy, below=False, z=z_tier)
            fail |= clear
            close |= near
            doubt |= unsure
            short = np.where(clear, np.maximum(short, 0.05), short)
        return Judgement(fail, short, day_fail, close, day_close, doubt, day_doubt)

    def day_target(self, ev: Evaluation) -> np.ndarray:
        """Each cell's target over the day: its interval targets weighted by the contacts offered."""
        offered = ev.offered()
        weights = np.where(offered.sum(1, keepdims=True) > 0, offered, 1.0)
        return (self.cell_targets * weights).sum(1) / weights.sum(1)

    def sl_terms(self, ev: Evaluation, target: np.ndarray | float, day: bool = False) -> risk_judge.Terms:
        """An SL constraint per cell and interval (or over the day): the mean SL must reach `target`,
        or with `confidence_of_meeting` p, the share of replication-days meeting `target` must reach p."""
        share = self.s.confidence_of_meeting
        if share is None:
            est, se = (x[:, 0] if day else x for x in ev.service_level(day))
            return risk_judge.Terms(est, se, target, target - est)
        num, den = (x[..., 0] if day else x for x in ev.sl_counts(day))
        return risk_judge.terms(num, den, target, share)

    def sl_on_missed_days(self, ev: Evaluation, day_fail: np.ndarray) -> np.ndarray:
        """SL per cell and interval where a day-level miss adds agents: pooled over all replications,
        or with `confidence_of_meeting`, over the days the cell missed (where the risk lies)."""
        if self.s.confidence_of_meeting is None:
            return ev.service_level()[0]
        ev.live = ~self.frozen
        num_day, den_day = (x[..., 0] for x in ev.sl_counts(day=True))
        missed = ~risk_judge.met(num_day, den_day, self.day_target(ev)) & day_fail[None, :]
        return risk_judge.sl_on_missed_days(*ev.sl_counts(), missed)

    # ---------------------------------------------------------------- helpers

    def cost(self, plan: np.ndarray) -> float:
        return float((plan * self.cost_per_head[:, None]).sum())

    def in_heads(self, agents: np.ndarray) -> np.ndarray:
        """Scheduled heads per tier and interval for productive agents (the planners' convention)."""
        return np.stack([heads_for(agents[k], 1.0 - keep) for k, keep in enumerate(self.keep)])

    def settle(self, ev: Evaluation, cap: int, strict: np.ndarray, check: bool = False) -> tuple[Evaluation, Judgement]:
        """Judge, giving the same plan more replications (doubling, common random numbers) up to `cap`
        while calls are open. In the search, `strict` (tiers x intervals) marks the cells a change
        must prove: while they hold close calls or doubtful passes they get more replications, and at
        the cap the estimate decides; elsewhere a close call is no miss (the staffing there stands
        unless clearly failing). The `check` judges its cells as a family, the `strict` ones (cells
        the search lowered: chosen on the search's replications, the suspects of a winner's curse)
        one by one (`judge`); while nothing clearly misses, its close calls get more replications,
        and at the cap they pass: a repair needs a clear miss, not a coin flip at the target."""
        cap = max(cap, ev.data.shape[0])
        while True:
            n = ev.data.shape[0]
            j = self.judge(ev, family=check, suspects=strict if check else None)
            if check:
                open_calls = j.feasible and bool(j.close.any() or j.day_close.any())
            else:
                near = (j.close | j.doubt) & strict
                open_calls = bool(near.any() or (strict.any() and (j.day_close | j.day_doubt).any()))
            if n >= cap or not open_calls:
                return ev, (j if n < cap or check else j.deciding(strict))
            ev = self.ev.extend(ev, min(n, cap - n))

    def affected(self, removed: np.ndarray) -> np.ndarray:
        """Cells a set of removals may move: every tier, from each removal's interval for `spacing`
        intervals (queues carry over forward in time only)."""
        out = np.zeros_like(removed, dtype=bool)
        for j in np.flatnonzero(removed.any(0)):
            out[:, j : j + self.s.spacing] = True
        return out

    def moved(self, trial: Evaluation, base: Evaluation) -> np.ndarray:
        """Tier-intervals where a change lowered some queue's SL, on the replications both share
        (common random numbers: an unchanged cell has exactly the same estimate)."""
        n = min(trial.data.shape[0], base.data.shape[0])
        now, _ = replace(trial, data=trial.data[:n]).service_level()
        before, _ = replace(base, data=base.data[:n]).service_level()
        return self.by_tier(np.nan_to_num(now, nan=1.0) < np.nan_to_num(before, nan=1.0) - 1e-12)

    def by_tier(self, cells: np.ndarray) -> np.ndarray:
        """A per-queue mask (cells x intervals) as tier-intervals: true where any of the tier's queues is."""
        out = np.zeros((self.n_t, self.n_int), dtype=bool)
        for i, k in enumerate(self.cell_tier):
            out[k] |= cells[i]
        return out

    def evaluate(
        self, plan: np.ndarray, phase: str, strict: np.ndarray | None = None, base: Evaluation | None = None
    ) -> tuple[Evaluation, Judgement]:
        """Simulate a plan on the search's seeds; close calls in `strict` cells are settled (see settle)."""
        first = self.ev.run(plan, self.seed, self.replications)
        if strict is None:
            strict = np.zeros((self.n_t, self.n_int), dtype=bool)
        elif base is not None:  # a standing close call the change did not touch stays as it was
            strict = strict & self.moved(first, base)
        ev, judgement = self.settle(first, SEARCH_CAP * self.replications, strict)
        n = ev.data.shape[0]
        self.history.append(
            {
                "simulation": self.ev.simulations,
                "phase": phase,
                "replications": n,
                "heads_intervals": int(plan.sum()),
                "cost": self.cost(plan),
                "missing": int(judgement.fail.sum() + judgement.day_fail.sum()),
                "feasible": judgement.feasible,
            }
        )
        self.log(
            f"  sim {self.ev.simulations:>3} {phase:<7} head-intervals {int(plan.sum()):>5}  "
            f"cost {self.cost(plan):>10,.0f}  misses {self.history[-1]['missing']:>3}  ({n} replications)"
        )
        return ev, judgement

    def budget_left(self) -> bool:
        return self.ev.simulations < self.s.max_iterations

    def add_where_missing(self, plan: np.ndarray, ev: Evaluation, j: Judgement) -> np.ndarray:
        """More agents where the plan misses: per tier-interval, or for a day-level miss the
        intervals of that tier whose SL is below the day target (else its worst eighth)."""
        plan = plan.copy()
        step = np.ceil((1 + (j.shortfall > 0.10) + (j.shortfall > 0.25)) / self.keep[:, None] - 1e-9)
        plan[j.fail] += step[j.fail].astype(plan.dtype)
        if j.day_fail.any():
            est = self.sl_on_missed_days(ev, j.day_fail)
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
        dense = self.by_tier(ev.counted() >= self.s.min_contacts)
        return (plan > self.min_heads[:, None]) & ~self.frozen[None, :] & (dense | (plan > self.start))

    def add_phase(self, plan: np.ndarray) -> tuple:
        """From the analytic start, simulate and add heads wherever the plan clearly misses until
        nothing does (or the budget ends)."""
        self.start = plan.copy()
        ev, j = self.evaluate(plan, "start")
        while not j.feasible and self.budget_left():
            plan = self.add_where_missing(plan, ev, j)
            ev, j = self.evaluate(plan, "add")
        self.added = plan.copy()  # where the removals begin
        return plan, ev, j

    def find(self, start: np.ndarray) -> np.ndarray:
        """The search's plan before the check: add from `start`, then remove (module docstring)."""
        plan, ev, j = self.add_phase(start.copy())
        if j.feasible:
            remove = self.remove_by_interval if self.s.target == "interval" else self.remove_for_day
            plan, ev = remove(plan, ev, j)
        return plan

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
        """Removal rounds (see the module docstring). A round costs one simulation: the removals a
        miss is blamed on are reverted and locked, the others kept without simulating the plan
        again, since reverting only adds agents where the round's simulation already passed
        everywhere else (the next round and the fresh-seed check simulate the kept ones again)."""
        locked = np.zeros_like(plan, dtype=bool)
        column = np.arange(self.n_int)[None, :]
        idle, r = 0, 0
        while idle < self.s.spacing and self.budget_left():
            cand = self.removable(plan, ev) & ~locked & (column % self.s.spacing == r)
            r = (r + 1) % self.s.spacing
            if not cand.any():
                idle += 1
                continue
            ev_t, j_t = self.evaluate(plan - cand, "remove", self.affected(cand), ev)
            blamed = np.zeros_like(cand) if j_t.feasible else self.blame(j_t.fail, cand)
            if j_t.day_fail.any() or (not j_t.feasible and not blamed.any()):
                blamed = cand  # a miss no single removal explains: the whole round is undone
            kept = cand & ~blamed
            locked |= blamed
            if kept.any():
                plan, ev = plan - kept, ev_t
                idle = 0
            else:
                idle += 1
        return plan, ev

    # ---------------------------------------------------------------- day target

    def removal_scores(self, plan: np.ndarray, ev: Evaluation, cand: list[tuple[int, int]]) -> np.ndarray:
        """Analytic loss of contacts answered in time, as a share of each queue's day slack, per cost."""
        d_est, _ = ev.service_level(day=True)
        offered = ev.offered()
        day_offered = offered.sum(1)
        weights = np.where(day_offered[:, None] > 0, offered, 1.0)
        day_target = (self.cell_targets * weights).sum(1) / weights.sum(1)
        slack = np.maximum((np.nan_to_num(d_est[:, 0], nan=1.0) - day_target) * day_offered, 1e-9)
        scores = np.empty(len(cand))
        for n, (k, jj) in enumerate(cand):
            now_agents, less_agents = np.rint((plan[k, jj] - np.arange(2)) * self.keep[k])
            now = analytic_sl(self.scn, self.stages, k, jj, int(now_agents))
            less = analytic_sl(self.scn, self.stages, k, jj, int(less_agents))
            harm = max(
                ((now[i] - less[i]) * offered[i, jj] / slack[i] for i in now),
                default=0.0,
            )
            scores[n] = harm / max(self.cost_per_head[k], 1e-9)
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
            ev_t, j_t = self.evaluate(trial, "remove", np.ones_like(trial, dtype=bool))
            if j_t.feasible:
                plan, ev = trial, ev_t
                batch = min(len(cand), batch * 2)
            elif len(chosen) == 1:
                locked[chosen[0]] = True
            else:
                batch = max(1, len(chosen) // 2)
        return plan, ev

    # ---------------------------------------------------------------- check

    def check(self, plan: np.ndarray) -> tuple[np.ndarray, Evaluation, Judgement, int]:
        """Re-simulate with fresh seeds (`check_replications` of them); repair clear misses by adding
        agents, at most `max_repairs` times, each repaired plan simulated again on the same seeds
        (common random numbers: a cell the repair cannot reach keeps its verdict, a repaired one is
        judged again, one by one)."""
        seed = self.seed + CHECK_SEED_OFFSET
        repaired = np.zeros_like(plan, dtype=bool)
        for attempt in range(self.s.max_repairs + 1):
            self.suspects = self.affected(plan < self.added) | self.affected(repaired)
            first = self.ev.run(plan, seed, self.check_replications, tables=True)
            ev, j = self.settle(first, self.max_replications, self.suspects, check=True)
            self.log(
                f"  check {attempt + 1}: seed {seed}, {ev.data.shape[0]} replications: "
                f"{'meets every target' if j.feasible else f'{int(j.fail.sum() + j.day_fail.sum())} misses'}"
            )
            self.history.append(
                {
                    "simulation": self.ev.simulations,
                    "phase": "check",
                    "replications": ev.data.shape[0],
                    "heads_intervals": int(plan.sum()),
                    "cost": self.cost(plan),
                    "missing": int(j.fail.sum() + j.day_fail.sum()),
                    "feasible": j.feasible,
                }
            )
            if j.feasible or attempt == self.s.max_repairs:
                return plan, ev, j, attempt
            repair = self.add_where_missing(plan, ev, j)
            repaired |= repair > plan
            plan = repair
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
    max_replications: int | None = None,
    fte_hours_per_week: float = 37.5,
    confidence_of_meeting: float | None = None,
    log: Callable[[str], None] | None = None,
) -> StaffingPlan:
    """The fewest scheduled heads per tier and interval meeting every channel's SLA, found by simulation.

    Starts from Erlang A (Erlang C where nobody abandons) on the load reaching each tier, corrects
    by simulation with common random numbers (`replications` of root `seed`), then re-checks the
    plan with fresh seeds. See docs/planning.md for the algorithm, its stopping rule and guard.
    With `confidence_of_meeting` p, every target must be met on a share p of the replication-days
    instead of on average; `compare` then also plans by the mean, as `simulated_mean` (docs/risk.md).
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
        max_replications=max_replications,
        fte_hours_per_week=fte_hours_per_week,
        confidence_of_meeting=confidence_of_meeting,
    )
    scenario = require_scenario(scenario)
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
        erlang_c, erlang_a = (search.in_heads(analytic_plan(scenario, search.stages, e, *args)) for e in "CA")
        say(f"{scenario.name}: planning {search.n_t} tiers x {search.n_int} intervals, target per {target}")
        plan = search.find(erlang_a)
        searched = evaluator.simulations
        plan, check_ev, check_j, repairs = search.check(plan)
        plans = {"simulated": plan, "erlang_a": erlang_a, "erlang_c": erlang_c}
        n_check = check_ev.data.shape[0]
        measured = {}  # plans already simulated on the check's seeds
        if settings.compare and confidence_of_meeting is not None:
            plans["simulated_mean"], mean_ev = mean_based_plan(search, erlang_a)
            if mean_ev.data.shape[0] >= n_check:  # its own check ran on the same seeds
                first = mean_ev.data[:n_check]
                measured["simulated_mean"] = replace(mean_ev, data=first, results=None, kpi_tables=None)
        compared = {}
        if settings.compare:
            for name in (n for n in ("erlang_c", "erlang_a", "simulated_mean") if n in plans):
                if name in measured:
                    other_ev = measured[name]
                else:
                    other_ev = evaluator.run(plans[name], check_ev.seed, n_check, tables=False)
                compared[name] = (other_ev, search.judge(other_ev, family=True))
        elapsed = time.perf_counter() - started
        say(
            f"{scenario.name}: {evaluator.simulations} simulations ({evaluator.replications} replications) "
            f"in {elapsed:.1f} s"
        )
        return StaffingPlan.build(
            scenario=scenario,
            planned=staffed_scenario(scenario, plan),
            search=search,
            plans=plans,
            check=(check_ev, check_j),
            compared=compared,
            stats={
                "simulations": evaluator.simulations,
                "search_simulations": searched,
                "replications_run": evaluator.replications,
                "repairs": repairs,
                "seconds": round(elapsed, 2),
                "replications": replications,
                "max_replications": search.max_replications,
                "check_replications": search.check_replications,
                "seed": seed,
                "check_seed": check_ev.seed,
            },
        )


def mean_based_plan(search: Search, start: np.ndarray) -> tuple[np.ndarray, Evaluation]:
    """The plan `search`'s settings give with `confidence_of_meeting` null (targets met on average),
    found and checked the same way on the same seeds: what a risk level costs, for the comparison.
    Returns the plan and its check's evaluation (the check's seeds: the comparison reuses it)."""
    search.log("the mean-based plan, for the comparison (confidence_of_meeting: null)")
    mean = Search(
        search.scn, replace(search.s, confidence_of_meeting=None), search.replications, search.seed, search.log
    )
    mean.ev = search.ev
    plan, ev, _, _ = mean.check(mean.find(start))
    return plan, ev


__all__ = ["CHECK_SEED_OFFSET", "Settings", "mean_based_plan", "plan_staffing"]

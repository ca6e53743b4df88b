"""Trace-driven replay: the logged days through a scenario, simulated against actual per interval.

The World gets a contact source (cxsim.world.ContactSource) that yields the logged arrivals
(times, channels, intents, segments; optionally each leg's logged handle time) instead of the
scenario's arrival model; everything else (bot, patience, handle times, routing, staffing) is
the scenario's. Recontacts are in the log already, so the scenario's recontact model is off.
The actual KPIs are computed from the log with the definitions of docs/kpis.md: offered by
first-queue entry time, SL by the channel's formula, ASA over answered, occupancy = busy
agent-time (answer to end; per agent, overlaps counted once) / productive agent-time.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from scipy import special

from cxsim.calibrate.log import LogData
from cxsim.contacts import Arrivals, Draws, _categorical, draw_attributes
from cxsim.errors import ConfigError
from cxsim.experiment import Results
from cxsim.metrics import replication_tables, span_integral
from cxsim.scenario import Scenario
from cxsim.streams import Streams
from cxsim.world import World

CHANNEL_METRICS = ("offered", "service_level", "asa_s", "abandon_rate")
TIER_METRICS = ("occupancy",)
REPLAY_FILE, SUMMARY_FILE, FIGURE_FILE = "replay.csv", "replay_summary.csv", "replay.png"


@dataclass(frozen=True)
class TraceSource:
    """A World's contact source yielding logged arrivals (codes index the scenario's names).

    intent / segment code -1: not in the log, drawn from the channel's mix (stream `replay/mix`);
    handle[k]: logged handle time at tier k (nan: drawn from the scenario)."""

    time: np.ndarray
    channel: np.ndarray
    intent: np.ndarray
    segment: np.ndarray
    handle: tuple[np.ndarray, ...] | None = None

    def __call__(self, scenario: Scenario, streams: Streams) -> tuple[Arrivals, Draws]:
        intent, segment = self.intent.copy(), self.segment.copy()
        rng = streams("replay/mix")
        for c, ch in enumerate(scenario.channels):
            for codes, mix in ((intent, ch.intent_mix), (segment, ch.segment_mix)):
                missing = (codes < 0) & (self.channel == c)
                codes[missing] = _categorical(rng, mix, int(missing.sum()))
        arr = Arrivals(self.time, self.channel, intent, segment)
        draws = draw_attributes(scenario, streams, arr.channel, arr.intent)
        if self.handle is not None:
            for k, logged in enumerate(self.handle):
                known = ~np.isnan(logged)
                draws.handle[k][known] = logged[known]
        return arr, draws


def _codes(values: pd.Series, names: Sequence[str], column: str, present: bool, data: LogData) -> np.ndarray:
    """Codes of the log's names in the scenario's list; -1 everywhere when the log lacks the column."""
    if not present:
        return np.full(len(values), -1, dtype=np.int16)
    lookup = {n: i for i, n in enumerate(names)}
    codes = values.astype(str).map(lookup)
    if codes.isna().any():
        row = int(codes.isna().to_numpy().argmax())
        raise ConfigError(
            "log",
            f"column '{column}', data row {int(data.contacts['row'].iloc[row]) + 1}: "
            f"'{values.iloc[row]}' is not in the scenario ({', '.join(names)})",
        )
    return codes.to_numpy().astype(np.int16)


def check_fit(data: LogData, scenario: Scenario) -> None:
    """The log can be replayed through the scenario: known channels, intents, segments; inside the horizon."""
    c = data.contacts
    _codes(c["channel"], [ch.name for ch in scenario.channels], "channel", True, data)
    _codes(c["intent"], scenario.intents, "intent", "intent" in data.columns, data)
    _codes(c["segment"], scenario.segments, "segment", "segment" in data.columns, data)
    if data.days * scenario.horizon.intervals_per_day > scenario.horizon.n_intervals:
        raise ConfigError(
            "horizon.days",
            f"the log spans {data.days} day(s); the scenario's horizon is "
            f"{scenario.horizon.days:g} (replay needs at least the log's days)",
        )
    tiers = {t.name for t in scenario.tiers}
    unknown = sorted(set(map(str, data.legs["tier"].cat.categories)) - tiers)
    if unknown:
        raise ConfigError("log", f"column 'tier': '{unknown[0]}' is not a tier of the scenario ({', '.join(tiers)})")


def trace(data: LogData, scenario: Scenario, logged_handle: bool) -> TraceSource:
    """The contact source of a log (checked against the scenario)."""
    check_fit(data, scenario)
    c = data.contacts
    handle = None
    if logged_handle:
        position = pd.Series(np.arange(len(c)), index=c["contact"].to_numpy())
        served = data.legs[data.legs["outcome"].isin(["answered", "escalated"])]
        rows = position.reindex(served["contact"]).to_numpy()
        handle = []
        for tier in scenario.tiers:
            h = np.full(len(c), np.nan, dtype=np.float32)
            at = (served["tier"] == tier.name).to_numpy()
            h[rows[at]] = (served["end"] - served["answer"]).to_numpy()[at]
            handle.append(h)
        handle = tuple(handle)
    return TraceSource(
        time=c["arrival"].to_numpy(dtype=float),
        channel=_codes(c["channel"], [ch.name for ch in scenario.channels], "channel", True, data),
        intent=_codes(c["intent"], scenario.intents, "intent", "intent" in data.columns, data),
        segment=_codes(c["segment"], scenario.segments, "segment", "segment" in data.columns, data),
        handle=handle,
    )


def _replicate(scenario: Scenario, source: TraceSource, seed: int, r: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    records = World(scenario, Streams(seed, r), source).run()
    summary, intervals = replication_tables(scenario, records)
    for table in (summary, intervals):
        table.insert(0, "replication", r)
    return summary, intervals


def actual_intervals(data: LogData, scenario: Scenario) -> pd.DataFrame:
    """The log's KPIs per interval (interval_start, scope, name, metric, value, weight)."""
    h = scenario.horizon
    n = data.days * h.intervals_per_day
    first = data.legs[data.legs["leg"] == 0]
    interval = np.floor(first["queue_entry"].to_numpy() / h.interval_s).astype(np.int64)
    inside = (interval < n) & (first["queue_entry"].to_numpy() >= h.warmup_s)  # as cxsim: the horizon, no warm-up
    first, interval = first[inside], interval[inside]
    channel = data.contacts.set_index("contact")["channel"].reindex(first["contact"]).astype(str).to_numpy()
    answered = first["outcome"].isin(["answered", "escalated"]).to_numpy()
    wait = np.where(answered, first["answer"] - first["queue_entry"], first["end"] - first["queue_entry"])
    starts = np.arange(n) * h.interval_s
    rows = []

    def add(scope: str, name: str, metric: str, value: np.ndarray, weight: np.ndarray) -> None:
        rows.append(
            pd.DataFrame(
                {
                    "interval_start": starts,
                    "scope": scope,
                    "name": name,
                    "metric": metric,
                    "value": value,
                    "weight": weight,
                }
            )
        )

    for ch in scenario.channels:
        mask = channel == ch.name
        within = wait <= ch.sla.answer_within_s
        ans, abd = mask & answered, mask & ~answered
        count = lambda m: np.bincount(interval[m], minlength=n).astype(float)  # noqa: E731
        offered, n_ans, n_abd = count(mask), count(ans), count(abd)
        num = count(ans & within) + (count(abd & within) if ch.sla.formula == "short_abandons_met" else 0)
        den = {"answered": n_ans, "late_abandons": n_ans + count(abd & ~within)}.get(ch.sla.formula, offered)
        with np.errstate(invalid="ignore", divide="ignore"):
            add("channel", ch.name, "offered", offered, np.ones(n))
            add("channel", ch.name, "service_level", num / den, den)
            add("channel", ch.name, "asa_s", np.bincount(interval[ans], wait[ans], minlength=n) / n_ans, n_ans)
            add("channel", ch.name, "abandon_rate", n_abd / offered, offered)
    legs = data.legs[data.legs["answer"].notna()]
    edges = np.r_[starts, n * h.interval_s]
    for k, tier in enumerate(scenario.tiers):
        g = legs[legs["tier"] == tier.name].sort_values(["agent", "answer"])
        start, end = g["answer"].to_numpy(), g["end"].to_numpy()
        if len(g) and (g["agent"] >= 0).all():  # busy = at least one contact in hand: merge each agent's overlaps
            reach = g.groupby("agent")["end"].cummax().to_numpy()
            prev = np.r_[-np.inf, reach[:-1]]
            new_agent = np.r_[True, g["agent"].to_numpy()[1:] != g["agent"].to_numpy()[:-1]]
            start = np.maximum(start, np.where(new_agent, -np.inf, prev))
            end = np.maximum(end, start)
        busy = span_integral(start, end, edges)
        staffed = scenario.tiers[k].agents[:n] * h.interval_s
        with np.errstate(invalid="ignore", divide="ignore"):
            add("tier", tier.name, "occupancy", np.where(staffed > 0, busy / staffed, np.nan), staffed)
    table = pd.concat(rows, ignore_index=True)
    return table[table["interval_start"] + h.interval_s > h.warmup_s].reset_index(drop=True)


def _weighted_days(
    table: pd.DataFrame, day_s: float, value: str, weight: str, extra: Sequence[str] = ()
) -> pd.DataFrame:
    """Per day and overall: the weight-averaged value (ratios of sums, as a day's KPI is)."""
    t = table.assign(day=(table["interval_start"] // day_s).astype(int) + 1)
    t = t[np.isfinite(t[value]) & (t[weight] > 0)]
    t = t.assign(_wv=t[value] * t[weight])
    keys = [*extra, "scope", "name", "metric"]
    frames = []
    for group in (["day", *keys], keys):
        g = t.groupby(group, observed=True)[["_wv", weight]].sum().reset_index()
        g[value] = np.where(g["metric"] == "offered", g["_wv"], g["_wv"] / g[weight])  # offered: a day's total
        if "day" not in group:
            g["day"] = "all"
        frames.append(g.drop(columns=["_wv"]))
    out = pd.concat(frames, ignore_index=True)
    out["day"] = out["day"].astype(str)
    return out


def compare(actual: pd.DataFrame, sim_reps: pd.DataFrame, day_s: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per interval and per day: actual against simulated (mean, 95% CI of the mean and 95% prediction
    interval of one day, i.e. where a single realisation like the log should fall)."""
    keys = ["interval_start", "scope", "name", "metric"]
    wanted = actual[["scope", "name", "metric"]].drop_duplicates()
    sim = sim_reps.merge(wanted, on=["scope", "name", "metric"])
    weights = actual.set_index(keys)["weight"]
    stats = sim.groupby(keys, observed=True)["value"].agg(simulated="mean", sd="std", n="count").reset_index()
    per_interval = actual.merge(stats, on=keys, how="left")
    per_interval["error"] = per_interval["simulated"] - per_interval["value"]
    per_interval = per_interval.rename(columns={"value": "actual"})
    # day level: each replication's day KPI, weighted by the simulated weights (offered, answered, staffed)
    with_answered = pd.concat([sim, sim_reps[(sim_reps["metric"] == "answered") & (sim_reps["scope"] == "channel")]])
    reps = with_answered.pivot_table(
        index=["replication", "interval_start", "scope", "name"], columns="metric", values="value", observed=True
    ).reset_index()
    sim_w = _sim_weights(reps, weights)
    day_sim = _weighted_days(sim_w, day_s, "value", "w", ["replication"]).rename(columns={"value": "sim"})
    day_act = _weighted_days(actual, day_s, "value", "weight").rename(columns={"value": "actual"})
    agg = (
        day_sim.groupby(["day", "scope", "name", "metric"], observed=True)["sim"]
        .agg(simulated="mean", sd="std", n="count")
        .reset_index()
    )
    days = day_act[["day", "scope", "name", "metric", "actual"]].merge(agg, on=["day", "scope", "name", "metric"])
    t = special.stdtrit(np.maximum(days["n"] - 1, 1), 0.975)
    days["ci95"] = t * days["sd"] / np.sqrt(days["n"])
    days["pi95"] = t * days["sd"] * np.sqrt(1 + 1 / days["n"])
    days["difference"] = days["simulated"] - days["actual"]
    days["within_pi95"] = days["difference"].abs() <= days["pi95"]
    mae = (
        per_interval.dropna(subset=["actual", "simulated"])
        .assign(abs_error=lambda d: d["error"].abs())
        .groupby(["scope", "name", "metric"], observed=True)["abs_error"]
        .mean()
        .rename("interval_mae")
    )
    days = days.merge(mae.reset_index(), on=["scope", "name", "metric"], how="left")
    cols = [
        "day",
        "scope",
        "name",
        "metric",
        "actual",
        "simulated",
        "ci95",
        "pi95",
        "difference",
        "within_pi95",
        "interval_mae",
        "n",
    ]
    per_interval = per_interval.rename(columns={"sd": "simulated_sd"})
    return per_interval.drop(columns=["n", "weight"]), days[cols]


def _sim_weights(reps: pd.DataFrame, actual_weights: pd.Series) -> pd.DataFrame:
    """Long table (replication, interval, scope, name, metric, value, w): each simulated KPI with its own weight."""
    frames = []
    weight_of = {"service_level": "offered", "abandon_rate": "offered", "asa_s": "answered"}
    for metric in (*CHANNEL_METRICS, *TIER_METRICS):
        if metric not in reps.columns:
            continue
        sub = reps[["replication", "interval_start", "scope", "name", metric]].dropna(subset=[metric])
        source = weight_of.get(metric)
        if source is not None and source in reps.columns:
            w = reps.loc[sub.index, source].to_numpy()
        else:  # offered counts itself; occupancy weighs by staffed time, the same in every replication
            key = pd.MultiIndex.from_arrays(
                [sub["interval_start"], sub["scope"], sub["name"], np.full(len(sub), metric)]
            )
            w = actual_weights.reindex(key).to_numpy() if metric != "offered" else np.ones(len(sub))
        frames.append(sub.rename(columns={metric: "value"}).assign(metric=metric, w=w))
    return pd.concat(frames, ignore_index=True)


def run_replay(
    cfg: DictConfig, out_dir: Path, overrides: Sequence[str] = (), stream: TextIO = sys.stdout
) -> pd.DataFrame:
    """Replay the log through the configured scenario; write the comparison tables and figure."""
    from cxsim.app import validate
    from cxsim.calibrate.app import load_log
    from cxsim.calibrate.figures import replay_figure
    from cxsim.outputs import write_atomic, write_results

    scenario = validate(cfg)
    data = load_log(cfg)
    source = trace(data, scenario, cfg.replay.handle_times == "logged")
    results, reps = replay(scenario, source, cfg.replications, cfg.seed, cfg.workers)
    actual = actual_intervals(data, scenario)
    per_interval, days = compare(actual, reps, 86400.0)
    out = Path(out_dir)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    resolved.pop("hydra", None)  # type: ignore[union-attr]
    write_results(results, out, resolved, overrides)  # type: ignore[arg-type]
    write_atomic(out / REPLAY_FILE, lambda p: per_interval.to_csv(p, index=False))
    write_atomic(out / SUMMARY_FILE, lambda p: days.to_csv(p, index=False))
    write_atomic(out / FIGURE_FILE, lambda p: replay_figure(per_interval, scenario, p))
    overall = days[days["day"] == "all"]
    print(
        f"replayed {len(data.contacts):,} logged contacts through {scenario.name}: {cfg.replications} "
        f"replications (simulated mean, 95% prediction interval of one day)",
        file=stream,
    )
    for row in overall.itertuples(index=False):
        flag = "" if row.within_pi95 else "  <- outside"
        print(
            f"  {row.scope} {row.name} {row.metric}: actual {row.actual:.4g}, simulated {row.simulated:.4g} "
            f"±{row.pi95:.3g}, interval MAE {row.interval_mae:.3g}{flag}",
            file=stream,
        )
    print(f"results: {out}", file=stream)
    return days


def replay(
    scenario: Scenario, source: TraceSource, replications: int, seed: int, workers: int = 1
) -> tuple[Results, pd.DataFrame]:
    """Simulate the trace; return the Results and every replication's interval table."""
    scenario = dataclasses.replace(scenario, recontact_probability=0.0, recontact_delay=None)
    args = [(scenario, source, seed, r) for r in range(replications)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            parts = list(pool.map(_replicate, *zip(*args, strict=True)))
    else:
        parts = [_replicate(*a) for a in args]
    results = Results.from_tables(scenario, seed, [s for s, _ in parts], [i for _, i in parts])
    return results, pd.concat([i for _, i in parts], ignore_index=True)

"""A validated, ready-to-simulate scenario, built from YAML plus overrides.

`load_scenario` reads a shipped scenario by name (or any YAML path), applies Hydra-style
overrides, checks it against the schema and the rules below, and compiles it into frozen
records with per-interval arrays, so the simulator never re-reads configuration.
Every rule broken raises ConfigError naming the key path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from cxsim.attendance import expected_agents
from cxsim.distributions import Distribution, make_distribution
from cxsim.errors import ConfigError
from cxsim.forecast import ChannelCorrelation, ForecastError, make_correlation, make_forecast_error
from cxsim.paths import scenarios_dir
from cxsim.profiles import (
    daily_shares,
    fit_to_horizon,
    is_file,
    load_weights,
    read_interval_column,
    read_volume_file,
    repeat_days,
)
from cxsim.routing import build_policy
from cxsim.satisfaction import build_model
from cxsim.schema import ScenarioConfig, type_error
from cxsim.yamlfile import load_yaml

SLA_FORMULAS = ("offered", "answered", "late_abandons", "short_abandons_met")
MIX_TOLERANCE = 1e-6
MAX_INTERVALS = 200_000  # staffing intervals in a horizon (11 years of 30-minute intervals)
MAX_HEADS = 1_000_000  # scheduled heads of one tier in one interval
MAX_VOLUME = 1e9  # expected contacts of one channel in one interval


@dataclass(frozen=True)
class SLA:
    """Target share of contacts answered within `answer_within_s`, by `formula`."""

    answer_within_s: float
    target: float
    formula: str


@dataclass(frozen=True)
class Horizon:
    """Simulated span in seconds, its staffing intervals and warm-up."""

    days: float
    interval_s: float
    warmup_s: float
    n_intervals: int
    intervals_per_day: int

    @property
    def end_s(self) -> float:
        """When arrivals stop."""
        return self.n_intervals * self.interval_s


@dataclass(frozen=True, eq=False)
class Channel:
    """One channel with its expected volume per interval and the mixes arrivals are drawn from."""

    name: str
    realtime: bool
    volumes: np.ndarray  # expected arrivals per interval over the horizon
    intent_mix: np.ndarray  # over Scenario.intents
    segment_mix: np.ndarray  # over Scenario.segments
    patience: Distribution | None
    sla: SLA
    concurrency: int
    slowdown: float
    bot_containment: np.ndarray | None  # per intent; None: no bot on this channel
    forecast_error: ForecastError | None = None  # None: arrivals follow `volumes` exactly
    bot_false_containment: np.ndarray | None = None  # per intent: contained but not resolved, comes back
    bot_giveup: np.ndarray | None = None  # per intent: of the not-contained, gives up in the bot, comes back


@dataclass(frozen=True, eq=False)
class Tier:
    """A team: scheduled heads per interval, skills and times per channel, resolution per intent."""

    name: str
    staff: np.ndarray  # scheduled (paid) heads per interval
    shrinkage: float
    agents: np.ndarray  # mean productive agents per interval: staff x (1 - absence) x (1 - shrinkage)
    skills: tuple[int, ...]  # channel indexes served
    handle_time: Mapping[int, Distribution]
    wrap_up: Distribution | None
    resolution: np.ndarray  # probability of resolving, per intent
    agent_hour_cost: float
    absence: float = 0.0  # probability a scheduled head is away for a whole day (attendance.py)


@dataclass(frozen=True, eq=False)
class Scenario:
    """Everything one simulation needs, validated; `config` keeps the resolved YAML for output."""

    name: str
    description: str
    horizon: Horizon
    channels: tuple[Channel, ...]
    intents: tuple[str, ...]
    handle_time_factor: np.ndarray  # per intent
    segments: tuple[str, ...]
    tiers: tuple[Tier, ...]
    bot_handle_time: Distribution | None
    context_handoff_factor: float
    policy: Any
    recontact_probability: float
    recontact_delay: Distribution | None
    bot_contact_cost: float
    satisfaction: Any  # the model: score(Experience) -> probabilities
    nps: bool
    config: Mapping[str, Any]
    forecast_correlation: ChannelCorrelation | None = None  # between channels' day multipliers
    false_containment_delay: Distribution | None = None  # None: no channel has false containment
    giveup_delay: Distribution | None = None  # None: nobody gives up in the bot

    def channel_index(self, name: str) -> int:
        """Position of a channel by name."""
        return [c.name for c in self.channels].index(name)

    def tier_index(self, name: str) -> int:
        """Position of a tier by name."""
        return [t.name for t in self.tiers].index(name)


# ---------------------------------------------------------------- loading


def omegaconf_error(exc: OmegaConfBaseException) -> ConfigError:
    """Turn OmegaConf's multi-line message into one line naming the key path."""
    key = getattr(exc, "full_key", "") or ""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if first.startswith("Key '") and "' not in '" in first:
        return ConfigError(key, "unknown key (check the spelling; see docs/reference.md)")
    return type_error(key, first) or ConfigError(key, first)


def scenario_names() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml"))


def require_scenario(value: Any) -> Scenario:
    """`value` itself if it is a compiled Scenario; an API caller passing a name or a config learns how."""
    if not isinstance(value, Scenario):
        raise ConfigError("scenario", f"must be a Scenario from cxsim.load_scenario(...) (got {type(value).__name__})")
    return value


def scenario_path(name_or_path: str | Path) -> Path:
    """Find a shipped scenario by name, or take a YAML path as it is."""
    if not isinstance(name_or_path, (str, Path)):
        raise ConfigError("scenario", f"must be a scenario name or a YAML path (got {type(name_or_path).__name__})")
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or is_file(path):
        if not is_file(path):
            raise ConfigError("scenario", f"file '{path}' does not exist")
        return path
    shipped = scenarios_dir() / f"{name_or_path}.yaml"
    if "/" in str(name_or_path) or not is_file(shipped):
        raise ConfigError("scenario", f"unknown scenario '{name_or_path}' (shipped: {', '.join(scenario_names())})")
    return shipped


def apply_overrides(cfg: DictConfig, overrides: Sequence[str]) -> None:
    """Apply command-line style overrides (`a.b=1`, `+a.c=2`, `~a.d`) with Hydra's own grammar."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    listed = isinstance(overrides, Sequence) and not isinstance(overrides, str)
    if not listed or not all(isinstance(o, str) for o in overrides):
        raise ConfigError("overrides", f"must be a list of strings like ['tiers.tier1.staff=40'] (got {overrides!r})")
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as exc:
        raise ConfigError("overrides", str(exc).splitlines()[0]) from None
    for override in parsed:
        key = override.key_or_group
        try:
            if override.is_delete():
                parent, _, leaf = key.rpartition(".")
                node = OmegaConf.select(cfg, parent) if parent else cfg
                if node is None or leaf not in node:
                    raise ConfigError(key, "cannot delete a key that is not set")
                node.pop(leaf)
                continue
            value = override.value()
            try:
                current = OmegaConf.select(cfg, key, default=None)
            except Exception:  # a path through a list: OmegaConf.update below reports it
                current = None
            if isinstance(value, list) and isinstance(current, DictConfig):  # bot.channels=[chat] onto a mapping
                OmegaConf.update(cfg, key, value, merge=False)
                continue
            if isinstance(value, dict):  # a whole new mapping (e.g. +tiers.tier2={...}): merge it in place
                nested: Any = value
                for part in reversed(key.split(".")):
                    nested = {part: nested}
                cfg.merge_with(nested)
            elif override.is_add():
                OmegaConf.update(cfg, key, value, merge=True, force_add=True)
            else:
                OmegaConf.update(cfg, key, value, merge=True)
        except OmegaConfBaseException as exc:
            raise omegaconf_error(exc) from None


def validate_config(raw: Any) -> DictConfig:
    """Merge a plain mapping onto the typed schema (unknown keys and wrong types fail here)."""
    try:
        return OmegaConf.merge(OmegaConf.structured(ScenarioConfig), raw)
    except OmegaConfBaseException as exc:
        raise omegaconf_error(exc) from None


def read_scenario_file(path: Path) -> dict[str, Any]:
    """A scenario file's mapping, read safely; it may describe an operation only, so Hydra's own
    keys (`hydra`: callbacks, output dirs; `defaults`: other configs) are refused."""
    data = load_yaml(path, "scenario")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("scenario", f"'{path}' must be a mapping of scenario keys (got {type(data).__name__})")
    for key in ("hydra", "defaults"):
        if key in data:
            rule = f"is not allowed in a scenario file ('{path}'): a scenario describes an operation only"
            raise ConfigError(key, rule)
    return data


def load_scenario(name_or_path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load a shipped scenario by name (or a YAML file), apply overrides, validate and compile."""
    path = scenario_path(name_or_path)
    cfg = validate_config(read_scenario_file(path))
    apply_overrides(cfg, overrides)
    return compile_scenario(cfg, base_dir=path.parent)


# ---------------------------------------------------------------- compiling


def _probability(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(key, f"must be a probability, got '{value}'")
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"must be a probability, got '{value}'") from None
    if not 0.0 <= p <= 1.0:
        raise ConfigError(key, f"must be a probability in [0, 1] (got {p})")
    return p


def _non_negative(value: Any, key: str, strict: bool = False) -> float:
    if isinstance(value, bool):
        raise ConfigError(key, f"must be a number, got '{value}'")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"must be a number, got '{value}'") from None
    if not math.isfinite(x) or x < 0 or (strict and x == 0):
        raise ConfigError(key, f"must be {'>' if strict else '>='} 0 (got {x})")
    return x


def _mix(mix: Mapping[str, Any], names: Sequence[str], key: str) -> np.ndarray:
    """A probability vector over `names` from a {name: share} mapping that must sum to 1."""
    probs = np.zeros(len(names))
    for name, share in mix.items():
        probs[names.index(name)] = _probability(share, f"{key}.{name}")
    if abs(probs.sum() - 1.0) > MIX_TOLERANCE:
        raise ConfigError(key, f"shares must sum to 1 (they sum to {probs.sum():.6g})")
    return probs / probs.sum()


def _horizon(cfg: Any) -> Horizon:
    days = _non_negative(cfg.days, "horizon.days", strict=True)
    interval_min = cfg.interval_min
    if interval_min <= 0 or 1440 % interval_min:
        raise ConfigError("horizon.interval_min", f"must divide a day into whole intervals (got {interval_min})")
    total_min = days * 1440
    if total_min / interval_min > MAX_INTERVALS:
        raise ConfigError("horizon.days", f"spans more than {MAX_INTERVALS:,} intervals of {interval_min} minutes")
    if abs(total_min / interval_min - round(total_min / interval_min)) > 1e-9:
        raise ConfigError("horizon.days", f"must span whole {interval_min}-minute intervals")
    warmup = _non_negative(cfg.warmup_min, "horizon.warmup_min")
    if warmup >= total_min:
        raise ConfigError("horizon.warmup_min", "must be shorter than the horizon")
    return Horizon(days, interval_min * 60.0, warmup * 60.0, round(total_min / interval_min), 1440 // interval_min)


def _staffing(value: Any, tier: str, horizon: Horizon, base_dir: Path | None) -> np.ndarray:
    """Scheduled heads per interval from a number, a list (per interval or per interval of a day) or a CSV."""
    key = f"tiers.{tier}.staff"
    n, per_day = horizon.n_intervals, horizon.intervals_per_day
    if isinstance(value, str):
        staff = read_interval_column(value, (tier, "staff", "agents", "heads"), n, per_day, key, base_dir)
    elif isinstance(value, Sequence):
        staff = np.asarray([_non_negative(v, f"{key}[{i}]") for i, v in enumerate(value)])
        staff = fit_to_horizon(staff, n, per_day, key, "a list")
    else:
        staff = np.full(n, _non_negative(value, key))
    if staff.max(initial=0) > MAX_HEADS:
        raise ConfigError(key, f"must be at most {MAX_HEADS:,} heads in an interval (got {staff.max():g})")
    return staff


BOT_CHANNEL_KEYS = ("containment", "false_containment", "giveup")


def _bot_channels(bot: Any, channels: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Channels the bot fronts, each with optional overrides of the per-intent bot rates."""
    spec = bot.channels
    if spec is None:
        return {}
    if isinstance(spec, str):
        spec = [spec]
    if not isinstance(spec, (Sequence, Mapping, DictConfig, ListConfig)):
        raise ConfigError("bot.channels", f"must be a channel, a list of channels or a mapping (got {spec})")
    out: dict[str, dict[str, float | None]] = {}
    if hasattr(spec, "items"):
        for name, opts in spec.items():
            key = f"bot.channels.{name}"
            if name not in channels:
                raise ConfigError(key, "is not a channel of the scenario")
            opts = opts or {}
            unknown = set(opts) - set(BOT_CHANNEL_KEYS)
            if unknown:
                allowed = ", ".join(BOT_CHANNEL_KEYS)
                raise ConfigError(f"{key}.{sorted(unknown)[0]}", f"unknown key (allowed: {allowed})")
            out[name] = {}
            for rate in BOT_CHANNEL_KEYS:
                value = opts.get(rate)
                out[name][rate] = None if value is None else _probability(value, f"{key}.{rate}")
                if rate != "containment" and value is not None:
                    _comes_back(out[name][rate], f"{key}.{rate}")
        return out
    for i, name in enumerate(spec):
        if name not in channels:
            raise ConfigError(f"bot.channels[{i}]", f"'{name}' is not a channel of the scenario")
        out[str(name)] = dict.fromkeys(BOT_CHANNEL_KEYS)
    return out


def _per_intent(channel_value: float | None, intent_values: np.ndarray) -> np.ndarray:
    """A bot rate per intent on one channel: the channel's own value when given, else each intent's."""
    return intent_values.copy() if channel_value is None else np.full(len(intent_values), channel_value)


def _comes_back(p: float, key: str) -> float:
    """A share of bot customers who always come back must stay below 1, or they would loop forever."""
    if p >= 1.0:
        raise ConfigError(key, f"must be below 1: these customers always come back (got {p})")
    return p


class CheckedConfig(dict):
    """A plain mapping already merged onto the schema, read with attributes as a DictConfig is.

    compile_scenario works on one of these: reading plain dicts is many times faster than
    OmegaConf nodes, which is what lets a sweep validate thousands of jobs in seconds.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: Any) -> Any:
        return _checked(super().__getitem__(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return _checked(super().get(key, default))

    def items(self) -> Any:  # type: ignore[override]
        return [(k, _checked(v)) for k, v in super().items()]

    def values(self) -> Any:  # type: ignore[override]
        return [_checked(v) for v in super().values()]


def _checked(value: Any) -> Any:
    if isinstance(value, dict) and not isinstance(value, CheckedConfig):
        return CheckedConfig(value)
    if isinstance(value, list):
        return [_checked(v) for v in value]
    return value


def checked_config(cfg: Any) -> CheckedConfig:
    """A config as plain checked data: merged onto the schema unless it is a typed config already."""
    if isinstance(cfg, CheckedConfig):
        return cfg
    typed = isinstance(cfg, DictConfig) and issubclass(OmegaConf.get_type(cfg) or object, ScenarioConfig)
    if not typed:  # a plain mapping, or a config not yet checked against the schema
        cfg = validate_config({k: cfg[k] for k in ScenarioConfig.__dataclass_fields__ if k in cfg})
    try:
        data = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:  # an interpolation that points nowhere
        raise omegaconf_error(exc) from None
    assert isinstance(data, dict)
    return CheckedConfig(data)


def compile_scenario(cfg: Any, base_dir: Path | None = None) -> Scenario:
    """Check every rule of a scenario config and build the Scenario the simulator runs."""
    cfg = checked_config(cfg)
    horizon = _horizon(cfg.horizon)
    channel_names = list(cfg.channels)
    tier_names = list(cfg.tiers)
    if not channel_names:
        raise ConfigError("channels", "a scenario needs at least one channel")
    if not tier_names:
        raise ConfigError("tiers", "a scenario needs at least one tier")

    # intents: declared ones, plus those channels mention when nothing is declared
    declared = list(cfg.intents)
    mentioned = [i for c in cfg.channels.values() for i in c.intents]
    intents = declared or list(dict.fromkeys(mentioned)) or ["general"]
    for cname, ch in cfg.channels.items():
        for iname in ch.intents:
            if iname not in intents:
                raise ConfigError(f"channels.{cname}.intents.{iname}", "is not declared under `intents`")
    segments = list(dict.fromkeys(s for c in cfg.channels.values() for s in c.segments)) or ["standard"]

    handle_factor = np.ones(len(intents))
    containment = np.zeros(len(intents))
    false_containment = np.zeros(len(intents))
    giveup = np.zeros(len(intents))
    intent_resolution: dict[str, dict[str, float]] = {}
    for i, iname in enumerate(intents):
        spec = cfg.intents.get(iname)
        if spec is None:
            continue
        key = f"intents.{iname}"
        containment[i] = _probability(spec.bot_containment, f"{key}.bot_containment")
        for rates, name in ((false_containment, "bot_false_containment"), (giveup, "bot_giveup")):
            rates[i] = _comes_back(_probability(spec[name], f"{key}.{name}"), f"{key}.{name}")
        handle_factor[i] = _non_negative(spec.handle_time_factor, f"{key}.handle_time_factor", strict=True)
        for tname, p in spec.resolution.items():
            if tname not in tier_names:
                raise ConfigError(f"{key}.resolution.{tname}", f"is not a tier ({', '.join(tier_names)})")
            intent_resolution.setdefault(iname, {})[tname] = _probability(p, f"{key}.resolution.{tname}")

    bot_channels = _bot_channels(cfg.bot, channel_names)
    channels = []
    for cname, ch in cfg.channels.items():
        key = f"channels.{cname}"
        if ch.mode not in ("realtime", "deferred"):
            raise ConfigError(f"{key}.mode", f"must be realtime or deferred (got '{ch.mode}')")
        if ch.volume_file:
            volumes = read_volume_file(
                ch.volume_file, cname, horizon.n_intervals, horizon.intervals_per_day, f"{key}.volume_file", base_dir
            )
        else:
            per_day = _non_negative(ch.volume_per_day, f"{key}.volume_per_day")
            shares = daily_shares(load_weights(ch.profile, f"{key}.profile", base_dir), horizon.intervals_per_day)
            volumes = repeat_days(shares * per_day, horizon.n_intervals)
        if volumes.max(initial=0) > MAX_VOLUME:
            raise ConfigError(f"{key}.volume_per_day", f"more than {MAX_VOLUME:g} contacts expected in one interval")
        intent_mix = (
            _mix(ch.intents, intents, f"{key}.intents")
            if ch.intents
            else np.eye(len(intents))[0]
            if len(intents) == 1
            else None
        )
        if intent_mix is None:
            raise ConfigError(f"{key}.intents", "give the channel's intent mix (several intents are declared)")
        segment_mix = (
            _mix(ch.segments, segments, f"{key}.segments")
            if ch.segments
            else np.asarray([1.0 if s == "standard" else 0.0 for s in segments])
        )
        if segment_mix.sum() == 0:
            raise ConfigError(f"{key}.segments", "give the channel's segment mix (other channels name segments)")
        patience = None
        if ch.patience is not None:
            if ch.mode == "deferred":
                raise ConfigError(f"{key}.patience", "deferred contacts wait in a backlog and do not abandon; use null")
            patience = make_distribution(ch.patience, f"{key}.patience", base_dir)
        sla_key = f"{key}.sla"
        if ch.sla.formula not in SLA_FORMULAS:
            raise ConfigError(f"{sla_key}.formula", f"must be one of {', '.join(SLA_FORMULAS)}")
        sla = SLA(
            _non_negative(ch.sla.answer_within_s, f"{sla_key}.answer_within_s"),
            _probability(ch.sla.target, f"{sla_key}.target"),
            ch.sla.formula,
        )
        if ch.concurrency < 1:
            raise ConfigError(f"{key}.concurrency", f"must be >= 1 (got {ch.concurrency})")
        bot = bot_false = bot_giveup = None
        if cname in bot_channels:
            given = bot_channels[cname]
            bot = _per_intent(given["containment"], containment)
            bot_false = _per_intent(given["false_containment"], false_containment)
            bot_giveup = _per_intent(given["giveup"], giveup)
        channels.append(
            Channel(
                name=cname,
                realtime=ch.mode == "realtime",
                volumes=volumes,
                intent_mix=intent_mix,
                segment_mix=segment_mix,
                patience=patience,
                sla=sla,
                concurrency=int(ch.concurrency),
                slowdown=_non_negative(ch.concurrency_slowdown, f"{key}.concurrency_slowdown"),
                bot_containment=bot,
                forecast_error=make_forecast_error(ch.forecast_error, f"{key}.forecast_error", base_dir),
                bot_false_containment=bot_false,
                bot_giveup=bot_giveup,
            )
        )

    agent_cost = dict(cfg.costs.agent_hour)
    _non_negative(cfg.costs.get("fte_hours_per_day", 8.0), "costs.fte_hours_per_day", strict=True)
    for tname in agent_cost:
        if tname not in tier_names:
            raise ConfigError(f"costs.agent_hour.{tname}", f"is not a tier ({', '.join(tier_names)})")
    tiers = []
    served: set[str] = set()
    for tname, t in cfg.tiers.items():
        key = f"tiers.{tname}"
        skills = list(t.skills) or channel_names
        for i, cname in enumerate(skills):
            if cname not in channel_names:
                raise ConfigError(f"{key}.skills[{i}]", f"'{cname}' is not a channel ({', '.join(channel_names)})")
        for cname in t.handle_time:
            if cname not in skills:
                raise ConfigError(f"{key}.handle_time.{cname}", "is not among the tier's skills")
        handle = {}
        for cname in skills:
            if cname not in t.handle_time:
                raise ConfigError(f"{key}.handle_time.{cname}", "is required for every channel in skills")
            handle[channel_names.index(cname)] = make_distribution(
                t.handle_time[cname], f"{key}.handle_time.{cname}", base_dir
            )
        shrinkage = _probability(t.shrinkage, f"{key}.shrinkage")
        if shrinkage >= 1:
            raise ConfigError(f"{key}.shrinkage", "must be below 1")
        staff = _staffing(t.staff, tname, horizon, base_dir)
        absence = _probability(t.absence, f"{key}.absence")
        if absence >= 1:
            raise ConfigError(f"{key}.absence", "must be below 1")
        agents = expected_agents(staff, shrinkage, absence)
        if agents.max() == 0:
            raise ConfigError(f"{key}.staff", "the tier has no productive agent in any interval")
        default_res = _probability(t.resolution, f"{key}.resolution")
        resolution = np.asarray([intent_resolution.get(i, {}).get(tname, default_res) for i in intents])
        tiers.append(
            Tier(
                name=tname,
                staff=staff,
                shrinkage=shrinkage,
                agents=agents,
                skills=tuple(channel_names.index(c) for c in skills),
                handle_time=handle,
                wrap_up=None if t.wrap_up is None else make_distribution(t.wrap_up, f"{key}.wrap_up", base_dir),
                resolution=resolution,
                agent_hour_cost=_non_negative(agent_cost.get(tname, 0.0), f"costs.agent_hour.{tname}"),
                absence=absence,
            )
        )
        served.update(skills)
    for cname in channel_names:
        if cname not in served:
            raise ConfigError(f"channels.{cname}", "no tier serves it (add it to a tier's skills)")

    for sname in cfg.routing.segment_priorities:
        if sname not in segments:
            raise ConfigError(f"routing.segment_priorities.{sname}", f"is not a segment ({', '.join(segments)})")
    policy = build_policy(cfg.routing, {c.name: c.realtime for c in channels}, tier_names)
    for rule in getattr(policy, "overflow", ()):
        source, target = tier_names.index(rule.from_tier), tier_names.index(rule.to_tier)
        if not set(tiers[source].skills) & set(tiers[target].skills):
            raise ConfigError("routing.overflow", f"{rule.to_tier} serves none of {rule.from_tier}'s channels")
    recontact_p = _probability(cfg.recontact.probability, "recontact.probability")
    recontact_delay = make_distribution(cfg.recontact.delay, "recontact.delay", base_dir) if recontact_p > 0 else None
    bot_time = false_delay = giveup_delay = None
    if bot_channels:
        bot_time = make_distribution(cfg.bot.handle_time, "bot.handle_time", base_dir)
        if any(c.bot_false_containment is not None and c.bot_false_containment.any() for c in channels):
            false_delay = make_distribution(cfg.bot.false_containment_delay, "bot.false_containment_delay", base_dir)
        if any(c.bot_giveup is not None and c.bot_giveup.any() for c in channels):
            giveup_delay = make_distribution(cfg.bot.giveup_delay, "bot.giveup_delay", base_dir)
    return Scenario(
        name=str(cfg.name),
        description=str(cfg.description or ""),
        horizon=horizon,
        channels=tuple(channels),
        intents=tuple(intents),
        handle_time_factor=handle_factor,
        segments=tuple(segments),
        tiers=tuple(tiers),
        bot_handle_time=bot_time,
        context_handoff_factor=_non_negative(cfg.bot.context_handoff_factor, "bot.context_handoff_factor", strict=True),
        policy=policy,
        recontact_probability=recontact_p,
        recontact_delay=recontact_delay,
        bot_contact_cost=_non_negative(cfg.costs.bot_contact, "costs.bot_contact"),
        satisfaction=build_model(cfg.satisfaction),
        nps=bool(cfg.satisfaction.nps),
        config=dict(cfg),
        forecast_correlation=make_correlation(
            cfg.forecast_correlation, channel_names, [c.forecast_error for c in channels]
        ),
        false_containment_delay=false_delay,
        giveup_delay=giveup_delay,
    )

"""The scenario and run settings as typed dataclasses: the schema every YAML is merged onto.

OmegaConf (and so Hydra) rejects unknown keys and wrong types against these; `scenario.py`
then checks the rules types cannot express (probabilities, cross references, files).
Keys are the user interface: extend, never rename.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field
from typing import Any

from cxsim.errors import ConfigError

MISSING = "???"  # omegaconf.MISSING (not imported: the command's help must not load OmegaConf)


@dataclass
class DistConfig:
    """A duration: `{dist, mean_s, cv}`, or empirical from `file`/`values`."""

    dist: str = "exponential"
    mean_s: float | None = None
    cv: float | None = None
    file: str | None = None
    values: list[float] | None = None


@dataclass
class SLAConfig:
    """Service-level target: `target` of contacts answered within `answer_within_s`."""

    answer_within_s: float = 20.0
    target: float = 0.80
    formula: str = "offered"  # offered | answered | late_abandons | short_abandons_met


@dataclass
class HorizonConfig:
    """Simulated span, the staffing/reporting interval and the warm-up excluded from KPIs."""

    days: float = 1.0
    interval_min: int = 30
    warmup_min: float = 0.0


@dataclass
class ChannelConfig:
    """One way in (voice, chat, email ...): volume, shape, mix, patience, SLA, concurrency."""

    mode: str = "realtime"  # realtime | deferred
    volume_per_day: float = 0.0
    profile: Any = "flat"  # named curve, list of weights, or CSV path
    volume_file: str | None = None  # CSV of per-interval volumes (overrides volume_per_day)
    intents: dict[str, float] = field(default_factory=dict)
    segments: dict[str, float] = field(default_factory=dict)
    patience: Any = None  # a DistConfig mapping, or null: nobody abandons
    sla: SLAConfig = field(default_factory=SLAConfig)
    concurrency: int = 1
    concurrency_slowdown: float = 0.0  # handle-time stretch per extra contact in hand
    forecast_error: Any = None  # {dist: gamma, cv, intraday_cv, intraday_correlation} or {_target_: ...}; null: exact


@dataclass
class IntentConfig:
    """Why customers contact: what automation acts on."""

    bot_containment: float = 0.0
    bot_false_containment: float = 0.0  # share of bot "containments" not really resolved: they come back
    bot_giveup: float = 0.0  # share of the bot's not-contained conversations where the customer gives up
    handle_time_factor: float = 1.0
    resolution: dict[str, float] = field(default_factory=dict)  # tier -> probability


@dataclass
class BotConfig:
    """The self-service layer: channels it fronts, its handling time, the handoff benefit."""

    channels: Any = None  # [chat, voice] or {chat: {containment: 0.4, false_containment: .., giveup: ..}}; null: no bot
    # distributions are Any (a DistConfig mapping or a {_target_: ...}); make_distribution checks their keys
    handle_time: Any = field(default_factory=lambda: {"dist": "lognormal", "mean_s": 90.0, "cv": 0.8})
    context_handoff_factor: float = 1.0
    # when a falsely contained customer / one who gave up in the bot comes back (a distribution)
    false_containment_delay: Any = field(default_factory=lambda: {"dist": "exponential", "mean_s": 86400.0})
    giveup_delay: Any = field(default_factory=lambda: {"dist": "exponential", "mean_s": 3600.0})


@dataclass
class TierConfig:
    """A team: staffing, shrinkage, skills, handle and wrap-up times, resolution."""

    staff: Any = 0  # number, list per interval, or CSV path
    shrinkage: float = 0.0
    absence: float = 0.0  # probability a scheduled head is away for the whole day
    skills: list[str] = field(default_factory=list)  # empty: every channel
    handle_time: dict[str, Any] = field(default_factory=dict)  # channel -> distribution
    wrap_up: Any = None  # a DistConfig mapping, or null: no after-contact work
    resolution: float = 1.0


@dataclass
class OverflowConfig:
    """Overflow rule: a contact waiting `after_s` at `from_tier` may also be taken by `to_tier`."""

    from_tier: str = MISSING  # every field is required: a rule with a gap is refused, not defaulted
    to_tier: str = MISSING
    after_s: float = MISSING


@dataclass
class RoutingConfig:
    """Which waiting contact an idle agent takes, and where waiting contacts overflow."""

    policy: Any = "fifo"  # fifo | priority | segment_priority | overflow | {_target_: ...}
    priorities: dict[str, int] = field(default_factory=dict)  # channel -> rank, 0 first
    segment_priorities: dict[str, int] = field(default_factory=dict)  # segment -> rank
    overflow: list[OverflowConfig] = field(default_factory=list)


@dataclass
class RecontactConfig:
    """Unresolved or abandoned customers who come back about the same issue."""

    probability: float = 0.0
    delay: Any = field(default_factory=lambda: {"dist": "exponential", "mean_s": 86400.0})  # a distribution


@dataclass
class SatisfactionConfig:
    """Projected-satisfaction model: `default`, or `{_target_: ...}`; coefficient overrides."""

    model: Any = "default"
    coefficients: dict[str, float] = field(default_factory=dict)
    nps: bool = False


@dataclass
class CostConfig:
    """Agent cost per paid hour per tier, bot cost per conversation, and how the report words them."""

    agent_hour: dict[str, float] = field(default_factory=dict)
    bot_contact: float = 0.0
    currency: str = ""  # e.g. USD, EUR: printed beside every cost in the report ("" prints none)
    fte_hours_per_day: float = 8.0  # paid hours one full-time equivalent works a day (FTE = paid hours / this / days)


@dataclass
class ScenarioConfig:
    """A complete support operation, as one YAML file in `scenarios/` describes it."""

    name: str = "scenario"
    description: str = ""
    horizon: HorizonConfig = field(default_factory=HorizonConfig)
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    intents: dict[str, IntentConfig] = field(default_factory=dict)
    bot: BotConfig = field(default_factory=BotConfig)
    tiers: dict[str, TierConfig] = field(default_factory=dict)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    recontact: RecontactConfig = field(default_factory=RecontactConfig)
    satisfaction: SatisfactionConfig = field(default_factory=SatisfactionConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    forecast_correlation: dict[str, Any] = field(default_factory=dict)  # {voice: {chat: 0.6}}: day multipliers


@dataclass
class OutputConfig:
    """What a run writes besides the KPI tables."""

    contacts: bool = False  # contacts.parquet: one row per contact with every timestamp


@dataclass
class ReportConfig:
    """Whether a run also writes its HTML report."""

    enabled: bool = False


@dataclass
class StaffingConfig:
    """Whether a job plans its staffing first (`mode`), and how the planner searches (docs/planning.md)."""

    mode: str = "roster"  # roster: simulate the scenario's staff; plan: plan the staffing, report the plan's KPIs
    target: str = "interval"  # interval | day: where each channel's SLA target must hold
    confidence: float = 0.95  # a miss within this one-sided confidence of the noise gets more replications
    max_occupancy: float | None = None
    max_abandon: float | None = None
    sla_targets: Any = None  # {channel: target, or a list per interval}
    transfer_sla: Any = None  # {answer_within_s, target} for escalated contacts
    interval_floor: float | None = None  # target=day: minimum SL in every interval
    min_agents: int = 0
    min_contacts: int = 30  # an interval's SL is judged once this many contacts (all replications) reach it
    max_iterations: int = 80  # simulations the search may run
    spacing: int = 4  # intervals between removals tried together
    check_replications: int | None = None  # fresh-seed check (null: 4 x replications)
    max_repairs: int = 5
    compare: bool = True  # also simulate the Erlang C and Erlang A plans on the check seeds
    max_replications: int | None = None  # cap of the check's sequential decision (null: check_replications)
    fte_hours_per_week: float = 37.5  # paid hours of one full-time equivalent
    confidence_of_meeting: float | None = None  # e.g. 0.9: meet every target on this share of days (null: on average)


@dataclass
class AutomateConfig:
    """`cxsim automate`: what +`points` of bot containment per intent save at equal service (docs/automation.md)."""

    points: float = 10.0  # percentage points of bot containment added to one intent at a time
    intents: list[str] | None = None  # null: every intent the bot fronts and does not fully contain
    plans: int = 3  # independent planner seeds; the intervals on savings are over these paired plans
    evaluation_replications: int | None = None  # replications judging each planned pair (null: 2 x replications)


@dataclass
class ObjectiveConfig:
    """Makes a job return one number (for Hydra's Optuna sweeper): a KPI plus SLA penalties."""

    metric: str = "cost_per_contact"
    scope: str = "overall"
    name: str = "all"
    sla_penalty: float = 0.0  # added per unit (fraction) of SL below target, summed over channels


@dataclass
class CalibrateConfig:
    """`cxsim calibrate` / `cxsim replay`: how to read the contact log and estimate (docs/calibration.md)."""

    columns: dict[str, str] = field(default_factory=dict)  # cxsim's column name -> the export's
    timezone: str = "UTC"  # zone of times without an offset; days start at its midnight
    format: str = "contact"  # contact: one row per contact | leg: one row per contact and tier
    interval_min: int = 30
    roster: str | None = None  # CSV of heads per interval and tier; null: agents seen busy in the log
    deferred: list[str] = field(default_factory=lambda: ["email"])  # channels answered from a backlog
    recontact_window_h: float = 72.0  # same customer back within this long after a contact's end
    handle_times: str = "fitted"  # fitted | empirical
    name: str = "calibrated"  # the written scenario's name


@dataclass
class ReplayConfig:
    """`cxsim replay`: what the trace fixes besides the logged arrivals."""

    handle_times: str = "model"  # model: drawn from the scenario | logged: each leg's logged handle time


@dataclass
class BreakConfig:
    """A break or lunch inside a shift: its length, whether it is paid, and the window it may start in."""

    name: str = "break"
    length_min: float = 15.0
    paid: bool = True
    earliest_min: float = 60.0  # earliest start, minutes after the shift starts
    latest_min: float = 180.0  # latest start, minutes after the shift starts


@dataclass
class ShiftConfig:
    """A shift type of the catalogue: length, allowed start times, breaks, part-time flag and limits."""

    length_h: float = 8.0  # start to end, breaks included
    earliest_start: str = "00:00"  # HH:MM
    latest_start: str = "23:59"  # HH:MM; starts are on the `granularity_min` grid in between
    part_time: bool = False
    max_count: int | None = None  # heads per tier on this shift type (per day for daily shifts)
    cost_factor: float = 1.0  # multiplies the tier's agent-hour cost for this shift type's paid hours
    breaks: list[BreakConfig] = field(default_factory=list)


@dataclass
class OperatingHoursConfig:
    """When the operation is open each day; shifts lie inside (00:00-24:00: around the clock)."""

    open: str = "00:00"
    close: str = "24:00"


@dataclass
class ScheduleConfig:
    """`cxsim schedule`: the shift catalogue, its rules, the solver and the simulate-and-repair loop."""

    requirement: str | None = None  # CSV of required heads per interval and tier; null: the scenario's staff
    granularity_min: int = 30  # shift start times lie on this grid
    operating_hours: OperatingHoursConfig = field(default_factory=OperatingHoursConfig)
    part_time_max_share: float = 1.0  # part-time heads / all heads, per tier (per day for daily shifts)
    days_off_per_week: int = 0  # > 0: weekly tours (same shift on the days worked) for whole-week horizons
    consecutive_days_off: bool = True
    shortfall_penalty: float = 1000.0  # a head-hour short costs this many agent-hours of the tier
    time_limit_s: float = 20.0  # solver time per tier and round
    mip_gap: float = 0.01  # relative optimality gap the solver may stop at
    max_rounds: int = 3  # simulate-and-repair rounds after the first solve
    min_contacts: int = 30  # an interval's SL is judged once this many contacts (all replications) reach it
    simulate: bool = True  # simulate the schedule on fresh seeds (and repair)
    shifts: dict[str, ShiftConfig] = field(default_factory=dict)


@dataclass
class RunConfig(ScenarioConfig):
    """A scenario plus how to run it: the schema of the `cxsim` command's config."""

    replications: int = 10
    seed: int = 0
    workers: int = 1
    progress: bool = True
    force: bool = False  # run even above the size limits (cxsim.budget: contacts, memory)
    output: OutputConfig = field(default_factory=OutputConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    staffing: StaffingConfig | None = None  # configs/config.yaml sets mode roster, configs/staff.yaml mode plan
    automate: AutomateConfig | None = None  # set by configs/automate.yaml (`cxsim automate`)
    objective: ObjectiveConfig | None = None  # set by configs/optuna/*: the job returns a float
    log: str | None = None  # the contact log of `cxsim calibrate` and `cxsim replay`
    calibrate: CalibrateConfig | None = None  # set by configs/calibrate.yaml
    replay: ReplayConfig | None = None  # set by configs/replay.yaml
    schedule: ScheduleConfig | None = None  # set by configs/schedule.yaml (`cxsim schedule`)


RUN_KEYS = (
    "replications",
    "seed",
    "workers",
    "progress",
    "force",
    "output",
    "report",
    "staffing",
    "automate",
    "objective",
    "log",
    "calibrate",
    "replay",
    "schedule",
)
STAFFING_MODES = ("roster", "plan")
MAX_REPLICATIONS = 10_000


def planned(cfg: Any) -> bool:
    """A job that plans its staffing first: `staffing.mode: plan` (`cxsim staff` sets it)."""
    staffing = cfg.get("staffing")
    return staffing is not None and staffing.get("mode", "roster") == "plan"


def check_staffing_mode(cfg: Any) -> None:
    """`staffing.mode` is roster or plan."""
    staffing = cfg.get("staffing")
    mode = "roster" if staffing is None else staffing.get("mode", "roster")
    if mode not in STAFFING_MODES:
        raise ConfigError("staffing.mode", f"must be roster or plan (got '{mode}')")


RUN_RANGES = {"replications": f"between 1 and {MAX_REPLICATIONS:,}", "workers": ">= 1", "seed": ">= 0"}
# OmegaConf's refusal to convert a value to a key's schema type (its wording, matched to give ours)
_NOT_CONVERTED = re.compile(
    r"Value '(.*)' (?:of type '\w+' could not be converted to (Integer|Float)|is not a valid (bool))"
)


def check_run_settings(replications: int, workers: int, seed: int) -> None:
    """The rules for how an experiment runs: at least one replication and worker, a non-negative seed."""
    for key, value in (("replications", replications), ("workers", workers), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(key, f"must be a whole number (got {value!r})")
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise ConfigError("replications", f"must be {RUN_RANGES['replications']} (got {replications})")
    if workers < 1:
        raise ConfigError("workers", f"must be {RUN_RANGES['workers']} (got {workers})")
    if seed < 0:
        raise ConfigError("seed", f"must be {RUN_RANGES['seed']} (got {seed})")


def type_error(key: str, message: str) -> ConfigError | None:
    """OmegaConf's message for a value of the wrong type (`replications=1e9`) as the key's rule in
    cxsim's words, with the run settings' range; None for any other message."""
    found = _NOT_CONVERTED.match(message)
    if found is None:
        return None
    text, number, _ = found.groups()
    try:
        got = f"{float(text):g}"  # 1e9 arrives as '1000000000.0'
    except ValueError:
        got = repr(text)
    if number == "Integer":
        rule = "must be a whole number" + (f" {RUN_RANGES[key]}" if key in RUN_RANGES else "")
    else:
        rule = "must be a number" if number == "Float" else "must be true or false"
    return ConfigError(key, f"{rule} (got {got})")

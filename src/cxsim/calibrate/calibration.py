"""Every estimate a scenario needs, from one checked log: the calibration as data.

`calibrate(data, settings)` runs the estimators (volume, handle times, patience, flows,
staffing) and returns a `Calibration`; writer.py turns it into scenario files, report.py into
the HTML report. Nothing here touches files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxsim.calibrate.durations import FitResult, fit_durations
from cxsim.calibrate.estimates import Estimate
from cxsim.calibrate.flows import Recontacts, containment, last_leg_answered_at, recontacts, resolution, tier_order
from cxsim.calibrate.handle import HandleTimes, handle_times
from cxsim.calibrate.log import LogData
from cxsim.calibrate.patience import patience
from cxsim.calibrate.staffing import Staffing, staffing
from cxsim.calibrate.volume import Volume, volume
from cxsim.errors import ConfigError

HANDLE_MODES = ("fitted", "empirical")
PLACEHOLDER_HANDLE = {"dist": "exponential", "mean_s": 300.0}


@dataclass
class Settings:
    """The `calibrate:` block's estimation settings."""

    interval_min: int = 30
    roster: str | None = None
    deferred: list[str] = field(default_factory=lambda: ["email"])
    recontact_window_h: float = 72.0
    handle_times: str = "fitted"
    name: str = "calibrated"

    def check(self) -> None:
        """Rules the types cannot express (ConfigError names the key)."""
        if self.interval_min <= 0 or 1440 % self.interval_min:
            raise ConfigError(
                "calibrate.interval_min", f"must divide a day into whole intervals (got {self.interval_min})"
            )
        if self.recontact_window_h <= 0:
            raise ConfigError("calibrate.recontact_window_h", f"must be > 0 (got {self.recontact_window_h})")
        if self.handle_times not in HANDLE_MODES:
            raise ConfigError(
                "calibrate.handle_times", f"must be one of {', '.join(HANDLE_MODES)} (got '{self.handle_times}')"
            )


@dataclass
class Calibration:
    """What the log says, as estimates with intervals, ready to be written as a scenario."""

    settings: Settings
    data: LogData
    channels: list[str]
    realtime: list[str]
    tiers: list[str]
    skills: dict[str, list[str]]  # tier -> channels it answered
    volume: Volume
    handle: HandleTimes
    patience: dict[str, FitResult]
    bot_channels: list[str]
    bot_time: FitResult | None
    containment: dict[str, Estimate]  # intent -> share contained by the bot
    resolution: dict[str, Estimate]
    resolution_by_intent: dict[str, dict[str, Estimate]]
    last_resolution: Estimate | None
    recontacts: Recontacts
    staffing: Staffing
    notes: list[str]  # what the log could not tell, and what was written instead

    def estimates(self) -> pd.DataFrame:
        """Every estimate as one table (estimate, value, low, high, n, method)."""
        rows: list[Estimate] = [*self.volume.per_day.values()]
        for mix in (self.volume.intents, self.volume.segments):
            rows += [e for per in mix.values() for e in per.values()]
        for fit in [*self.handle.fits.values(), *self.patience.values(), *([self.bot_time] if self.bot_time else [])]:
            rows += [fit.chosen.mean, fit.chosen.cv]
        rows += [e for e in self.handle.factors.values()]
        rows += list(self.containment.values())
        rows += list(self.resolution.values()) + [e for per in self.resolution_by_intent.values() for e in per.values()]
        rows += [
            e
            for e in (
                self.last_resolution,
                self.recontacts.probability,
                self.recontacts.delay_mean,
                self.recontacts.answered_comeback,
            )
            if e is not None
        ]
        return pd.DataFrame([e.row() for e in rows])

    def fits(self) -> pd.DataFrame:
        """Every distribution family tried per duration: AIC, log-likelihood, Kolmogorov distance, chosen."""
        rows = []
        for fit in [*self.handle.fits.values(), *self.patience.values(), *([self.bot_time] if self.bot_time else [])]:
            for f in fit.candidates:
                rows.append(
                    {
                        "duration": fit.what,
                        "family": f.family,
                        "mean_s": f.mean.value,
                        "cv": f.cv.value,
                        "loglik": f.loglik,
                        "aic": f.aic,
                        "ks_distance": f.ks,
                        "events": fit.events,
                        "censored": fit.censored,
                        "chosen": f is fit.chosen,
                    }
                )
        return pd.DataFrame(rows)


def _last_resolution(rc: Recontacts) -> Estimate | None:
    """Resolution at the last tier: 1 - (comebacks after an answer) / (comebacks after an abandon)."""
    p, q = rc.probability, rc.answered_comeback
    if p is None or q is None or not p.value > 0:
        return None
    value = float(np.clip(1 - q.value / p.value, 0, 1))
    low = float(np.clip(1 - q.high / max(p.low, 1e-12), 0, 1))
    high = float(np.clip(1 - q.low / p.high, 0, 1))
    return Estimate(
        "resolution at the last tier",
        value,
        low,
        high,
        q.n,
        "1 - comeback after answer / comeback after abandon (interval from both intervals' ends)",
    )


def calibrate(data: LogData, settings: Settings) -> Calibration:
    """Estimate every scenario parameter from the log."""
    settings.check()
    c = data.contacts
    channels = [str(x) for x in c["channel"].cat.categories]
    realtime = [ch for ch in channels if ch not in settings.deferred]
    tiers = tier_order(data)
    if not tiers:
        raise ConfigError("log", "no contact reached an agent queue (every row is contained): nothing to calibrate")
    last_answered = last_leg_answered_at(data, tiers[-1])
    rc = recontacts(data, settings.recontact_window_h * 3600.0, last_answered)
    vol = volume(data, ~rc.is_recontact, settings.interval_min)
    in_bot = c["bot_end"].notna().to_numpy()
    bot_channels = [str(x) for x in pd.unique(c.loc[in_bot, "channel"])]
    bot_time = fit_durations("bot handle", (c["bot_end"] - c["arrival"]).to_numpy()[in_bot]) if in_bot.any() else None
    res, res_intent = resolution(data, tiers)
    channel_of = c.set_index("contact")["channel"]
    legs_channel = channel_of.reindex(data.legs["contact"]).to_numpy()
    skills = {
        t: [ch for ch in channels if ((data.legs["tier"] == t).to_numpy() & (legs_channel == ch)).any()] for t in tiers
    }
    notes = []
    for ch in channels:
        if not any(ch in served for served in skills.values()):  # every contact contained: cxsim still needs a tier
            skills[tiers[0]].append(ch)
            notes.append(f"channels.{ch}: no contact reached an agent; added to {tiers[0]}'s skills")
    handle = handle_times(data)
    for tier, served in skills.items():
        for ch in served:
            if (tier, ch) not in handle.fits:
                notes.append(
                    f"tiers.{tier}.handle_time.{ch}: no answered leg to fit; written as a placeholder "
                    f"({PLACEHOLDER_HANDLE}): set it"
                )
    return Calibration(
        settings=settings,
        data=data,
        channels=channels,
        realtime=realtime,
        tiers=tiers,
        skills=skills,
        volume=vol,
        handle=handle,
        patience=patience(data, realtime),
        bot_channels=bot_channels,
        bot_time=bot_time,
        containment=containment(data),
        resolution=res,
        resolution_by_intent=res_intent,
        last_resolution=_last_resolution(rc),
        recontacts=rc,
        staffing=staffing(data, tiers, vol.starts, vol.interval_s, settings.roster),
        notes=notes,
    )

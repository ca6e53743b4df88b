"""The calibration report's figures: observed against fitted, as PNG data URIs (report.py embeds them)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from cxsim.calibrate.calibration import Calibration
from cxsim.calibrate.durations import FitResult
from cxsim.report.figures import DPI, STYLE, figure, styled, to_uri
from cxsim.scenario import Scenario

OBSERVED, FITTED, BAND = "#4a5568", "#c0392b", "#cbd5e0"
FAMILY_STYLE = {"exponential": ":", "lognormal": "--", "gamma": "-."}


def _grid(n: int, cols: int = 3) -> tuple[int, int]:
    return max(1, -(-n // cols)), min(cols, max(n, 1))


@styled
def handle_histograms(cal: Calibration) -> str | None:
    """Per tier x channel: histogram of handle times with every fitted density (the chosen one bold)."""
    cells = sorted(cal.handle.fits)
    if not cells:
        return None
    rows, cols = _grid(len(cells))
    fig = figure(4.2 * cols, 2.9 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, cell in zip(axes, cells, strict=False):
        _histogram(ax, cal.handle.samples[cell], cal.handle.fits[cell], f"{cell[0]} · {cell[1]}")
    for ax in axes[len(cells) :]:
        ax.set_axis_off()
    axes[0].legend(loc="upper right")
    return to_uri(fig)


def _histogram(ax, values: np.ndarray, fit: FitResult, title: str) -> None:
    top = float(np.quantile(values, 0.99))
    ax.hist(values[values <= top], bins=50, density=True, color=BAND, edgecolor="white", label="observed")
    x = np.linspace(top / 400, top, 300)
    for f in fit.candidates:
        chosen = f is fit.chosen
        ax.plot(
            x,
            f.pdf(x),
            FAMILY_STYLE[f.family] if not chosen else "-",
            color=FITTED if chosen else OBSERVED,
            lw=2.0 if chosen else 1.0,
            label=f"{f.family}{' (chosen)' if chosen else ''}",
        )
    c = fit.chosen
    ax.set_title(f"{title}: {c.family} mean {c.mean.value:,.0f} s, cv {c.cv.value:.2f}, KS {c.ks:.3f}", fontsize=9)
    ax.set_xlabel("seconds")
    ax.set_yticks([])


@styled
def survival_curves(cal: Calibration) -> str | None:
    """Per channel: Kaplan-Meier patience curve with its 95% band against the censored fits."""
    names = sorted(cal.patience)
    if not names:
        return None
    rows, cols = _grid(len(names), 2)
    fig = figure(5.6 * cols, 3.2 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, name in zip(axes, names, strict=False):
        fit = cal.patience[name]
        keep = np.unique(np.linspace(0, len(fit.km_time) - 1, min(len(fit.km_time), 1500)).astype(int))
        t, s = fit.km_time[keep], fit.km_surv[keep]  # thinned for drawing: 1,500 steps look the same
        ax.fill_between(
            t, fit.km_low[keep], fit.km_high[keep], step="post", color=BAND, alpha=0.8, label="Kaplan-Meier 95%"
        )
        ax.step(t, s, where="post", color=OBSERVED, lw=1.4, label="Kaplan-Meier")
        top = float(t[np.searchsorted(-s, -0.05)]) if (s < 0.05).any() else float(t[-1])
        x = np.linspace(0, max(top, 1.0), 300)
        for f in fit.candidates:
            chosen = f is fit.chosen
            ax.plot(
                x,
                f.survival(x),
                "-" if chosen else FAMILY_STYLE[f.family],
                color=FITTED if chosen else OBSERVED,
                lw=2.0 if chosen else 1.0,
                label=f"{f.family}{' (chosen)' if chosen else ''}",
            )
        ax.set_xlim(0, max(top, 1.0))
        ax.set_ylim(0, 1.02)
        c = fit.chosen
        ax.set_title(
            f"{name}: {c.family} mean {c.mean.value:,.0f} s [{c.mean.low:,.0f}, {c.mean.high:,.0f}], "
            f"KS {c.ks:.3f}\n{fit.events:,} abandoned, {fit.censored:,} answered (censored)",
            fontsize=9,
        )
        ax.set_xlabel("seconds waited")
        ax.set_ylabel("P(still willing to wait)")
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    axes[0].legend(loc="upper right")
    return to_uri(fig)


@styled
def volume_profiles(cal: Calibration) -> str | None:
    """Per channel: observed first contacts per interval and the volume file's expected values."""
    vol = cal.volume
    names = list(vol.expected)
    fig = figure(11, 2.4 * len(names))
    axes = np.atleast_1d(fig.subplots(len(names), 1, sharex=True)).ravel()
    hours = np.arange(len(vol.starts)) * vol.interval_s / 3600
    width = vol.interval_s / 3600
    for ax, name in zip(axes, names, strict=True):
        edges = np.r_[hours, hours[-1] + width]
        ax.stairs(vol.observed[name], edges, fill=True, color=BAND, label="observed first contacts")
        ax.step(
            np.r_[hours, hours[-1] + width],
            np.r_[vol.expected[name], vol.expected[name][-1]],
            where="post",
            color=FITTED,
            lw=1.4,
            label="volume file",
        )
        est = vol.per_day[name]
        ax.set_title(
            f"{name}: {est.value:,.0f} first contacts a day [{est.low:,.0f}, {est.high:,.0f}]; "
            f"profile pooled over {vol.pooled_over}",
            fontsize=9,
        )
        ax.set_ylabel("per interval")
    axes[-1].set_xlabel(f"hours from {vol.starts[0]:%a %d %b %Y %H:%M}")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncol=2)
    return to_uri(fig)


@styled
def staffing_profile(cal: Calibration) -> str | None:
    """Heads per tier and interval as written to staff.csv."""
    vol = cal.volume
    hours = np.arange(len(vol.starts)) * vol.interval_s / 3600
    fig = figure(11, 2.6)
    ax = fig.subplots()
    for tier, heads in cal.staffing.heads.items():
        ax.step(hours, heads, where="post", lw=1.3, label=tier)
    ax.set_ylabel("heads")
    ax.set_xlabel(f"hours from {vol.starts[0]:%a %d %b %Y %H:%M}")
    ax.set_title(f"staff.csv ({cal.staffing.source})", fontsize=9)
    ax.legend(loc="upper right")
    return to_uri(fig)


def replay_figure(per_interval: pd.DataFrame, scenario: Scenario, path: Path) -> None:
    """Simulated (mean and the interval where one day falls) against actual, per interval: SL, ASA and
    abandonment per channel, occupancy per tier; saved as PNG at `path`."""
    with matplotlib.rc_context(STYLE):
        panels = [
            ("channel", ch.name, m) for ch in scenario.channels for m in ("service_level", "asa_s", "abandon_rate")
        ]
        panels += [("tier", t.name, "occupancy") for t in scenario.tiers]
        cols = 3
        rows = -(-len(panels) // cols)
        fig = figure(4.4 * cols, 2.6 * rows)
        axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
        for ax, (scope, name, metric) in zip(axes, panels, strict=False):
            d = per_interval[
                (per_interval["scope"] == scope) & (per_interval["name"] == name) & (per_interval["metric"] == metric)
            ].sort_values("interval_start")
            hours = d["interval_start"].to_numpy() / 3600
            spread = 1.96 * d["simulated_sd"].fillna(0).to_numpy()
            low, high = (d["simulated"] - spread).clip(lower=0), d["simulated"] + spread
            ax.fill_between(hours, low, high, color=BAND, alpha=0.7, lw=0, label="simulated, 95% of days")
            ax.plot(hours, d["simulated"], color=FITTED, lw=1.3, label="simulated (mean)")
            ax.plot(hours, d["actual"], "o", ms=2.5, color=OBSERVED, label="actual (log)")
            ax.set_title(f"{name} · {metric}", fontsize=9)
        for ax in axes[len(panels) :]:
            ax.set_axis_off()
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncol=3)
        for ax in axes[: len(panels)]:
            ax.set_xlabel("hours from the log's first midnight", fontsize=8)
        fig.savefig(path, format="png", dpi=DPI, facecolor="white")

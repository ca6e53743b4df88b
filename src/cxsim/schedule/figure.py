"""The coverage figure: per tier, required heads against heads on the floor on a clock-time axis,
intervals left short shaded, and the schedule's simulated service level per interval below."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

if TYPE_CHECKING:
    from cxsim.schedule.result import Schedule


def clock_axis(ax: plt.Axes, days: int) -> None:
    """Hours of the horizon shown as clock times (with the day when the horizon is longer than one)."""

    def label(x: float, _pos: int) -> str:
        day, hour = divmod(round(x), 24)
        return f"{hour:02d}:00" if days == 1 else f"d{day + 1} {hour:02d}:00"

    ax.xaxis.set_major_locator(MultipleLocator(3 if days == 1 else 24))
    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.set_xlim(0, 24 * days)


def coverage_figure(schedule: Schedule, path: Path) -> None:
    """Write the figure as PNG to `path`."""
    grid = schedule.model.grid
    n_tiers = len(schedule.tiers)
    sl = schedule.service_levels
    rows = n_tiers + (sl is not None)
    fig, axes = plt.subplots(rows, 1, figsize=(11, 2.6 * rows), sharex=True, squeeze=False)
    hours = schedule.interval_min / 60
    short = schedule.short()
    for k, ts in enumerate(schedule.tiers):
        ax = axes[k, 0]
        n = len(ts.required)
        edges = np.arange(n + 1) * hours
        ax.stairs(ts.requested, edges, color="black", linewidth=1.5, label="required heads")
        if (ts.required != ts.requested).any():
            ax.stairs(ts.required, edges, color="tab:orange", linestyle="--", label="raised where SL missed")
        slot_edges = np.arange(len(ts.solution.working) + 1) * grid.slot_min / 60
        ax.stairs(ts.solution.working, slot_edges, color="tab:blue", label="on the floor (breaks out)")
        for i in np.flatnonzero(short[k] > 1e-9):
            ax.axvspan(edges[i], edges[i + 1], color="tab:red", alpha=0.2, linewidth=0)
        n_short = int((short[k] > 1e-9).sum())
        ax.set_title(
            f"{ts.tier}: cost {ts.solution.cost:,.0f}, " + (f"{n_short} intervals short" if n_short else "covered"),
            fontsize=10,
        )
        ax.set_ylabel("heads")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper left", fontsize=8)
    if sl is not None:
        ax = axes[-1, 0]
        for (scope, name), g in sl.groupby(["scope", "name"], sort=False):
            x = ((g.day.to_numpy() - 1) * 24 + [int(t[:2]) + int(t[3:]) / 60 for t in g.time]) + hours / 2
            y = np.where(g.judged, g.service_level, np.nan)
            misses = int((g.judged & ~g.meets).sum())
            line = ax.plot(
                x,
                y,
                marker=".",
                label=f"{name}{' (tier)' if scope == 'tier' else ''}: target {g.target.iloc[0]:.0%}, {misses} misses",
            )[0]
            ax.axhline(g.target.iloc[0], color=line.get_color(), linestyle=":", linewidth=1)
        ax.set_ylabel("simulated SL")
        ax.set_ylim(0, 1.02)
        ax.set_title("service level of the schedule on fresh seeds (judged intervals)", fontsize=10)
        ax.legend(loc="lower right", fontsize=8)
    clock_axis(axes[-1, 0], grid.days)
    fig.suptitle(f"{schedule.scenario}: schedule cost {schedule.cost:,.0f}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)

"""The report's figures, drawn with matplotlib (Agg, no pyplot state) and embedded as PNG data URIs.

Every function takes the runs being compared and their colours and returns a `data:` URI
(or None when the data for that figure is missing), so the page needs no external file.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Callable, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter, PercentFormatter

from cxsim.report.compare import meets_every_target
from cxsim.report.data import Run, resolution_times

BASELINE_COLOUR = "#2b2b2b"
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22"]
OUTCOME_COLOURS = {
    "contained": "#59a14f",
    "resolved": "#4e79a7",
    "unresolved": "#f28e2b",
    "abandoned": "#e15759",
    "flow": "#b8c4d6",
}
STYLE = {
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.7,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
}
DPI = 110
MIN_BAND_REPLICATIONS = 5  # draw the per-interval CI band from this many replications on


def styled(draw: Callable[..., str | None]) -> Callable[..., str | None]:
    """Draw (and save) a figure inside the report's matplotlib style, leaving global rcParams alone."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper


def colours(n: int, baseline: int) -> list[str]:
    """One colour per run: dark grey for the baseline, a qualitative palette (or viridis) for the rest."""
    others = PALETTE if n - 1 <= len(PALETTE) else [matplotlib.colormaps["viridis"](x) for x in np.linspace(0, 0.9, n)]
    out, k = [], 0
    for i in range(n):
        if i == baseline:
            out.append(BASELINE_COLOUR)
        else:
            c = others[k % len(others)]
            out.append(c if isinstance(c, str) else matplotlib.colors.to_hex(c))
            k += 1
    return out


def figure(width: float, height: float, **kwargs) -> Figure:
    return Figure(figsize=(width, height), layout="constrained", **kwargs)


def to_uri(fig: Figure) -> str:
    """PNG data URI of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _hours_axis(ax, span_h: float) -> None:
    """x in hours since the start: ticks every 3 h (6 h or a day on longer horizons), as clock times."""
    step = 3 if span_h <= 30 else 6 if span_h <= 72 else 24

    def fmt(x: float, _pos: int) -> str:
        day, hour = divmod(round(x), 24)
        return f"{hour:02d}:00" if span_h <= 30 else f"d{day + 1} {hour:02d}h"

    ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(fmt))


def _step(ax, x: np.ndarray, y: np.ndarray, width_h: float, **kwargs) -> None:
    """A per-interval value drawn as a step over its interval."""
    if len(x) == 0:
        return
    ax.step(np.r_[x, x[-1] + width_h], np.r_[y, y[-1]], where="post", **kwargs)


def _interval_h(runs: Sequence[Run]) -> float:
    for run in runs:
        h = run.config.get("horizon") or {}
        if h.get("interval_min"):
            return float(h["interval_min"]) / 60.0
    return 0.5


def _legend(fig: Figure, runs: Sequence[Run], cols: Sequence[str], baseline: int, extra: Sequence = ()) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [], [], color=c, lw=2.4 if i == baseline else 1.8, label=r.label + (" (baseline)" if i == baseline else "")
        )
        for i, (r, c) in enumerate(zip(runs, cols, strict=True))
    ]
    handles.extend(extra)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4))


@styled
def intraday(runs: Sequence[Run], cols: Sequence[str], baseline: int, channel: str) -> str | None:
    """SL against target, queue length, staffing of the channel's first tier and each scenario's own
    offered contacts, per interval: four panels, one y-axis each."""
    has = [r for r in runs if not r.series("service_level", "channel", channel).empty]
    if not has:
        return None
    realtime = runs[baseline].sla(channel).get("mode", "realtime") == "realtime"
    width = _interval_h(runs)
    fig = figure(11, 9.0)
    axes = fig.subplots(4, 1, sharex=True, height_ratios=[1.25, 1, 1, 0.9])
    span = 0.0
    banded = False
    sla = runs[baseline].sla(channel)
    tier = runs[baseline].tier_for(channel)
    for i, (run, col) in enumerate(zip(runs, cols, strict=True)):
        lw = 2.3 if i == baseline else 1.6
        sl = run.series("service_level", "channel", channel)
        if sl.empty:
            continue
        x = sl["interval_start"].to_numpy() / 3600.0
        span = max(span, x.max() + width)
        y, ci = sl["mean"].to_numpy(), np.nan_to_num(sl["ci95"].to_numpy())
        _step(axes[0], x, y, width, color=col, lw=lw)
        # with few replications the t-interval spans most of the axis: it would hide more than it shows
        if "n" not in sl.columns or np.nanmedian(sl["n"].to_numpy(dtype=float)) >= MIN_BAND_REPLICATIONS:
            banded = True
            lo, hi = np.clip(y - ci, 0, 1), np.clip(y + ci, 0, 1)
            axes[0].fill_between(
                np.r_[x, x[-1] + width], np.r_[lo, lo[-1]], np.r_[hi, hi[-1]], step="post", color=col, alpha=0.10, lw=0
            )
        q = run.series("queue_mean" if realtime else "backlog", "channel", channel)
        if not q.empty:
            _step(axes[1], q["interval_start"].to_numpy() / 3600.0, q["mean"].to_numpy(), width, color=col, lw=lw)
        t = run.tier_for(channel) or tier
        staff = run.series("staff", "tier", t) if t else None
        agents = run.series("agents", "tier", t) if t else None
        if staff is not None and not staff.empty:
            _step(
                axes[2], staff["interval_start"].to_numpy() / 3600.0, staff["mean"].to_numpy(), width, color=col, lw=lw
            )
        if agents is not None and not agents.empty:
            _step(
                axes[2], agents["interval_start"].to_numpy() / 3600.0, agents["mean"].to_numpy(), width,
                color=col, lw=1.0, ls=":",
            )  # fmt: skip
        offered = run.series("offered", "channel", channel)
        if not offered.empty:
            _step(axes[3], offered["interval_start"].to_numpy() / 3600.0, offered["mean"].to_numpy(), width,
                  color=col, lw=lw)  # fmt: skip
    target = float(sla.get("target", 0.8))
    axes[0].axhline(target, color="#b00020", ls="--", lw=1.2)
    axes[0].text(0.995, target, f" target {target:.0%}", color="#b00020", va="bottom", ha="right",
                 transform=axes[0].get_yaxis_transform(), fontsize=8.5)  # fmt: skip
    axes[0].set_ylim(-0.02, 1.05)
    axes[0].yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    within = _duration(float(sla.get("answer_within_s", 20)))
    band = "; band = 95% CI" if banded else ""
    axes[0].set_title(f"{channel}: service level per interval (answered within {within}{band})", loc="left")
    axes[1].set_title(
        f"{channel}: contacts waiting (time-average per interval)"
        if realtime
        else f"{channel}: backlog waiting at the end of each interval",
        loc="left",
    )
    axes[1].set_ylim(bottom=0)
    axes[2].set_title(
        f"{tier or 'entry tier'}: scheduled heads (solid) and productive agents on shift (dotted)", loc="left"
    )
    axes[2].set_ylim(bottom=0)
    axes[3].set_title(f"{channel}: contacts offered to agents per interval (each scenario's own demand)", loc="left")
    axes[3].set_ylim(bottom=0)
    _hours_axis(axes[3], span)
    axes[3].set_xlim(0, span)
    _legend(fig, runs, cols, baseline)
    return to_uri(fig)


@styled
def occupancy(runs: Sequence[Run], cols: Sequence[str], baseline: int) -> str | None:
    """Occupancy per tier: through the day (top) and the mean with its CI (bottom)."""
    tiers = list(dict.fromkeys(t for r in runs for t in r.tiers))
    if not tiers:
        return None
    width = _interval_h(runs)
    fig = figure(11, 6.2)
    grid = fig.add_gridspec(2, len(tiers), height_ratios=[1.2, 1])
    span = 0.0
    for k, tier in enumerate(tiers):
        ax = fig.add_subplot(grid[0, k])
        for i, (run, col) in enumerate(zip(runs, cols, strict=True)):
            s = run.series("occupancy", "tier", tier)
            if s.empty:
                continue
            x = s["interval_start"].to_numpy() / 3600.0
            span = max(span, x.max() + width)
            _step(ax, x, s["mean"].to_numpy(), width, color=col, lw=2.1 if i == baseline else 1.4)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(f"{tier}: occupancy per interval", loc="left")
        if span:
            ax.set_xlim(0, span)
            _hours_axis(ax, span)
            ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(6 if span <= 30 else 24))
    ax = fig.add_subplot(grid[1, :])
    n = len(runs)
    bar_w = 0.8 / n
    for i, (run, col) in enumerate(zip(runs, cols, strict=True)):
        means = [run.kpi("occupancy", "tier", t)[0] for t in tiers]
        cis = [run.kpi("occupancy", "tier", t)[1] for t in tiers]
        xs = np.arange(len(tiers)) + (i - (n - 1) / 2) * bar_w
        ax.bar(xs, means, bar_w * 0.92, color=col, yerr=np.nan_to_num(cis), capsize=2, ecolor="#555555")
        if n <= 6:
            for x, m, ci in zip(xs, means, np.nan_to_num(cis), strict=True):
                if np.isfinite(m):
                    ax.text(x, min(m + ci, 1.0) + 0.015, f"{m:.0%}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(np.arange(len(tiers)), tiers)
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title("Mean occupancy over the horizon (whiskers = 95% CI)", loc="left")
    ax.grid(axis="x", visible=False)
    _legend(fig, runs, cols, baseline)
    return to_uri(fig)


# ---------------------------------------------------------------- flow of contacts


def flow_counts(run: Run) -> dict:
    """Mean contacts per replication along bot -> tiers -> outcomes, made consistent for drawing.

    Front-door counts are by arrival time and tier counts by queue-entry time, so they differ
    slightly at the window's edges; each tier's outcomes are scaled to its inflow.
    """
    m = run.mean
    tiers = run.tiers
    contained = np.nan_to_num(m("contained"))
    first_offered = np.nan_to_num(m("offered", "tier", tiers[0])) if tiers else 0.0
    arrivals = m("arrivals")
    if not np.isfinite(arrivals):
        arrivals = contained + first_offered
    bot = m("bot_entered")
    if not np.isfinite(bot):
        rate = m("containment_rate")
        bot = contained / rate if np.isfinite(rate) and rate > 0 else contained
    handoff = max(bot - contained, 0.0)
    direct = max(arrivals - bot, 0.0)
    inflow = handoff + direct
    out = {"arrivals": arrivals, "bot": bot, "contained": contained, "handoff": handoff, "direct": direct, "tiers": []}
    for k, tier in enumerate(tiers):
        offered = np.nan_to_num(m("offered", "tier", tier))
        answered = np.nan_to_num(m("answered", "tier", tier))
        abandoned = np.nan_to_num(m("abandoned", "tier", tier))
        escalated = m("escalated", "tier", tier)
        if not np.isfinite(escalated):
            escalated = answered * np.nan_to_num(m("escalation_rate", "tier", tier))
        resolved, unresolved = m("resolved", "tier", tier), m("unresolved", "tier", tier)
        if not np.isfinite(resolved):
            resolved, unresolved = answered - escalated, 0.0
        if k == len(tiers) - 1:
            escalated = 0.0
        raw = np.asarray([resolved, escalated, np.nan_to_num(unresolved), abandoned], dtype=float)
        scale = inflow / raw.sum() if raw.sum() > 0 else 0.0
        r, e, u, a = raw * scale
        out["tiers"].append(
            {"name": tier, "in": inflow, "offered": offered, "resolved": r, "escalated": e, "unresolved": u,
             "abandoned": a}
        )  # fmt: skip
        inflow = e
    out["resolved"] = sum(t["resolved"] for t in out["tiers"])
    out["unresolved"] = sum(t["unresolved"] for t in out["tiers"])
    out["abandoned"] = sum(t["abandoned"] for t in out["tiers"])
    return out


def _band(ax, x0: float, y0: tuple[float, float], x1: float, y1: tuple[float, float], colour: str) -> None:
    """A Sankey band from the slot y0=(bottom, top) at x0 to the slot y1 at x1."""
    xm = (x0 + x1) / 2
    verts = [
        (x0, y0[1]), (xm, y0[1]), (xm, y1[1]), (x1, y1[1]),
        (x1, y1[0]), (xm, y1[0]), (xm, y0[0]), (x0, y0[0]), (x0, y0[1]),
    ]  # fmt: skip
    codes = [MplPath.MOVETO, *[MplPath.CURVE4] * 3, MplPath.LINETO, *[MplPath.CURVE4] * 3, MplPath.CLOSEPOLY]
    ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=colour, edgecolor="none", alpha=0.55))


@styled
def flow(run: Run, colour: str, title: str) -> str | None:
    """A Sankey-like diagram: contacts -> bot / direct -> tiers -> contained, resolved, unresolved, abandoned."""
    c = flow_counts(run)
    total = c["arrivals"]
    if not total or not np.isfinite(total):
        return None
    has_bot = c["bot"] > 0
    n_t = len(c["tiers"])
    cols = 1 + int(has_bot) + n_t + 1
    xs = np.linspace(0, 1, cols)
    node_w = 0.018
    scale = 0.78 / total
    gap = 0.05
    nodes: dict[str, dict] = {}

    def place(column: int, items: list[tuple[str, str, float, str]], top: float | None = None) -> None:
        """Stack a column's nodes downwards from `top` (None: bottom-aligned at 0)."""
        heights = [v * scale for _, _, v, _ in items]
        used = sum(heights) + gap * (len(items) - 1)
        y = used if top is None else top
        for (key, label, value, col), h in zip(items, heights, strict=True):
            nodes[key] = {"x": xs[column], "top": y, "bottom": y - h, "label": label, "value": value, "colour": col,
                          "out": y, "in": y}  # fmt: skip
            y -= h + gap

    place(0, [("arrivals", "Contacts", total, "#555555")], 1.0)
    column = 1
    if has_bot:
        place(1, [("bot", "Bot", c["bot"], "#7f7f7f"), ("direct", "Straight to agents", c["direct"], "#7f7f7f")], 1.0)
        column = 2
    # the first tier sits just below the band of bot-contained contacts, later tiers at the bottom
    first_top = 1.0 - (c["contained"] * scale + gap if c["contained"] > 0 else 0.0)
    for k, t in enumerate(c["tiers"]):
        place(column + k, [(f"tier{k}", t["name"], t["in"], "#4e4e6e")], None if k else first_top)
    outcomes = [
        ("contained", "Contained by bot", c["contained"]),
        ("resolved", "Resolved by an agent", c["resolved"]),
        ("unresolved", "Unresolved", c["unresolved"]),
        ("abandoned", "Abandoned", c["abandoned"]),
    ]
    place(cols - 1, [(k, label, v, OUTCOME_COLOURS[k]) for k, label, v in outcomes if v > 0], 1.0)
    label_y = {}
    for x in xs:  # labels of one column at least a line pair apart
        column_nodes = sorted((k for k in nodes if nodes[k]["x"] == x), key=lambda k: -nodes[k]["top"])
        floor = np.inf
        for k in column_nodes:
            y = min((nodes[k]["top"] + nodes[k]["bottom"]) / 2, floor - 0.1)
            label_y[k] = y
            floor = y

    fig = figure(11, 4.3 if has_bot or n_t > 1 else 2.4)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(-0.01, 1.16)
    ax.set_ylim(min(min(n["bottom"] for n in nodes.values()), min(label_y.values()) - 0.05) - 0.04, 1.06)

    def link(src: str, dst: str, value: float, col: str) -> None:
        if value <= 0 or src not in nodes or dst not in nodes:
            return
        h = value * scale
        a, b = nodes[src], nodes[dst]
        _band(ax, a["x"] + node_w, (a["out"] - h, a["out"]), b["x"], (b["in"] - h, b["in"]), col)
        a["out"] -= h
        b["in"] -= h

    if has_bot:
        link("arrivals", "bot", c["bot"], OUTCOME_COLOURS["flow"])
        link("arrivals", "direct", c["direct"], OUTCOME_COLOURS["flow"])
        link("bot", "contained", c["contained"], OUTCOME_COLOURS["contained"])
        link("bot", "tier0", c["handoff"], OUTCOME_COLOURS["flow"])
        link("direct", "tier0", c["direct"], OUTCOME_COLOURS["flow"])
    else:
        link("arrivals", "tier0", c["tiers"][0]["in"] if c["tiers"] else 0, OUTCOME_COLOURS["flow"])
    for k, t in enumerate(c["tiers"]):
        for outcome in ("resolved", "unresolved", "abandoned"):
            link(f"tier{k}", outcome, t[outcome], OUTCOME_COLOURS[outcome])
        link(f"tier{k}", f"tier{k + 1}", t["escalated"], "#9a9ab8")
    for key, n in nodes.items():
        ax.add_patch(Rectangle((n["x"], n["bottom"]), node_w, n["top"] - n["bottom"], color=n["colour"], lw=0))
        share = n["value"] / total
        text = f"{n['label']}\n{n['value']:,.0f} ({share:.0%})"
        last = n["x"] >= xs[-1] - 1e-9
        ax.text(
            n["x"] + (node_w + 0.006 if last or key == "arrivals" else -0.006), label_y[key], text,
            ha="left" if last or key == "arrivals" else "right", va="center", fontsize=8.3,
            bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.2},
        )  # fmt: skip
    ax.set_title(title, loc="left", color=colour, fontsize=10.5, fontweight="bold")
    return to_uri(fig)


@styled
def outcomes(runs: Sequence[Run], cols: Sequence[str], baseline: int) -> str | None:
    """Where contacts end, as shares of arrivals: contained, resolved per tier, unresolved, abandoned."""
    counts = [flow_counts(r) for r in runs]
    if not any(np.isfinite(c["arrivals"]) and c["arrivals"] > 0 for c in counts):
        return None
    tiers = list(dict.fromkeys(t["name"] for c in counts for t in c["tiers"]))
    blues = ["#4e79a7", "#76a0cf", "#a5c3e6", "#c8daf0"]
    segments = [("Contained by bot", OUTCOME_COLOURS["contained"], lambda c: c["contained"])]
    for k, tier in enumerate(tiers):
        segments.append(
            (f"Resolved at {tier}", blues[min(k, len(blues) - 1)],
             lambda c, tier=tier: sum(t["resolved"] for t in c["tiers"] if t["name"] == tier))
        )  # fmt: skip
    segments += [
        ("Unresolved", OUTCOME_COLOURS["unresolved"], lambda c: c["unresolved"]),
        ("Abandoned", OUTCOME_COLOURS["abandoned"], lambda c: c["abandoned"]),
    ]
    fig = figure(11, 1.2 + 0.42 * len(runs))
    ax = fig.add_subplot()
    y = np.arange(len(runs))[::-1]
    left = np.zeros(len(runs))
    for name, colour, get in segments:
        share = np.asarray([get(c) / c["arrivals"] if c["arrivals"] else 0.0 for c in counts])
        if not share.any():
            continue
        ax.barh(y, share, left=left, color=colour, label=name, height=0.66)
        for yi, x0, s in zip(y, left, share, strict=True):
            if s >= 0.05:
                ax.text(x0 + s / 2, yi, f"{s:.0%}", ha="center", va="center", fontsize=8, color="white")
        left += share
    ax.set_yticks(y, [r.label + (" (baseline)" if i == baseline else "") for i, r in enumerate(runs)])
    for tick, col in zip(ax.get_yticklabels(), cols, strict=True):
        tick.set_color(col)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="y", visible=False)
    ax.set_title("Where contacts end (share of all arriving contacts, recontacts included)", loc="left")
    fig.legend(loc="outside lower center", ncols=min(len(segments), 6))
    return to_uri(fig)


# ---------------------------------------------------------------- resolution time

TIME_TICKS = [(60, "1 min"), (300, "5 min"), (900, "15 min"), (3600, "1 h"), (4 * 3600, "4 h"), (86400, "1 day"),
              (7 * 86400, "1 week")]  # fmt: skip


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@styled
def resolution_distribution(runs: Sequence[Run], cols: Sequence[str], baseline: int) -> str | None:
    """ECDF of end-to-end resolution time per channel, from contacts.parquet (runs that wrote it)."""
    data = [(i, run, resolution_times(run)) for i, run in enumerate(runs)]
    data = [(i, run, d) for i, run, d in data if d is not None and len(d)]
    if not data:
        return None
    channels = list(dict.fromkeys(ch for _, _, d in data for ch in d["channel"].unique()))
    fig = figure(11, 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(channels), sharey=True))
    for ax, channel in zip(axes, channels, strict=True):
        lo, hi = np.inf, 0.0
        for i, _run, d in data:
            t = np.sort(d.loc[d["channel"] == channel, "seconds"].to_numpy())
            t = np.maximum(t, 1.0)
            if not len(t):
                continue
            lo, hi = min(lo, t[0]), max(hi, t[-1])
            y = np.arange(1, len(t) + 1) / len(t)
            ax.step(t, y, where="post", color=cols[i], lw=2.2 if i == baseline else 1.5)
            p90 = np.quantile(t, 0.9)
            ax.plot([p90], [0.9], "o", color=cols[i], ms=4)
        ax.set_xscale("log")
        ticks = [(s, lab) for s, lab in TIME_TICKS if lo / 1.5 <= s <= hi * 1.5] or TIME_TICKS[:3]
        ax.set_xticks([s for s, _ in ticks], [lab for _, lab in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.axhline(0.9, color="#999999", lw=0.8, ls="--")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(f"{channel}: share of issues resolved within …", loc="left")
        ax.tick_params(axis="x", labelrotation=30)
    axes[0].set_ylabel("resolved issues (cumulative)")
    shown = [runs[i] for i, _, _ in data]
    _legend(
        fig, shown, [cols[i] for i, _, _ in data], next((k for k, (i, _, _) in enumerate(data) if i == baseline), -1)
    )
    return to_uri(fig)


@styled
def resolution_bars(runs: Sequence[Run], cols: Sequence[str], baseline: int) -> str | None:
    """Mean (bar, CI whisker) and p90 (diamond) of end-to-end resolution time, overall and per channel."""
    channels = list(dict.fromkeys(ch for r in runs for ch in r.channels))
    scopes = [("overall", "all", "all channels")] + [("channel", ch, ch) for ch in channels if len(channels) > 1]
    fig = figure(11, 3.3)
    axes = np.atleast_1d(fig.subplots(1, len(scopes)))
    n = len(runs)
    for ax, (scope, name, title) in zip(axes, scopes, strict=True):
        values = [(r.kpi("resolution_time_mean_s", scope, name), r.mean("resolution_time_p90_s", scope, name))
                  for r in runs]  # fmt: skip
        top = max([v for (m, _), p in values for v in (m, p) if np.isfinite(v)] or [1.0])
        unit, div = ("min", 60.0) if top < 3 * 3600 else ("h", 3600.0)
        if top < 180:
            unit, div = "s", 1.0
        for i, (((mean, ci), p90), col) in enumerate(zip(values, cols, strict=True)):
            ax.bar(i, mean / div, 0.7, color=col, yerr=np.nan_to_num(ci) / div, capsize=2, ecolor="#555555")
            ax.plot([i], [p90 / div], "D", mfc="white", mec=col, mew=1.6, ms=6.5)
        ax.set_xticks(range(n), ["" for _ in range(n)])
        ax.grid(axis="x", visible=False)
        ax.set_title(title, loc="left")
        ax.set_ylabel(f"resolution time ({unit})")
        ax.set_ylim(bottom=0)
    from matplotlib.lines import Line2D

    extra = [Line2D([], [], marker="D", ls="", mfc="white", mec="#555555", label="p90"),
             matplotlib.patches.Patch(color="#777777", label="mean (whisker: 95% CI)")]  # fmt: skip
    _legend(fig, runs, cols, baseline, extra)
    return to_uri(fig)


# ---------------------------------------------------------------- CSAT vs cost


def pareto(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indexes of the efficient points (no other is both cheaper-or-equal and more satisfying), by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best, keep = -np.inf, []
    for i in order:
        cost, csat = points[i]
        if np.isfinite(cost) and np.isfinite(csat) and csat > best:
            keep.append(i)
            best = csat
    return keep


MIN_CSAT_SPAN = 0.10  # the CSAT axis spans at least 10 points, so a 0.5-point gap looks like one


@styled
def frontier(runs: Sequence[Run], cols: Sequence[str], baseline: int) -> str | None:
    """Projected CSAT against cost per resolved issue, with CIs. Only scenarios meeting every SLA
    target can be efficient (filled, joined by the line); the others are drawn as crosses."""
    pts = [(r.mean("cost_per_resolved"), r.mean("csat")) for r in runs]
    if len(runs) < 2 or not any(np.isfinite(a) and np.isfinite(b) for a, b in pts):
        return None
    fig = figure(11, 5.0)
    ax = fig.add_subplot()
    meets = [meets_every_target(r) for r in runs]
    candidates = [i for i in range(len(runs)) if meets[i]]
    efficient = [candidates[k] for k in pareto([pts[i] for i in candidates])]
    ax.plot([pts[i][0] for i in efficient], [pts[i][1] for i in efficient], "-", color="#9a9a9a", lw=1.5, zorder=1,
            label="efficient (meets every target; none both cheaper and more satisfying)")  # fmt: skip
    for i, (run, col) in enumerate(zip(runs, cols, strict=True)):
        (cost, cost_ci), (csat, csat_ci) = run.kpi("cost_per_resolved"), run.kpi("csat")
        if not (np.isfinite(cost) and np.isfinite(csat)):
            continue
        ax.errorbar(cost, csat, xerr=np.nan_to_num(cost_ci), yerr=np.nan_to_num(csat_ci), fmt="none", ecolor=col,
                    elinewidth=1, capsize=2, zorder=2)  # fmt: skip
        if meets[i]:
            face = col if i in efficient else "white"
            ax.plot(cost, csat, "o", ms=9 if i == baseline else 7.5, mfc=face, mec=col, mew=1.8, zorder=3)
        else:
            ax.plot(cost, csat, "x", ms=9, mec=col, mew=2.0, zorder=3)
        offset = (7, 6) if i % 2 == 0 else (7, -12)
        label = run.label + ("" if meets[i] else " (misses a target)")
        ax.annotate(label, (cost, csat), xytext=offset, textcoords="offset points", fontsize=8.2, color=col)
    costs = [c for c, _ in pts if np.isfinite(c)]
    ax.set_xlim(0, max(costs) * 1.25)
    lo, hi = ax.get_ylim()
    if hi - lo < MIN_CSAT_SPAN:
        mid = (hi + lo) / 2
        lo, hi = mid - MIN_CSAT_SPAN / 2, mid + MIN_CSAT_SPAN / 2
        if hi > 1.0:
            lo, hi = lo - (hi - 1.0), 1.0
        ax.set_ylim(max(lo, 0.0), hi)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("cost per resolved issue" + (f" ({runs[baseline].currency})" if runs[baseline].currency else ""))
    ax.set_ylabel("projected CSAT")
    ax.set_title("Projected CSAT against cost per resolved issue (filled: efficient; ×: misses a target; "
                 "whiskers: 95% CI)", loc="left")  # fmt: skip
    ax.legend(loc="lower left")
    return to_uri(fig)


@styled
def intents(runs: Sequence[Run], cols: Sequence[str], baseline: int) -> str | None:
    """Projected CSAT and bot containment per intent: where automation helps and where it hurts."""
    names = list(dict.fromkeys(n for r in runs for n in r.names("intent")))
    if len(names) < 2:
        return None
    fig = figure(11, 1.6 + 0.36 * len(names) * max(1, min(len(runs), 4)) / 2)
    axes = fig.subplots(1, 2, sharey=True)
    n = len(runs)
    h = 0.8 / n
    y = np.arange(len(names))[::-1]
    for i, (run, col) in enumerate(zip(runs, cols, strict=True)):
        ys = y + ((n - 1) / 2 - i) * h
        for ax, metric in zip(axes, ("csat", "containment_rate"), strict=True):
            vals = [run.kpi(metric, "intent", nm) for nm in names]
            ax.barh(ys, [v for v, _ in vals], h * 0.9, color=col, xerr=np.nan_to_num([c for _, c in vals]),
                    capsize=1.5, ecolor="#555555")  # fmt: skip
    axes[0].set_yticks(y, names)
    axes[0].set_title("Projected CSAT by intent", loc="left")
    axes[1].set_title("Bot containment by intent (of bot conversations)", loc="left")
    axes[0].set_xlim(0, 1)  # bars start at zero: a bar's length is its value
    axes[1].set_xlim(0, 1)
    for ax in axes:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.grid(axis="y", visible=False)
    _legend(fig, runs, cols, baseline)
    return to_uri(fig)

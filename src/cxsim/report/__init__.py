"""The scenario-comparison report: one self-contained HTML file from run and sweep directories.

    cxsim report RUN_OR_SWEEP_DIR [MORE_DIRS ...] [-o report.html] [--baseline LABEL]

`build_report(dirs, out)` reads the result files (data.py), draws the figures with matplotlib
(figures.py, embedded as PNG data URIs), builds the tables (compare.py: every difference to the
baseline with its paired or independent interval, stats.py), words the comparison (story.py,
changes.py) and renders templates/report.html.j2 with jinja2. The page loads nothing from elsewhere: no scripts, fonts,
stylesheets or images outside the file. docs/report.md explains how to read it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from collections.abc import Sequence
from pathlib import Path

from cxsim.report.data import ReportInputError, Run, load_runs, pick_baseline
from cxsim.report.formats import fmt_duration

__all__ = ["ReportInputError", "build_report", "main"]

USER_ERROR = 2


def _template():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("cxsim.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2")


def _run_facts(run: Run) -> dict:
    d = run.digest
    return {
        "label": run.label,
        "scenario": run.scenario,
        "description": run.description,
        "path": str(run.path),
        "replications": d.get("replications", run.config.get("replications", "?")),
        "seed": d.get("seed", run.config.get("seed", "?")),
        "overrides": " ".join(d.get("overrides") or [f"{k}={v}" for k, v in run.swept.items()]) or "—",
        "contacts": run.contacts_path is not None,
    }


def build_report(
    dirs: Sequence[str | Path], out: str | Path, baseline: str | None = None, title: str | None = None
) -> Path:
    """Write one HTML report comparing every scenario in `dirs` (run or sweep directories) to `out`."""
    from cxsim.outputs import write_text
    from cxsim.report import compare, figures, story
    from cxsim.report.automation import automation_sections

    runs, notes = load_runs(dirs)
    for note in notes:
        print(f"cxsim report: {note}", file=sys.stderr)
    b = pick_baseline(runs, baseline)
    cols = figures.colours(len(runs), b)
    channels = list(dict.fromkeys(ch for r in runs for ch in r.channels))
    intraday = [(ch, figures.intraday(runs, cols, b, ch)) for ch in channels]
    flows = []
    shown = runs if len(runs) <= 6 else [runs[b]]
    for run in shown:
        i = runs.index(run)
        uri = figures.flow(run, cols[i], run.label + (" (baseline)" if i == b else ""))
        if uri:
            flows.append(uri)
    distribution = figures.resolution_distribution(runs, cols, b)
    kind, kind_sentence = story.comparison_kind(runs)
    paired, independent = compare.methods(runs, b)
    context = {
        "title": title or ("cxsim: " + " vs ".join(r.label for r in runs)),
        "kind": kind,
        "kind_sentence": kind_sentence,
        "paired": paired,
        "independent": independent,
        "currency": runs[b].currency,
        "equal_service": compare.equal_service_rows(runs, b) if any(r.planned for r in runs) else [],
        "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "runs": [_run_facts(r) for r in runs],
        "colours": cols,
        "baseline": b,
        "n": len(runs),
        "findings": story.findings(runs, b)[1:],  # the first line (the kind of comparison) heads the page
        "stories": story.stories(runs, b, cols),
        "rows": compare.headline_rows(runs, b),
        "intraday": [(ch, uri) for ch, uri in intraday if uri],
        "interval_min": next(
            (r.config["horizon"]["interval_min"] for r in runs if (r.config.get("horizon") or {}).get("interval_min")),
            30,
        ),
        "occupancy": figures.occupancy(runs, cols, b),
        "outcomes": figures.outcomes(runs, cols, b),
        "flows": flows,
        "flows_limited": len(runs) > len(shown),
        "distribution": distribution,
        "resolution_bars": figures.resolution_bars(runs, cols, b),
        "frontier": figures.frontier(runs, cols, b),
        "intents": figures.intents(runs, cols, b),
        "automation": automation_sections(runs),
        "notes": notes,
        "sla": [
            (ch, runs[b].sla(ch), fmt_duration(float(runs[b].sla(ch).get("answer_within_s", 20)))) for ch in channels
        ],
    }
    html = _template().render(**context)
    out = Path(out)
    write_text(out, html)
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every cxsim user error
        print(f"cxsim: error: report: {message}", file=sys.stderr)
        sys.exit(USER_ERROR)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="cxsim report",
        description="Build one self-contained HTML report comparing the scenarios in run and sweep directories.",
    )
    p.add_argument(
        "dirs", nargs="+", metavar="RUN_OR_SWEEP_DIR", help="a run directory, or a sweep (one scenario per job)"
    )
    p.add_argument(
        "-o",
        "--output",
        help="the HTML file to write (default: report.html in the directory given, or here for several)",
    )
    p.add_argument("--baseline", help="label or scenario name of the reference (default: 'baseline', else the first)")
    p.add_argument("--title", help="page title")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """`cxsim report ...`: build the report, print where it is; 2 on bad input."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    out = (
        Path(args.output)
        if args.output
        else (Path(args.dirs[0]) if len(args.dirs) == 1 else Path.cwd()) / "report.html"
    )
    try:
        path = build_report(args.dirs, out, baseline=args.baseline, title=args.title)
    except ReportInputError as exc:
        print(f"cxsim: error: {exc}", file=sys.stderr)
        return USER_ERROR
    print(f"report: {path}")
    return 0

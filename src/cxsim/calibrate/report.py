"""The calibration report: one self-contained HTML page (jinja2, figures embedded as PNG data URIs)
showing every estimate with its interval and the fitted curves against what the log shows."""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path

from cxsim.calibrate import figures
from cxsim.calibrate.calibration import Calibration
from cxsim.outputs import write_text


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.4f}" if abs(x) < 10 else f"{x:,.1f}"


def render(cal: Calibration, log_path: str) -> str:
    """The report page as HTML text."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("cxsim.calibrate", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    estimates = [
        {**row, "value": _fmt(row["value"]), "low": _fmt(row["low"]), "high": _fmt(row["high"])}
        for row in cal.estimates().to_dict("records")
    ]
    fits = cal.fits().to_dict("records")
    data = cal.data
    context = {
        "title": f"cxsim calibration: {cal.settings.name}",
        "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "log": log_path,
        "rows": data.rows,
        "contacts": len(data.contacts),
        "days": data.days,
        "origin": f"{data.origin:%a %d %b %Y %H:%M %Z}",
        "odd": data.odd,
        "recontacts": int(cal.recontacts.is_recontact.sum()),
        "staff_source": cal.staffing.source,
        "notes": cal.notes,
        "estimates": estimates,
        "fits": [
            {
                **f,
                "mean_s": _fmt(f["mean_s"]),
                "cv": _fmt(f["cv"]),
                "aic": f"{f['aic']:,.1f}",
                "ks_distance": f"{f['ks_distance']:.4f}",
            }
            for f in fits
        ],
        "volume": figures.volume_profiles(cal),
        "handle": figures.handle_histograms(cal),
        "survival": figures.survival_curves(cal),
        "staffing": figures.staffing_profile(cal),
    }
    return env.get_template("calibration.html.j2").render(**context)


def write_report(cal: Calibration, out: Path, log_path: str) -> Path:
    """Write the report to `out`."""
    return write_text(Path(out), render(cal, log_path))

"""The comparison report: built from a real `cxsim -m` sweep and from run directories, every
section present, self-contained, one-line errors on bad input; rendered in headless Chromium
(slow) with every figure drawn and no page error."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import cxsim_refused

import cxsim
from cxsim.outputs import write_results
from cxsim.report import build_report
from cxsim.report import main as report_main
from cxsim.report.changes import config_changes
from cxsim.report.data import load_runs
from cxsim.report.figures import pareto

SECTIONS = ("summary", "headline", "intraday", "occupancy", "flow", "resolution", "frontier", "notes")
CLI = [sys.executable, "-m", "cxsim.cli"]


@pytest.fixture(scope="module")
def sweep_dir(mmc_sweep: Path) -> Path:
    """A real multirun through the `cxsim -m` command: mmc with 9 and 11 agents, contact records kept
    (conftest.py: test_rundirs resumes a copy of the same sweep)."""
    return mmc_sweep


@pytest.fixture(scope="module")
def sweep_report(sweep_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of that sweep, built by the real `cxsim report` command (beside, not in, the shared sweep)."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    done = subprocess.run([*CLI, "report", str(sweep_dir), "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"report: {out}" in done.stdout
    return out


def images(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', html)


def test_sweep_report_has_every_section(sweep_report: Path) -> None:
    """One scenario per job, labelled by the swept value; every section, figures embedded as PNG."""
    html = sweep_report.read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in html, section
    assert "tier1.staff=9" in html and "tier1.staff=11" in html
    srcs = images(html)
    # 1 intraday (one channel), occupancy, outcome bars, 2 flows, distribution, bars, frontier
    assert len(srcs) == 8
    assert all(src.startswith("data:image/png;base64,") and len(src) > 5000 for src in srcs)
    # 9 and 11 agents at 2 replications: neither meets every target, so no ★ and no winner
    assert 'class="best"' not in html and "no winner is named" in html
    assert "AT THE ROSTERS" in html.upper() and "paired 95% intervals" in html
    assert "Against the baseline:" in html and "tiers.tier1.staff: paid hours 99 → 121 (+22%)" in html
    assert "Projected CSAT against cost per contact" not in html or "frontier" in html


def test_report_is_self_contained(sweep_report: Path) -> None:
    """No script, stylesheet, font or image comes from outside the file."""
    html = sweep_report.read_text()
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "url(" not in html


def test_report_says_how_often_each_channel_meets_its_sla(sweep_report: Path) -> None:
    """The headline has a row of days meeting the target per channel, and each scenario's story says
    'voice meets 80/20 on N% of days' (docs/risk.md)."""
    html = sweep_report.read_text()
    assert "Days meeting the target — voice" in html
    assert re.search(r"voice meets 80/20 on \d+% of days", html)


def test_run_directories_compare_against_the_scenario_named_baseline(tmp_path: Path) -> None:
    """Two run directories written through the API: the one named baseline is the reference even when
    given second, and the other's sentence says what changed and what it did."""
    runs = {}
    for name in ("bot_rollout", "baseline"):
        res = cxsim.simulate(cxsim.load_scenario(name), replications=2, seed=1)
        write_results(res, tmp_path / name)
        runs[name] = tmp_path / name
    out = build_report([runs["bot_rollout"], runs["baseline"]], tmp_path / "cmp.html")
    html = out.read_text()
    for section in (*SECTIONS, "intents"):
        assert f'<section id="{section}">' in html, section
    assert re.search(r"baseline<span class=\"tag\">baseline</span>", html)
    assert "intents.order_status.bot_containment 0.6 → 0.8" in html
    assert "bot.handle_time.mean_s 90 → 120" in html  # the full key: not agent handle time
    assert "cost per resolved issue" in html and "projected CSAT" in html
    assert len(images(html)) >= 9


def test_a_single_run_reports_without_comparisons(tmp_path: Path) -> None:
    """What `report.enabled=true` does: one run, the frontier explains it needs two scenarios."""
    res = cxsim.simulate(cxsim.load_scenario("mmc", ["horizon.days=0.5"]), replications=2, seed=1)
    write_results(res, tmp_path)
    html = build_report([tmp_path], tmp_path / "report.html").read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in html, section
    assert "needs two or more scenarios" in html
    assert "output.contacts=true" in html  # how to get the full resolution-time distribution


def test_failed_jobs_are_listed_not_fatal(sweep_dir: Path, tmp_path: Path) -> None:
    """A job that left error.txt instead of results is named in the notes; the others are reported."""
    copy = tmp_path / "sweep"
    shutil.copytree(sweep_dir, copy)
    (copy / "1" / "summary.csv").unlink()
    (copy / "1" / "error.txt").write_text("ConfigError: tiers.tier1.staff: boom\n")
    runs, notes = load_runs([copy])
    assert len(runs) == 1 and len(notes) == 1 and "boom" in notes[0]
    html = build_report([copy], tmp_path / "r.html").read_text()
    assert "job failed" in html


def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory without summary.csv, or none at all: one `cxsim: error:` line, exit 2, no file."""
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "empty", tmp_path / "missing"):
        assert report_main([str(target), "-o", str(tmp_path / "x.html")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("cxsim: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "x.html").exists()
    code, out, err = cxsim_refused(tmp_path, monkeypatch, capsys, "report", str(tmp_path / "empty"))
    assert code == 2 and out == ""  # through the command's entry point: `cxsim report`
    assert err.startswith("cxsim: error: ") and err.count("\n") == 1, err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "summary.csv").write_text("a,b\n1,2\n")
    (tmp_path / "bad" / "summary.json").write_text("{}")  # complete, but not a cxsim table
    assert report_main([str(tmp_path / "bad")]) == 2
    assert "not a cxsim summary" in capsys.readouterr().err


def test_pareto_frontier() -> None:
    """Efficient points: no other point is at most as expensive and more satisfying."""
    pts = [(8.0, 0.80), (7.0, 0.78), (9.0, 0.79), (7.5, 0.81), (10.0, 0.82)]
    assert pareto(pts) == [1, 3, 4]


def test_config_changes_read_as_settings(tmp_path: Path) -> None:
    """Staff is summarised as paid hours; scalars as before → after, by their full key."""
    base = cxsim.simulate(cxsim.load_scenario("mmc", ["horizon.days=0.5"]), replications=1, seed=1)
    staff = "[" + ",".join(["12"] * 24) + "]"
    other = cxsim.simulate(
        cxsim.load_scenario("mmc", ["horizon.days=0.5", f"tiers.tier1.staff={staff}", "costs.agent_hour.tier1=40"]),
        replications=1,
        seed=1,
    )
    write_results(base, tmp_path / "a")
    write_results(other, tmp_path / "b")
    runs, _ = load_runs([tmp_path / "a", tmp_path / "b"])
    changes = config_changes(runs[0], runs[1])
    assert changes == ["costs.agent_hour.tier1 30 → 40 (+33%)", "tiers.tier1.staff: paid hours 110 → 132 (+20%)"]


# ---------------------------------------------------------------- in a real browser

CHECK = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || (e.target && e.target.src) || e)), true);
const _consoleError = console.error;
console.error = (...a) => { window.__errors.push(a.join(' ')); _consoleError(...a); };
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const out = {
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    widths: imgs.map(i => i.naturalWidth),
    errors: window.__errors,
    sections: Array.from(document.querySelectorAll('section')).map(s => s.id),
    fetched: performance.getEntriesByType('resource').map(r => r.name).filter(n => !n.startsWith('data:')),
  };
  const pre = document.createElement('pre');
  pre.id = 'cxsim-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)  # type: ignore[return-value]
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (.ci/run installs Debian's chromium package)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def chromium_flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


@pytest.mark.slow
def test_report_renders_in_chromium(sweep_report: Path, tmp_path: Path) -> None:
    """Headless Chromium loads the report: every figure decodes (naturalWidth > 0), every section is
    there, nothing is fetched from elsewhere and the page logs no error; a screenshot is taken."""
    browser = chromium()
    page = tmp_path / "page.html"
    page.write_text(sweep_report.read_text().replace("<head>", "<head>" + CHECK, 1))
    done = subprocess.run(
        [browser, *chromium_flags(tmp_path / "profile"), "--virtual-time-budget=15000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    match = re.search(r'<pre id="cxsim-check">(.*?)</pre>', done.stdout, re.S)
    assert match, f"no check output; chromium stderr: {done.stderr[-1500:]}"
    check = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert check["images"] == len(images(sweep_report.read_text())) > 0
    assert check["broken"] == [] and min(check["widths"]) > 0
    assert check["errors"] == []
    assert check["fetched"] == []
    assert set(SECTIONS) <= set(check["sections"])
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *chromium_flags(tmp_path / "profile2"), f"--screenshot={shot}", "--window-size=1400,4000",
         sweep_report.as_uri()],
        capture_output=True,
        timeout=180,
    )  # fmt: skip
    assert shot.is_file() and shot.stat().st_size > 50_000

"""Fixtures several test modules share: one real `cxsim -m` sweep (a sweep through the command
costs seconds of start-up, so the report and the resume tests read the same one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# mmc with 9 and 11 agents for half a day, contact records kept: the sweep's overrides as typed
SWEEP = [
    "-m",
    "scenario=mmc",
    "tiers.tier1.staff=9,11",
    "horizon.days=0.5",
    "replications=2",
    "progress=false",
    "output.contacts=true",
]


@pytest.fixture(scope="session")
def mmc_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep's folder, written by `python -m cxsim.cli` in a subprocess; tests that change
    anything in it work on a copy."""
    out = tmp_path_factory.mktemp("sweep") / "mmc"
    cmd = [sys.executable, "-m", "cxsim.cli", *SWEEP, f"hydra.sweep.dir={out}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=out.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return out

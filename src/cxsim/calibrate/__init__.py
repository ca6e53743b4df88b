"""Calibration from a contact log (`cxsim calibrate`) and trace-driven replay (`cxsim replay`).

read_log (log.py) checks an export; calibrate (calibration.py) estimates every scenario number
with its interval; write_calibration (writer.py) writes the scenario cxsim runs as is; replay
(replay.py) runs the logged arrivals through a scenario, simulated against actual.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "LogSpec": "cxsim.calibrate.log",
    "read_log": "cxsim.calibrate.log",
    "Settings": "cxsim.calibrate.calibration",
    "calibrate": "cxsim.calibrate.calibration",
    "write_calibration": "cxsim.calibrate.writer",
    "replay": "cxsim.calibrate.replay",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'cxsim.calibrate' has no attribute '{name}'")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = sorted(_LAZY)

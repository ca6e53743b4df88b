"""Run and sweep folders: safe names, a unique suffix, and the marker that says a run is complete.

A folder name built from `name` keeps letters, digits, `.`, `_` and `-` only, so a name like
`x/../../tmp/escaped` cannot place a run outside the results folder. Every run and sweep
folder ends in a random token, so two runs started in the same second never share one. A
run is complete when its `summary.json` exists: it is written last, whole; a folder without
it (a run killed mid-write, a job never finished) is ignored by `cxsim report`, the sweep
table and a resumed sweep.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from pathlib import Path

from cxsim.errors import ConfigError

COMPLETE_FILE = "summary.json"  # written last by outputs.write_results: the completion marker
ERROR_FILE = "error.txt"  # why a sweep job failed (first line: the reason)
MAX_NAME = 64
MIN_FREE_BYTES = 50_000_000  # refuse to start a run on a disk with less room than this
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: object) -> str:
    """`name` as one folder name: unsafe characters become `_`, no leading dot, at most MAX_NAME long."""
    text = _UNSAFE.sub("_", str(name))
    text = re.sub(r"_{2,}", "_", re.sub(r"\.{2,}", "_", text)).strip("._-")[:MAX_NAME]
    return text or "run"


def unique_token() -> str:
    """A short random suffix (8 hex digits) that keeps concurrent runs' folders apart."""
    return secrets.token_hex(4)


def register_resolvers() -> None:
    """`${cxsim.safe_name:...}` and `${cxsim.unique:}` for the folder patterns in configs/*.yaml.

    The token is cached in the config like Hydra's `${now:}`, so every job of a sweep, and
    the sweep-end callback, see the same sweep folder.
    """
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("cxsim.safe_name"):
        OmegaConf.register_new_resolver("cxsim.safe_name", safe_name)
    if not OmegaConf.has_resolver("cxsim.unique"):
        OmegaConf.register_new_resolver("cxsim.unique", unique_token, use_cache=True)


def is_complete(run_dir: Path) -> bool:
    """Whether a run folder holds a finished run: its completion marker, and no failure recorded."""
    return (Path(run_dir) / COMPLETE_FILE).is_file() and not (Path(run_dir) / ERROR_FILE).is_file()


def check_writable(folder: Path, key: str) -> None:
    """The nearest existing folder on the way to `folder` takes a new file and has room; a
    read-only or full disk is refused before the run instead of failing half-way."""
    here = Path(folder).absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    if not here.is_dir():
        raise ConfigError(key, f"cannot create '{folder}': '{here}' is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=here):
            pass
        free = shutil.disk_usage(here).free
    except OSError as exc:
        raise ConfigError(key, f"cannot write to '{here}': {exc.strerror or exc}") from None
    if free < MIN_FREE_BYTES:
        raise ConfigError(key, f"cannot write to '{here}': only {free / 1e6:.0f} MB free on its disk")

"""Where the bundled scenarios and configs live: beside the package when installed from a wheel,
at the repository root in a source checkout or editable install."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cxsim's bundled '{name}/' directory is missing from the install")


def scenarios_dir() -> Path:
    """The directory of shipped scenario YAMLs (the `scenario` config group)."""
    return _bundled("scenarios")


def configs_dir() -> Path:
    """The directory of the Hydra primary config and its groups."""
    return _bundled("configs")


def profiles_dir() -> Path:
    """The directory of named intraday profiles (`profile: retail_weekday`)."""
    return scenarios_dir() / "profiles"

"""Durations by mean and coefficient of variation: the moments planners specify are the ones drawn."""

from __future__ import annotations

import numpy as np
import pytest

from cxsim.distributions import make_distribution
from cxsim.errors import ConfigError


@pytest.mark.parametrize(
    ("spec", "cv"),
    [
        ({"dist": "exponential", "mean_s": 300}, 1.0),
        ({"dist": "lognormal", "mean_s": 300, "cv": 0.6}, 0.6),
        ({"dist": "gamma", "mean_s": 300, "cv": 1.5}, 1.5),
        ({"dist": "fixed", "mean_s": 300}, 0.0),
    ],
)
def test_mean_and_cv_are_honoured(spec: dict, cv: float) -> None:
    """200k draws: the sample mean within 1% and the sample cv within 3% of what was asked."""
    dist = make_distribution(spec, "x")
    draws = dist.sample(np.random.default_rng(1), 200_000)
    assert draws.mean() == pytest.approx(300, rel=0.01)
    assert draws.std() / draws.mean() == pytest.approx(cv, rel=0.03, abs=1e-9)
    assert dist.mean == 300


def test_empirical_resamples_and_rescales(tmp_path) -> None:
    """Empirical draws come from the file's values, rescaled to mean_s when given."""
    path = tmp_path / "aht.csv"
    path.write_text("handle_s\n100\n200\n300\n")
    dist = make_distribution({"dist": "empirical", "file": str(path), "mean_s": 400}, "x")
    draws = dist.sample(np.random.default_rng(2), 30_000)
    assert set(np.unique(draws)) == {200.0, 400.0, 600.0}
    assert draws.mean() == pytest.approx(400, rel=0.02)


def test_impossible_specs_are_refused() -> None:
    """Negative means, a cv for an exponential and unknown names name the offending key."""
    with pytest.raises(ConfigError, match=r"x\.mean_s"):
        make_distribution({"dist": "gamma", "mean_s": -1, "cv": 1}, "x")
    with pytest.raises(ConfigError, match=r"x\.cv"):
        make_distribution({"dist": "exponential", "mean_s": 1, "cv": 0.5}, "x")
    with pytest.raises(ConfigError, match=r"x\.dist"):
        make_distribution({"dist": "pareto", "mean_s": 1}, "x")

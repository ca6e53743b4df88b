"""Forecast error held to mathematics: Poisson-gamma day counts, mean-1 AR(1) intraday noise, a Gaussian
copula between channels, M/M/c averaged over the gamma, and zero error changing nothing at all."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import cxsim
from cxsim.contacts import generate_arrivals
from cxsim.errors import ConfigError
from cxsim.forecast import realised_volumes
from cxsim.scenario import scenario_names
from cxsim.streams import Streams

LAMBDA, MU = 100 / 3600, 1 / 300  # mmc.yaml


def _multipliers(scn: cxsim.Scenario, reps: int, seed: int = 0) -> np.ndarray:
    """Realised / forecast rates per replication, channel and interval (reps x channels x intervals)."""
    out = []
    for r in range(reps):
        rates = realised_volumes(
            scn.channels, scn.forecast_correlation, scn.horizon.intervals_per_day, Streams(seed, r)
        )
        out.append([rate / c.volumes for rate, c in zip(rates, scn.channels, strict=True)])
    return np.asarray(out)


def test_gamma_day_multiplier_gives_poisson_gamma_variance() -> None:
    """With a gamma day multiplier (mean 1, cv c) a day's count has mean L and variance L + c^2 L^2."""
    scn = cxsim.load_scenario(
        "mmc", ["channels.voice.volume_per_day=100", "channels.voice.forecast_error={cv:0.2}", "horizon.days=2"]
    )
    n = 4000
    counts = np.asarray(
        [np.bincount((generate_arrivals(scn, Streams(3, r)).time // 86400).astype(int), minlength=2) for r in range(n)]
    )
    day = counts.ravel().astype(float)
    lam, var = 100.0, 100.0 + 0.2**2 * 100.0**2  # 500: Poisson 100 + gamma 400
    assert abs(day.mean() - lam) <= 4.5 * math.sqrt(var / len(day))
    m4 = ((day - day.mean()) ** 4).mean()
    sd_var = math.sqrt((m4 - day.var() ** 2) / len(day))  # standard error of the sample variance
    assert abs(day.var(ddof=1) - var) <= 4.5 * sd_var, (day.var(ddof=1), var, sd_var)
    assert abs(np.corrcoef(counts[:, 0], counts[:, 1])[0, 1]) < 4.5 / math.sqrt(n)  # days drawn independently


def test_intraday_noise_is_mean_one_with_neighbour_correlation() -> None:
    """Intraday multipliers are lognormal with mean 1 and the given cv; their logs correlate rho at lag 1
    and rho^2 at lag 2 (a stationary AR(1))."""
    scn = cxsim.load_scenario("mmc", ["channels.voice.forecast_error={cv:0,intraday_cv:0.3,intraday_correlation:0.7}"])
    assert scn.channels[0].forecast_error.day is None
    m = _multipliers(scn, 1500)[:, 0, :]  # reps x intervals
    first = m[:, 0]  # one value per replication: independent draws of the stationary law
    assert abs(first.mean() - 1) <= 4.5 * 0.3 / math.sqrt(len(first))
    assert abs(m.std() - 0.3) < 0.02
    logs = np.log(m)
    for lag, expected in ((1, 0.7), (2, 0.49)):
        r = np.corrcoef(logs[:, 10], logs[:, 10 + lag])[0, 1]
        assert abs(r - expected) < 4.5 * (1 - expected**2) / math.sqrt(len(logs)), (lag, r)


def test_correlated_channels_follow_the_gaussian_copula() -> None:
    """Day multipliers of voice and chat correlated 0.6 in the copula: Spearman's rho is (6/pi) asin(0.3),
    whatever the marginals; each marginal stays gamma(mean 1, cv 0.1)."""
    scn = cxsim.load_scenario(
        "baseline",
        [
            "channels.voice.forecast_error={cv:0.1}",
            "channels.chat.forecast_error={cv:0.1}",
            "+forecast_correlation={voice:{chat:0.6}}",
        ],
    )
    days = _multipliers(scn, 3000)[:, :2, 20]  # voice, chat at mid-day
    expected = 6 / math.pi * math.asin(0.3)
    rho = stats.spearmanr(days[:, 0], days[:, 1]).statistic
    assert abs(rho - expected) < 4.5 * (1 - expected**2) / math.sqrt(len(days)), rho
    for column in days.T:
        assert stats.kstest(column, stats.gamma(100, scale=0.01).cdf).pvalue > 0.001


def test_common_random_numbers_pair_the_forecast_error() -> None:
    """Two scenarios that differ only in staffing draw the same day multipliers and the same customers."""
    error = "channels.voice.forecast_error={cv:0.15}"
    a = cxsim.load_scenario("mmc", [error])
    b = cxsim.load_scenario("mmc", [error, "tiers.tier1.staff=14"])
    for r in range(3):
        assert np.array_equal(generate_arrivals(a, Streams(5, r)).time, generate_arrivals(b, Streams(5, r)).time)


@pytest.mark.parametrize("name", scenario_names())
def test_zero_error_and_absence_change_nothing(name: str) -> None:
    """cv 0 on every channel and absence 0 on every tier give byte-identical tables to not setting them."""
    plain = cxsim.load_scenario(name)
    zero = cxsim.load_scenario(
        name,
        [
            *(f"channels.{c.name}.forecast_error={{dist:gamma,cv:0}}" for c in plain.channels),
            *(f"tiers.{t.name}.absence=0" for t in plain.tiers),
        ],
    )
    assert all(c.forecast_error is None for c in zero.channels)
    a, b = cxsim.simulate(plain, replications=1, seed=2), cxsim.simulate(zero, replications=1, seed=2)
    assert a.summary.to_csv() == b.summary.to_csv()
    assert a.intervals.to_csv() == b.intervals.to_csv()


@pytest.mark.parametrize(
    ("override", "key", "rule"),
    [
        ("channels.voice.forecast_error={cv:-0.1}", "channels.voice.forecast_error.cv", ">= 0"),
        ("channels.voice.forecast_error={cv:0.1,intraday_correlation:1}", "intraday_correlation", "< 1"),
        ("channels.voice.forecast_error={cv:0.1,intraday_cv:-1}", "intraday_cv", ">= 0"),
        ("channels.voice.forecast_error={cv:0.1,bias:2}", "channels.voice.forecast_error.bias", "unknown key"),
        ("channels.voice.forecast_error={dist:weibull,cv:0.1}", "forecast_error.dist", "not one of"),
        ("channels.voice.forecast_error=0.1", "channels.voice.forecast_error", "mapping"),
        ("tiers.tier1.absence=1.5", "tiers.tier1.absence", "probability"),
        ("tiers.tier1.absence=-0.1", "tiers.tier1.absence", "probability"),
        ("+forecast_correlation={voice:{chat:0.5}}", "forecast_correlation.voice", "day multiplier"),
    ],
)
def test_bad_risk_settings_name_their_key(override: str, key: str, rule: str) -> None:
    """A negative cv, a probability outside [0, 1], an unknown key: one ConfigError naming the key."""
    with pytest.raises(ConfigError) as err:
        cxsim.load_scenario("baseline", [override])
    assert key in err.value.key and rule in err.value.rule, str(err.value)


def test_a_correlation_that_is_not_one_is_refused() -> None:
    """Pairs that cannot be a correlation matrix (not positive semi-definite, or beyond [-1, 1]) fail."""
    errors = [f"channels.{c}.forecast_error={{cv:0.1}}" for c in ("voice", "chat", "email")]
    bad = "+forecast_correlation={voice:{chat:0.9,email:-0.9},chat:{email:0.9}}"
    with pytest.raises(ConfigError, match="positive semi-definite") as err:
        cxsim.load_scenario("baseline", [*errors, bad])
    assert err.value.key == "forecast_correlation"
    with pytest.raises(ConfigError, match=r"<= 1") as err:
        cxsim.load_scenario("baseline", [*errors, "+forecast_correlation={voice:{chat:1.2}}"])
    assert err.value.key == "forecast_correlation.voice.chat"

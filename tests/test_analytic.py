"""Tests for cxsim.analytic, pinned to independent mathematics rather than to its own output.

References are published table values, direct textbook formulas evaluated in exact rational
arithmetic, independent birth-death sums, a numerical integral of the Erlang-A virtual-wait
density, and a small direct Monte-Carlo of the M/M/c+M queue.
"""

from __future__ import annotations

import heapq
import importlib.util
import itertools
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

try:
    from cxsim import analytic as an
except Exception:  # package not installed, or its __init__ is mid-edit: load the file itself
    _path = Path(__file__).resolve().parents[1] / "src" / "cxsim" / "analytic.py"
    _spec = importlib.util.spec_from_file_location("_cxsim_analytic_under_test", _path)
    assert _spec is not None and _spec.loader is not None
    an = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = an
    _spec.loader.exec_module(an)


# --------------------------------------------------------------------------------------------
# independent reference implementations (textbook formulas, written out longhand)
# --------------------------------------------------------------------------------------------


def _erlang_b_direct(c: int, a: float) -> float:
    """Erlang B = (a^c/c!) / sum_{k<=c} a^k/k!, in exact rational arithmetic."""
    x = Fraction(a)
    terms = [x**k / math.factorial(k) for k in range(c + 1)]
    return float(terms[-1] / sum(terms))


def _erlang_c_direct(c: int, a: float) -> float:
    """Erlang C = (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a)), exactly."""
    x = Fraction(a)
    top = x**c / math.factorial(c) * Fraction(c) / (c - x)
    return float(top / (sum(x**k / math.factorial(k) for k in range(c)) + top))


def _mmc_sl_direct(lam: float, mu: float, c: int, t: float) -> float:
    """M/M/c service level 1 - C exp(-(c mu - lam) t) with the exact-rational Erlang C."""
    if lam >= c * mu:
        return -math.inf
    return 1.0 - _erlang_c_direct(c, lam / mu) * math.exp(-(c * mu - lam) * t)


def _birth_death_pi(lam: float, mu: float, c: int, theta: float, n_max: int) -> np.ndarray:
    """Stationary law of the M/M/c+M chain by plain products, truncated at n_max states."""
    pi = np.empty(n_max + 1)
    pi[0] = 1.0
    for n in range(1, n_max + 1):
        pi[n] = pi[n - 1] * lam / (min(n, c) * mu + max(n - c, 0) * theta)
    return pi / pi.sum()


def _simulate_mmcm(lam: float, mu: float, c: int, theta: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Direct FCFS simulation of M/M/c+M; returns each customer's wait and answered flag.

    Customers start service in arrival order on the earliest-free server; a customer whose
    patience is shorter than that offered wait abandons and never occupies a server.
    """
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, n)).tolist()
    services = rng.exponential(1.0 / mu, n).tolist()
    patience = rng.exponential(1.0 / theta, n).tolist()
    free = [0.0] * c
    wait = np.empty(n)
    answered = np.empty(n, dtype=bool)
    for i in range(n):
        t = arrivals[i]
        earliest = free[0]
        if earliest <= t:
            heapq.heapreplace(free, t + services[i])
            wait[i], answered[i] = 0.0, True
        elif patience[i] < earliest - t:
            wait[i], answered[i] = patience[i], False
        else:
            heapq.heapreplace(free, earliest + services[i])
            wait[i], answered[i] = earliest - t, True
    return wait, answered


# --------------------------------------------------------------------------------------------
# Erlang B
# --------------------------------------------------------------------------------------------


def test_erlang_b_published_table_values() -> None:
    """Erlang B matches published table entries: B(10, 5) = 0.018385, B(5, 2) = 0.0367."""
    assert an.erlang_b(10, 5.0) == pytest.approx(0.018385, abs=5e-7)
    assert an.erlang_b(5, 2.0) == pytest.approx(0.0367, abs=5e-5)


@pytest.mark.parametrize("a", [0.0, 0.01, 0.5, 1.0, 3.7, 250.0])
def test_erlang_b_single_server_and_no_server(a: float) -> None:
    """B(1, a) = a / (1 + a) and B(0, a) = 1 (with no server every call is blocked)."""
    assert an.erlang_b(1, a) == pytest.approx(a / (1.0 + a), rel=1e-14, abs=1e-300)
    assert an.erlang_b(0, a) == 1.0


@pytest.mark.parametrize(("c", "a"), [(2, 0.3), (3, 2.0), (7, 6.5), (12, 4.25), (25, 30.0), (60, 55.5)])
def test_erlang_b_matches_direct_formula(c: int, a: float) -> None:
    """The recursion equals a^c/c! / sum_{k<=c} a^k/k! evaluated exactly with fractions."""
    assert an.erlang_b(c, a) == pytest.approx(_erlang_b_direct(c, a), rel=1e-12)


def test_erlang_b_large_system_is_stable() -> None:
    """No overflow for c = 5000: B = Poisson(a).pmf(c) / Poisson(a).cdf(c) (truncated Poisson)."""
    c, a = 5000, 4800.0
    expected = stats.poisson.pmf(c, a) / stats.poisson.cdf(c, a)
    assert an.erlang_b(c, a) == pytest.approx(expected, rel=1e-9)


# --------------------------------------------------------------------------------------------
# Erlang C and M/M/c
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "a"), [(1, 0.4), (3, 2.0), (5, 4.9), (10, 7.5), (40, 33.3)])
def test_erlang_c_direct_formula_and_b_identity(c: int, a: float) -> None:
    """Erlang C equals the direct textbook formula and the identity C = cB / (c - a(1 - B))."""
    b = _erlang_b_direct(c, a)
    assert an.erlang_c(c, a) == pytest.approx(_erlang_c_direct(c, a), rel=1e-12)
    assert an.erlang_c(c, a) == pytest.approx(c * b / (c - a * (1.0 - b)), rel=1e-12)


def test_erlang_c_textbook_example_and_saturation() -> None:
    """a = 2 Erlang on 3 servers waits with probability 4/9 exactly; load >= c gives 1.0."""
    assert an.erlang_c(3, 2.0) == pytest.approx(4.0 / 9.0, rel=1e-14)
    assert an.erlang_c(1, 0.3) == pytest.approx(0.3, rel=1e-14)  # M/M/1: C = rho
    assert an.erlang_c(3, 3.0) == 1.0
    assert an.erlang_c(3, 7.0) == 1.0
    assert an.erlang_c(4, 0.0) == 0.0


def test_mmc_textbook_example() -> None:
    """lambda = 2/min, mean service 1 min, 3 agents: C = 4/9, ASA = 80/3 s, Lq = 8/9, SL(20 s)."""
    m = an.mmc(2.0 / 60.0, 1.0 / 60.0, 3, threshold=20.0)
    assert m.p_wait == pytest.approx(4.0 / 9.0, rel=1e-13)
    assert m.asa == pytest.approx(80.0 / 3.0, rel=1e-13)  # C / (c mu - lam) = (4/9) * 60 s
    assert m.mean_wait == pytest.approx(m.asa, rel=1e-15)
    assert m.mean_queue == pytest.approx(8.0 / 9.0, rel=1e-13)  # C a / (c - a)
    assert m.occupancy == pytest.approx(2.0 / 3.0, rel=1e-15)
    assert m.service_level == pytest.approx(1.0 - 4.0 / 9.0 * math.exp(-1.0 / 3.0), rel=1e-13)
    assert m.p_abandon == 0.0
    assert m.servers == 3


@pytest.mark.parametrize(("lam", "mu", "t"), [(0.5, 1.0, 0.0), (0.9, 1.0, 2.0), (3.0, 4.0, 0.7)])
def test_mm1_closed_forms(lam: float, mu: float, t: float) -> None:
    """M/M/1: P(wait) = rho, Wq = rho/(mu-lam), Lq = rho^2/(1-rho), SL = 1 - rho e^{-(mu-lam)t}."""
    rho = lam / mu
    m = an.mmc(lam, mu, 1, threshold=t)
    assert m.p_wait == pytest.approx(rho, rel=1e-13)
    assert m.asa == pytest.approx(rho / (mu - lam), rel=1e-13)
    assert m.mean_queue == pytest.approx(rho**2 / (1.0 - rho), rel=1e-13)
    assert m.occupancy == pytest.approx(rho, rel=1e-15)
    assert m.service_level == pytest.approx(1.0 - rho * math.exp(-(mu - lam) * t), rel=1e-13)


@pytest.mark.parametrize(("lam", "mu", "c", "t"), [(4.0, 1.0, 5, 0.5), (7.2, 0.8, 11, 1.3)])
def test_mmc_matches_birth_death_and_gamma_waits(lam: float, mu: float, c: int, t: float) -> None:
    """M/M/c metrics equal raw birth-death sums; SL equals the PASTA mixture of Gamma waits.

    An arrival finding c + j present waits for j + 1 departures at rate c mu: Gamma(j+1, c mu).
    """
    pi = _birth_death_pi(lam, mu, c, 0.0, 4000)
    n = np.arange(pi.size)
    m = an.mmc(lam, mu, c, threshold=t)
    assert m.p_wait == pytest.approx(pi[c:].sum(), rel=1e-12)
    assert m.mean_queue == pytest.approx(np.dot(np.maximum(n - c, 0), pi), rel=1e-11)
    assert m.occupancy * c == pytest.approx(np.dot(np.minimum(n, c), pi), rel=1e-12)
    j = np.arange(pi.size - c)
    sl = pi[:c].sum() + np.dot(pi[c:], stats.gamma.cdf(t, j + 1, scale=1.0 / (c * mu)))
    assert m.service_level == pytest.approx(sl, rel=1e-11)


def test_mmc_unstable_and_idle() -> None:
    """lam >= c mu raises ValueError; zero arrivals give an idle queue with SL 1."""
    with pytest.raises(ValueError, match="unstable"):
        an.mmc(3.0, 1.0, 3)
    with pytest.raises(ValueError, match="unstable"):
        an.mmc(5.0, 1.0, 3)
    idle = an.mmc(0.0, 1.0, 2, threshold=10.0)
    assert (idle.p_wait, idle.asa, idle.occupancy, idle.service_level) == (0.0, 0.0, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Erlang A (M/M/c+M)
# --------------------------------------------------------------------------------------------

ERLANG_A_CASES = [
    # (lam, mu, c, theta, threshold): under-, critically and over-loaded
    (4.0, 1.0, 5, 0.5, 0.4),
    (4.8, 1.0, 5, 0.5, 0.3),
    (5.0, 1.0, 5, 2.0, 0.1),
    (6.0, 1.0, 4, 0.3, 1.0),
    (0.05, 1.0 / 240.0, 10, 1.0 / 90.0, 20.0),
    (30.0, 1.0, 20, 0.2, 0.5),
]


def test_erlang_a_zero_abandonment_is_mmc() -> None:
    """abandon_rate == 0 returns exactly mmc(), including its instability error."""
    assert an.erlang_a(4.0, 1.0, 5, 0.0, 0.7) == an.mmc(4.0, 1.0, 5, 0.7)
    with pytest.raises(ValueError, match="unstable"):
        an.erlang_a(6.0, 1.0, 5, 0.0)


@pytest.mark.parametrize(("lam", "mu", "c", "t"), [(4.0, 1.0, 5, 0.5), (0.9, 1.0, 1, 2.0)])
def test_erlang_a_converges_to_mmc_as_patience_grows(lam: float, mu: float, c: int, t: float) -> None:
    """theta -> 0: every Erlang-A metric tends to its Erlang-C value with relative error O(theta).

    (For M/M/1 at rho = 0.9 the ASA slope is about 200 theta, hence the constant 500.)
    """
    ref = an.mmc(lam, mu, c, t)
    for theta in (1e-6, 1e-9, 1e-11):
        rel = 500.0 * theta
        m = an.erlang_a(lam, mu, c, theta, t)
        assert m.p_wait == pytest.approx(ref.p_wait, rel=rel)
        assert m.asa == pytest.approx(ref.asa, rel=rel)
        assert m.mean_wait == pytest.approx(ref.mean_wait, rel=rel)
        assert m.mean_queue == pytest.approx(ref.mean_queue, rel=rel)
        assert m.service_level == pytest.approx(ref.service_level, rel=rel)
        assert m.occupancy == pytest.approx(ref.occupancy, rel=rel)
        assert m.p_abandon == pytest.approx(theta * ref.mean_queue / lam, rel=rel)


@pytest.mark.parametrize(("a", "c"), [(2.5, 3), (4.0, 2), (10.0, 12), (0.3, 1)])
def test_erlang_a_with_theta_equal_mu_is_m_m_infinity(a: float, c: int) -> None:
    """theta == mu makes every customer leave at rate mu: N ~ Poisson(a), so P(wait) = P(N >= c)."""
    mu = 0.5
    m = an.erlang_a(a * mu, mu, c, mu, 1.0)
    pois = stats.poisson(a)
    n = np.arange(0, 200)
    lq = float(np.dot(np.maximum(n - c, 0), pois.pmf(n)))
    assert m.p_wait == pytest.approx(pois.sf(c - 1), rel=1e-12)
    assert m.mean_queue == pytest.approx(lq, rel=1e-11)
    assert m.occupancy * c == pytest.approx(np.dot(np.minimum(n, c), pois.pmf(n)), rel=1e-12)


@pytest.mark.parametrize(("lam", "mu", "c", "theta", "t"), ERLANG_A_CASES)
def test_erlang_a_conservation_laws(lam: float, mu: float, c: int, theta: float, t: float) -> None:
    """p_abandon = theta Lq / lam, mean wait = Lq / lam, flow balance lam(1 - P_ab) = mu E[busy],
    and the tagged-customer answered probability (SL at T = inf) equals 1 - p_abandon."""
    m = an.erlang_a(lam, mu, c, theta, t)
    assert m.p_abandon == pytest.approx(theta * m.mean_queue / lam, rel=1e-14)
    assert m.mean_wait == pytest.approx(m.mean_queue / lam, rel=1e-14)
    assert lam * (1.0 - m.p_abandon) == pytest.approx(mu * m.occupancy * c, rel=1e-10)
    m_inf = an.erlang_a(lam, mu, c, theta, math.inf)
    assert m_inf.service_level == pytest.approx(1.0 - m.p_abandon, rel=1e-10)
    assert m.mean_wait <= m.asa * (1.0 - m.p_abandon) + m.p_abandon / theta + 1e-12


@pytest.mark.parametrize(("lam", "mu", "c", "theta", "t"), ERLANG_A_CASES[:4])
def test_erlang_a_against_virtual_wait_integral(lam: float, mu: float, c: int, theta: float, t: float) -> None:
    """ASA and SL equal integrals of the Baccelli-Hebuterne / Zeltyn virtual-wait density.

    For V > 0 the offered wait has density pi_c c mu exp(-c mu v + (lam/theta)(1 - e^{-theta v})),
    and an arrival with offered wait v is answered with probability e^{-theta v}.
    """
    pi = _birth_death_pi(lam, mu, c, theta, c + 3000)
    p_now = pi[:c].sum()

    def dens(v: float) -> float:
        return pi[c] * c * mu * math.exp(-c * mu * v + lam / theta * -math.expm1(-theta * v))

    p_ans_q = integrate.quad(lambda v: math.exp(-theta * v) * dens(v), 0, math.inf)[0]
    w_ans = integrate.quad(lambda v: v * math.exp(-theta * v) * dens(v), 0, math.inf)[0]
    sl_q = integrate.quad(lambda v: math.exp(-theta * v) * dens(v), 0, t)[0]
    m = an.erlang_a(lam, mu, c, theta, t)
    assert m.p_wait == pytest.approx(1.0 - p_now, rel=1e-10)
    assert m.asa == pytest.approx(w_ans / (p_now + p_ans_q), rel=1e-8)
    assert m.service_level == pytest.approx(p_now + sl_q, rel=1e-8)
    assert 1.0 - m.p_abandon == pytest.approx(p_now + p_ans_q, rel=1e-8)


def test_erlang_a_service_level_monotone() -> None:
    """SL rises with the threshold (from P(N < c) at T = 0 to 1 - p_abandon) and with servers."""
    lam, mu, theta = 6.0, 1.0, 0.4
    m0 = an.erlang_a(lam, mu, 6, theta)
    sls_t = [an.erlang_a(lam, mu, 6, theta, t).service_level for t in np.linspace(0, 10, 41)]
    assert all(b >= a for a, b in itertools.pairwise(sls_t))
    assert all(b > a for a, b in itertools.pairwise(sls_t[:13]))  # strictly, while not saturated
    assert sls_t[0] == pytest.approx(1.0 - m0.p_wait, rel=1e-13)
    assert sls_t[-1] == pytest.approx(1.0 - m0.p_abandon, rel=1e-12)
    sls_c = [an.erlang_a(lam, mu, c, theta, 0.5).service_level for c in range(1, 15)]
    assert all(b > a for a, b in itertools.pairwise(sls_c))


def test_erlang_a_heavily_overloaded_is_finite() -> None:
    """Abandonment stabilises lam = 3 c mu: the queue settles near (lam - c mu) / theta."""
    lam, mu, c, theta = 30.0, 1.0, 10, 0.5
    m = an.erlang_a(lam, mu, c, theta, 1.0)
    assert m.p_wait == pytest.approx(1.0, abs=1e-6)
    assert m.mean_queue == pytest.approx((lam - c * mu) / theta, rel=1e-3)
    assert m.p_abandon == pytest.approx((lam - c * mu) / lam, rel=1e-3)
    assert 0.0 <= m.service_level <= 1.0 and math.isfinite(m.asa)


@pytest.mark.parametrize(
    ("lam", "mu", "c", "theta", "t", "seed"),
    [(4.8, 1.0, 5, 0.5, 0.3, 12345), (6.0, 1.0, 5, 0.5, 0.3, 2024)],
)
def test_erlang_a_against_monte_carlo(lam: float, mu: float, c: int, theta: float, t: float, seed: int) -> None:
    """ASA, abandonment and SL agree with a direct 200k-customer simulation (batch-means SE)."""
    n, warmup, batches = 200_000, 10_000, 40
    wait, ans = _simulate_mmcm(lam, mu, c, theta, n, seed)
    wait, ans = wait[warmup:], ans[warmup:]
    wb = wait.reshape(batches, -1)
    ab = ans.reshape(batches, -1)
    asa_b = (wb * ab).sum(axis=1) / ab.sum(axis=1)
    pab_b = 1.0 - ab.mean(axis=1)
    sl_b = (ab & (wb <= t)).mean(axis=1)
    m = an.erlang_a(lam, mu, c, theta, t)
    for est, exact in [(asa_b, m.asa), (pab_b, m.p_abandon), (sl_b, m.service_level)]:
        se = est.std(ddof=1) / math.sqrt(batches)
        assert abs(est.mean() - exact) < 4.5 * se, (est.mean(), exact, se)


# --------------------------------------------------------------------------------------------
# staffing
# --------------------------------------------------------------------------------------------


def test_sqrt_staffing_examples() -> None:
    """ceil(R + beta sqrt(R)): R=100, beta=1 -> 110; R=50, beta=0.5 -> 54; R=0 -> 0; beta<0 ok."""
    assert an.sqrt_staffing(100.0, 1.0) == 110
    assert an.sqrt_staffing(50.0, 0.5) == math.ceil(50.0 + 0.5 * math.sqrt(50.0)) == 54
    assert an.sqrt_staffing(0.0, 2.0) == 0
    assert an.sqrt_staffing(9.0, -1.0) == 6
    assert an.sqrt_staffing(16.0, 0.0) == 16


def test_sqrt_staffing_matches_halfin_whitt_delay_probability() -> None:
    """At c = R + beta sqrt(R), Erlang C approaches the Halfin-Whitt limit 1/(1 + beta Phi/phi)."""
    r, beta = 400.0, 1.0
    c = an.sqrt_staffing(r, beta)
    hw = 1.0 / (1.0 + beta * stats.norm.cdf(beta) / stats.norm.pdf(beta))
    assert c == 420
    assert an.erlang_c(c, r) == pytest.approx(hw, abs=0.02)


@pytest.mark.parametrize(
    ("lam", "mu", "t", "target"),
    [
        (100.0 / 1800.0, 1.0 / 180.0, 20.0, 0.8),  # 100 calls / 30 min, AHT 180 s, 80/20
        (2.0 / 60.0, 1.0 / 60.0, 20.0, 0.9),
        (12.0, 1.0 / 300.0, 20.0, 0.8),  # a = 3600 Erlang (lam / mu rounds below 3600)
        (0.3, 1.0, 0.0, 0.95),
    ],
)
def test_staff_erlang_c_is_minimal(lam: float, mu: float, t: float, target: float) -> None:
    """Returned c meets the target by the direct Erlang C formula and c - 1 does not."""
    c = an.staff_erlang_c(lam, mu, t, target)
    if c <= 400:
        assert _mmc_sl_direct(lam, mu, c, t) >= target
        assert _mmc_sl_direct(lam, mu, c - 1, t) < target
    else:  # exact rationals get slow: use scipy's Poisson form of Erlang B instead
        a = lam / mu

        def sl(k: int) -> float:
            if lam >= k * mu:
                return -math.inf
            b = stats.poisson.pmf(k, a) / stats.poisson.cdf(k, a)
            return 1.0 - k * b / (k - a * (1.0 - b)) * math.exp(-(k * mu - lam) * t)

        assert sl(c) >= target > sl(c - 1)


def test_staff_erlang_c_occupancy_cap_and_zero_traffic() -> None:
    """A binding occupancy cap gives ceil(a / cap); zero arrivals need zero servers."""
    lam, mu = 9.5, 1.0
    assert an.staff_erlang_c(lam, mu, 60.0, 0.5) < 12
    assert an.staff_erlang_c(lam, mu, 60.0, 0.5, max_occupancy=0.8) == math.ceil(9.5 / 0.8)
    assert an.staff_erlang_c(0.0, mu, 20.0, 0.8) == 0
    assert an.staff_erlang_a(0.0, mu, 0.1, 20.0, 0.8) == 0


@pytest.mark.parametrize(
    ("lam", "mu", "theta", "t", "target", "max_ab"),
    [
        (100.0 / 1800.0, 1.0 / 180.0, 1.0 / 120.0, 20.0, 0.8, None),
        (6.0, 1.0, 0.5, 0.3, 0.9, None),
        (6.0, 1.0, 0.5, 0.3, 0.2, 0.01),  # abandonment cap binds
        (12.0, 1.0 / 300.0, 1.0 / 600.0, 20.0, 0.8, 0.02),
    ],
)
def test_staff_erlang_a_is_minimal(
    lam: float, mu: float, theta: float, t: float, target: float, max_ab: float | None
) -> None:
    """Returned c meets the SL target (and abandonment cap); c - 1 fails one of them."""
    c = an.staff_erlang_a(lam, mu, theta, t, target, max_abandon=max_ab)

    def ok(k: int) -> bool:
        m = an.erlang_a(lam, mu, k, theta, t)
        return m.service_level >= target and (max_ab is None or m.p_abandon <= max_ab)

    assert ok(c)
    assert c == 1 or not ok(c - 1)


def test_staff_erlang_a_without_abandonment_matches_erlang_c() -> None:
    """abandon_rate == 0 staffs exactly like Erlang C."""
    args = (100.0 / 1800.0, 1.0 / 180.0)
    assert an.staff_erlang_a(*args, 0.0, 20.0, 0.8) == an.staff_erlang_c(*args, 20.0, 0.8)


# --------------------------------------------------------------------------------------------
# Jackson networks
# --------------------------------------------------------------------------------------------


def _assert_node_is_mmc(node: object, lam: float, mu: float, c: int, t: float) -> None:
    """The node's rate is lam and its metrics are the directly computed M/M/c values."""
    assert node.arrival_rate == pytest.approx(lam, rel=1e-12)
    a = lam / mu
    p_wait = _erlang_c_direct(c, a)
    assert node.metrics.p_wait == pytest.approx(p_wait, rel=1e-11)
    assert node.metrics.asa == pytest.approx(p_wait / (c * mu - lam), rel=1e-11)
    assert node.metrics.service_level == pytest.approx(_mmc_sl_direct(lam, mu, c, t), rel=1e-11)


def test_jackson_three_node_series() -> None:
    """Series 0 -> 1 -> 2 with 50% onward at node 1: lam = (1, 1, 0.5), each node M/M/c."""
    routing = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
    mus, cs, ts = [0.8, 0.6, 1.0], [2, 3, 1], [1.0, 2.0, 0.5]
    nodes = an.jackson_network([1.0, 0.0, 0.0], routing, mus, cs, ts)
    for node, lam, mu, c, t in zip(nodes, [1.0, 1.0, 0.5], mus, cs, ts, strict=True):
        _assert_node_is_mmc(node, lam, mu, c, t)


def test_jackson_network_with_feedback() -> None:
    """Feedback loop solved by hand: lam0 = 1 + 0.2 lam1, lam1 = 0.6 + lam0, lam2 = 0.3 lam1.

    So lam1 = 1.6 / 0.8 = 2, lam0 = 1.4, lam2 = 0.6 (node 1 exits with probability 0.5).
    """
    routing = np.array([[0.0, 1.0, 0.0], [0.2, 0.0, 0.3], [0.0, 0.0, 0.0]])
    gamma = [1.0, 0.6, 0.0]
    mus, cs = [1.0, 0.9, 0.5], [2, 3, 2]
    nodes = an.jackson_network(gamma, routing, mus, cs)
    expected = [1.4, 2.0, 0.6]
    for node, lam, mu, c in zip(nodes, expected, mus, cs, strict=True):
        _assert_node_is_mmc(node, lam, mu, c, 0.0)
    lam = np.array([nd.arrival_rate for nd in nodes])
    np.testing.assert_allclose(lam, np.array(gamma) + routing.T @ lam, rtol=1e-13)


def test_tier_chain_rates() -> None:
    """Tiers in series: escalation (0.3, 0.5) thins lam to (lam, 0.3 lam, 0.15 lam)."""
    mus, cs, ts = [1.0, 0.5, 0.25], [3, 2, 2], [10.0, 20.0, 30.0]
    nodes = an.tier_chain(2.0, [0.3, 0.5], mus, cs, ts)
    for node, lam, mu, c, t in zip(nodes, [2.0, 0.6, 0.3], mus, cs, ts, strict=True):
        _assert_node_is_mmc(node, lam, mu, c, t)
    single = an.tier_chain(0.5, [], [1.0], [1])
    assert single[0].arrival_rate == 0.5


def test_jackson_rejects_bad_networks() -> None:
    """Row sums > 1, closed loops, wrong shapes and unstable nodes raise ValueError."""
    with pytest.raises(ValueError, match="routing"):
        an.jackson_network([1.0, 0.0], np.array([[0.0, 0.7], [0.5, 0.6]]), [1, 1], [2, 2])
    with pytest.raises(ValueError, match="routing"):
        an.jackson_network([1.0, 0.0], np.array([[0.0, 1.0], [1.0, 0.0]]), [1, 1], [2, 2])
    with pytest.raises(ValueError, match="routing"):
        an.jackson_network([1.0, 0.0], np.zeros((3, 3)), [1, 1], [2, 2])
    with pytest.raises(ValueError, match="node 1"):
        an.jackson_network([1.0, 0.0], np.array([[0.0, 1.0], [0.0, 0.0]]), [1, 1], [2, 1])
    with pytest.raises(ValueError, match="escalation"):
        an.tier_chain(1.0, [1.2], [1.0, 1.0], [2, 2])
    with pytest.raises(ValueError, match="escalation"):
        an.tier_chain(1.0, [0.2, 0.2], [1.0, 1.0], [2, 2])


# --------------------------------------------------------------------------------------------
# argument validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: an.erlang_b(-1, 1.0), "servers"),
        (lambda: an.erlang_b(2, -0.5), "load"),
        (lambda: an.erlang_c(2.5, 1.0), "servers"),
        (lambda: an.mmc(-1.0, 1.0, 2), "arrival_rate"),
        (lambda: an.mmc(1.0, 0.0, 2), "service_rate"),
        (lambda: an.mmc(1.0, 1.0, 2, threshold=-1.0), "threshold"),
        (lambda: an.erlang_a(1.0, 1.0, 2, -0.1), "abandon_rate"),
        (lambda: an.erlang_a(1.0, 1.0, -2, 0.1), "servers"),
        (lambda: an.offered_load(1.0, -1.0), "service_rate"),
        (lambda: an.sqrt_staffing(-4.0, 1.0), "load"),
        (lambda: an.staff_erlang_c(1.0, 1.0, 20.0, 1.5), "target"),
        (lambda: an.staff_erlang_c(1.0, 1.0, 20.0, 0.8, max_occupancy=-0.1), "max_occupancy"),
        (lambda: an.staff_erlang_a(1.0, 1.0, 0.1, 20.0, 0.8, max_abandon=2.0), "max_abandon"),
        (lambda: an.jackson_network([-1.0], np.zeros((1, 1)), [1.0], [1]), "external_rates"),
        (lambda: an.jackson_network([1.0], np.zeros((1, 1)), [1.0], [-1]), "servers"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(call, name: str) -> None:
    """Negative rates or servers and out-of-range probabilities raise ValueError naming the arg."""
    with pytest.raises(ValueError, match=name):
        call()


def test_offered_load() -> None:
    """Offered load is lam / mu in Erlangs: 100 calls/30 min at 180 s AHT is 10 Erlang."""
    assert an.offered_load(100.0 / 1800.0, 1.0 / 180.0) == pytest.approx(10.0, rel=1e-14)

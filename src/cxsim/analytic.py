"""Closed-form and exact numerical queueing results.

These are the analytic references that the simulator's tests and the staffing planner are
checked against: Erlang B/C, M/M/c (Erlang C), M/M/c+M (Erlang A), square-root staffing,
minimal staffing searches and open Jackson networks.

All rates are per second and all times are in seconds (the formulas are unit-agnostic, so any
consistent unit works).  Every function is pure: no caching, no module-level mutable state.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "JacksonNode",
    "QueueMetrics",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "jackson_network",
    "mmc",
    "offered_load",
    "sqrt_staffing",
    "staff_erlang_a",
    "staff_erlang_c",
    "tier_chain",
]

# Truncation tolerance for the Erlang-A birth-death chain: the (rigorously bounded) probability
# mass beyond the last retained state is below this.
_TAIL_TOL = 1e-15
# Hard cap on the number of chain states (memory guard; only reached when abandon_rate is tiny
# compared with the overload arrival_rate - servers * service_rate).
_MAX_STATES = 5_000_000


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state performance measures of a multi-server queue (per-arrival view)."""

    p_wait: float  # probability an arriving customer must wait (PASTA)
    p_abandon: float  # probability an arriving customer abandons (0 for Erlang C)
    asa: float  # mean wait of ANSWERED customers (s)
    mean_wait: float  # mean wait over ALL arriving customers, abandoned included (s)
    service_level: float  # P(answered within threshold), over all arrivals
    occupancy: float  # mean busy servers / servers
    mean_queue: float  # mean number waiting (Lq)
    servers: int


@dataclass(frozen=True)
class JacksonNode:
    """One station of an open Jackson network: its total arrival rate and M/M/c metrics."""

    arrival_rate: float  # effective (total) arrival rate into the node
    metrics: QueueMetrics


# --------------------------------------------------------------------------------------------
# argument validation
# --------------------------------------------------------------------------------------------


def _nonneg(name: str, value: float) -> float:
    """Return ``value`` as float, raising ValueError unless it is finite and >= 0."""
    x = float(value)
    if not (math.isfinite(x) and x >= 0.0):
        raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    return x


def _positive(name: str, value: float) -> float:
    """Return ``value`` as float, raising ValueError unless it is finite and > 0."""
    x = float(value)
    if not (math.isfinite(x) and x > 0.0):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return x


def _threshold(name: str, value: float) -> float:
    """Return a waiting-time threshold (>= 0, +inf allowed), raising ValueError otherwise."""
    x = float(value)
    if not x >= 0.0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0 (inf allowed), got {value!r}")
    return x


def _probability(name: str, value: float) -> float:
    """Return ``value`` as float, raising ValueError unless it lies in [0, 1]."""
    x = float(value)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return x


def _servers(name: str, value: int) -> int:
    """Return a server count as int, raising ValueError unless it is an integer >= 0."""
    try:
        c = operator.index(value)
    except TypeError:
        x = float(value)
        if not (math.isfinite(x) and x == int(x)):
            raise ValueError(f"{name} must be an integer, got {value!r}") from None
        c = int(x)
    if c < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return c


# --------------------------------------------------------------------------------------------
# Erlang B / C and M/M/c
# --------------------------------------------------------------------------------------------


def offered_load(arrival_rate: float, service_rate: float) -> float:
    """Offered load a = lambda / mu in Erlangs (arrival and service rates per second)."""
    lam = _nonneg("arrival_rate", arrival_rate)
    mu = _positive("service_rate", service_rate)
    return lam / mu


def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability of M/M/c/c with ``load`` Erlangs offered.

    Used as the numerically stable building block for Erlang C.
    """
    # Source: standard Erlang-B recursion B(0)=1, B(k) = a B(k-1) / (k + a B(k-1))
    # (e.g. R. B. Cooper, Introduction to Queueing Theory, 2nd ed., 1981, ch. 3);
    # every step is a ratio of positive numbers, so it neither overflows nor cancels.
    c = _servers("servers", servers)
    a = _nonneg("load", load)
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Erlang C probability that an arrival waits in M/M/c (1.0 when load >= servers)."""
    # Source: C = c B / (c - a (1 - B)) with B = Erlang B (Cooper 1981, ch. 3);
    # equivalent to the textbook a^c/c! * c/(c-a) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a)).
    c = _servers("servers", servers)
    a = _nonneg("load", load)
    if a >= c:
        return 1.0
    if a == 0.0:
        return 0.0
    b = erlang_b(c, a)
    return min(1.0, c * b / (c - a * (1.0 - b)))


def _idle_metrics(servers: int) -> QueueMetrics:
    """Metrics of a queue with no arrivals: nobody waits, service level is vacuously 1."""
    return QueueMetrics(
        p_wait=0.0,
        p_abandon=0.0,
        asa=0.0,
        mean_wait=0.0,
        service_level=1.0,
        occupancy=0.0,
        mean_queue=0.0,
        servers=servers,
    )


def mmc(arrival_rate: float, service_rate: float, servers: int, threshold: float = 0.0) -> QueueMetrics:
    """Steady-state M/M/c (Erlang C) metrics; ``threshold`` (s) defines the service level.

    Raises ValueError when unstable (arrival_rate >= servers * service_rate, arrivals > 0).
    """
    lam = _nonneg("arrival_rate", arrival_rate)
    mu = _positive("service_rate", service_rate)
    c = _servers("servers", servers)
    t = _threshold("threshold", threshold)
    if lam == 0.0:
        return _idle_metrics(c)
    if lam >= c * mu:
        raise ValueError(f"unstable M/M/c: arrival_rate={lam} >= servers*service_rate={c * mu}")
    # Source: Erlang C / M/M/c waiting-time distribution, e.g. Gross, Shortle, Thompson &
    # Harris, Fundamentals of Queueing Theory, 4th ed., ch. 2 (M/M/c):
    #   P(W > 0) = C,  P(W > t) = C exp(-(c mu - lam) t),  Wq = C / (c mu - lam),
    #   Lq = C a / (c - a),  utilisation = a / c.
    a = lam / mu
    p_wait = erlang_c(c, a)
    drain = c * mu - lam
    wq = p_wait / drain
    return QueueMetrics(
        p_wait=p_wait,
        p_abandon=0.0,
        asa=wq,
        mean_wait=wq,
        service_level=1.0 - p_wait * math.exp(-drain * t),
        occupancy=a / c,
        mean_queue=p_wait * a / (c - a),
        servers=c,
    )


# --------------------------------------------------------------------------------------------
# Erlang A (M/M/c+M)
# --------------------------------------------------------------------------------------------


def _erlang_a_distribution(lam: float, mu: float, c: int, theta: float) -> np.ndarray:
    """Stationary law pi_0..pi_K of the M/M/c+M birth-death chain, truncated with tail < tol."""
    # Source: birth-death balance pi_n = pi_0 prod_{k=1}^n lam / d_k with
    # d_k = min(k, c) mu + max(k - c, 0) theta (Palm 1943; Garnett, Mandelbaum & Reiman 2002,
    # "Designing a call center with impatient customers", MSOM 4(3)).
    # d_k is nondecreasing, so the ratios r_k = lam / d_{k+1} are nonincreasing and the mass
    # beyond state K is at most pi_K r_K / (1 - r_K) once r_K < 1: that is the stop rule.
    size = c + 256
    log_lam = math.log(lam)
    while True:
        k = np.arange(1, size + 1, dtype=np.float64)
        death = np.minimum(k, c) * mu + np.maximum(k - c, 0.0) * theta
        log_terms = np.empty(size + 1)
        log_terms[0] = 0.0
        np.cumsum(log_lam - np.log(death), out=log_terms[1:])
        peak = log_terms.max()
        log_total = peak + math.log(np.exp(log_terms - peak).sum())
        d_next = min(size + 1, c) * mu + max(size + 1 - c, 0) * theta
        r = lam / d_next
        if r < 1.0:
            log_tail = log_terms[-1] - log_total + math.log(r) - math.log1p(-r)
            if log_tail < math.log(_TAIL_TOL):
                break
        if size >= _MAX_STATES:
            raise ValueError(
                f"abandon_rate is too small for this overload: the Erlang-A chain needs more than {_MAX_STATES} states"
            )
        size = min(_MAX_STATES, c + 2 * (size - c))
    p = np.exp(log_terms - log_total)
    return p / p.sum()


def erlang_a(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    abandon_rate: float,
    threshold: float = 0.0,
) -> QueueMetrics:
    """Exact M/M/c+M (Erlang A) metrics, exponential patience at ``abandon_rate`` per second.

    Truncated birth-death chain (valid when overloaded); ``threshold`` (s) sets the SL.
    """
    lam = _nonneg("arrival_rate", arrival_rate)
    mu = _positive("service_rate", service_rate)
    c = _servers("servers", servers)
    theta = _nonneg("abandon_rate", abandon_rate)
    t = _threshold("threshold", threshold)
    if theta == 0.0:
        return mmc(lam, mu, c, t)
    if lam == 0.0:
        return _idle_metrics(c)

    p = _erlang_a_distribution(lam, mu, c, theta)
    n = np.arange(p.size, dtype=np.float64)
    p_wait = float(p[c:].sum())
    lq = float(np.dot(np.maximum(n - c, 0.0), p))
    busy = float(np.dot(np.minimum(n, c), p))

    # Tagged customer (FCFS) arriving to n = c + j, i.e. j customers ahead in the queue.
    # With k ahead it leaves its current position at rate nu_k = c mu + (k + 1) theta: it
    # moves up (k -> k-1, or into service from k = 0) at rate c mu + k theta, abandons at rate
    # theta.  Hence (Garnett-Mandelbaum-Reiman 2002; Mandelbaum & Zeltyn, "The M/M/n+G
    # queue: summary of performance measures", 2009):
    #   P(answered | j) = prod_{k=0}^{j} (c mu + k theta) / nu_k = m / (m + j + 1), m = c mu/theta
    #   W | answered, j  ~  sum_{k=0}^{j} Exp(nu_k)  (competing exponentials: the stage time is
    #                        independent of which event ends it), so
    #   E[W 1{answered} | j] = P(answered | j) * sum_{k=0}^{j} 1 / nu_k.
    # The sum of Exp(a + k b), k = 0..j, has density (a/b)_{j+1} b e^{-a t}(1-e^{-b t})^j / j!
    # (Renyi representation of exponential order statistics), so its CDF is the regularised
    # incomplete beta I_{1-e^{-b t}}(j + 1, a / b); here a = c mu + theta, b = theta.
    m = c * mu / theta
    j = np.arange(p.size - c, dtype=np.float64)
    p_queue = p[c:]
    p_ans_j = m / (m + j + 1.0)
    stage_means = np.cumsum(1.0 / (c * mu + (j + 1.0) * theta))
    p_immediate = float(p[:c].sum())
    p_answered = p_immediate + float(np.dot(p_queue, p_ans_j))
    wait_answered = float(np.dot(p_queue, p_ans_j * stage_means))
    if t == 0.0:
        within = 0.0
    else:
        y = 1.0 if math.isinf(t) else -math.expm1(-theta * t)
        within = float(np.dot(p_queue, p_ans_j * special.betainc(j + 1.0, m + 1.0, y)))

    # With servers == 0 nobody is ever answered, so ASA is undefined and reported as NaN.
    return QueueMetrics(
        p_wait=p_wait,
        p_abandon=theta * lq / lam,
        asa=wait_answered / p_answered if p_answered > 0.0 else math.nan,
        mean_wait=lq / lam,
        service_level=min(1.0, p_immediate + within),
        occupancy=busy / c if c > 0 else 0.0,
        mean_queue=lq,
        servers=c,
    )


# --------------------------------------------------------------------------------------------
# staffing
# --------------------------------------------------------------------------------------------


def sqrt_staffing(load: float, beta: float) -> int:
    """Square-root staffing ceil(R + beta sqrt(R)) for offered load R (Erlangs), at least 0.

    A relative tolerance of 1e-9 keeps float noise from adding a server to an integral result.
    """
    # Source: Halfin & Whitt (1981), "Heavy-traffic limits for queues with many exponential
    # servers", Oper. Res. 29(3); Borst, Mandelbaum & Reiman (2004), Oper. Res. 52(1).
    r = _nonneg("load", load)
    b = float(beta)
    if not math.isfinite(b):
        raise ValueError(f"beta must be finite, got {beta!r}")
    x = r + b * math.sqrt(r)
    return max(0, math.ceil(x - 1e-9 * max(1.0, abs(x))))


def _min_feasible(feasible: Callable[[int], bool], start: int, limit: int) -> int:
    """Smallest c >= start with feasible(c), for a predicate monotone in c (gallop + bisect).

    ``start - 1`` is taken to be infeasible (or outside the domain); on return r, feasible(r)
    holds and either r == start or feasible(r - 1) was evaluated False.
    """
    lo, hi, step = start - 1, start, 1
    while not feasible(hi):
        if hi >= limit:
            raise ValueError(f"target unattainable with up to {limit} servers")
        lo, hi, step = hi, min(limit, hi + step), 2 * step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if feasible(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _min_stable_servers(arrival_rate: float, service_rate: float) -> int:
    """Smallest c with c * service_rate > arrival_rate, robust to rounding in lam / mu."""
    c = math.floor(arrival_rate / service_rate) + 1
    while c > 1 and (c - 1) * service_rate > arrival_rate:
        c -= 1
    while c * service_rate <= arrival_rate:
        c += 1
    return c


def _search_limit(load: float) -> int:
    """Generous upper bound on a sensible staffing level for ``load`` Erlangs."""
    return math.ceil(10.0 * load + 50.0 * math.sqrt(load) + 1000.0)


def staff_erlang_c(
    arrival_rate: float,
    service_rate: float,
    threshold: float,
    target: float,
    max_occupancy: float | None = None,
) -> int:
    """Fewest servers whose M/M/c service level within ``threshold`` s reaches ``target``.

    Optionally also occupancy <= max_occupancy; returns 0 when arrival_rate == 0.
    """
    lam = _nonneg("arrival_rate", arrival_rate)
    mu = _positive("service_rate", service_rate)
    t = _threshold("threshold", threshold)
    sl_target = _probability("target", target)
    occ_cap = None if max_occupancy is None else _probability("max_occupancy", max_occupancy)
    if lam == 0.0:
        return 0
    a = lam / mu

    def feasible(c: int) -> bool:
        if lam >= c * mu:
            return False
        m = mmc(lam, mu, c, t)
        return m.service_level >= sl_target and (occ_cap is None or m.occupancy <= occ_cap)

    # Source: standard Erlang-C staffing (smallest stable c meeting the service level); every
    # criterion is monotone in c, so a galloping + bisection search finds the minimum.
    start = _min_stable_servers(lam, mu)  # start - 1 is unstable, hence infeasible
    return _min_feasible(feasible, start, max(start, _search_limit(a)))


def staff_erlang_a(
    arrival_rate: float,
    service_rate: float,
    abandon_rate: float,
    threshold: float,
    target: float,
    max_abandon: float | None = None,
    max_occupancy: float | None = None,
) -> int:
    """Fewest servers (>= 1) whose Erlang-A service level within ``threshold`` s hits ``target``.

    Optional caps on abandonment probability and occupancy; returns 0 when arrival_rate == 0.
    """
    lam = _nonneg("arrival_rate", arrival_rate)
    mu = _positive("service_rate", service_rate)
    theta = _nonneg("abandon_rate", abandon_rate)
    t = _threshold("threshold", threshold)
    sl_target = _probability("target", target)
    ab_cap = None if max_abandon is None else _probability("max_abandon", max_abandon)
    occ_cap = None if max_occupancy is None else _probability("max_occupancy", max_occupancy)
    if lam == 0.0:
        return 0
    a = lam / mu

    def feasible(c: int) -> bool:
        if theta == 0.0 and lam >= c * mu:
            return False  # Erlang C limit: unstable staffing never qualifies
        m = erlang_a(lam, mu, c, theta, t)
        return (
            m.service_level >= sl_target
            and (ab_cap is None or m.p_abandon <= ab_cap)
            and (occ_cap is None or m.occupancy <= occ_cap)
        )

    # Source: Garnett, Mandelbaum & Reiman (2002): service level, abandonment and occupancy
    # are all monotone in c, so a galloping + bisection search finds the minimum.
    start = _min_stable_servers(lam, mu) if theta == 0.0 else 1
    return _min_feasible(feasible, start, max(start, _search_limit(a)))


# --------------------------------------------------------------------------------------------
# Jackson networks
# --------------------------------------------------------------------------------------------


def jackson_network(
    external_rates: Sequence[float],
    routing: np.ndarray,
    service_rates: Sequence[float],
    servers: Sequence[int],
    thresholds: Sequence[float] | None = None,
) -> list[JacksonNode]:
    """Open Jackson network: solve the traffic equations, then treat each node as M/M/c.

    routing[i, j] is the probability a job finishing at node i goes next to node j.
    """
    # Source: J. R. Jackson (1957), "Networks of waiting lines", Oper. Res. 5(4); (1963)
    # "Jobshop-like queueing systems", Mgmt. Sci. 10(1): lam = gamma + P^T lam and the
    # stationary law is the product of the independent M/M/c_i marginals at rate lam_i.
    gamma = np.asarray(external_rates, dtype=np.float64)
    if gamma.ndim != 1 or gamma.size == 0:
        raise ValueError("external_rates must be a non-empty 1-D sequence")
    k = gamma.size
    if not (np.all(np.isfinite(gamma)) and np.all(gamma >= 0.0)):
        raise ValueError("external_rates must be finite and non-negative")
    p = np.asarray(routing, dtype=np.float64)
    if p.shape != (k, k):
        raise ValueError(f"routing must have shape ({k}, {k}), got {p.shape}")
    if not (np.all(np.isfinite(p)) and np.all(p >= 0.0) and np.all(p <= 1.0)):
        raise ValueError("routing entries must be probabilities in [0, 1]")
    if np.any(p.sum(axis=1) > 1.0 + 1e-12):
        raise ValueError("routing row sums must be <= 1")
    mus = [_positive(f"service_rates[{i}]", v) for i, v in enumerate(service_rates)]
    cs = [_servers(f"servers[{i}]", v) for i, v in enumerate(servers)]
    ts = [0.0] * k if thresholds is None else [_threshold(f"thresholds[{i}]", v) for i, v in enumerate(thresholds)]
    for name, seq in (("service_rates", mus), ("servers", cs), ("thresholds", ts)):
        if len(seq) != k:
            raise ValueError(f"{name} must have length {k}, got {len(seq)}")

    try:
        lam = np.linalg.solve(np.eye(k) - p.T, gamma)
    except np.linalg.LinAlgError:
        raise ValueError("routing does not describe an open network (I - P^T is singular)") from None
    if not np.all(np.isfinite(lam)) or np.any(lam < -1e-9 * max(1.0, float(gamma.sum()))):
        raise ValueError("routing does not describe an open network (traffic equations fail)")
    lam = np.maximum(lam, 0.0)

    nodes = []
    for i in range(k):
        try:
            metrics = mmc(float(lam[i]), mus[i], cs[i], ts[i])
        except ValueError as exc:
            raise ValueError(f"node {i}: {exc}") from exc
        nodes.append(JacksonNode(arrival_rate=float(lam[i]), metrics=metrics))
    return nodes


def tier_chain(
    arrival_rate: float,
    escalation: Sequence[float],
    service_rates: Sequence[float],
    servers: Sequence[int],
    thresholds: Sequence[float] | None = None,
) -> list[JacksonNode]:
    """Support tiers in series: escalation[i] is P(a contact served at tier i goes to tier i+1).

    A thin wrapper over jackson_network with external arrivals at tier 0 only.
    """
    lam = _nonneg("arrival_rate", arrival_rate)
    k = len(service_rates)
    if k == 0:
        raise ValueError("service_rates must name at least one tier")
    esc = [_probability(f"escalation[{i}]", v) for i, v in enumerate(escalation)]
    if len(esc) != k - 1:
        raise ValueError(f"escalation must have length {k - 1} (tiers - 1), got {len(esc)}")
    routing = np.zeros((k, k))
    for i, q in enumerate(esc):
        routing[i, i + 1] = q
    external = [lam] + [0.0] * (k - 1)
    return jackson_network(external, routing, service_rates, servers, thresholds)

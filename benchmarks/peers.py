"""Reference M/M/c models (minimal SimPy, Ciw) that cxsim is benchmarked against."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import simpy


@dataclass(frozen=True)
class PeerResult:
    """Outcome of one peer run, reduced to the figures the harness compares."""

    model: str
    customers: int
    answered: int
    abandoned: int
    mean_wait_s: float
    within_t: float
    threshold_s: float
    wall_s: float
    cpu_s: float = float("nan")  # process CPU time over the same window: less sensitive to other load

    @property
    def customers_per_s(self) -> float:
        """Throughput in simulated customers per wall-clock second (the headline metric)."""
        return self.customers / self.wall_s if self.wall_s > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (with throughput) so a subprocess can ship the result as JSON."""
        return {**asdict(self), "customers_per_s": self.customers_per_s}


def _summarise(
    model: str,
    waits: list[float],
    abandoned: int,
    threshold: float,
    wall_s: float,
    cpu_s: float,
) -> PeerResult:
    """Turn raw answered-wait samples into a PeerResult; SL is over offered, not answered."""
    answered = len(waits)
    customers = answered + abandoned
    arr = np.asarray(waits, dtype=float)
    mean_wait = float(arr.mean()) if answered else float("nan")
    within = float(np.count_nonzero(arr <= threshold)) / customers if customers else float("nan")
    return PeerResult(model, customers, answered, abandoned, mean_wait, within, threshold, wall_s, cpu_s)


def simpy_minimal(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    horizon: float,
    seed: int,
    patience_mean: float | None = None,
    threshold: float = 20.0,
) -> PeerResult:
    """Canonical textbook SimPy M/M/c(+M): the baseline any hand-written model would reach."""
    t0, c0 = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=servers)
    mean_ia = 1.0 / arrival_rate
    mean_service = 1.0 / service_rate
    waits: list[float] = []
    abandons: list[float] = []

    def customer(env: simpy.Environment) -> Any:
        """One contact: queue for an agent (optionally reneging), then hold it for service."""
        arrive = env.now
        with agents.request() as req:
            if patience_mean is None:
                yield req
            else:
                fired = yield req | env.timeout(rng.exponential(patience_mean))
                if req not in fired:
                    abandons.append(env.now - arrive)
                    return
            waits.append(env.now - arrive)
            yield env.timeout(rng.exponential(mean_service))

    def source(env: simpy.Environment) -> Any:
        """Poisson arrivals until the horizon; customers already in are served to completion."""
        while True:
            gap = rng.exponential(mean_ia)
            if env.now + gap >= horizon:
                return
            yield env.timeout(gap)
            env.process(customer(env))

    env.process(source(env))
    env.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return _summarise("simpy", waits, len(abandons), threshold, wall, cpu)


def ciw_model(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    horizon: float,
    seed: int,
    patience_mean: float | None = None,
    threshold: float = 20.0,
) -> PeerResult:
    """The same M/M/c(+M) in Ciw 3.x, with arrivals cut at the horizon and the queue drained."""
    import ciw  # local: keeps Ciw's import footprint out of the other peers' RSS

    class ExponentialUntil(ciw.dists.Exponential):
        """Exponential interarrivals that stop at the horizon, mirroring the SimPy source."""

        def __init__(self, rate: float, stop: float) -> None:
            """Store the cut-off time next to the rate."""
            super().__init__(rate)
            self.stop = stop

        def sample(self, t: float | None = None, ind: Any = None) -> float:
            """Draw a gap; return +inf once the next arrival would fall past the horizon."""
            gap = super().sample(t, ind)
            return gap if (t or 0.0) + gap < self.stop else float("inf")

    t0, c0 = time.perf_counter(), time.process_time()
    ciw.seed(seed)  # Ciw's RNG is global (random + ciw.rng); acceptable inside this peer only
    params: dict[str, Any] = {
        "arrival_distributions": [ExponentialUntil(arrival_rate, horizon)],
        "service_distributions": [ciw.dists.Exponential(service_rate)],
        "number_of_servers": [servers],
    }
    if patience_mean is not None:
        params["reneging_time_distributions"] = [ciw.dists.Exponential(1.0 / patience_mean)]
    sim = ciw.Simulation(ciw.create_network(**params))
    # Runs until the event list is empty (all arrivals stopped and the queue drained).
    sim.simulate_until_max_time(horizon + 1e9)
    records = sim.get_all_records()
    waits = [r.waiting_time for r in records if r.record_type == "service"]
    abandoned = sum(1 for r in records if r.record_type == "renege")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    arrived = sim.nodes[0].number_of_individuals
    if arrived != len(waits) + abandoned:
        raise RuntimeError(f"Ciw did not drain: {arrived} arrived, {len(waits) + abandoned} left")
    return _summarise("ciw", waits, abandoned, threshold, wall, cpu)

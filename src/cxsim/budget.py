"""How big a run is before it starts: expected contacts and memory, against limits that
`force=true` lifts, so a typo like `replications=1e6` or `horizon.days=10000` is refused in
one line instead of filling the machine's memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cxsim.errors import ConfigError

if TYPE_CHECKING:
    from cxsim.scenario import Scenario

MAX_CONTACTS = 50_000_000  # expected contacts over all replications: about 10 minutes at 100,000/s
MAX_MEMORY_GB = 4.0  # estimated peak memory of the run
BYTES_PER_CONTACT = 300  # records and KPI temporaries of one replication (README: ~0.27 MB per thousand)
BYTES_PER_KEPT_CONTACT = 150  # a contacts.parquet row held until the run is written (output.contacts)
BASE_BYTES = 200e6  # interpreter, numpy, pandas, per process
MAX_RECONTACT_FACTOR = 10.0  # recontacts add at most this factor of contacts


@dataclass(frozen=True)
class Estimate:
    """Expected contacts per replication and in total, and the peak memory (bytes) of a run."""

    per_replication: float
    contacts: float
    memory_bytes: float


def estimate(scenario: Scenario, replications: int, workers: int = 1, keep_contacts: bool = False) -> Estimate:
    """Expected contacts (arrivals, with recontacts at most MAX_RECONTACT_FACTOR) and memory of a run."""
    arrivals = float(sum(c.volumes.sum() for c in scenario.channels))
    p = scenario.recontact_probability
    per_rep = arrivals * min(1.0 / (1.0 - p) if p < 1 else MAX_RECONTACT_FACTOR, MAX_RECONTACT_FACTOR)
    parallel = max(1, min(workers, replications))
    memory = parallel * (BASE_BYTES + per_rep * BYTES_PER_CONTACT)
    if keep_contacts:
        memory += per_rep * replications * BYTES_PER_KEPT_CONTACT
    return Estimate(per_rep, per_rep * replications, memory)


def check_budget(
    scenario: Scenario, replications: int, workers: int = 1, keep_contacts: bool = False, force: bool = False
) -> Estimate:
    """Refuse a run above MAX_CONTACTS contacts or MAX_MEMORY_GB of memory unless `force`."""
    e = estimate(scenario, replications, workers, keep_contacts)
    gb = e.memory_bytes / 1e9
    if not force and (e.contacts > MAX_CONTACTS or gb > MAX_MEMORY_GB):
        raise ConfigError(
            "force",
            f"this run would simulate about {e.contacts:,.0f} contacts in ~{gb:,.1f} GB of memory "
            f"(limits {MAX_CONTACTS:,} contacts, {MAX_MEMORY_GB:g} GB); lower replications, horizon.days or "
            "volumes, or set force=true",
        )
    return e

"""The demo generator: stream incidents in chunks, insert each chunk in one transaction.

Nothing is held beyond the static world (places, units, rosters) and the current
chunk, so a million testimonies fit in modest memory. One seeded
`random.Random` drives the scenario and another the ids: the same seed gives
the same register and the same ground truth, byte for byte.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from svidok.demo.custody import Custody
from svidok.demo.evidence import EvidenceMaker
from svidok.demo.ids import Batch, Ids
from svidok.demo.people import Identity
from svidok.demo.population import Population
from svidok.demo.scenario import (
    IncidentPlan,
    incident_rows,
    plan_acts,
    plan_incident,
    victim_count,
)
from svidok.demo.stage import build_world
from svidok.demo.testimony import Testimonies
from svidok.demo.truth import Truth
from svidok.errors import ConfigError
from svidok.store.register import Store

DEFAULT_SCALE = 2000
DEFAULT_SEED = 20200809
TESTIMONIES_PER_INCIDENT = 8
CHUNK_INCIDENTS = 500
REUSE_KINDS = ("transport", "facility", "station", "court")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class DemoConfig:
    """How big the scenario is (`scale` testimonies) and which seed draws it."""

    scale: int = DEFAULT_SCALE
    seed: int = DEFAULT_SEED
    chunk_incidents: int = CHUNK_INCIDENTS

    @property
    def incidents(self) -> int:
        return max(1, self.scale // TESTIMONIES_PER_INCIDENT)


@dataclass
class DemoResult:
    counts: dict[str, int] = field(default_factory=dict)
    truth_counts: dict[str, int] = field(default_factory=dict)
    truth_dir: Path = Path()


def allocate(rng: random.Random, total: int, parts: int) -> Iterator[int]:
    """Split `total` testimonies over `parts` incidents: each at least one, a long tail."""
    left_t, left_i = total, parts
    while left_i > 1:
        mean_extra = left_t / left_i - 1
        extra = int(rng.expovariate(1 / mean_extra)) if mean_extra > 0 else 0
        k = 1 + min(extra, left_t - left_i)
        yield k
        left_t, left_i = left_t - k, left_i - 1
    yield left_t


class _Chunker:
    def __init__(self, rng: random.Random, ids: Ids, pop: Population) -> None:
        self.rng, self.ids, self.pop = rng, ids, pop
        self.pool: list[tuple[Identity, int]] = []

    def victims(self, plan: IncidentPlan, batch: Batch) -> None:
        rng, pop = self.rng, self.pop
        for _ in range(victim_count(rng, plan)):
            earlier = [v for v, day in self.pool[-200:] if day <= plan.day and v not in plan.victims]
            if plan.kind in REUSE_KINDS and earlier and rng.random() < 0.6:
                plan.victims.append(rng.choice(earlier))
                continue
            register = rng.random() < 0.85
            roll = rng.random()
            ident = None
            if roll < 0.04:
                ident = pop.namesake("victim", batch, register=register)
            elif roll < 0.07 and plan.victims:
                ident = pop.relative(
                    plan.victims[0], rng.choice(("spouse", "child")), batch, register=register
                )
                ident.kind = "victim"
            ident = ident or pop.new("victim", batch, register=register, born=(1955, 2004))
            plan.victims.append(ident)
            if plan.kind in ("dispersal", "disappearance"):
                self.pool.append((ident, plan.day))


def _check_empty(store: Store) -> None:
    counts = store.counts()
    if counts.get("source") or counts.get("person") or counts.get("place"):
        raise ConfigError(
            "the register already holds records; `svidok demo` needs an empty register "
            "(choose a new --data-dir)"
        )


def generate(
    store: Store, truth_root: Path, config: DemoConfig, progress: Progress | None = None
) -> DemoResult:
    """Fill the empty register `store`; write ground truth under `truth_root/ground_truth`.

    The CLI keeps the ground truth outside the encrypted data directory (it is
    plaintext, fictional, and for benchmarks only).
    """
    _check_empty(store)
    rng = random.Random(config.seed)  # nosec B311 # fictional demo data, seeded to be reproducible
    ids = Ids(config.seed)
    result = DemoResult(truth_dir=truth_root / "ground_truth")
    with Truth(result.truth_dir) as truth:
        pop = Population(rng, ids, truth.identity)
        batch = Batch()
        world = build_world(rng, ids, batch, pop, config.scale)
        for source_id in world.log_sources.values():
            truth.source(source_id, None)
        _flush(store, batch, result)
        testimonies = Testimonies(rng, ids, pop, world, truth)
        custody = Custody(rng, ids, pop, world, truth)
        evidence = EvidenceMaker(rng, ids, world, truth)
        sizes = allocate(rng, config.scale, config.incidents)
        left = config.incidents
        while left:
            size = min(config.chunk_incidents, left)
            left -= size
            chunker = _Chunker(rng, ids, pop)
            custody.new_chunk()
            plans = sorted(
                (plan_incident(rng, ids, world) for _ in range(size)), key=lambda p: (p.start, p.id)
            )
            for plan in plans:
                plan.n_sources = next(sizes)
                chunker.victims(plan, batch)
                plan_acts(rng, ids, plan)
                incident_rows(rng, ids, batch, plan)
                sources = testimonies.write(plan, batch)
                custody.write(plan, batch)
                evidence.write(plan, sources, batch)
            _flush(store, batch, result)
            if progress:
                progress(sum(p.n_sources for p in plans))
        result.truth_counts = dict(truth.counts)
    return result


SQLITE_CACHE_KIB = 131_072
"""Page cache for the bulk insert on SQLite (per connection, negative = KiB)."""


def _flush(store: Store, batch: Batch, result: DemoResult) -> None:
    with store.begin() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        for kind, n in batch.flush(conn).items():
            result.counts[kind] = result.counts.get(kind, 0) + n

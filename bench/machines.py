"""Scenario "machine cost": firing the engine's shared machine vs. building a Machine per case."""

from __future__ import annotations

import gc
import time
import tracemalloc
from dataclasses import dataclass
from types import SimpleNamespace

from transitions import Machine

from workflow.machines import Token, machine_for
from workflow.pipelines import Pipeline

TRIGGER, SOURCE = "start_unit_notice", "unit_review"  # a guard-free step, so only machine costs are compared


@dataclass
class MachineResult:
    """Per-case cost of each approach and the memory of holding many loaded cases."""

    cases: int
    shared_us: float
    per_case_us: float
    shared_kib_per_10k: float
    per_case_kib_per_10k: float

    @property
    def speedup(self) -> float:
        """How many times faster the shared machine loads and fires a case."""
        return self.per_case_us / self.shared_us


def _per_case_machine(p: Pipeline, state: str) -> SimpleNamespace:
    model = SimpleNamespace()
    edges = [{"trigger": t.trigger, "source": src, "dest": t.dest} for t in p.transitions for src in t.source]
    Machine(model=model, states=[s.name for s in p.states], transitions=edges, initial=state,
            auto_transitions=False)
    return model


def _time(fn, n: int) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def _peak_kib(make, n: int) -> float:
    gc.collect()
    tracemalloc.start()
    held = [make() for _ in range(n)]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del held
    return peak / 1024 * (10_000 / n)


def run(p: Pipeline, cases: int) -> MachineResult:
    """Load-and-fire ``cases`` cases each way; measure memory while holding them."""
    shared = machine_for(p)
    event = shared.events[TRIGGER]

    def fire_shared() -> None:
        token = Token(SOURCE, SimpleNamespace(taken=None))
        event.trigger(token)

    def fire_per_case() -> None:
        model = _per_case_machine(p, SOURCE)
        getattr(model, TRIGGER)()

    fire_shared()  # build and warm outside the timing
    shared_us = _time(fire_shared, cases)
    per_case_us = _time(fire_per_case, max(cases // 10, 50))
    sample = min(cases, 2_000)
    return MachineResult(
        cases=cases, shared_us=shared_us, per_case_us=per_case_us,
        shared_kib_per_10k=_peak_kib(lambda: Token(SOURCE, None), sample),
        per_case_kib_per_10k=_peak_kib(lambda: _per_case_machine(p, SOURCE), sample),
    )

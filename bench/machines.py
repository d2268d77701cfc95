"""Scenario "machine cost": firing the engine's shared machine vs. building a Machine per case.

Both sides use the engine's own machine builder (the same states, transitions, guards and callbacks), fire
the same guard-free step, and are measured the same way: time per load-and-fire, and the peak memory
traced while holding N loaded cases — for the shared side that includes building its one machine.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from workflow.engine.machines import Token, build_machine, machine_for
from workflow.pipeline.schema import Pipeline

TRIGGER, SOURCE = "start_unit_notice", "unit_review"  # a guard-free step, so only machine costs are compared
MEMORY_CASES = 10_000


@dataclass
class MachineResult:
    """Per-case cost of each approach and the memory of holding many loaded cases."""

    cases: int
    shared_us: float
    per_case_us: float
    shared_kib_per_10k: float
    per_case_kib_per_10k: float
    per_case_sample: int

    @property
    def speedup(self) -> float:
        """How many times faster the shared machine loads and fires a case."""
        return self.per_case_us / self.shared_us


def _ctx() -> SimpleNamespace:
    return SimpleNamespace(taken=None, cache={})


def _per_case(p: Pipeline) -> SimpleNamespace:
    """A loaded case the per-case way: a model with its own Machine (which attaches the trigger methods)."""
    model = SimpleNamespace(ctx=_ctx())
    build_machine(p, model=model, initial=SOURCE)
    return model


def _time(fn: Callable[[], Any], n: int) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def _peak_kib(load: Callable[[int], list[Any]], n: int) -> float:
    """Peak traced memory (KiB) while ``load(n)`` builds and holds ``n`` loaded cases, scaled to 10k cases."""
    gc.collect()
    tracemalloc.start()
    try:
        held = load(n)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del held
    gc.collect()
    return peak / 1024 * (MEMORY_CASES / n)


def run(p: Pipeline, cases: int) -> MachineResult:
    """Load-and-fire ``cases`` cases each way; measure memory while holding them.

    The shared side's memory is measured with exactly 10,000 cases (its one machine must not be scaled);
    the per-case side with a sample (its cost is linear: nothing is shared) scaled to 10,000.
    """
    event = machine_for(p).events[TRIGGER]

    def fire_shared() -> None:
        """Load a case onto a token and fire the shared machine."""
        token = Token(SOURCE, _ctx())
        event.trigger(token)

    def fire_per_case() -> None:
        """Load a case by building its own machine, then fire it."""
        model = _per_case(p)
        getattr(model, TRIGGER)()

    def load_shared(n: int) -> list[Any]:
        """A freshly built shared machine and n tokens."""
        machine = build_machine(p)  # a fresh one, so that its memory is traced too
        return [machine, *(Token(SOURCE, _ctx()) for _ in range(n))]

    def load_per_case(n: int) -> list[Any]:
        """n models, each with its own machine."""
        return [_per_case(p) for _ in range(n)]

    fire_shared()  # warm both paths outside the timing
    fire_per_case()
    shared_us = _time(fire_shared, cases)
    per_case_us = _time(fire_per_case, max(cases // 10, 50))
    sample = min(cases, 2_000)
    return MachineResult(
        cases=cases, shared_us=shared_us, per_case_us=per_case_us,
        shared_kib_per_10k=_peak_kib(load_shared, MEMORY_CASES),
        per_case_kib_per_10k=_peak_kib(load_per_case, sample), per_case_sample=sample,
    )

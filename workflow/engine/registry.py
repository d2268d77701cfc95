"""The allow-list of guards and actions a definition may name.

Definitions refer to behaviour by name only. ``transitions`` would import any dotted path a definition
names; resolving names here instead means a YAML file can never reach code that was not written to be
called from a pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Hook:
    """A registered guard or action: its name, function, the pipeline parameters it reads, and its purpose."""

    name: str
    func: Callable[..., Any]
    params: tuple[str, ...]
    doc: str
    needs: frozenset[str] = frozenset()
    """The facts (:data:`FACTS`) a guard reads; it may read no other (``TransitionContext.fact`` refuses)."""


@dataclass(frozen=True)
class Fact:
    """A datum guards read beyond the case row: its loader, run at most once per firing, and whether it
    depends on the case alone (then one load serves every action offered on the case's page) or also on the
    firing (its trigger, its data or its secrets)."""

    name: str
    func: Callable[..., Any]
    per_case: bool
    doc: str


GUARDS: dict[str, Hook] = {}
ACTIONS: dict[str, Hook] = {}
FACTS: dict[str, Fact] = {}


def _first_line(func: Callable) -> str:
    return (func.__doc__ or "").strip().splitlines()[0]


def _register(table: dict[str, Hook], name: str, params: tuple[str, ...],
              needs: tuple[str, ...] = ()) -> Callable:
    def decorate(func: Callable) -> Callable:
        if name in table:
            raise RuntimeError(f"hook {name!r} registered twice")
        table[name] = Hook(name, func, params, _first_line(func), frozenset(needs))
        return func

    return decorate


def guard(name: str, *, params: tuple[str, ...] = (), needs: tuple[str, ...] = ()) -> Callable:
    """Register a guard: ``func(ctx) -> str | None`` returns None to allow, or a reason (Chinese) to refuse.

    ``needs`` declares the facts it reads (``ctx.fact(name)``): the engine loads each at most once per firing,
    however many guards and branches read it, and a guard cannot read one it did not declare.
    """
    return _register(GUARDS, name, params, needs)


def fact(name: str, *, per_case: bool = False) -> Callable:
    """Register a fact loader: ``func(ctx) -> value``, reading what guards need in the firing's transaction.

    ``per_case``: the value depends only on the case and the moment (not on the trigger, data or secrets).
    """
    def decorate(func: Callable) -> Callable:
        if name in FACTS:
            raise RuntimeError(f"fact {name!r} registered twice")
        FACTS[name] = Fact(name, func, per_case, _first_line(func))
        return func

    return decorate


def action(name: str, *, params: tuple[str, ...] = ()) -> Callable:
    """Register an action: ``func(ctx) -> None``, run inside the transition's transaction after the change."""
    return _register(ACTIONS, name, params)


def undeclared_needs() -> dict[str, set[str]]:
    """Guards whose declared needs name no registered fact (guard → the unknown names); empty when sound."""
    return {g.name: set(g.needs - FACTS.keys()) for g in GUARDS.values() if g.needs - FACTS.keys()}


def load_builtin_hooks() -> None:
    """Import the modules that register the built-in guards, actions and facts (idempotent)."""
    from workflow.eligibility import gate, verification  # noqa: F401 - imported for their registrations
    from workflow.engine import actions, guards  # noqa: F401 - imported for their registrations
    from workflow.panel import ballots, conflicts  # noqa: F401 - imported for their registrations

    if unknown := undeclared_needs():
        raise RuntimeError(f"guards need facts nobody registered: {unknown}")

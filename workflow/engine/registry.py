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


GUARDS: dict[str, Hook] = {}
ACTIONS: dict[str, Hook] = {}


def _register(table: dict[str, Hook], name: str, params: tuple[str, ...]) -> Callable:
    def decorate(func: Callable) -> Callable:
        if name in table:
            raise RuntimeError(f"hook {name!r} registered twice")
        table[name] = Hook(name, func, params, (func.__doc__ or "").strip().splitlines()[0])
        return func

    return decorate


def guard(name: str, *, params: tuple[str, ...] = ()) -> Callable:
    """Register a guard: ``func(ctx) -> str | None`` returns None to allow, or a reason (Chinese) to refuse."""
    return _register(GUARDS, name, params)


def action(name: str, *, params: tuple[str, ...] = ()) -> Callable:
    """Register an action: ``func(ctx) -> None``, run inside the transition's transaction after the change."""
    return _register(ACTIONS, name, params)


def load_builtin_hooks() -> None:
    """Import the modules that register the built-in guards and actions (idempotent)."""
    from workflow.eligibility import verification  # noqa: F401 - imported for their registrations
    from workflow.engine import actions, guards  # noqa: F401 - imported for their registrations
    from workflow.panel import conflicts  # noqa: F401 - imported for their registrations

"""One shared, model-less ``transitions.Machine`` per pipeline version.

Building a Machine costs ~0.5–2 ms and tens of KiB, firing a shared one ~7 µs (design.md §2), so machines
are built once per (id, version) and fired on a throw-away :class:`Token` that carries the state and the
transition context. ``auto_transitions`` is off: its ``to_<state>()`` shortcuts would skip every guard.
Guards and actions are resolved by name through :mod:`workflow.engine.registry` only.
"""

from __future__ import annotations

import threading
from typing import Any

from transitions import Machine

from workflow.engine.registry import ACTIONS, load_builtin_hooks
from workflow.pipeline.schema import Pipeline, TransitionDef

_machines: dict[tuple[str, int], Machine] = {}
_lock = threading.Lock()


class Token:
    """The stand-in model a shared machine fires on: the current state plus the context of this firing."""

    __slots__ = ("ctx", "state")

    def __init__(self, state: str, ctx: Any) -> None:
        self.state = state
        self.ctx = ctx


def _condition(name: str):
    def check(event_data) -> bool:
        ctx = event_data.model.ctx
        # Branches of one trigger often share a guard (complete_pre_review's two branches both count the
        # opinions): conditions of every branch run before any action, so one answer per firing holds.
        answers = ctx.cache.setdefault("guard_answers", {})
        if name in answers:
            reason = answers[name]
        else:
            reason = answers[name] = ctx.check(name)
        if reason:
            ctx.refusals.append(reason)
            return False
        return True

    check.__name__ = f"guard_{name}"
    return check


def _taken(tdef: TransitionDef):
    def mark(event_data) -> None:
        event_data.model.ctx.taken = tdef

    return mark


def _action(name: str):
    hook = ACTIONS[name]

    def run(event_data) -> None:
        hook.func(event_data.model.ctx)

    run.__name__ = f"action_{name}"
    return run


def build_machine(p: Pipeline, model: Any = None, initial: str | None = None) -> Machine:
    """A new Machine for ``p`` with the engine's guards and actions: model-less (shared) unless ``model`` is
    given. The engine builds one per version (:func:`machine_for`); the benchmark builds one per case to
    show what that would cost."""
    load_builtin_hooks()
    transitions: list[dict[str, Any]] = []
    for t in p.transitions:
        for src in t.source:
            transitions.append({
                "trigger": t.trigger,
                "source": src,
                "dest": t.dest,
                "conditions": [_condition(g) for g in t.guards],
                "before": [_taken(t)],
                "after": [_action(a) for a in t.actions],
            })
    return Machine(
        model=model,
        states=[s.name for s in p.states],
        transitions=transitions,
        initial=initial or p.initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
        queued=False,
    )


def machine_for(p: Pipeline) -> Machine:
    """The shared machine of pipeline ``p`` (built on first use, then cached)."""
    key = (p.id, p.version)
    machine = _machines.get(key)
    if machine is None:
        with _lock:
            machine = _machines.get(key)
            if machine is None:
                machine = _machines[key] = build_machine(p)
    return machine


def fire_on_token(p: Pipeline, trigger: str, token: Token) -> bool:
    """Run ``trigger`` on ``token``; True when a transition was taken (token.state then holds the new state)."""
    return machine_for(p).events[trigger].trigger(token)

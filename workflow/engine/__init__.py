"""Firing transitions: the only code that changes a case's state.

* :mod:`.core` — ``fire``, ``open_case``, ``available_actions``: the transaction around one transition;
* :mod:`.commands` — the whole request to act on a case, the same for the HTML view and the API;
* :mod:`.machines` — one shared ``transitions`` machine per pipeline version;
* :mod:`.guards`, :mod:`.actions` — the built-in guards and actions a definition may name, through the
  allow-list in :mod:`.registry`; :mod:`.context` is what they see while a transition fires;
* :mod:`.timers` — deadlines fired by ``titlereview tick``;
* :mod:`.storage` — the statements of the write path issued straight through the database driver (the one
  module that uses the DBAPI cursor; ``tests/test_storage_contract.py`` holds it to the SQLAlchemy path).

May import: :mod:`workflow.pipeline`, :mod:`workflow.access`, :mod:`workflow.time`, :mod:`workflow.models`,
:mod:`workflow.db`, :mod:`workflow.errors`; guards and actions also reach the areas whose rules they apply
(panel, eligibility, records). Never Flask.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "RESTART_PAUSED_DEADLINES", "ActionOption", "Fired", "available_actions", "case_row", "effective_params",
    "fire", "may_fire", "open_case"
]
"""The public names of :mod:`workflow.engine.core` (this package was that module before the core was
grouped by area)."""


def __getattr__(name: str) -> Any:
    """Load a public name from :mod:`workflow.engine.core` on first use: importing the package eagerly would
    import the whole module graph from any of its submodules (and tie import cycles)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("workflow.engine.core"), name)
    globals()[name] = value
    return value

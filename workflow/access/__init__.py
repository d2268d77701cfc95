"""Who may see and who may act: roles, visibility of cases (in Python and as one SQL scope for listings),
permission to fire a transition, passwords, API tokens, the masked identity number and objectors' privacy.

May import: :mod:`workflow.models`, :mod:`workflow.db`, :mod:`workflow.errors`, :mod:`workflow.pipeline`, and
the committee's conflict rules (:mod:`workflow.panel.conflicts`) for the seated members' view.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "REVIEWER_ROLES", "VisibleCases", "can_view_case", "dossier_relations", "seat_role", "viewing_relations",
    "visible_case_condition", "visible_cases"
]
"""The public names of :mod:`workflow.access.visibility` (this package was that module before the core was
grouped by area)."""


def __getattr__(name: str) -> Any:
    """Load a public name from :mod:`workflow.access.visibility` on first use: importing the package eagerly would
    import the whole module graph from any of its submodules (and tie import cycles)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("workflow.access.visibility"), name)
    globals()[name] = value
    return value

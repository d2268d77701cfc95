"""titlereview's domain core, grouped by area (docs/design.md, "Map of the house"):

* :mod:`workflow.engine` — firing transitions, the command layer, guards, actions, timers, the driver path;
* :mod:`workflow.pipeline` — pipelines, stages and inboxes as data, and the catalogue of stored versions;
* :mod:`workflow.access` — roles, who may see a case (one SQL scope for every listing), who may act;
* :mod:`workflow.time` — working days on the mainland China calendar;
* :mod:`workflow.panel` — the expert pool, committee, conflicts, pre-review, sitting and secret ballot;
* :mod:`workflow.eligibility` — declarations, occupation standards and the evaluator;
* :mod:`workflow.records` — audit chain and checkpoints, materials, notices, certificates, mail, queries,
  reports and exports;
* at the top: :mod:`workflow.db`, :mod:`workflow.models`, :mod:`workflow.errors`, :mod:`workflow.migrate`,
  :mod:`workflow.bootstrap`, :mod:`workflow.administration`, :mod:`workflow.directory`,
  :mod:`workflow.preferences`.

The names below are the short public API; each is loaded on first use, so importing one area does not import
them all. The core never imports Flask.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

_API = {
    "Database": "workflow.db",
    "WorkflowError": "workflow.errors",
    "Actor": "workflow.access.roles",
    "fire": "workflow.engine.core",
    "open_case": "workflow.engine.core",
    "available_actions": "workflow.engine.core",
    "may_fire": "workflow.engine.core",
    "act": "workflow.engine.commands",
    "Submission": "workflow.engine.commands",
    "get_pipeline": "workflow.pipeline.catalog",
    "evaluate": "workflow.eligibility",
}
"""Public name → the module that defines it."""

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'workflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


MOVED = {
    "machines": "engine.machines",
    "guards": "engine.guards",
    "actions": "engine.actions",
    "registry": "engine.registry",
    "context": "engine.context",
    "commands": "engine.commands",
    "timers": "engine.timers",
    "hotpath": "engine.storage",
    "pipelines": "pipeline.schema",
    "pipeline_bases": "pipeline.bases",
    "catalog": "pipeline.catalog",
    "stages": "pipeline.stages",
    "inboxes": "pipeline.inboxes",
    "yamlsource": "pipeline.yamlsource",
    "permissions": "access.permissions",
    "roles": "access.roles",
    "passwords": "access.passwords",
    "api_tokens": "access.api_tokens",
    "objector_privacy": "access.objector_privacy",
    "identity": "access.identity",
    "calendar": "time.calendar",
    "calendar_overrides": "time.overrides",
    "workdays": "time.workdays",
    "ballots": "panel.ballots",
    "ballot_keys": "panel.ballot_keys",
    "ballot_sheet": "panel.ballot_sheet",
    "committee": "panel.committee",
    "conflicts": "panel.conflicts",
    "experts": "panel.experts",
    "prereview": "panel.prereview",
    "sitting": "panel.sitting",
    "sitting_agenda": "panel.agenda",
    "panel_audit": "panel.audit",
    "eligibility_gate": "eligibility.gate",
    "standards": "eligibility.standards",
    "standards_store": "eligibility.standards_store",
    "standards_diff": "eligibility.standards_diff",
    "standards_drafts": "eligibility.standards_drafts",
    "standards_labels": "eligibility.standards_labels",
    "standards_validation": "eligibility.standards_validation",
    "profiles": "eligibility.profiles",
    "dossier": "eligibility.dossier",
    "verification": "eligibility.verification",
    "audit": "records.audit",
    "checkpoints": "records.checkpoints",
    "attachments": "records.attachments",
    "certificate_pdf": "records.certificate_pdf",
    "notices": "records.notices",
    "notify": "records.notify",
    "mailer": "records.mailer",
    "backup": "records.backup",
    "spreadsheet": "records.spreadsheet",
    "reports": "records.reports",
    "process_view": "records.process_view",
    "queries": "records.queries",
}
"""Module paths from before the core was grouped by area (``workflow.<old>`` → ``workflow.<new>``). Scripts
outside the repository that import an old path get the same module object; nothing inside uses them
(``tests/test_layout.py``). The old ``workflow.engine`` and ``workflow.access`` modules are now packages of
the same name that re-export their public names."""


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old module path to the module at its new place (the same object, not a copy)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        """A spec for ``workflow.<old>`` paths only."""
        prefix, _, leaf = fullname.partition(".")
        if prefix == "workflow" and leaf in MOVED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        """The module at its new place, imported if need be."""
        return importlib.import_module(f"workflow.{MOVED[spec.name.partition('.')[2]]}")

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was executed at its new place."""


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())

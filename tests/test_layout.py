"""The core is grouped by area (issue 16, item 4): what sits at the top of ``workflow/``, that nothing in the
repository imports a module by its old flat path, that the old paths still resolve for outside scripts, that the
short public API loads, and that only the storage module talks to the database driver directly."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import workflow

ROOT = Path(__file__).resolve().parent.parent
AREAS = {"engine", "pipeline", "access", "time", "panel", "eligibility", "records", "models"}
TOP_MODULES = {"__init__", "db", "errors", "migrate", "bootstrap", "administration", "directory", "preferences"}


def _python_files() -> list[Path]:
    return sorted(p for top in ("workflow", "web", "tests", "bench", "seed") for p in (ROOT / top).rglob("*.py")
                  if "migrations" not in p.parts)


def test_the_top_of_the_core_is_areas_and_a_few_shared_modules():
    top = ROOT / "workflow"
    modules = {p.stem for p in top.glob("*.py")}
    packages = {p.name for p in top.iterdir() if (p / "__init__.py").exists()}
    assert modules == TOP_MODULES, sorted(modules ^ TOP_MODULES)
    assert packages == AREAS, sorted(packages ^ AREAS)
    assert (top / "migrations" / "env.py").exists()  # Alembic's folder, not a package
    for area in AREAS:
        assert importlib.import_module(f"workflow.{area}").__doc__, f"workflow.{area} says what it holds"


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_in_the_repository_imports_an_old_path(path: Path):
    old = set(workflow.MOVED)
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            parts = node.module.split(".")
            if parts[0] == "workflow" and len(parts) > 1 and parts[1] in old:
                hits.append(f"{node.lineno}: from {node.module} import …")
            elif node.module == "workflow":
                hits.extend(f"{node.lineno}: from workflow import {a.name}" for a in node.names if a.name in old)
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "workflow" and len(parts) > 1 and parts[1] in old:
                    hits.append(f"{node.lineno}: import {a.name}")
    assert not hits, hits


@pytest.mark.parametrize(("old", "new"), sorted(workflow.MOVED.items()))
def test_an_old_path_is_the_module_at_its_new_place(old: str, new: str):
    assert importlib.import_module(f"workflow.{old}") is importlib.import_module(f"workflow.{new}")


def test_the_engine_and_access_packages_offer_what_their_modules_did():
    """``workflow.engine`` and ``workflow.access`` were modules and are now packages: they re-export the
    public names of the module that holds their old content."""
    from workflow import access, engine
    from workflow.access import visibility
    from workflow.engine import core

    for name in engine.__all__:
        assert getattr(engine, name) is getattr(core, name)
    for name in access.__all__:
        assert getattr(access, name) is getattr(visibility, name)
    assert {"fire", "open_case", "available_actions"} <= set(engine.__all__)


def test_the_public_api_loads():
    for name in workflow.__all__:
        assert getattr(workflow, name) is not None
    assert workflow.fire is importlib.import_module("workflow.engine.core").fire
    with pytest.raises(AttributeError):
        _ = workflow.no_such_name


def test_only_the_storage_module_opens_driver_cursors():
    """The raw-driver write path lives in one module (its contract test: tests/test_storage_contract.py);
    the database module opens cursors only to configure connections as they are made."""
    allowed = {"workflow/engine/storage.py", "workflow/db.py"}
    found = {str(p.relative_to(ROOT)) for p in (ROOT / "workflow").rglob("*.py")
             if "driver_connection" in p.read_text(encoding="utf-8")}
    assert found <= allowed, sorted(found - allowed)


def _web_files() -> list[Path]:
    return sorted((ROOT / "web").rglob("*.py"))


@pytest.mark.parametrize("path", _web_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_web_layer_writes_no_sql_and_imports_no_private_core_name(path: Path):
    """Views parse, call the core and render: no SQLAlchemy, no table objects, no ``conn.execute`` of their
    own, no underscore name of a core module, and the database only through ``web.extensions.get_db()``."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] == "sqlalchemy":
                problems.append(f"{node.lineno}: imports from {node.module}")
            if node.module.split(".")[0] == "workflow":
                problems.extend(f"{node.lineno}: imports the private {a.name} from {node.module}"
                                for a in node.names if a.name.startswith("_"))
        elif isinstance(node, ast.Import):
            problems.extend(f"{node.lineno}: imports {a.name}" for a in node.names
                            if a.name.split(".")[0] == "sqlalchemy")
        elif isinstance(node, ast.Attribute):
            if node.attr == "__table__":
                problems.append(f"{node.lineno}: uses a model's __table__")
            elif node.attr.startswith("_") and not node.attr.startswith("__") and isinstance(node.value, ast.Name) \
                    and node.value.id in {"queries", "engine", "ballots", "access", "sitting", "prereview"}:
                problems.append(f"{node.lineno}: uses the private {node.value.id}.{node.attr}")
    if str(path.relative_to(ROOT)) not in ("web/extensions.py", "web/__init__.py") and (
            "extensions[DB_EXTENSION]" in text or "titlereview_db" in text):
        # (the app factory registers the database; get_db() reads it)
        problems.append("reaches the app's extensions directly instead of through get_db()")
    assert not problems, problems

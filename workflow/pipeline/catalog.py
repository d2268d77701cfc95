"""Which pipeline versions exist, and the parsed definition for any (id, version).

Files in ``definitions/pipelines`` are the source; :func:`sync_pipelines` copies each new (id, version)
into the ``pipeline_version`` table, so a case keeps running on the exact text it started with even after
the file moves on. Parsed definitions are immutable per (id, version), so caching them in-process is safe
across workers; "which version is newest" is always read from the database.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, insert, select

from workflow.db import Database
from workflow.models import PipelineVersion
from workflow.pipeline.schema import Pipeline, StateDef, load_pipeline_dir, parse_pipeline
from workflow.pipeline.yamlsource import DefinitionError

DEFINITIONS_DIR = Path(__file__).resolve().parents[2] / "definitions"
PIPELINES_DIR = DEFINITIONS_DIR / "pipelines"

_cache: dict[tuple[str, str, int], Pipeline] = {}
_cache_lock = threading.Lock()
_newest: dict[str, dict[str, int]] = {}
"""The newest version of each pipeline, per database URL. Versions are added only by :func:`sync_pipelines`,
which runs when a process starts with new definitions (a deployment) and clears this; every page that shows a
state asks, so it is not read from the database each time."""
_pv = PipelineVersion.__table__


class UnknownPipeline(LookupError):
    """No such pipeline (or version) is stored."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sync_pipelines(db: Database, directory: Path = PIPELINES_DIR) -> list[tuple[str, int]]:
    """Store every pipeline file whose (id, version) is new; return what was added.

    Refuses (DefinitionError) a file whose text changed while its version did not: running cases would
    otherwise change behaviour underneath their users. Everything is checked before anything is written.
    """
    found = load_pipeline_dir(directory)
    added: list[tuple[str, int]] = []
    with db.write() as conn:
        for pid, (pipeline, text) in sorted(found.items()):
            stored = conn.execute(
                select(_pv.c.sha256).where(_pv.c.pipeline_id == pid, _pv.c.version == pipeline.version)
            ).scalar()
            if stored is None:
                conn.execute(insert(_pv).values(pipeline_id=pid, version=pipeline.version, source_text=text,
                                                sha256=_sha(text)))
                added.append((pid, pipeline.version))
                _newest.pop(db.url, None)
            elif stored != _sha(text):
                raise DefinitionError(
                    f"pipeline {pid!r} version {pipeline.version} is already in use with different content; "
                    "raise 'version' to publish a change", line=1, source=str(directory / f"{pid}.yaml"))
    _newest.pop(db.url, None)  # again after the commit: a reader may have cached the old versions meanwhile
    return added


def get_pipeline(db: Database, pipeline_id: str, version: int) -> Pipeline:
    """The parsed definition of (id, version), from the cache or the database."""
    key = (db.url, pipeline_id, version)  # one process may use several databases (tests, tools)
    pipeline = _cache.get(key)
    if pipeline is not None:
        return pipeline
    with db.read() as conn:
        text = conn.execute(
            select(_pv.c.source_text).where(_pv.c.pipeline_id == pipeline_id, _pv.c.version == version)
        ).scalar()
    if text is None:
        raise UnknownPipeline(f"pipeline {pipeline_id!r} version {version} is not stored")
    pipeline = parse_pipeline(text, f"{pipeline_id}@{version}", stored=True)
    with _cache_lock:
        _cache.setdefault(key, pipeline)
    return _cache[key]


def latest_versions(db: Database) -> dict[str, int]:
    """The newest stored version of each pipeline id (new cases start on these)."""
    known = _newest.get(db.url)
    if known is not None:
        return dict(known)
    with db.read() as conn:
        rows = conn.execute(
            select(_pv.c.pipeline_id, func.max(_pv.c.version)).group_by(_pv.c.pipeline_id)
        ).all()
    found = {pid: int(v) for pid, v in rows}
    if found:  # an empty database is about to be synced: ask again next time
        with _cache_lock:
            _newest[db.url] = found
    return dict(found)


def latest_pipelines(db: Database) -> list[Pipeline]:
    """The newest version of every stored pipeline, ordered by id."""
    return [get_pipeline(db, pid, v) for pid, v in sorted(latest_versions(db).items())]


def state_names(db: Database, test: Callable[[StateDef], bool]) -> tuple[str, ...]:
    """The names of the states of the current pipelines for which ``test`` holds (e.g. the committee's states:
    ``lambda s: s.panel_step is not None``), so a screen selects states by what they mean, not by name."""
    return tuple(sorted({s.name for p in latest_pipelines(db) for s in p.states if test(s)}))


def states_acted_on_by(db: Database, role: str) -> tuple[str, ...]:
    """The states of the current pipelines from which ``role`` may fire a transition: where a case waits for
    that role (e.g. the superior departments' queue)."""
    return tuple(sorted({src for p in latest_pipelines(db) for t in p.transitions if role in t.roles
                         for src in t.source}))


_SCREEN_FIELDS = ("inbox", "panel_step", "decided", "outcome", "notice")
"""What a state says about how screens treat it, as opposed to how the engine runs it."""


def screen_state(db: Database, pipeline_id: str, version: int, name: str) -> StateDef:
    """State ``name`` of the pinned pipeline version, with what screens need read from the newest version of the
    same pipeline when it still has that state.

    A running case stays on the version it started with, but a version written before states said what
    screens need (the committee's step, the outcome …) says nothing: without this, a case pinned to it would
    lose its panel forms on upgrade. What the engine runs (transitions, guards, deadlines) always comes from
    the pinned version.
    """
    pinned = get_pipeline(db, pipeline_id, version).state_map[name]
    newest_version = latest_versions(db).get(pipeline_id)
    if newest_version is None or newest_version == version:
        return pinned
    newest = get_pipeline(db, pipeline_id, newest_version).state_map.get(name)
    if newest is None:
        return pinned
    return pinned.model_copy(update={field: getattr(newest, field) for field in _SCREEN_FIELDS})


def screen_pipeline(db: Database, pipeline_id: str, version: int) -> Pipeline:
    """The pinned pipeline version with every state's screen attributes read as :func:`screen_state` reads them,
    for code that reasons over whole definitions (reports, listings) rather than one state."""
    pinned = get_pipeline(db, pipeline_id, version)
    newest_version = latest_versions(db).get(pipeline_id)
    if newest_version is None or newest_version == version:
        return pinned
    states = [screen_state(db, pipeline_id, version, st.name) for st in pinned.states]
    if states == pinned.states:
        return pinned
    return Pipeline.model_validate({**pinned.model_dump(), "states": [st.model_dump() for st in states]})


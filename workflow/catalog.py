"""Which pipeline versions exist, and the parsed definition for any (id, version).

Files in ``definitions/pipelines`` are the source; :func:`sync_pipelines` copies each new (id, version)
into the ``pipeline_version`` table, so a case keeps running on the exact text it started with even after
the file moves on. Parsed definitions are immutable per (id, version), so caching them in-process is safe
across workers; "which version is newest" is always read from the database.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from sqlalchemy import func, insert, select

from .db import Database
from .models import PipelineVersion
from .pipelines import Pipeline, load_pipeline_dir, parse_pipeline
from .yamlsource import DefinitionError

DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "definitions"
PIPELINES_DIR = DEFINITIONS_DIR / "pipelines"

_cache: dict[tuple[str, str, int], Pipeline] = {}
_cache_lock = threading.Lock()
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
            elif stored != _sha(text):
                raise DefinitionError(
                    f"pipeline {pid!r} version {pipeline.version} is already in use with different content; "
                    "raise 'version' to publish a change", line=1, source=str(directory / f"{pid}.yaml"))
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
    pipeline = parse_pipeline(text, f"{pipeline_id}@{version}")
    with _cache_lock:
        _cache.setdefault(key, pipeline)
    return _cache[key]


def latest_versions(db: Database) -> dict[str, int]:
    """The newest stored version of each pipeline id (new cases start on these)."""
    with db.read() as conn:
        rows = conn.execute(
            select(_pv.c.pipeline_id, func.max(_pv.c.version)).group_by(_pv.c.pipeline_id)
        ).all()
    return {pid: int(v) for pid, v in rows}


def latest_pipelines(db: Database) -> list[Pipeline]:
    """The newest version of every stored pipeline, ordered by id."""
    return [get_pipeline(db, pid, v) for pid, v in sorted(latest_versions(db).items())]

"""``titlereview bench``: every scenario against its floor, a readable table, and one JSON line last.

Ratios, not absolute times, are the results: this machine is shared and noisy, so both sides of each
comparison run in the same process, one right after the other. ``--quick`` uses small N, SQLite, and
PostgreSQL only when a server answers (else the PostgreSQL figures are ``null``).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from workflow import migrate
from workflow.catalog import get_pipeline, latest_versions, sync_pipelines
from workflow.db import Database
from workflow.standards_store import sync_standards

from . import machines, transitions

PG_ADMIN = os.environ.get("TITLEREVIEW_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def sqlite_db():
    """A fresh migrated SQLite database in a temporary directory."""
    with tempfile.TemporaryDirectory() as d:
        db = Database(f"sqlite:///{d}/bench.db")
        migrate.upgrade(db)
        sync_pipelines(db)
        sync_standards(db)
        try:
            yield db
        finally:
            db.dispose()


@contextmanager
def postgres_db():
    """A fresh migrated PostgreSQL database, dropped afterwards; yields None when no server answers."""
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception:  # no server: the PostgreSQL figures are reported as null
        yield None
        return
    name = f"titlereview_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    try:
        migrate.upgrade(db)
        sync_pipelines(db)
        sync_standards(db)
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(quick: bool) -> dict:
    """Run every scenario; return the results keyed as the issue names them."""
    n_cases = 40 if quick else 400
    rows: list[tuple[str, str, str]] = []
    out: dict = {}
    with sqlite_db() as db:
        r = transitions.run(db, n_cases)
        out["engine_vs_raw_sqlite"] = round(r.ratio, 3)
        rows.append(("transitions · SQLite", f"engine {r.engine_tps:,.0f}/s vs raw {r.raw_tps:,.0f}/s",
                     f"{r.ratio:.2f}×"))
        p = get_pipeline(db, transitions.PIPELINE, latest_versions(db)[transitions.PIPELINE])
    with postgres_db() as pg:
        if pg is None:
            out["engine_vs_raw_postgres"] = None
            rows.append(("transitions · PostgreSQL", "no server", "null"))
        else:
            r = transitions.run(pg, n_cases // 2 if quick else n_cases)
            out["engine_vs_raw_postgres"] = round(r.ratio, 3)
            rows.append(("transitions · PostgreSQL", f"engine {r.engine_tps:,.0f}/s vs raw {r.raw_tps:,.0f}/s",
                         f"{r.ratio:.2f}×"))
    m = machines.run(p, 2_000 if quick else 20_000)
    out["shared_vs_per_case_machine"] = round(m.speedup, 1)
    out["machine_kib_per_10k_shared"] = round(m.shared_kib_per_10k)
    out["machine_kib_per_10k_per_case"] = round(m.per_case_kib_per_10k)
    rows.append(("machine cost", f"shared {m.shared_us:.1f} µs vs per-case {m.per_case_us:.0f} µs",
                 f"{m.speedup:.0f}× faster"))
    rows.append(("memory / 10k loaded cases", f"shared {m.shared_kib_per_10k:,.0f} KiB vs per-case "
                 f"{m.per_case_kib_per_10k:,.0f} KiB", ""))
    _print_table(rows)
    if not quick:
        _write_report(rows, out)
    return out


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    mid = max(len(r[1]) for r in rows)
    for name, detail, ratio in rows:
        print(f"{name:<{width}}  {detail:<{mid}}  {ratio}")


def _write_report(rows: list[tuple[str, str, str]], out: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench-{stamp}.md"
    lines = [f"# titlereview benchmark {stamp} UTC", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.platform()}", "", "| scenario | measured | ratio |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += ["", "```json", json.dumps(out, ensure_ascii=False), "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"report written to {path}")
    return path


def main(quick: bool = False) -> None:
    """Entry point used by ``titlereview bench``; the last printed line is the JSON object."""
    out = run(quick)
    print(json.dumps(out, ensure_ascii=False))

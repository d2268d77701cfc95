"""``titlereview bench``: every scenario against its floor, a readable table, and one JSON line last.

Ratios, not absolute times, are the results: this machine is shared and noisy, so both sides of each
comparison run in the same process, interleaved (see :mod:`bench.transitions`). ``--quick`` uses small N,
SQLite, and PostgreSQL only when a server answers (else the PostgreSQL figures are ``null``); the full run
also writes a Markdown report to ``bench/results/``.

Scenarios are listed in :data:`SCENARIOS`; each adds rows to the table and keys to the JSON object. The
case-page/inbox scale scenario (10k vs 1M cases) and HTTP under gunicorn need the web layer and are listed
in :data:`LATER` — shown as not measured, with no keys — until their modules exist.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from workflow import migrate
from workflow.catalog import get_pipeline, latest_versions, sync_pipelines
from workflow.db import Database
from workflow.standards_store import sync_standards

from . import machines, transitions, voting

PG_ADMIN = os.environ.get("TITLEREVIEW_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def sqlite_db() -> Iterator[Database]:
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


def postgres_reachable() -> bool:
    """True when the benchmark's PostgreSQL server answers."""
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("select 1"))
        admin.dispose()
        return True
    except Exception:  # no server (or no driver): the PostgreSQL figures are reported as null
        return False


@contextmanager
def postgres_db(pool_size: int = 10) -> Iterator[Database | None]:
    """A fresh migrated PostgreSQL database, dropped afterwards; yields None when no server answers."""
    if not postgres_reachable():
        yield None
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"titlereview_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", pool_size=pool_size)
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


@dataclass
class Report:
    """What the scenarios produced: table rows (scenario, measured, result), JSON keys, and notes."""

    quick: bool
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    out: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sizes:
    """How big each scenario runs: quick (under a minute on 2 cores) or full."""

    sqlite_cases: int
    pg_cases: int
    rounds: int
    machine_cases: int
    sqlite_voters: int
    pg_voters: int
    pg_vote_cases: int
    duplicates: int
    tally_members: int


QUICK = Sizes(sqlite_cases=8, pg_cases=5, rounds=3, machine_cases=1_000, sqlite_voters=50, pg_voters=100,
              pg_vote_cases=1, duplicates=20, tally_members=7)
FULL = Sizes(sqlite_cases=30, pg_cases=20, rounds=5, machine_cases=20_000, sqlite_voters=200, pg_voters=200,
             pg_vote_cases=3, duplicates=40, tally_members=25)


def _transitions_row(report: Report, label: str, r: transitions.TransitionResult | None) -> None:
    if r is None:
        report.rows.append((f"transitions · {label}", "no server", "null"))
        return
    report.rows.append((f"transitions · {label}",
                        f"engine {r.engine_tps:,.0f}/s vs raw floor {r.raw_tps:,.0f}/s "
                        f"({r.transitions} transitions each, median of {r.rounds} interleaved rounds)",
                        f"{r.ratio:.2f}×"))
    slow = sorted(r.per_trigger_us.items(), key=lambda kv: -kv[1])
    report.notes.append(f"{label}: median fire() per step (µs): "
                        + ", ".join(f"{t} {us:,.0f}" for t, us in slow)
                        + f"; floor transition {r.floor_us:,.0f} µs on average")


def scenario_transitions(report: Report, sizes: Sizes) -> None:
    """Engine vs the raw-SQL floor on SQLite and PostgreSQL."""
    with sqlite_db() as db:
        r = transitions.run(db, sizes.sqlite_cases, sizes.rounds)
    report.out["engine_vs_raw_sqlite"] = round(r.ratio, 3)
    _transitions_row(report, "SQLite", r)
    with postgres_db() as pg:
        rp = transitions.run(pg, sizes.pg_cases, sizes.rounds) if pg is not None else None
    report.out["engine_vs_raw_postgres"] = round(rp.ratio, 3) if rp is not None else None
    _transitions_row(report, "PostgreSQL", rp)


def scenario_machines(report: Report, sizes: Sizes) -> None:
    """The shared machine vs a Machine built per case: time and memory."""
    with sqlite_db() as db:
        p = get_pipeline(db, transitions.PIPELINE, latest_versions(db)[transitions.PIPELINE])
    m = machines.run(p, sizes.machine_cases)
    report.out["shared_vs_per_case_machine"] = round(m.speedup, 1)
    report.out["machine_kib_per_10k_shared"] = round(m.shared_kib_per_10k)
    report.out["machine_kib_per_10k_per_case"] = round(m.per_case_kib_per_10k)
    report.rows.append(("machine cost", f"load-and-fire: shared {m.shared_us:.1f} µs vs per-case "
                        f"{m.per_case_us:,.0f} µs", f"{m.speedup:.0f}× faster"))
    report.rows.append(("memory / 10k loaded cases", f"shared {m.shared_kib_per_10k:,.0f} KiB (10,000 held) vs "
                        f"per-case {m.per_case_kib_per_10k:,.0f} KiB ({m.per_case_sample:,} held, scaled)",
                        f"{m.per_case_kib_per_10k / m.shared_kib_per_10k:,.0f}× less"))


def _voting_row(report: Report, v: voting.VotingResult) -> None:
    label = "PostgreSQL" if v.database == "postgresql" else "SQLite"
    report.rows.append((f"voting · {label}",
                        f"{v.voters} voters × {v.cases} case(s) + duplicate attempts, all at once: "
                        f"{v.accepted} accepted, {v.refused_duplicates} duplicates refused, "
                        f"{v.wall_s:.1f} s; close through the engine {v.close_ms:.0f} ms/case",
                        f"lost {v.votes_lost}, doubled {v.votes_doubled}"))
    report.rows.append((f"tally · {label}", f"recount of {v.tally_cases:,} closed boxes ({v.tally_ballots:,} "
                        "ballots) in one pass", f"{v.tally_s:.2f} s"))


def scenario_voting(report: Report, sizes: Sizes) -> None:
    """Concurrent voters on one sitting (PostgreSQL, and SQLite) and the tally of 5,000 cases."""
    results = []
    with sqlite_db() as db:
        results.append(voting.run(db, sizes.sqlite_voters, 1, sizes.duplicates // 2,
                                  tally_members=sizes.tally_members))
    # Enough connections that the voters queue on the case lock, not on the pool.
    with postgres_db(pool_size=40) as pg:
        if pg is not None:
            results.append(voting.run(pg, sizes.pg_voters, sizes.pg_vote_cases, sizes.duplicates,
                                      tally_members=sizes.tally_members))
        else:
            report.rows.append(("voting · PostgreSQL", "no server", "null"))
    for v in results:
        _voting_row(report, v)
    report.out["votes_lost"] = sum(v.votes_lost for v in results)
    report.out["votes_doubled"] = sum(v.votes_doubled for v in results)
    by_db = {v.database: v.tally_s for v in results}
    # The headline is PostgreSQL's when it ran (the production store), else SQLite's.
    report.out["tally_5000_s"] = round(by_db.get("postgresql", by_db["sqlite"]), 3)
    report.out["tally_5000_s_sqlite"] = round(by_db["sqlite"], 3)


SCENARIOS: list[tuple[str, Callable[[Report, Sizes], None]]] = [
    ("transitions", scenario_transitions),
    ("machine cost", scenario_machines),
    ("voting", scenario_voting),
]
"""Each scenario appends its rows and keys to the report; add a new one here."""

LATER = {
    "scale": "case page and inbox at 10k vs 1M cases",
    "http": "HTTP under gunicorn",
}
"""Scenarios that need the web layer; listed as not measured until their modules are added to SCENARIOS."""


def run(quick: bool) -> dict[str, Any]:
    """Run every scenario; return the results keyed as the issue names them."""
    report = Report(quick=quick)
    sizes = QUICK if quick else FULL
    started = time.perf_counter()
    for _, scenario in SCENARIOS:
        scenario(report, sizes)
    for name, what in LATER.items():
        report.rows.append((f"{name} (later)", what, "not measured yet"))
    report.notes.append(f"total wall time {time.perf_counter() - started:.0f} s")
    _print_table(report)
    if not quick:
        _write_report(report)
    return report.out


def _print_table(report: Report) -> None:
    width = max(len(r[0]) for r in report.rows)
    mid = max(len(r[1]) for r in report.rows)
    for name, detail, result in report.rows:
        print(f"{name:<{width}}  {detail:<{mid}}  {result}")
    for note in report.notes:
        print(f"  · {note}")


def _write_report(report: Report) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench-{stamp}.md"
    lines = [f"# titlereview benchmark {stamp} UTC", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.platform()}. Load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
             "", "| scenario | measured | result |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in report.rows]
    lines += ["", *[f"- {n}" for n in report.notes], "", "```json", json.dumps(report.out, ensure_ascii=False),
              "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"report written to {path}")
    return path


def main(quick: bool = False) -> None:
    """Entry point used by ``titlereview bench``; the last printed line is the JSON object."""
    out = run(quick)
    print(json.dumps(out, ensure_ascii=False))

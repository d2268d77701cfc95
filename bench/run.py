"""``titlereview bench``: every scenario against its floor, a readable table, and one JSON line last.

Ratios, not absolute times, are the results: this machine is shared and noisy, so both sides of each
comparison run in the same process, interleaved (see :mod:`bench.transitions`). ``--quick`` uses small N,
SQLite, and PostgreSQL only when a server answers (else the PostgreSQL figures are ``null``); the full run
also writes a Markdown report to ``bench/results/``.

Scenarios are listed in :data:`SCENARIOS`; each adds rows to the table and keys to the JSON object: the
engine's transitions against raw SQL, the shared machine, the case page and the authority inbox at 10k vs 1M
cases (:mod:`bench.scale`), the case page under gunicorn against a one-query page (:mod:`bench.http`), and
concurrent voting.
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
from workflow.db import Database
from workflow.eligibility.standards_store import sync_standards
from workflow.pipeline.catalog import get_pipeline, latest_versions, sync_pipelines

from . import ballot_sheet, http, machines, scale, transitions, voting

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
    scale_small: int
    scale_large: int
    scale_samples: int
    scale_postgres: bool
    http_rounds: int
    http_seconds: float
    http_postgres: bool
    sheet_cases: int = 100
    sheet_samples: int = 20
    sheet_submissions: int = 7


QUICK = Sizes(sqlite_cases=8, pg_cases=5, rounds=3, machine_cases=1_000, sqlite_voters=50, pg_voters=100,
              pg_vote_cases=1, duplicates=20, tally_members=7, scale_small=10_000, scale_large=100_000,
              scale_samples=40, scale_postgres=False, http_rounds=1, http_seconds=1.5, http_postgres=False,
              sheet_samples=5, sheet_submissions=3)
FULL = Sizes(sqlite_cases=30, pg_cases=20, rounds=5, machine_cases=20_000, sqlite_voters=200, pg_voters=200,
             pg_vote_cases=3, duplicates=40, tally_members=25, scale_small=10_000, scale_large=1_000_000,
             scale_samples=600, scale_postgres=True, http_rounds=3, http_seconds=5.0, http_postgres=True)


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
                        + f"; floor transition {r.floor_us:,.0f} µs on average, including at the ballot close the "
                        f"count's required cryptography ({r.count_us:,.0f} µs median: key from both shares, "
                        f"three sums decrypted); against the floor's database work alone {r.ratio_db_floor:.2f}×")


def scenario_transitions(report: Report, sizes: Sizes) -> None:
    """Engine vs the raw-SQL floor on SQLite and PostgreSQL."""
    with sqlite_db() as db:
        r = transitions.run(db, sizes.sqlite_cases, sizes.rounds)
    report.out["engine_vs_raw_sqlite"] = round(r.ratio, 3)
    report.out["engine_vs_db_floor_sqlite"] = round(r.ratio_db_floor, 3)
    _transitions_row(report, "SQLite", r)
    with postgres_db() as pg:
        rp = transitions.run(pg, sizes.pg_cases, sizes.rounds) if pg is not None else None
    report.out["engine_vs_raw_postgres"] = round(rp.ratio, 3) if rp is not None else None
    report.out["engine_vs_db_floor_postgres"] = round(rp.ratio_db_floor, 3) if rp is not None else None
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


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def scenario_scale(report: Report, sizes: Sizes) -> None:
    """The case page and the authority inbox at a small and a large case count (PostgreSQL in the full run)."""
    small, large = _size(sizes.scale_small), _size(sizes.scale_large)
    label = f"scale · {'PostgreSQL' if sizes.scale_postgres else 'SQLite'} {small} vs {large}"
    keys = ("status_p95_ratio_1m_vs_10k", "scale_case_p95_ratio", "scale_inbox_p95_ratio",
            "scale_history_p95_ratio", "scale_generate_s")
    if sizes.scale_postgres and not postgres_reachable():
        report.rows.append((label, "no server", "null"))
        report.out.update(dict.fromkeys(keys))
        return
    databases = (postgres_db, postgres_db) if sizes.scale_postgres else (sqlite_db, sqlite_db)
    with databases[0]() as db_small, databases[1]() as db_large:
        g_small = scale.generate(db_small, sizes.scale_small)
        g_large = scale.generate(db_large, sizes.scale_large)
        r = scale.measure((db_small, g_small), (db_large, g_large), sizes.scale_samples,
                          db_large.engine.dialect.name)
    names = {"case": "case page (applicant)", "inbox": "authority inbox (officer)",
             "history": "authority inbox, all cases tab"}
    for page in scale.PAGES:
        ms = r.ms[page]
        report.rows.append((f"{label} · {names[page]}",
                            f"p50/p95 {ms['small'][0]:.1f}/{ms['small'][1]:.1f} ms at {small} vs "
                            f"{ms['large'][0]:.1f}/{ms['large'][1]:.1f} ms at {large} ({r.samples} pages each, "
                            "alternating)", f"p95 {r.ratio_of(page):.2f}×"))
    report.notes.append(f"scale: generated {g_large.cases:,} cases, {g_large.events:,} events, {g_large.timers:,} "
                        f"timers, {g_large.users:,} users, {scale.authorities_for(sizes.scale_large)} authorities in "
                        f"{g_large.seconds:.0f} s ({small}: {g_small.seconds:.1f} s, "
                        f"{scale.authorities_for(sizes.scale_small)} authorities); pages requested through the Flask "
                        "views, signed in as the case's applicant or a random officer")
    report.out["status_p95_ratio_1m_vs_10k"] = round(r.ratio, 3)
    report.out["scale_case_p95_ratio"] = round(r.ratio_of("case"), 3)
    report.out["scale_inbox_p95_ratio"] = round(r.ratio_of("inbox"), 3)
    report.out["scale_history_p95_ratio"] = round(r.ratio_of("history"), 3)
    report.out["scale_generate_s"] = round(g_large.seconds, 1)


@contextmanager
def demo_db(postgres: bool) -> Iterator[Database]:
    """A database with the demo data set (PostgreSQL when asked for and reachable, else SQLite)."""
    from seed.demo import load_demo

    opened = postgres_db() if postgres and postgres_reachable() else sqlite_db()
    with opened as db:
        load_demo(db)
        yield db


def scenario_http(report: Report, sizes: Sizes) -> None:
    """The case page under gunicorn vs a one-query Flask page, same workers, loaded from another process."""
    from seed.demo import DEMO_PASSWORD

    with demo_db(sizes.http_postgres) as db:
        r = http.run(db, DEMO_PASSWORD, rounds=sizes.http_rounds, max_seconds=sizes.http_seconds)
    where = "PostgreSQL" if r.database == "postgresql" else "SQLite"
    report.rows.append((f"http · {where}",
                        f"case page {r.page.rps:,.0f} req/s (p50 {r.page.p50_ms:.0f} / p95 {r.page.p95_ms:.0f} ms) "
                        f"vs floor {r.floor.rps:,.0f} req/s (p50 {r.floor.p50_ms:.0f} / p95 {r.floor.p95_ms:.0f} ms); "
                        f"gunicorn {r.workers}×{r.threads}, {r.clients} keep-alive clients",
                        f"{r.ratio:.2f}×"))
    report.out["http_status_vs_floor"] = round(r.ratio, 3)
    report.out["http_rps_case_page"] = round(r.page.rps, 1)
    report.out["http_rps_floor"] = round(r.floor.rps, 1)


def scenario_ballot_sheet(report: Report, sizes: Sizes) -> None:
    """A member's ballot sheet of 100 open cases: the page and the submission of every choice, vs the floor."""
    with sqlite_db() as db:
        r = ballot_sheet.run(db, sizes.sheet_cases, sizes.sheet_samples, sizes.sheet_submissions)
    report.rows.append((f"ballot sheet · {r.cases} cases · page",
                        f"p50 {r.page_ms:.1f} ms ({r.page_bytes // 1024} KiB, {r.page_samples} requests) vs floor "
                        f"page {r.floor_ms:.2f} ms, in-process", f"{r.page_ratio:.3f}×"))
    report.rows.append((f"ballot sheet · {r.cases} cases · submit",
                        f"p50 {r.submit_ms:,.0f} ms for all {r.cases} choices ({r.submissions} members, each once; "
                        f"encrypted and cast in one transaction) vs floor page {r.floor_ms:.2f} ms",
                        f"{r.submit_ratio:.4f}×"))
    report.out["ballot_sheet_page_vs_floor"] = round(r.page_ratio, 4)
    report.out["ballot_sheet_submit_vs_floor"] = round(r.submit_ratio, 5)
    report.out["ballot_sheet_page_ms"] = round(r.page_ms, 1)
    report.out["ballot_sheet_submit_ms"] = round(r.submit_ms, 1)


SCENARIOS: list[tuple[str, Callable[[Report, Sizes], None]]] = [
    ("transitions", scenario_transitions),
    ("machine cost", scenario_machines),
    ("scale", scenario_scale),
    ("http", scenario_http),
    ("voting", scenario_voting),
    ("ballot sheet", scenario_ballot_sheet),
]
"""Each scenario appends its rows and keys to the report; add a new one here."""


def run(quick: bool) -> dict[str, Any]:
    """Run every scenario; return the results keyed as the issue names them."""
    report = Report(quick=quick)
    sizes = QUICK if quick else FULL
    started = time.perf_counter()
    took = []
    for name, scenario in SCENARIOS:
        t0 = time.perf_counter()
        scenario(report, sizes)
        took.append(f"{name} {time.perf_counter() - t0:.0f} s")
    report.notes.append("wall time per scenario: " + ", ".join(took))
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

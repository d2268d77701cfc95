"""Scale: the applicant's case page and the authority officer's inbox at a small and a large case count.

Three pages are measured: the case page as its applicant sees it, the authority inbox as it opens (the
oldest waiting cases of the first busy queue) and its "all cases" tab (the authority's whole history, latest
change first). Two databases are filled with the same generator — many applicants, employers and
authorities (their number grows with the case count, see :data:`CASES_PER_AUTHORITY`), cases spread
over the four pipelines and their states (most of a large history is closed), a few audit events per case and
pending timers on the cases in timed states — one small (10k cases) and one large (1M on PostgreSQL, 100k on
SQLite in quick mode). The real Flask views are then requested through ``app.test_client()``, signed in as
the case's applicant or as an officer of a random authority, so everything the pages do is measured: the user
loader, the access checks, every query and the template. Requests alternate between the two databases in
rounds so that the machine's noise falls on both alike; the result is the ratio of the p95 latencies.

PostgreSQL rows are streamed with ``COPY … FROM STDIN`` (psycopg 3 ``cursor.copy``) and the tables are
``VACUUM ANALYZE``d afterwards, as autovacuum would have done on a live system; SQLite gets ``executemany``.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from workflow.access.passwords import hash_password
from workflow.db import Database
from workflow.pipeline.catalog import latest_versions

CASES_PER_AUTHORITY = 25_000
"""A small installation is one or two cities' 人社部门, a large one a whole province's: the number of
authorities grows with the case count (2 at 10k, 40 at 1M), and so does each one's history (5k → 25k cases),
so every inbox page is full at both sizes and the comparison is of the same page over more data."""

OFFICERS_PER_AUTHORITY = 2
SUPERIORS = 40
CASES_PER_EMPLOYER = 200
CASES_PER_APPLICANT = 2
YEARS = 8
"""The history spans this many years; the cases still in progress entered their state this year."""

PASSWORD = "bench-Passw0rd"

STATES: list[tuple[str, float]] = [
    ("draft", 2.0), ("unit_review", 1.5), ("correction", 0.8), ("unit_notice", 0.8),
    ("unit_notice_objection", 0.1), ("unit_recommendation", 0.8), ("superior_review", 0.8),
    ("formal_check", 1.5), ("authority_correction", 0.4), ("eligibility_recheck", 0.8), ("pre_review", 1.5),
    ("defence", 0.4), ("committee_vote", 0.4), ("result_notice", 0.8), ("result_notice_objection", 0.1),
    ("filing", 0.8), ("certification", 0.8), ("not_passed", 0.3), ("appeal_review", 0.2),
    ("certified", 55.0), ("closed_not_passed", 14.0), ("rejected", 8.0), ("withdrawn", 9.0), ("revoked", 0.3),
]
"""Share of cases per state: about 85 % of a long history is closed."""

FINAL = frozenset({"certified", "closed_not_passed", "rejected", "withdrawn", "revoked"})
PANEL_ONWARD = frozenset({"pre_review", "defence", "committee_vote", "result_notice", "result_notice_objection",
                          "filing", "certification", "not_passed", "appeal_review", "certified",
                          "closed_not_passed", "revoked"})
TIMED = {"unit_notice": ("unit_notice_end", "close_unit_notice"),
         "result_notice": ("result_notice_end", "close_result_notice"),
         "correction": ("correction_deadline", "correction_expired"),
         "authority_correction": ("correction_deadline", "correction_expired"),
         "filing": ("filing_deadline", "filing_expired")}
"""States that run a deadline: a pending timer per case in them."""

LAST_TRIGGER = {"certified": "issue_certificate", "closed_not_passed": "close_not_passed", "rejected": "reject",
                "withdrawn": "withdraw", "revoked": "revoke", "formal_check": "recommend",
                "unit_review": "submit", "pre_review": "confirm_eligibility"}
PIPELINE_WEIGHTS = {"industry-session": 70, "fallback-filing": 15, "skill-bridging": 10, "exceptional-senior": 5}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉鹏宇浩然子轩思雨晨欣怡"


@dataclass
class Generated:
    """What one generated database holds, and how long filling it took."""

    cases: int
    events: int
    timers: int
    users: int
    seconds: float
    officers: list[int] = field(default_factory=list)


PAGES = ("case", "inbox", "history")
"""What is measured: the applicant's case page, the officer's inbox as it opens, and its "all cases" tab."""


@dataclass
class ScaleResult:
    """p50/p95 (ms) per page at both sizes, the p95 ratios, and the generation figures."""

    database: str
    small: Generated
    large: Generated
    samples: int
    ms: dict[str, dict[str, tuple[float, float]]]
    """page → size ("small"/"large") → (p50, p95)."""

    def ratio_of(self, page: str) -> float:
        """p95 of ``page``, large over small."""
        return self.ms[page]["large"][1] / self.ms[page]["small"][1]

    @property
    def ratio(self) -> float:
        """The headline: the worst page."""
        return max(self.ratio_of(p) for p in PAGES)


# --------------------------------------------------------------------------------------------- generation


class _Sink:
    """Writes rows to one table: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw = raw
        self.postgres = postgres

    def write(self, table: str, columns: list[str], rows: Iterator[tuple]) -> int:
        """Insert every row of ``rows``; returns how many."""
        n = 0
        if self.postgres:
            cols = ", ".join(f'"{c}"' for c in columns)
            with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                buf: list[str] = []
                for row in rows:
                    buf.append("\t".join(_pg_text(v) for v in row))
                    n += 1
                    if len(buf) >= 20_000:
                        copy.write("\n".join(buf) + "\n")
                        buf.clear()
                if buf:
                    copy.write("\n".join(buf) + "\n")
            return n
        marks = ", ".join("?" for _ in columns)
        cols = ", ".join(f'"{c}"' for c in columns)
        cur = self.raw.cursor()
        batch: list[tuple] = []
        stamps = [i for i, c in enumerate(columns) if c.endswith("_at")]  # only these need converting
        for row in rows:
            if stamps:
                values = list(row)
                for i in stamps:
                    if values[i] is not None:
                        values[i] = _sqlite_stamp(values[i])
                row = tuple(values)
            batch.append(row)
            n += 1
            if len(batch) >= 20_000:
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
                batch.clear()
        if batch:
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
        cur.close()
        return n


def _pg_text(v: Any) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, datetime):
        return v.isoformat()
    s = str(v)
    if "\\" in s or "\t" in s or "\n" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return s


def _sqlite_stamp(v: datetime) -> str:
    # What the project's UTCDateTime stores on SQLite: naive UTC, always with microseconds (every value made
    # here is already UTC, so only the offset is cut off).
    return v.isoformat(" ", "microseconds")[:-6]


def authorities_for(n_cases: int) -> int:
    """How many authorities a database of ``n_cases`` cases has (see :data:`CASES_PER_AUTHORITY`)."""
    return max(2, n_cases // CASES_PER_AUTHORITY)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def generate(db: Database, n_cases: int, seed: int = 7) -> Generated:
    """Fill a freshly migrated database with ``n_cases`` cases and everything around them."""
    started = time.perf_counter()
    rng = random.Random(seed)
    postgres = not db.is_sqlite
    now = datetime.now(UTC).replace(microsecond=0)
    versions = latest_versions(db)
    pipelines = [p for p in PIPELINE_WEIGHTS if p in versions]
    weights = [PIPELINE_WEIGHTS[p] for p in pipelines]
    n_employers = max(10, n_cases // CASES_PER_EMPLOYER)
    n_applicants = max(10, n_cases // CASES_PER_APPLICANT)
    n_authorities = authorities_for(n_cases)
    pw = hash_password(PASSWORD)  # one real hash, shared: hashing is deliberately slow
    state_names = [s for s, _ in STATES]
    state_weights = [w for _, w in STATES]

    with db.engine.connect() as sa_conn:
        with db.read() as conn:
            base_org = (conn.execute(text("SELECT coalesce(max(id), 0) FROM organisation")).scalar() or 0) + 1
            base_user = (conn.execute(text("SELECT coalesce(max(id), 0) FROM user_account")).scalar() or 0) + 1
        raw = sa_conn.connection.driver_connection
        if not postgres:
            raw.execute("BEGIN")
        sink = _Sink(raw, postgres)
        authority_ids = list(range(base_org, base_org + n_authorities))
        superior_ids = list(range(authority_ids[-1] + 1, authority_ids[-1] + 1 + SUPERIORS))
        employer_ids = list(range(superior_ids[-1] + 1, superior_ids[-1] + 1 + n_employers))

        def orgs() -> Iterator[tuple]:
            for i, oid in enumerate(authority_ids):
                yield (oid, f"压测人社局{i:03d}", "authority", "湖南", None, False, False, True, None, now)
            for i, oid in enumerate(superior_ids):
                yield (oid, f"压测主管部门{i:03d}", "superior", "湖南", None, False, False, True,
                       authority_ids[i % n_authorities], now)
            for i, oid in enumerate(employer_ids):
                yield (oid, f"压测用人单位{i:06d}", "employer", "湖南", None, rng.random() < 0.1, False,
                       rng.random() > 0.05, superior_ids[i % SUPERIORS], now)

        sink.write("organisation", ["id", "name", "kind", "region", "credit_code", "is_specialised",
                                    "is_little_giant", "has_hr_capacity", "superior_org_id", "created_at"], orgs())
        officer_ids = list(range(base_user, base_user + n_authorities * OFFICERS_PER_AUTHORITY))
        applicant_base = officer_ids[-1] + 1

        def users() -> Iterator[tuple]:
            for i, uid in enumerate(officer_ids):
                yield (uid, f"bench_officer{i}", _name(rng), None, None, pw, authority_ids[i // OFFICERS_PER_AUTHORITY],
                       True, "zh_CN", now)
            for i in range(n_applicants):
                yield (applicant_base + i, f"bench_app{i}", _name(rng), f"app{i}@example.cn", None, pw,
                       employer_ids[i % n_employers], True, "zh_CN", now)

        n_users = sink.write("user_account", ["id", "username", "display_name", "email", "phone", "password_hash",
                                              "org_id", "is_active", "locale", "created_at"], users())

        def roles() -> Iterator[tuple]:
            for uid in officer_ids:
                yield (uid, "authority_officer")
            for i in range(n_applicants):
                yield (applicant_base + i, "applicant")

        sink.write("user_role", ["user_id", "role"], roles())
        with db.read() as conn:
            base_session = (conn.execute(text("SELECT coalesce(max(id), 0) FROM review_session")).scalar() or 0) + 1
        session_of: dict[tuple[int, int], int] = {}

        def sessions() -> Iterator[tuple]:
            sid = base_session
            for a, oid in enumerate(authority_ids):
                for year in range(now.year - YEARS + 1, now.year + 1):
                    session_of[(a, year)] = sid
                    yield (sid, f"BENCH-{a:02d}-{year}", f"压测{year}年度评审会{a:02d}", f"Bench session {a} {year}",
                           "engineering", "", year, json.dumps(pipelines), oid, "{}", "{}",
                           "closed" if year < now.year else "open", now)
                    sid += 1

        sink.write("review_session", ["id", "code", "name", "name_en", "series", "industry", "year",
                                      "pipeline_ids", "authority_org_id", "parameters", "relaxations", "status",
                                      "created_at"], sessions())
        with db.read() as conn:
            base_case = (conn.execute(text("SELECT coalesce(max(id), 0) FROM case_file")).scalar() or 0) + 1
        plan: list[tuple[str, datetime, int]] = []  # per case: state, state entered, events

        def cases() -> Iterator[tuple]:
            states = rng.choices(state_names, state_weights, k=n_cases)
            pids = rng.choices(pipelines, weights, k=n_cases)
            history = YEARS * 365 * 86400
            for i in range(n_cases):
                cid = base_case + i
                state = states[i]
                employer = rng.randrange(n_employers)
                authority = employer % n_authorities
                if state in FINAL:
                    created = now - timedelta(seconds=rng.randrange(60 * 86400, history))
                    entered = created + timedelta(days=rng.randrange(30, 300))
                    entered = min(entered, now - timedelta(days=1))
                else:
                    created = now - timedelta(seconds=rng.randrange(86400, 300 * 86400))
                    entered = created + (now - created) * rng.random()
                year = created.year if state in FINAL else now.year
                session = session_of.get((authority, year)) if state in PANEL_ONWARD else None
                n_events = 1 if state == "draft" else rng.randint(2, 4)
                plan.append((state, created, n_events))
                yield (cid, f"BX{cid:09d}", pids[i], versions[pids[i]], state, n_events,
                       applicant_base + rng.randrange(n_applicants), employer_ids[employer], employer_ids[employer],
                       authority_ids[authority], json.dumps([superior_ids[employer % SUPERIORS]]), session,
                       "engineering", "电子信息", "mid", "工程师", "normal", None, None,
                       '{"round": 1}', f"{cid * 2654435761 % (1 << 64):064x}", 1 if state in TIMED else 0,
                       created, entered, entered, None if state == "draft" else created + timedelta(days=3))

        n = sink.write("case_file", ["id", "reference", "pipeline_id", "pipeline_version", "state", "version",
                                     "applicant_id", "employer_org_id", "unit_org_id", "authority_org_id",
                                     "superior_org_ids", "session_id", "series", "specialty", "level",
                                     "target_title", "route", "standard_id", "standard_version", "data",
                                     "last_event_hash", "pending_timers", "created_at", "updated_at",
                                     "state_entered_at", "submitted_at"], cases())

        def events() -> Iterator[tuple]:
            for i, (state, created, n_events) in enumerate(plan):
                cid = base_case + i
                prev = ""
                path = [("create", None, "draft", None, "applicant"), ("submit", "draft", "unit_review", None,
                                                                       "applicant"),
                        ("recommend", "unit_recommendation", "formal_check", None, "unit_reviewer")]
                for seq in range(1, n_events + 1):
                    if seq < n_events:
                        trig, frm, to, _actor, role = path[min(seq - 1, len(path) - 1)]
                    else:
                        frm = "draft" if seq == 1 else path[min(seq - 2, len(path) - 1)][2]
                        trig, to, role = ("create" if seq == 1 else LAST_TRIGGER.get(state, "advance")), state, \
                            "authority_officer"
                    h = f"{(cid * 1_000_003 + seq) * 0x9E3779B97F4A7C15 % (1 << 256):064x}"
                    yield (cid, seq, None, role, trig, frm, to, "", "{}", created + timedelta(days=seq), prev, h)
                    prev = h

        n_events = sink.write("case_event", ["case_id", "seq", "actor_id", "actor_role", "trigger", "from_state",
                                             "to_state", "comment", "payload", "created_at", "prev_hash", "hash"],
                              events())

        def timers() -> Iterator[tuple]:
            for i, (state, created, n_events) in enumerate(plan):
                if state in TIMED:
                    name, trig = TIMED[state]
                    due = now + timedelta(days=rng.randint(1, 20))
                    yield (base_case + i, name, state, trig, "[]", due, due - timedelta(days=1), None, "pending",
                           created, n_events, None)
                elif state in FINAL and rng.random() < 0.5:
                    # Closed notices from the case's past: the timer table grows with the history too.
                    due = created + timedelta(days=10)
                    yield (base_case + i, "unit_notice_end", "unit_notice", "close_unit_notice", "[]", due, None,
                           None, "fired", created, 2, due)

        n_timers = sink.write("case_timer", ["case_id", "name", "state", "trigger", "paused_in", "due_at",
                                             "remind_at", "reminded_at", "status", "created_at", "created_by_seq",
                                             "closed_at"], timers())
        raw.commit()
    if postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("organisation", "user_account", "user_role", "review_session", "case_file",
                          "case_event", "case_timer"):
                # Counts and visibility as autovacuum leaves them on a live system (index-only scans need it).
                conn.execute(text(f"VACUUM ANALYZE {table}"))
            for seq_table in ("organisation", "user_account", "user_role", "review_session", "case_file",
                              "case_event", "case_timer"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{seq_table}', 'id'), "
                                  f"(SELECT max(id) FROM {seq_table}))"))
    else:
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    return Generated(cases=n, events=n_events, timers=n_timers, users=n_users,
                     seconds=time.perf_counter() - started, officers=officer_ids)


# --------------------------------------------------------------------------------------------- measurement


def _app(db: Database, instance: str):
    from web import create_app

    return create_app({"DATABASE": db, "DATABASE_URL": str(db.engine.url), "SECRET_KEY": "bench-scale",
                       "INSTANCE_PATH": instance, "TESTING": False, "SESSION_COOKIE_SECURE": False})


class _Site:
    """One database's Flask app with a signed-in test client per user (cookie set as flask-login sets it)."""

    def __init__(self, db: Database, generated: Generated, instance: str, seed: int) -> None:
        from web.security import session_tag

        self.db = db
        self.app = _app(db, instance)
        self.generated = generated
        self.rng = random.Random(seed)
        self.tag = session_tag(_password_hash(db))
        with db.read() as conn:
            lo, hi = conn.execute(text("SELECT min(id), max(id) FROM case_file WHERE reference LIKE 'BX%'")).one()
        self.case_range = (lo, hi)

    def _client(self, user_id: int):
        client = self.app.test_client()
        with client.session_transaction() as s:
            s["_user_id"] = f"{user_id}:{self.tag}"
            s["_fresh"] = True
        return client

    def case_page(self) -> tuple[str, Any]:
        """A request for a random case's page as its applicant."""
        cid = self.rng.randint(*self.case_range)
        with self.db.read() as conn:
            applicant = conn.execute(text("SELECT applicant_id FROM case_file WHERE id = :i"), {"i": cid}).scalar()
        client = self._client(applicant)
        return f"/cases/{cid}", client

    def inbox(self) -> tuple[str, Any]:
        """A request for a random officer's inbox (the tab it opens on: the oldest waiting cases first)."""
        return "/authority/", self._client(self.rng.choice(self.generated.officers))

    def history(self) -> tuple[str, Any]:
        """A request for a random officer's "all cases" tab (the whole history, latest changes first)."""
        return "/authority/?tab=all", self._client(self.rng.choice(self.generated.officers))


def _password_hash(db: Database) -> str:
    with db.read() as conn:
        return conn.execute(text("SELECT password_hash FROM user_account WHERE username = 'bench_officer0'")).scalar()


def _timed_get(client: Any, url: str) -> float:
    t0 = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - t0
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return elapsed * 1000


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(small: tuple[Database, Generated], large: tuple[Database, Generated], samples: int,
            database: str) -> ScaleResult:
    """Request each page ``samples`` times on each database, alternating in rounds, and take p50/p95."""
    with tempfile.TemporaryDirectory() as instance:
        sites = {"small": _Site(*small, instance, 11), "large": _Site(*large, instance, 11)}
        times: dict[str, dict[str, list[float]]] = {p: {k: [] for k in sites} for p in PAGES}
        for site in sites.values():  # warm up: templates compiled, pipelines cached, pool filled
            for _ in range(5):
                for page in PAGES:
                    url, client = getattr(site, _REQUEST[page])()
                    _timed_get(client, url)
        rounds = 10
        per_round = max(1, samples // rounds)
        for _ in range(rounds):
            for key, site in sites.items():
                for page in PAGES:
                    for _ in range(per_round):
                        url, client = getattr(site, _REQUEST[page])()
                        times[page][key].append(_timed_get(client, url))
    return ScaleResult(database=database, small=small[1], large=large[1], samples=per_round * rounds,
                       ms={page: {k: (_p(v, 0.5), _p(v, 0.95)) for k, v in by_size.items()}
                           for page, by_size in times.items()})


_REQUEST = {"case": "case_page", "inbox": "inbox", "history": "history"}
"""Which :class:`_Site` method makes the request for each page."""

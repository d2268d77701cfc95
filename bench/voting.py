"""Scenario "voting": many members voting at once on one sitting, and the tally of a large sitting.

**Concurrent votes.** A committee of ``voters`` members sits; every member is recorded present; ``cases``
cases are brought to the vote through the engine. Then one thread per member casts that member's vote on
every case (in its own random order), while ``duplicates`` more threads, started at the same instant,
try to vote a second time for a member. Afterwards the database is read back, box by box:

* a vote is **lost** when a member's vote was not accepted at all (every member must get exactly one in
  per box), or when the box stores fewer ballots than were accepted;
* a vote is **doubled** when a member got two votes accepted in one box, a member has two participation
  rows, or the box stores more ballots than were accepted.

The ballots are encrypted (workflow.panel.ballot_keys), so the choices are checked after the close: the chair closes
every box through the engine with both key shares, and its decrypted tally must equal the accepted votes.

**Tally of 5,000 cases.** What "the tally" costs for a big sitting is counting every ballot of every case
and re-deriving each result. The engine counts one case when the chair closes its ballot (its close time
is reported too, from the boxes above); for a whole sitting the product recounts every closed box from the
stored ballots in one set-based pass — :func:`workflow.panel.sitting.recount_ballots`, the audit check that each
box's ballots still add up to its recorded counts, participants and result. ``tally_5000_s`` is the time of
that recount over 5,000 closed boxes. The 5,000 cases, boxes, ballots, participation rows and close events
are written in bulk for this (the engine would take minutes to produce them one transaction at a time);
the recount reads them exactly as it reads boxes the engine closed, and must find no discrepancy.
"""

from __future__ import annotations

import random
import secrets
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from phe import paillier
from sqlalchemy import insert, select

from seed.cast import World
from workflow.access.roles import Actor
from workflow.db import Database
from workflow.directory import actor_for, create_user
from workflow.engine import core as engine
from workflow.engine.storage import driver_store
from workflow.errors import WorkflowError
from workflow.models import (
    Attendance,
    BallotBox,
    BallotParticipation,
    Case,
    CaseEvent,
    CommitteeSeat,
    ReviewSession,
    utcnow,
)
from workflow.models.panels import CommitteeKey
from workflow.panel import ballot_keys, ballots, sitting
from workflow.records.audit import event_hash

from .transitions import HAPPY_PATH, EngineSide, _prepare_world

ALREADY_VOTED = "您已投过票"
TALLY_CASES = 5_000
_box = BallotBox.__table__
_part = BallotParticipation.__table__
_case = Case.__table__
_event = CaseEvent.__table__


@dataclass
class VotingResult:
    """What the concurrent votes and the tally came to on one database."""

    database: str
    voters: int
    cases: int
    attempts: int
    accepted: int
    refused_duplicates: int
    votes_lost: int
    votes_doubled: int
    wall_s: float
    close_ms: float
    tally_cases: int
    tally_ballots: int
    tally_s: float


def _seat(world: World, count: int, prefix: str, session_id: int | None = None) -> list[Actor]:
    """Create ``count`` panel members and seat them on ``session_id`` (default: the world's session)."""
    with world.db.session(write=True) as s:
        ids = [create_user(s, f"{prefix}{i}", f"{prefix}委员{i}", ["panel_member"]).id for i in range(count)]
        for uid in ids:
            s.add(CommitteeSeat(session_id=session_id or world.session_id, user_id=uid, seat_role="member"))
        s.flush()
        return [actor_for(s, uid) for uid in ids]


def _cases_at_vote(db: Database, world: World, count: int) -> list[int]:
    """``count`` cases advanced through the engine to the committee vote with their ballot opened."""
    side = EngineSide(db, world)
    ids = side.open(count)
    for trigger in HAPPY_PATH[:HAPPY_PATH.index("open_ballot") + 1]:
        for case_id in ids:
            side.step(case_id, trigger)
    return ids


def _vote_concurrently(db: Database, case_ids: list[int], voters: list[Actor], duplicates: int,
                       seed: int) -> tuple[list[tuple[int, int, str, str]], float]:
    """Every voter votes on every case from its own thread, ``duplicates`` threads re-vote for a member;
    all start together. Returns ([(case, member, choice, outcome)], wall seconds)."""
    rng = random.Random(seed)
    plans = []
    for member in voters:
        order = list(case_ids)
        rng.shuffle(order)
        plans.append((member, [(c, rng.choice(list(ballots.CHOICES))) for c in order]))
    plans += [(m, [(rng.choice(case_ids), "yes")]) for m in rng.sample(voters, duplicates)]
    start = threading.Barrier(len(plans))
    outcomes: list[tuple[int, int, str, str]] = []
    lock = threading.Lock()

    def vote(member: Actor, plan: list[tuple[int, str]]) -> None:
        """One member's thread: wait for the others, then cast each planned vote and note the outcome."""
        start.wait()
        for case_id, choice in plan:
            try:
                ballots.cast_vote(db, case_id, member, choice)
                outcome = "ok"
            except WorkflowError as err:
                outcome = err.message_zh
            except Exception as err:  # a crash is a lost vote, not a reason to stop counting the others
                outcome = f"{type(err).__name__}: {err}"
            with lock:
                outcomes.append((case_id, member.user_id, choice, outcome))

    threads = [threading.Thread(target=vote, args=plan) for plan in plans]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, time.perf_counter() - t0


def _stored(db: Database, box_id: int) -> tuple[int, list[int]]:
    """(stored ballots, participating member ids) of one box, read back from the database. The choices are
    encrypted; they are checked after the close, from the decrypted sums (:func:`run`)."""
    with db.read() as conn:
        cur = driver_store(db.engine.dialect.name).cursor(conn)  # the ballot table is never read through the logger
        cur.execute("SELECT COUNT(*) FROM ballot WHERE box_id = " + ("%s" if db.is_postgres else "?"), (box_id,))
        stored = int(cur.fetchone()[0])
        members = list(conn.execute(select(_part.c.member_id).where(_part.c.box_id == box_id)).scalars())
    return stored, members


def _check(db: Database, case_ids: list[int], voters: list[Actor],
           outcomes: list[tuple[int, int, str, str]]) -> tuple[int, int, dict[int, Counter]]:
    """(lost, doubled, expected choices per case) from the outcomes and what the database holds."""
    lost = doubled = 0
    expected: dict[int, Counter] = {}
    for case_id in case_ids:
        accepted: dict[int, list[str]] = defaultdict(list)
        for c, member, choice, outcome in outcomes:
            if c == case_id and outcome == "ok":
                accepted[member].append(choice)
        want = Counter(choices[0] for choices in accepted.values())
        expected[case_id] = want
        lost += sum(1 for v in voters if v.user_id not in accepted)
        doubled += sum(len(choices) - 1 for choices in accepted.values())
        with db.read() as conn:
            box_id = conn.execute(select(_box.c.id).where(_box.c.case_id == case_id)).scalar_one()
        stored, members = _stored(db, box_id)
        doubled += len(members) - len(set(members))
        total = sum(want.values())
        lost += max(0, total - stored)
        doubled += max(0, stored - total)
    return lost, doubled, expected


def _seed_closed_sitting(db: Database, world: World, cases: int, members: int) -> tuple[int, Actor, int]:
    """A second session whose sitting decided ``cases`` cases with ``members`` voting on each, written in bulk.

    Returns (session id, its chair, ballots written). Rows are exactly what the engine's close leaves: a
    closed box with its counts, the ballots (random ids, no member), the participation rows, and the
    close_ballot event carrying the tally with its quorum and pass fractions.
    """
    now = utcnow()
    with db.session(write=True) as s:
        session = ReviewSession(code="BENCH-TALLY", name="bench tally", year=now.year, authority_org_id=world.authority,
                                pipeline_ids=["industry-session"])
        s.add(session)
        s.flush()
        session_id = session.id
    seated = _seat(world, members, "tally", session_id)
    chair = seated[0]
    template_id = world.open("industry-session")
    rng = random.Random(5000)
    with db.write() as conn:
        conn.execute(insert(Attendance.__table__), [
            {"session_id": session_id, "user_id": m.user_id, "recorded_at": now} for m in seated])
        template = dict(conn.execute(select(_case).where(_case.c.id == template_id)).mappings().one())
        rows = []
        for i in range(cases):
            row = {k: v for k, v in template.items() if k != "id"}
            row.update(reference=f"TALLY{i:07d}", session_id=session_id, state="result_notice")
            rows.append(row)
        conn.execute(insert(_case), rows)  # executemany: no RETURNING, so no giant multi-row statement
        case_ids = list(conn.execute(select(_case.c.id).where(_case.c.session_id == session_id)
                                     .order_by(_case.c.reference)).scalars())
        votes = {case_id: [rng.choices(list(ballots.CHOICES), weights=(8, 1, 1))[0] for _ in range(members)]
                 for case_id in case_ids}
        boxes = {}
        for case_id, choice in votes.items():
            counts = Counter(choice)
            boxes[case_id] = {"case_id": case_id, "round": 1, "opened_at": now - timedelta(hours=1),
                              "closed_at": now, "seated": members, "present": members, "eligible": members,
                              "yes": counts["yes"], "no": counts["no"], "abstain": counts["abstain"],
                              "passed": counts["yes"] * 3 >= 2 * members}
        conn.execute(insert(_box), list(boxes.values()))
        box_of = dict(conn.execute(select(_box.c.case_id, _box.c.id).where(_box.c.case_id.in_(
            select(_case.c.id).where(_case.c.session_id == session_id)))).all())
        events = []
        for case_id, box in boxes.items():
            tally = {"box_id": box_of[case_id], "seated": members, "present": members, "recused": 0,
                     "yes": box["yes"], "no": box["no"], "abstain": box["abstain"], "quorum_fraction": "2/3",
                     "pass_fraction": "2/3", "eligible": members, "quorate": True, "passed": box["passed"]}
            event = {"case_id": case_id, "seq": 2, "actor_id": chair.user_id, "actor_role": "panel_chair",
                     "trigger": "close_ballot", "from_state": "committee_vote", "to_state": "result_notice",
                     "comment": "", "payload": {"tally": tally}, "created_at": now,
                     "prev_hash": template["last_event_hash"]}
            event["hash"] = event_hash(event)
            events.append(event)
        conn.execute(insert(_event), events)
        # The session's committee key (public half only, made before the boxes closed) and each ballot as three
        # ciphertexts under it. Bulk seeding skips phe's obfuscation (r = 1): a real ballot's random r costs a
        # modular exponentiation, which 75,000 ciphertexts cannot afford here, and the count-only recount
        # timed below never decrypts.
        public_key, _ = paillier.generate_paillier_keypair(n_length=ballot_keys.KEY_BITS)
        conn.execute(insert(CommitteeKey.__table__).values(
            session_id=session_id, n=format(public_key.n, "x"), fingerprint=ballot_keys.fingerprint(public_key.n),
            created_at=now - timedelta(hours=2), created_by=chair.user_id))
        plain = {v: format(public_key.encrypt(v, r_value=1).ciphertext(be_secure=False), "x") for v in (0, 1)}
        ballot_of = {c: tuple(plain[int(c == k)] for k in ballot_keys.COUNTERS) for c in ballots.CHOICES}
        flat = [(secrets.token_hex(16), box_of[c], *ballot_of[choice]) for c, choices in votes.items()
                for choice in choices]
        part = [(box_of[c], m.user_id) for c in votes for m in seated]
        # Ballots go through the DBAPI cursor, as the ballot module writes them; COPY on PostgreSQL.
        cur = driver_store(db.engine.dialect.name).cursor(conn)
        if db.is_postgres:
            with cur.copy("COPY ballot (id, box_id, c_yes, c_no, c_abstain) FROM STDIN") as copy:
                for row in flat:
                    copy.write_row(row)
            with cur.copy(f"COPY {_part.name} (box_id, member_id) FROM STDIN") as copy:
                for row in part:
                    copy.write_row(row)
        else:
            cur.executemany("INSERT INTO ballot (id, box_id, c_yes, c_no, c_abstain) VALUES (?, ?, ?, ?, ?)", flat)
            cur.executemany(f"INSERT INTO {_part.name} (box_id, member_id) VALUES (?, ?)", part)
    return session_id, chair, len(flat)


def run(db: Database, voters: int, cases: int, duplicates: int, *, tally_members: int, seed: int = 200,
        tally_cases: int = TALLY_CASES) -> VotingResult:
    """The concurrent votes (``voters`` members × ``cases`` cases, plus duplicate attempts), then the tally."""
    world = _prepare_world(db)
    extra = _seat(world, voters - 1 - len(world.members), "voter")
    world.members.extend(extra)
    for member in extra:
        ballots.record_attendance(db, world.session_id, member.user_id)
    voters_list = [world.chair, *world.members][:voters]
    case_ids = _cases_at_vote(db, world, cases)
    outcomes, wall = _vote_concurrently(db, case_ids, voters_list, duplicates, seed)
    lost, doubled, expected = _check(db, case_ids, voters_list, outcomes)
    refused_dupes = sum(1 for *_, outcome in outcomes if outcome == ALREADY_VOTED)
    close_times = []
    for case_id in case_ids:
        t0 = time.perf_counter()
        engine.fire(db, case_id, "close_ballot", world.chair,
                    secrets={"ballot_shares": world.key_shares[world.session_id]})
        close_times.append(time.perf_counter() - t0)
        with db.read() as conn:
            box: Any = conn.execute(select(_box).where(_box.c.case_id == case_id)).mappings().one()
        recorded = Counter({c: box[c] for c in ballots.CHOICES})
        want = expected[case_id]
        lost += sum(max(0, want[c] - recorded[c]) for c in ballots.CHOICES)
        doubled += sum(max(0, recorded[c] - want[c]) for c in ballots.CHOICES)
    session_id, chair, written = _seed_closed_sitting(db, world, tally_cases, tally_members)
    t0 = time.perf_counter()
    recount = sitting.recount_ballots(db, session_id, chair)
    tally_s = time.perf_counter() - t0
    if not recount.ok or recount.boxes != tally_cases or recount.ballots != written:
        raise AssertionError(f"recount disagrees with the seeded sitting: {recount.boxes} boxes, "
                             f"{recount.ballots} ballots, {recount.discrepancies[:3]}")
    return VotingResult(
        database=db.engine.dialect.name, voters=len(voters_list), cases=len(case_ids), attempts=len(outcomes),
        accepted=sum(1 for *_, o in outcomes if o == "ok"), refused_duplicates=refused_dupes, votes_lost=lost,
        votes_doubled=doubled, wall_s=wall, close_ms=statistics.median(close_times) * 1e3,
        tally_cases=recount.boxes, tally_ballots=recount.ballots, tally_s=tally_s)

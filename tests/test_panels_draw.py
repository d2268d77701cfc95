"""Committee formation: the random draw, its record, re-checking it, tampering, parameters, replacements."""

from __future__ import annotations

from datetime import date

import pytest
from panel_helpers import add_pool
from sqlalchemy import select, text, update

from seed.cast import build_world
from workflow.db import Database
from workflow.directory import actor_for, create_org, create_user
from workflow.errors import InvalidAction, PermissionDenied
from workflow.models import CommitteeDraw, CommitteeSeat, Expert, ReviewSession
from workflow.panel import committee

_draw = CommitteeDraw.__table__
_seat = CommitteeSeat.__table__


def new_session(world, **parameters) -> int:
    """An empty session (no seats yet) of the world's authority."""
    with world.db.session(write=True) as s:
        session = ReviewSession(code=f"S-{len(parameters)}-{id(parameters)}", name="2026年湘产专场·新材料",
                                year=2026, series="工程", industry="新材料", authority_org_id=world.authority,
                                pipeline_ids=["industry-session"], parameters=parameters,
                                sitting_on=date(2026, 6, 18))
        s.add(session)
        s.flush()
        return session.id


def seats(db: Database, session_id: int) -> dict[int, str]:
    with db.read() as conn:
        return dict(conn.execute(select(_seat.c.user_id, _seat.c.seat_role)
                                 .where(_seat.c.session_id == session_id)).all())


def user_of(db: Database, expert_ids: list[int]) -> list[int]:
    with db.read() as conn:
        rows = dict(conn.execute(select(Expert.__table__.c.id, Expert.__table__.c.user_id)
                                 .where(Expert.__table__.c.id.in_(expert_ids))).all())
    return [rows[e] for e in expert_ids]


def test_draw_is_reproducible_from_its_logged_seed(any_db):
    world = build_world(any_db)
    add_pool(any_db, 20)
    session_id = new_session(world, committee_size=7)
    result = committee.draw_committee(any_db, session_id, world.admin, draw_chair=True)
    assert len(result.drawn) == 7 and result.chair_expert_id in result.drawn
    assert result.candidates == sorted(result.candidates)  # canonical order: ascending expert id
    record = committee.session_draws(any_db, session_id)[0]
    assert int(record["seed"]) == result.seed and record["candidates"] == result.candidates
    # anyone can re-run it: the same seed over the same candidates gives the same committee and chair
    assert committee.run_draw(int(record["seed"]), record["candidates"], 7, draw_chair=True) == (
        record["result"], record["chair_id"])
    assert committee.verify_draw(any_db, record["id"]).ok
    assert committee.verify_session(any_db, session_id).ok
    placed = seats(any_db, session_id)
    assert set(placed) == set(user_of(any_db, result.drawn))
    assert [u for u, r in placed.items() if r == "chair"] == user_of(any_db, [result.chair_expert_id])


def test_given_seed_gives_the_same_draw_in_another_session(world):
    add_pool(world.db, 15)
    a = committee.draw_committee(world.db, new_session(world, committee_size=5), world.admin, seed=20260618)
    b = committee.draw_committee(world.db, new_session(world, committee_size=5, x=1), world.admin, seed=20260618)
    assert a.drawn == b.drawn and a.seed == b.seed == 20260618


@pytest.mark.parametrize("tamper", ["seed", "result", "candidates", "chair", "delete_previous", "parameters"])
def test_a_tampered_record_is_refused(world, tamper):
    add_pool(world.db, 20)
    session_id = new_session(world, committee_size=7)
    first = committee.draw_committee(world.db, session_id, world.admin, draw_chair=True)
    second = committee.draw_replacement(world.db, session_id, world.admin, reason="委员出差无法出席")
    assert committee.verify_session(world.db, session_id).ok
    target = first.draw_id
    with world.db.write() as conn:
        if tamper == "seed":
            conn.execute(update(_draw).where(_draw.c.id == target).values(seed=str(first.seed + 1)))
        elif tamper == "result":
            conn.execute(update(_draw).where(_draw.c.id == target).values(result=[*first.drawn[1:], first.drawn[0]]))
        elif tamper == "candidates":
            conn.execute(update(_draw).where(_draw.c.id == target).values(candidates=first.candidates[1:]))
        elif tamper == "chair":
            other = next(e for e in first.drawn if e != first.chair_expert_id)
            conn.execute(update(_draw).where(_draw.c.id == target).values(chair_id=other))
        elif tamper == "parameters":
            conn.execute(update(_draw).where(_draw.c.id == target).values(parameters={"size": 7}))
        else:
            conn.execute(_draw.delete().where(_draw.c.id == target))
            target = second.draw_id
    check = committee.verify_draw(world.db, target)
    assert not check.ok and check.problems
    assert not committee.verify_session(world.db, session_id).ok


def test_a_recomputed_hash_does_not_hide_a_forged_result(world):
    """Someone who rewrites the result *and* its hash still fails: the draw re-run from the seed disagrees."""
    from workflow.panel.audit import draw_hash

    add_pool(world.db, 20)
    session_id = new_session(world, committee_size=7)
    drawn = committee.draw_committee(world.db, session_id, world.admin)
    with world.db.write() as conn:
        row = dict(conn.execute(select(_draw).where(_draw.c.id == drawn.draw_id)).mappings().one())
        row["result"] = sorted(row["candidates"])[:7]
        conn.execute(update(_draw).where(_draw.c.id == drawn.draw_id).values(result=row["result"],
                                                                             hash=draw_hash(row)))
    check = committee.verify_draw(world.db, drawn.draw_id)
    assert not check.ok and any("重新抽取" in p for p in check.problems)


def test_seats_changed_outside_the_draw_are_found(world):
    add_pool(world.db, 12)
    session_id = new_session(world, committee_size=5)
    committee.draw_committee(world.db, session_id, world.admin)
    with world.db.write() as conn:
        conn.execute(_seat.insert().values(session_id=session_id, user_id=world.outsider.user_id,
                                           seat_role="member"))
    check = committee.verify_session(world.db, session_id)
    assert not check.ok and any("席位" in p for p in check.problems)


@pytest.mark.parametrize(("parameters", "message"), [
    ({"committee_size": 8}, "单数"),
    ({"committee_size": 2}, "不小于3"),
    ({"committee_size": "9"}, "整数"),
    ({"committee_odd": "yes"}, "true 或 false"),
    ({"committee_levels": ["中级"]}, "committee_levels"),
    ({"committee_specialties": "轨道"}, "专业名称列表"),
    ({"committee_size": 31}, "不足抽取"),
])
def test_parameters_are_validated(world, parameters, message):
    add_pool(world.db, 30)
    with pytest.raises(InvalidAction, match=message):
        committee.draw_committee(world.db, new_session(world, **parameters), world.admin)


def test_even_size_allowed_when_the_odd_rule_is_off(world):
    add_pool(world.db, 10)
    result = committee.draw_committee(world.db, new_session(world, committee_size=8, committee_odd=False),
                                      world.admin)
    assert len(result.drawn) == 8


def test_only_active_in_term_experts_with_a_login_and_the_right_specialty_and_level(world):
    good = add_pool(world.db, 5, prefix="good")
    add_pool(world.db, 3, prefix="deputy", level="副高")
    add_pool(world.db, 3, prefix="other", specialties=("生物医药",))
    add_pool(world.db, 3, prefix="expired", term_end=date(2025, 12, 31))
    add_pool(world.db, 3, prefix="nologin", with_login=False)
    add_pool(world.db, 3, prefix="series", series="经济")
    retired = add_pool(world.db, 2, prefix="retired")
    with world.db.write() as conn:
        conn.execute(update(Expert.__table__).where(Expert.__table__.c.id.in_(retired)).values(status="retired"))
    session_id = new_session(world, committee_size=5, committee_levels=["正高"],
                             committee_specialties=["轨道交通装备"])
    result = committee.draw_committee(world.db, session_id, world.admin)
    assert result.candidates == good and sorted(result.drawn) == good
    with pytest.raises(InvalidAction, match="已组建"):
        committee.draw_committee(world.db, session_id, world.admin)


def test_named_chair_is_not_drawn_by_the_rng(world):
    pool = add_pool(world.db, 12)
    session_id = new_session(world, committee_size=5)
    result = committee.draw_committee(world.db, session_id, world.admin, chair_expert_id=pool[3])
    assert pool[3] not in result.candidates and len(result.drawn) == 4
    placed = seats(world.db, session_id)
    assert placed[user_of(world.db, [pool[3]])[0]] == "chair" and len(placed) == 5
    assert committee.verify_session(world.db, session_id).ok


def test_no_chair_until_appointed(world):
    add_pool(world.db, 10)
    session_id = new_session(world, committee_size=5)
    result = committee.draw_committee(world.db, session_id, world.admin)
    assert "chair" not in seats(world.db, session_id).values()
    target = user_of(world.db, [result.drawn[2]])[0]
    committee.appoint_chair(world.db, session_id, target, world.admin)
    assert seats(world.db, session_id)[target] == "chair"
    with pytest.raises(InvalidAction, match="委员"):
        committee.appoint_chair(world.db, session_id, world.outsider.user_id, world.admin)


def test_only_administrators_or_the_sessions_officer_draw(world):
    add_pool(world.db, 10)
    session_id = new_session(world, committee_size=5)
    for intruder in (world.chair, world.unit, world.applicant):
        with pytest.raises(PermissionDenied):
            committee.draw_committee(world.db, session_id, intruder)
    with world.db.session(write=True) as s:  # an officer of another authority
        org = create_org(s, "湘潭市人力资源和社会保障局", "authority")
        stranger = actor_for(s, create_user(s, "xt_officer", "外地经办", ["authority_officer"], org=org).id)
    with pytest.raises(PermissionDenied):
        committee.draw_committee(world.db, session_id, stranger)
    committee.draw_committee(world.db, session_id, world.officer)


def test_replacement_excludes_seated_earlier_drawn_and_conflicted(world):
    from driver import advance

    pool = add_pool(world.db, 9)
    # two more experts who work for the applicant's employer: conflicted with the case before the panel
    conflicted = add_pool(world.db, 2, prefix="same", employer_org_id=world.employer)
    session_id = world.session_id
    with world.db.write() as conn:  # the world's hand-made committee came from no draw: record one for the base
        conn.execute(_seat.delete().where(_seat.c.session_id == session_id))
        conn.execute(update(ReviewSession.__table__).where(ReviewSession.__table__.c.id == session_id)
                     .values(parameters={"committee_size": 5}))
    first = committee.draw_committee(world.db, session_id, world.admin, chair_expert_id=pool[0])
    remaining = set(pool) - set(first.drawn) - {pool[0]}
    case_id = world.open("industry-session")
    advance(world, case_id, "eligibility_recheck")
    from workflow.engine import core as engine

    engine.fire(world.db, case_id, "confirm_eligibility", world.officer)  # before the panel now
    gone = user_of(world.db, [first.drawn[0]])[0]
    replacement = committee.draw_replacement(world.db, session_id, world.admin, replacing_user_id=gone,
                                             reason="因病不能出席")
    assert set(replacement.candidates) == remaining  # neither seated, nor drawn before, nor conflicted
    assert not set(replacement.candidates) & set(conflicted)
    placed = seats(world.db, session_id)
    assert gone not in placed and replacement.seated_user_ids[0] in placed and len(placed) == 5
    assert committee.verify_session(world.db, session_id).ok
    with pytest.raises(InvalidAction, match="原因"):
        committee.draw_replacement(world.db, session_id, world.admin)


def test_chain_uses_the_case_event_hash(world):
    """The draw chain reuses workflow.records.audit.event_hash: a record's hash is that function of its fields."""
    from workflow.records.audit import event_hash

    add_pool(world.db, 8)
    session_id = new_session(world, committee_size=5)
    drawn = committee.draw_committee(world.db, session_id, world.admin, seed=7)
    with world.db.read() as conn:
        row = dict(conn.execute(select(_draw).where(_draw.c.id == drawn.draw_id)).mappings().one())
        assert conn.execute(text("select count(*) from committee_draw")).scalar() == 1
    expected = event_hash({"case_id": None, "seq": 1, "actor_id": world.admin.user_id, "actor_role": "administrator",
                           "trigger": "committee", "from_state": None, "to_state": None, "comment": "",
                           "payload": {k: row[k] for k in ("session_id", "seed", "parameters", "candidates",
                                                            "result", "chair_id", "replaced_id")},
                           "created_at": row["created_at"], "prev_hash": ""})
    assert row["hash"] == expected

"""The unit inbox, the superior department's pages and sign-in stay index-backed as the history grows.

The unit inbox counts its open states exactly and its closed history only up to a cap ("999+"), and pages
through the history in index order; the superior queue matches the current superior level in SQL; sign-in
looks the name up through the case-insensitive name index (migration 0010).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text
from webhelpers import PASSWORD, Browser, make_app, open_case

from seed.cast import build_world
from workflow.models import Case, CaseEvent, User
from workflow.records import queries

_case = Case.__table__
_CLOSED = ("certified", "closed_not_passed", "rejected", "withdrawn", "revoked")


def _clone(db, template_id: int, rows: list[dict]) -> list[int]:
    """Insert copies of case ``template_id`` with the given column overrides (fast synthetic history)."""
    with db.read() as conn:
        base = dict(conn.execute(select(_case).where(_case.c.id == template_id)).mappings().one())
    base.pop("id")
    ids = []
    with db.write() as conn:
        for i, overrides in enumerate(rows):
            row = {**base, "reference": f"UX{template_id:04d}{i:05d}", **overrides}
            ids.append(conn.execute(insert(_case).values(**row).returning(_case.c.id)).scalar_one())
    return ids


def _badges(html: str) -> dict[str, str]:
    """Tab key → badge text, read from the tab strip."""
    return dict(re.findall(r'href="[^"]*[?&]tab=(\w+)[^"]*"[^>]*>\s*[^<]*<span class="badge[^"]*">([^<]*)</span>',
                           html))


def _references(html: str) -> list[str]:
    """The synthetic cases listed on a page, in page order."""
    return re.findall(r"UX\d{9}", html)


@pytest.fixture
def unit_history(cast):
    """The cast's employer with a synthetic history: 12 closed cases, 3 waiting for review, 2 in correction."""
    template = open_case(cast)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(12):
        rows.append({"state": _CLOSED[i % len(_CLOSED)], "unit_org_id": cast.employer, "submitted_at": start,
                     "updated_at": start + timedelta(days=i), "state_entered_at": start + timedelta(days=i)})
    for i in range(3):
        rows.append({"state": "unit_review", "unit_org_id": cast.employer, "submitted_at": start,
                     "updated_at": start + timedelta(days=100 + i),
                     "state_entered_at": start + timedelta(days=200 - i)})
    for i in range(2):
        rows.append({"state": "correction", "unit_org_id": cast.employer, "submitted_at": start,
                     "updated_at": start + timedelta(days=300 + i), "state_entered_at": start})
    # Another unit's cases and an unsubmitted draft never show.
    rows.append({"state": "certified", "unit_org_id": cast.other_employer, "submitted_at": start})
    rows.append({"state": "unit_review", "unit_org_id": cast.other_employer, "submitted_at": start})
    rows.append({"state": "certified", "unit_org_id": cast.employer, "submitted_at": None})
    ids = _clone(cast.db, template, rows)
    return cast, ids


def _unit_counts(db, unit_org_id: int) -> dict[str, int]:
    """Submitted cases per state of one unit, counted the plain way (for comparison)."""
    with db.read() as conn:
        rows = conn.execute(select(_case.c.state).where(_case.c.unit_org_id == unit_org_id,
                                                        _case.c.submitted_at.is_not(None))).scalars().all()
    counts: dict[str, int] = {}
    for s in rows:
        counts[s] = counts.get(s, 0) + 1
    return counts


def test_unit_badges_count_open_exactly_and_cap_the_closed_history(unit_history, browser, monkeypatch):
    import web.unit

    cast, _ = unit_history
    counts = _unit_counts(cast.db, cast.employer)
    closed = sum(n for s, n in counts.items() if s in _CLOSED)
    open_total = sum(counts.values()) - closed
    assert closed == 12 and open_total >= 5

    b = browser("unit_hr")
    monkeypatch.setattr(web.unit, "CLOSED_COUNT_CAP", 5)
    badges = _badges(b.get("/unit/?tab=done").get_data(as_text=True))
    assert badges["done"] == "5+"
    assert badges["all"] == f"{open_total + 5}+"
    assert badges["review"] == str(counts.get("unit_review", 0))
    assert badges["correction"] == str(counts.get("correction", 0) + counts.get("authority_correction", 0))

    monkeypatch.setattr(web.unit, "CLOSED_COUNT_CAP", 999)
    badges = _badges(b.get("/unit/?tab=done").get_data(as_text=True))
    assert badges["done"] == "12"
    assert badges["all"] == str(open_total + 12)


def test_unit_history_pages_in_index_order_and_stop_counting_at_the_limit(unit_history, tmp_path, monkeypatch):
    import web.unit

    cast, _ = unit_history
    app = make_app(cast.db, tmp_path, PER_PAGE=5)
    b = Browser(app.test_client(), PASSWORD).login("unit_hr")
    with cast.db.read() as conn:
        expected = conn.execute(select(_case.c.reference).where(
            _case.c.unit_org_id == cast.employer, _case.c.submitted_at.is_not(None), _case.c.state.in_(_CLOSED),
            _case.c.reference.like("UX%")).order_by(_case.c.updated_at.desc(), _case.c.id.desc())).scalars().all()
    assert len(expected) == 12
    pages = [_references(b.get(f"/unit/?tab=done&page={n}").get_data(as_text=True)) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [r for p in pages for r in p] == expected  # newest change first, each case once

    # The review queue: longest waiting first.
    review = _references(b.get("/unit/?tab=review").get_data(as_text=True))
    with cast.db.read() as conn:
        waiting = conn.execute(select(_case.c.reference).where(
            _case.c.unit_org_id == cast.employer, _case.c.state == "unit_review", _case.c.reference.like("UX%"))
            .order_by(_case.c.state_entered_at, _case.c.id)).scalars().all()
    assert review == waiting and len(review) == 3

    # Past the count limit the pager offers only the pages it counted.
    monkeypatch.setattr(web.unit, "HISTORY_COUNT_LIMIT", 7)
    html = b.get("/unit/?tab=done").get_data(as_text=True)
    assert "page=2" in html and "page=3" not in html
    assert "导出 Excel" in html  # the export link stays


def _python_superior_queue(db, org_id: int) -> list[int]:
    """The queue computed the straightforward way: every waiting case, chain and level read in Python."""
    with db.read() as conn:
        rows = conn.execute(select(_case.c.id, _case.c.superior_org_ids, _case.c.data, _case.c.state_entered_at)
                            .where(_case.c.state == "superior_review")).all()
    found = [(r.state_entered_at, r.id) for r in rows
             if (r.data or {}).get("superior_level", 0) < len(r.superior_org_ids or [])
             and r.superior_org_ids[(r.data or {}).get("superior_level", 0)] == org_id]
    return [cid for _, cid in sorted(found)]


def test_superior_queue_matches_the_current_level_in_sql(any_db):
    world = build_world(any_db)
    template = world.open(superior=True)
    a, b = world.superior, world.superior + 1000  # b: a department further up the chain (any id will do)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    variants = [
        ([a], {}),                                   # level 0 → a
        ([a, b], {"superior_level": 0}),             # level 0 → a
        ([a, b], {"superior_level": 1}),             # moved up → b
        ([b, a], {"superior_level": 1}),             # second level → a
        ([b, a], {}),                                # first level → b
        ([a], {"superior_level": 1}),                # past the end of the chain → nobody
        ([], {}),                                    # no chain
    ]
    rows = []
    for i, (chain, data) in enumerate(variants * 2):
        rows.append({"state": "superior_review", "superior_org_ids": chain, "data": {"round": 1, **data},
                     "submitted_at": start, "state_entered_at": start + timedelta(hours=(i * 7) % 13)})
    rows.append({"state": "formal_check", "superior_org_ids": [a], "data": {}, "submitted_at": start})
    _clone(any_db, template, rows)
    with any_db.read() as conn:
        got_a = [r["id"] for r in queries.superior_queue(conn, a, ("superior_review",))]
        got_b = [r["id"] for r in queries.superior_queue(conn, b, ("superior_review",))]
        none = queries.superior_queue(conn, a + 5000, ("superior_review",))
    assert got_a == _python_superior_queue(any_db, a) and len(got_a) == 6
    assert got_b == _python_superior_queue(any_db, b) and len(got_b) == 4
    assert none == []


def test_superior_page_lists_its_queue_and_history(cast, browser):
    template = open_case(cast)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    mine, theirs, acted = _clone(cast.db, template, [
        {"state": "superior_review", "superior_org_ids": [cast.superior], "submitted_at": start},
        {"state": "superior_review", "superior_org_ids": [cast.superior + 1000], "submitted_at": start},
        {"state": "formal_check", "superior_org_ids": [cast.superior], "submitted_at": start},
    ])
    with cast.db.write() as conn:
        conn.execute(insert(CaseEvent.__table__).values(
            case_id=acted, seq=99, actor_id=cast.superior_reviewer.user_id, actor_role="superior_reviewer",
            trigger="superior_approve", from_state="superior_review", to_state="formal_check", payload={},
            hash="0" * 64))
        refs = dict(conn.execute(select(_case.c.id, _case.c.reference)
                                 .where(_case.c.id.in_([mine, theirs, acted]))).all())
    html = browser("superior").get("/unit/superior").get_data(as_text=True)
    queue_part, history_part = html.split("本部门审核过的案件", 1)
    assert refs[mine] in queue_part and refs[theirs] not in html
    assert refs[acted] in history_part
    with cast.db.read() as conn:
        history = queries.superior_history(conn, cast.superior)
    assert [r["id"] for r in history] == [acted]


def test_sign_in_ignores_case_and_uses_the_name_index(cast, browser, app):
    from workflow.access.accounts import username_matches

    assert browser("UNIT_HR").get("/unit/").status_code == 200  # "UNIT_HR" signs in as unit_hr
    assert Browser(app.test_client(), "wrong-password").client.post(
        "/login", data={"username": "Unit_Hr", "password": "wrong"}).status_code == 401
    with cast.db.read() as conn:
        stmt = select(User.__table__.c.id).where(username_matches(conn, " Unit_HR "))
        assert conn.execute(stmt).scalar_one() == cast.unit.user_id
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all())
    assert "ix_user_username_ci" in plan


@pytest.mark.postgres
def test_sign_in_lookup_uses_the_lower_index_on_postgres(pg_db):
    from workflow.access.accounts import username_matches

    build_world(pg_db)
    with pg_db.read() as conn:
        stmt = select(User.__table__.c.id).where(username_matches(conn, "UNIT_HR"))
        assert conn.execute(stmt).scalar_one() is not None
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: make the planner show its options
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        plan = " ".join(r[0] for r in conn.execute(text(f"EXPLAIN {compiled}")).all())
    assert "ix_user_username_ci" in plan

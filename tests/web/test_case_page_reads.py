"""The case page's merged reads give exactly what the separate reads gave, in few statements.

``queries.case_page`` folds the profile, certificate, unread count, newest eligibility reports and the
version of the standard in force into the case row's statement; the engine evaluates the actions on that row
(``available_actions(case=..., conn=...)``); the signed-in user is one statement. Each is checked here against
the functions it replaces, on every demo case, and the page's statement count is pinned.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from webhelpers import Browser

from seed.demo import DEMO_PASSWORD
from web.security import load_web_user
from workflow.directory import actor_for
from workflow.eligibility.gate import latest_reports
from workflow.eligibility.standards_store import china_today, version_in_force
from workflow.engine import core as engine
from workflow.models import Case, User, UserRole
from workflow.records import queries
from workflow.records.attachments import list_attachments


def _ids(db, table) -> list[int]:
    with db.read() as conn:
        return list(conn.execute(select(table.c.id).order_by(table.c.id)).scalars())


def _add_materials(db, case_id: int) -> None:
    """A listed file, a removed one and an objection's evidence (never listed) on the case."""
    from workflow.models import utcnow
    from workflow.models.attachments import Attachment
    from workflow.records.attachments import OBJECTION_EVIDENCE

    att = Attachment.__table__
    with db.write() as conn:
        applicant = conn.execute(select(Case.__table__.c.applicant_id)
                                 .where(Case.__table__.c.id == case_id)).scalar_one()
        for n, (category, removed) in enumerate((("education", None), ("education", utcnow()),
                                                 (OBJECTION_EVIDENCE, None))):
            conn.execute(att.insert().values(case_id=case_id, uploaded_by=applicant, category=category,
                                             original_name=f"f{n}.pdf", stored_name=f"reads-test-{n}",
                                             content_type="application/pdf", size=10, sha256="0" * 64,
                                             uploaded_at=utcnow(), case_state="draft", removed_at=removed))


def test_case_page_row_matches_the_separate_reads(demo_db) -> None:
    """Every demo case, seen by its applicant: the one statement equals the reads it replaces."""
    case_ids = _ids(demo_db, Case.__table__)
    assert case_ids
    with demo_db.read() as conn:
        seeded = len(list_attachments(conn, case_ids[0]))  # the demo's own files for the required materials
    _add_materials(demo_db, case_ids[0])
    seen_certificate = seen_report = seen_box = seen_timer = seen_materials = seen_superiors = False
    with demo_db.read() as conn:
        for case_id in case_ids:
            detail = queries.case_detail(conn, case_id)
            page = queries.case_page(conn, case_id, detail["applicant_id"])
            assert page.case == detail
            assert page.profile == queries.profile_body(conn, detail["applicant_id"])
            assert page.certificate == queries.certificate_for_case(conn, case_id)
            assert page.unread == queries.unread_count(conn, detail["applicant_id"])
            records = latest_reports(conn, case_id)
            assert page.eligibility == {kind: (records.get(kind) or {}).get("report")
                                        for kind in ("submission", "recommend", "recheck")}
            assert page.pending_timers == len(queries.pending_timers(conn, case_id))
            round_ = (detail["data"] or {}).get("round", 1)
            if not page.ballot_boxes:
                assert queries.ballot_box(conn, case_id, round_) is None
            if detail["standard_id"]:
                assert page.standard_version_in_force == version_in_force(conn, detail["standard_id"],
                                                                          china_today())
            for include_removed in (False, True):
                assert queries.case_materials(conn, case_id, include_removed=include_removed) == \
                    list_attachments(conn, case_id, include_removed=include_removed)
            superiors = detail["superior_org_ids"] or []
            assert queries.organisation_names(conn, superiors) == queries.org_names(conn, superiors)
            seen_materials |= bool(queries.case_materials(conn, case_id))
            seen_superiors |= bool(superiors)
            seen_certificate |= page.certificate is not None
            seen_report |= any(page.eligibility.values())
            seen_box |= bool(page.ballot_boxes)
            seen_timer |= bool(page.pending_timers)
        assert queries.case_page(conn, max(case_ids) + 1000, 1) is None
        counts = [len(queries.case_materials(conn, case_ids[0], include_removed=flag)) for flag in (False, True)]
        assert counts == [seeded + 1, seeded + 2]
    # The demo data exercises every folded read with something to find.
    assert seen_certificate and seen_report and seen_box and seen_timer and seen_materials and seen_superiors


def test_available_actions_on_a_preloaded_row_match_the_engines_own_read(demo_db) -> None:
    """Same options (allowed and refused, with reasons) for every demo case and every active account."""
    from workflow.access.roles import Actor

    user_ids = _ids(demo_db, User.__table__)
    with demo_db.session() as s:
        actors: list[Actor] = []
        for uid in user_ids:
            try:
                actors.append(actor_for(s, uid))
            except LookupError:
                continue
    compared = offered = 0
    for case_id in _ids(demo_db, Case.__table__):
        with demo_db.read() as conn:
            page = queries.case_page(conn, case_id, 1)
            row = engine.case_row({**page.case, "session_relaxations": page.session_relaxations})
            for actor in actors:
                preloaded = engine.available_actions(demo_db, case_id, actor, conn=conn, case=row)
                own = engine.available_actions(demo_db, case_id, actor)
                assert preloaded == own, (case_id, actor.user_id)
                compared += 1
                offered += len(own)
    assert compared > 1000 and offered > 0


def test_a_preloaded_row_must_be_complete_and_of_that_case(demo_db) -> None:
    """A row without the session columns is refused (KeyError), and so is another case's row."""
    first, second = _ids(demo_db, Case.__table__)[:2]
    with demo_db.read() as conn:
        detail = queries.case_detail(conn, first)
        page = queries.case_page(conn, first, 1)
    with pytest.raises(KeyError, match="session_relaxations"):
        engine.case_row(detail)
    row = engine.case_row({**page.case, "session_relaxations": page.session_relaxations})
    with demo_db.session() as s:
        actor = actor_for(s, page.case["applicant_id"])
    with pytest.raises(ValueError, match="not"):
        engine.available_actions(demo_db, second, actor, case=row)


def test_the_signed_in_user_is_one_statement_with_all_roles(demo_app, demo_db) -> None:
    """Roles of a many-role account all arrive; an inactive account is no one."""
    role, user = UserRole.__table__, User.__table__
    with demo_db.read() as conn:
        by_user: dict[int, set[str]] = {}
        for uid, r in conn.execute(select(role.c.user_id, role.c.role)):
            by_user.setdefault(uid, set()).add(r)
        many = max(by_user, key=lambda uid: len(by_user[uid]))
        no_roles = conn.execute(select(user.c.id).where(user.c.id.not_in(list(by_user)))).scalars().first()
    statements: list[str] = []
    with demo_app.app_context():
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - the statement text
        event.listen(demo_db.engine, "before_cursor_execute", listener)
        try:
            loaded = load_web_user(many)
        finally:
            event.remove(demo_db.engine, "before_cursor_execute", listener)
        assert loaded is not None and loaded.roles == frozenset(by_user[many]) and len(by_user[many]) > 1
        assert len(statements) == 1
        if no_roles is not None:
            assert load_web_user(no_roles).roles == frozenset()
        with demo_db.write() as conn:
            conn.execute(user.update().where(user.c.id == many).values(is_active=False))
        assert load_web_user(many) is None


def test_the_case_page_reads_in_few_statements(demo_app, demo_db) -> None:
    """The applicant's case page: user, case with companions, timeline, materials, ballot box, superiors."""
    case_ids = _ids(demo_db, Case.__table__)
    with demo_db.read() as conn:
        rows = conn.execute(select(Case.__table__.c.id, User.__table__.c.username)
                            .join(User.__table__, User.__table__.c.id == Case.__table__.c.applicant_id)
                            .where(Case.__table__.c.id.in_(case_ids))).all()
    statements: list[str] = []

    def listener(*args) -> None:
        statements.append(args[2])

    by_applicant: dict[str, list[int]] = {}
    for case_id, username in rows:
        by_applicant.setdefault(username, []).append(case_id)
    for username, ids in by_applicant.items():
        client = Browser(demo_app.test_client(), DEMO_PASSWORD).login(username)
        for case_id in ids:
            client.get(f"/cases/{case_id}")  # parsed definitions (pipeline, standard) are cached per process
            event.listen(demo_db.engine, "before_cursor_execute", listener)
            try:
                response = client.get(f"/cases/{case_id}")
            finally:
                event.remove(demo_db.engine, "before_cursor_execute", listener)
            assert response.status_code == 200
            # Before: up to 14 (two for the user, the case twice, one per companion read, the unread badge);
            # now the user, the case with its companions, timeline, deadlines, materials, ballot box, superiors.
            assert len(statements) <= 7, (case_id, "\n".join(" ".join(s.split())[:60] for s in statements))
            statements.clear()


def test_the_unread_badge_read_with_the_case_follows_the_messages(demo_app, demo_db) -> None:
    """The case page's badge is the count read with the case; once the messages are opened, both the case page
    and other pages show none (nothing is carried from one request to the next)."""
    from workflow.models import Notification, utcnow

    note = Notification.__table__
    with demo_db.read() as conn:
        row = conn.execute(select(Case.__table__.c.id, User.__table__.c.id, User.__table__.c.username)
                           .join(User.__table__, User.__table__.c.id == Case.__table__.c.applicant_id)
                           .order_by(Case.__table__.c.id)).first()
    case_id, user_id, username = row
    with demo_db.write() as conn:
        for n in range(3):
            conn.execute(note.insert().values(user_id=user_id, case_id=case_id, subject=f"s{n}", body="b",
                                              created_at=utcnow()))
        unread = queries.unread_count(conn, user_id)
    assert unread >= 3
    client = Browser(demo_app.test_client(), DEMO_PASSWORD).login(username)
    badge = f'<span class="badge text-bg-danger" id="unread-count">{unread}</span>'
    assert badge in client.get(f"/cases/{case_id}").get_data(as_text=True)
    page = client.get("/messages").get_data(as_text=True)
    assert badge in page and 'id="mark-read-form"' in page  # reading the list changes nothing
    assert badge in client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert client.post("/messages/read", data={"csrf_token": client.token("/messages")}).status_code == 303
    for url in (f"/cases/{case_id}", "/account"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'id="unread-count"' not in response.get_data(as_text=True), url

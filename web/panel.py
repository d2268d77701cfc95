"""Committee members and chairs: the cases before their sessions, pre-review opinions, the secret vote,
and (chair) attendance at the sitting. Opening and closing the ballot are engine transitions and go through
the generic action view like every other step."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow.access.visibility import seat_role
from workflow.engine import core as engine
from workflow.errors import WorkflowError
from workflow.panel import ballots
from workflow.pipeline.catalog import latest_pipelines, state_names
from workflow.records import queries

from .casepage import render_case
from .extensions import get_db
from .i18n import current_lang
from .security import roles_required, small_int, visible_scope

bp = Blueprint("panel", __name__, url_prefix="/panel")



def _panel_states() -> tuple[str, ...]:
    """States in which the committee works on a case (opinions, interview, ballot), from the definitions."""
    return state_names(_db(), lambda s: s.panel_step is not None)


def _decided_states() -> tuple[str, ...]:
    """States of cases the committee has voted on, from the definitions."""
    return state_names(_db(), lambda s: s.decided)

SCORE_KEYS = {"achievement": "业绩成果", "ability": "专业能力", "works": "代表作"}


def _db():
    return get_db()


@bp.get("/")
@roles_required("panel_member", "panel_chair")
def home():
    """My sessions and the cases before them: to review, to vote on, decided."""
    with _db().read() as conn:
        seats = queries.seated_sessions(conn, current_user.id)
        session_ids = [s["id"] for s in seats]
        active = queries.list_cases(conn, visible=visible_scope(conn), session_ids=session_ids,
                                    states=_panel_states(), per_page=500,
                                    oldest_first=True).rows if session_ids else []
        # The committee's record of what it voted on: reference, title and outcome, deliberately without a
        # link (the dossier is closed to members once the vote is over, workflow.access.visibility), so not in the
        # scope.
        decided = queries.list_cases(conn, session_ids=session_ids, states=_decided_states(),
                                     per_page=50).rows if session_ids else []
        progress = queries.panel_progress(conn, [c["id"] for c in active], current_user.id)
        recused = {c["id"] for c in active if current_user.id in ballots.recused_ids(conn, c["id"])}
    steps = {s.name: s.panel_step for p in latest_pipelines(_db()) for s in p.states if s.panel_step}
    return render_template("panel/home.html", seats=seats, active=active, decided=decided, progress=progress,
                           recused=recused, steps=steps)


def _standing(session_id: int) -> dict:
    """The session and the current user's standing in it: seat (chair/member) or organiser; 403 otherwise."""
    from workflow.panel.committee import administering_role

    with _db().read() as conn:
        session = queries.session_row(conn, session_id)
        if session is None:
            abort(404)
        seat = seat_role(conn, session_id, current_user.id)
    organiser = administering_role(session, current_user.actor)
    if seat is None and organiser is None:
        abort(403)
    return {"session": session, "seat": seat, "organiser": organiser}


@bp.get("/sessions/<int:session_id>")
@roles_required("panel_member", "panel_chair", "authority_officer", "administrator")
def session(session_id: int):
    """A sitting: opening and sign-off, the committee with attendance, quorum, and the cases before it."""
    from workflow.panel import sitting as sittings

    ctx = _standing(session_id)
    db = _db()
    with db.read() as conn:
        seats = queries.session_seats(conn, session_id)
        cases = queries.list_cases(conn, visible=visible_scope(conn), session_ids=[session_id],
                                   states=_panel_states(), per_page=500, oldest_first=True).rows
        progress = queries.panel_progress(conn, [c["id"] for c in cases], current_user.id)
    present = sum(1 for s in seats if s["recorded_at"] is not None)
    is_chair = ctx["seat"] == "chair" and current_user.has("panel_chair")
    actions = {}
    if is_chair:
        for c in cases:
            # The row offers the chair's one-click steps (open, close, to the vote); a step that needs a
            # record or a comment (the defence) is done on the case page, where its form is.
            actions[c["id"]] = [o for o in engine.available_actions(db, c["id"], current_user.actor)
                                if not o.requires]
    return render_template("panel/session.html", session=ctx["session"], seats=seats, present=present,
                           cases=cases, progress=progress, is_chair=is_chair, actions=actions, seat=ctx["seat"],
                           organiser=ctx["organiser"],
                           sitting=sittings.sitting_status(db, session_id), key=_key_fingerprint(session_id))


@bp.post("/sessions/<int:session_id>/sitting/open")
@roles_required("panel_chair")
def open_sitting(session_id: int):
    """The chair declares the sitting open (attendance and ballots need it) and the committee's ballot key is
    made; the answer shows its two shares once, for the chair and the session's officer to save.

    A sitting opened before ballot keys existed has none: the same button then makes the key alone.
    """
    from workflow.panel import sitting as sittings

    ctx = _standing(session_id)
    db = _db()
    try:
        status = sittings.sitting_status(db, session_id)
        if status is not None and status["closed_at"] is None and not _key_fingerprint(session_id):
            shares = sittings.create_sitting_key(db, session_id, current_user.actor)
        else:
            shares = sittings.open_sitting(db, session_id, current_user.actor).shares
    except WorkflowError as err:
        flash(err.message(current_lang()), "error")
        return redirect(url_for("panel.session", session_id=session_id), 303)
    if shares is None:
        flash(_("评审会议已开始。请委员签到或由主任委员登记出席。"), "success")
        return redirect(url_for("panel.session", session_id=session_id), 303)
    response = make_response(render_template("panel/key_shares.html", session=ctx["session"], shares=shares,
                                             files=_share_files(session_id, shares)))
    # Shown once: no copy may be kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _share_files(session_id: int, shares) -> dict[str, dict[str, str]]:
    """Download name and data URL of each share file (built in the page: the server keeps no copy)."""
    from urllib.parse import quote

    return {role: {"name": f"titlereview-session-{session_id}-{shares.fingerprint}-share-{label}-{role}.txt",
                   "href": "data:text/plain;charset=utf-8," + quote(text + "\n")}
            for role, label, text in (("chair", "A", shares.chair), ("officer", "B", shares.officer))}


def _key_fingerprint(session_id: int) -> str | None:
    """The fingerprint of the session's committee key, or None before it is made."""
    from workflow.panel.ballot_keys import committee_key_fingerprint

    with _db().read() as conn:
        return committee_key_fingerprint(conn, session_id)


@bp.post("/sessions/<int:session_id>/sitting/close")
@roles_required("panel_chair")
def close_sitting(session_id: int):
    """The chair signs the sitting off (refused while a ballot is open); the minutes are frozen."""
    from workflow.panel import sitting as sittings

    _standing(session_id)
    try:
        sittings.close_sitting(_db(), session_id, current_user.actor)
    except WorkflowError as err:
        flash(err.message(current_lang()), "error")
    else:
        flash(_("评审会议已结束，会议纪要已封存。"), "success")
    return redirect(url_for("panel.session", session_id=session_id), 303)


@bp.get("/sessions/<int:session_id>/minutes")
@roles_required("panel_member", "panel_chair", "authority_officer", "administrator")
def minutes(session_id: int):
    """The sitting's minutes (counts and results only, never who voted how), as a printable page."""
    from flask import make_response

    from workflow.panel import sitting as sittings

    _standing(session_id)
    try:
        data = sittings.minutes_data(_db(), session_id, current_user.actor)
    except WorkflowError as err:
        return render_case_free_error(err)
    response = make_response(sittings.render_minutes_html(data))
    # The minutes are a standalone document with their own inline styles.
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                                   "frame-ancestors 'none'")
    return response


def render_case_free_error(err: WorkflowError):
    """An error page for a domain refusal outside any case page."""
    from .errors import render_error

    return render_error(err.status, err.message(current_lang()))


@bp.post("/sessions/<int:session_id>/attendance")
@roles_required("panel_member", "panel_chair")
def attendance(session_id: int):
    """Record presence: a member signs in themselves; the chair may record any seated member."""
    ctx = _standing(session_id)
    user_id = small_int(request.form.get("user_id"))
    if user_id is None:
        flash(_("请选择要登记出席的委员。"), "error")
        return redirect(url_for("panel.session", session_id=session_id), 303)
    if user_id != current_user.id and ctx["seat"] != "chair":
        abort(403)
    try:
        ballots.record_attendance(_db(), session_id, user_id, actor=current_user.actor)
    except WorkflowError as err:
        flash(err.message(current_lang()), "error")
    else:
        flash(_("已登记出席。"), "success")
    return redirect(url_for("panel.session", session_id=session_id), 303)


@bp.post("/cases/<int:case_id>/reviewers")
@roles_required("panel_chair", "authority_officer", "administrator")
def assign(case_id: int):
    """Draw the case's pre-review group at random from the unconflicted seated members (recorded draw)."""
    from workflow.panel import prereview

    try:
        group = prereview.assign_reviewers(_db(), case_id, current_user.actor)
    except WorkflowError as err:
        return render_case(case_id, err.status, error=err.message(current_lang()))
    flash(_("评议组已组建：%(n)s 名专家。", n=len(group)), "success")
    return redirect(url_for("cases.show", case_id=case_id), 303)


@bp.post("/cases/<int:case_id>/defence/schedule")
@roles_required("panel_chair", "authority_officer", "administrator")
def schedule_defence(case_id: int):
    """Schedule (or reschedule) the defence interview: time and place."""
    from datetime import datetime

    from workflow.panel import prereview
    from workflow.time.calendar import CHINA_TZ

    values = {k: request.form.get(k, "").strip() for k in ("scheduled_at", "place")}
    kept = {"form": "interview", "values": values}
    try:
        when = datetime.fromisoformat(values["scheduled_at"]).replace(tzinfo=CHINA_TZ)
    except ValueError:
        return render_case(case_id, 422, error=_("请填写答辩时间。"), kept=kept)
    try:
        prereview.schedule_defence(_db(), case_id, current_user.actor, scheduled_at=when, place=values["place"])
    except WorkflowError as err:
        return render_case(case_id, err.status, error=err.message(current_lang()), kept=kept)
    flash(_("答辩已安排。"), "success")
    return redirect(url_for("cases.show", case_id=case_id), 303)


@bp.post("/cases/<int:case_id>/defence/record")
@roles_required("panel_chair", "authority_officer", "administrator")
def record_defence(case_id: int):
    """Record the defence result; the case then moves on to the committee vote."""
    from workflow.panel import prereview

    values = {k: request.form.get(k, "").strip() for k in ("result", "record")}
    kept = {"form": "defence-record", "values": values}
    if values["result"] not in prereview.DEFENCE_RESULTS:
        return render_case(case_id, 422, error=_("请选择答辩结果。"), kept=kept)
    try:
        prereview.record_defence(_db(), case_id, current_user.actor, record=values["record"],
                                 result=values["result"])
    except WorkflowError as err:
        return render_case(case_id, err.status, error=err.message(current_lang()), kept=kept)
    flash(_("答辩已记录，案件进入评委会表决。"), "success")
    return redirect(url_for("cases.show", case_id=case_id), 303)


@bp.post("/cases/<int:case_id>/opinion")
@roles_required("panel_member", "panel_chair")
def opinion(case_id: int):
    """Submit this member's pre-review opinion (recommendation, scores, text)."""
    values = {k: request.form.get(k, "") for k in ("recommendation", "text")}
    scores: dict[str, int] = {}
    problems = []
    for key, name in SCORE_KEYS.items():
        raw = request.form.get(f"score_{key}", "").strip()
        values[f"score_{key}"] = raw
        if raw:
            if small_int(raw, digits=3) is None or not 0 <= int(raw) <= 100:
                problems.append(_("%(name)s评分须为0到100的整数", name=_(name)))
            else:
                scores[name] = int(raw)
    kept = {"form": "opinion", "values": values}
    if values["recommendation"] not in ballots.CHOICES:
        problems.append(_("请选择评议建议"))
    if len(values["text"]) > 2000:
        problems.append(_("评议意见不能超过2000字"))
    if problems:
        return render_case(case_id, 422, error="；".join(problems), kept=kept)
    try:
        ballots.submit_opinion(_db(), case_id, current_user.actor, values["recommendation"], scores,
                               values["text"].strip())
    except WorkflowError as err:
        return render_case(case_id, err.status, error=err.message(current_lang()), kept=kept)
    flash(_("评议意见已提交。"), "success")
    return redirect(url_for("cases.show", case_id=case_id), 303)


@bp.post("/cases/<int:case_id>/vote")
@roles_required("panel_member", "panel_chair")
def vote(case_id: int):
    """Cast this member's secret vote; the page never shows the choice back."""
    choice = request.form.get("choice", "")
    if choice not in ballots.CHOICES:
        return render_case(case_id, 422, error=_("请选择同意、不同意或弃权。"))
    try:
        ballots.cast_vote(_db(), case_id, current_user.actor, choice)
    except WorkflowError as err:
        return render_case(case_id, err.status, error=err.message(current_lang()))
    flash(_("投票成功。"), "success")
    return redirect(url_for("cases.show", case_id=case_id), 303)

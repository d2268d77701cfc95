"""Committee formation and conflicts through the web.

Administrators (``/admin/sessions/<id>/committee``): draw the session's committee at random from the expert
pool with the seed shown, re-run the recorded draws to confirm them, draw a replacement the same way and
appoint the chair. Panel members (``/panel/cases/<id>/conflict``): declare a conflict with a case before
opening its dossier — which recuses them at once; the chair (``/panel/cases/<id>/conflicts``) confirms or
dismisses declared conflicts. All checks live in :mod:`workflow.panel.committee` and :mod:`workflow.panel.conflicts`.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow.access.visibility import seat_role
from workflow.errors import WorkflowError
from workflow.panel import committee as draws
from workflow.panel import conflicts
from workflow.panel import experts as pool
from workflow.records import queries

from .extensions import get_db
from .i18n import current_lang
from .security import roles_required, small_int

bp = Blueprint("committee", __name__)


def _db():
    return get_db()


# ------------------------------------------------------------------------------------- administrators


@bp.get("/admin/committees")
@roles_required("administrator")
def index():
    """Every session with its seat count, linking to its committee page."""
    with _db().read() as conn:
        rows = queries.sessions(conn)
    return render_template("committee/index.html", rows=rows)


def _session_or_404(session_id: int) -> dict:
    with _db().read() as conn:
        session = queries.session_row(conn, session_id)
    if session is None:
        abort(404)
    return session


def _expert_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with _db().read() as conn:
        found = pool.names_and_codes(conn, ids)
    return {i: f"{name}（{code}）" for i, (name, code) in found.items()}


def _committee_page(session_id: int, *, check=None, checks=None, error: str | None = None, status: int = 200):
    db = _db()
    session = _session_or_404(session_id)
    with db.read() as conn:
        seats = queries.session_seats(conn, session_id)
    records = draws.session_draws(db, session_id)
    names = _expert_names({e for r in records for e in [*r["result"], *([r["chair_id"]] if r["chair_id"] else [])]})
    try:
        params = draws.committee_parameters(session)
        params_error = None
    except WorkflowError as err:
        params, params_error = None, err.message(current_lang())
    eligible = None
    if params is not None:
        with db.read() as conn:
            eligible = len(draws.eligible_experts(conn, params))
    return render_template("committee/session.html", session=session, seats=seats, draws=records, names=names,
                           params=params, params_error=params_error, eligible=eligible, check=check,
                           checks=checks or {}, error=error), status


@bp.get("/admin/sessions/<int:session_id>/committee")
@roles_required("administrator")
def show(session_id: int):
    """The committee: parameters, seats, every recorded draw with its seed; ``?verify=1`` re-runs them."""
    if request.args.get("verify"):
        _session_or_404(session_id)
        check = draws.verify_session(_db(), session_id)
        checks = {r["id"]: draws.verify_draw(_db(), r["id"]) for r in draws.session_draws(_db(), session_id)}
        return _committee_page(session_id, check=check, checks=checks)
    return _committee_page(session_id)


@bp.post("/admin/sessions/<int:session_id>/committee/draw")
@roles_required("administrator")
def draw(session_id: int):
    """Draw the committee (seed from the form, else a fresh random one); optionally draw the chair too."""
    _session_or_404(session_id)
    raw = request.form.get("seed", "").strip()
    seed = small_int(raw, digits=19)
    if raw and (seed is None or seed >= 2**63):
        return _committee_page(session_id, error=_("随机种子须为非负整数，或留空由系统生成。"), status=422)
    try:
        result = draws.draw_committee(_db(), session_id, current_user.actor, seed=seed,
                                      draw_chair=request.form.get("chair_mode") == "drawn")
    except WorkflowError as err:
        return _committee_page(session_id, error=err.message(current_lang()), status=err.status)
    flash(_("评委会已随机抽取：%(n)s 人，随机种子 %(s)s。", n=len(result.seated_user_ids), s=result.seed), "success")
    return redirect(url_for("committee.show", session_id=session_id), 303)


@bp.post("/admin/sessions/<int:session_id>/committee/replacement")
@roles_required("administrator")
def replacement(session_id: int):
    """Draw one replacement seat the same way (optionally unseating a member), with the reason."""
    _session_or_404(session_id)
    raw = request.form.get("replacing_user_id", "").strip()
    try:
        result = draws.draw_replacement(_db(), session_id, current_user.actor,
                                        replacing_user_id=small_int(raw),
                                        reason=request.form.get("reason", ""))
    except WorkflowError as err:
        return _committee_page(session_id, error=err.message(current_lang()), status=err.status)
    flash(_("已随机抽取替补委员，随机种子 %(s)s。", s=result.seed), "success")
    return redirect(url_for("committee.show", session_id=session_id), 303)


@bp.post("/admin/sessions/<int:session_id>/committee/chair")
@roles_required("administrator")
def chair(session_id: int):
    """Make a seated member the chair."""
    _session_or_404(session_id)
    user_id = small_int(request.form.get("user_id"))
    if user_id is None:
        return _committee_page(session_id, error=_("请选择主任委员。"), status=422)
    try:
        draws.appoint_chair(_db(), session_id, user_id, current_user.actor)
    except WorkflowError as err:
        return _committee_page(session_id, error=err.message(current_lang()), status=err.status)
    flash(_("主任委员已指定。"), "success")
    return redirect(url_for("committee.show", session_id=session_id), 303)


# ------------------------------------------------------------------------------------- panel members


def _seated_case(case_id: int) -> tuple[dict, str]:
    """The case (reference and parties only) and the current user's seat on its session; 404/403 otherwise."""
    with _db().read() as conn:
        case = queries.case_detail(conn, case_id)
        if case is None:
            abort(404)
        seat = seat_role(conn, case["session_id"], current_user.id) if case["session_id"] else None
    if seat is None:
        abort(403)
    return case, seat


@bp.route("/panel/cases/<int:case_id>/conflict", methods=["GET", "POST"])
@roles_required("panel_member", "panel_chair")
def declare(case_id: int):
    """Declare a conflict with the case (before opening its dossier); recuses at once, pending the chair."""
    case, _seat = _seated_case(case_id)
    values = {"kind": request.form.get("kind", ""), "note": request.form.get("note", "").strip()}
    error = None
    if request.method == "POST":
        try:
            conflicts.declare_conflict(_db(), case_id, current_user.actor, values["kind"], values["note"])
        except WorkflowError as err:
            error = err.message(current_lang())
        else:
            flash(_("已申报回避：在主任委员处理前，您不能查阅本案材料，也不能评议或表决。"), "success")
            return redirect(url_for("panel.session", session_id=case["session_id"]), 303)
    return render_template("committee/declare.html", case=case, kinds=conflicts.KINDS, values=values,
                           error=error), 422 if error else 200


@bp.get("/panel/cases/<int:case_id>/conflicts")
@roles_required("panel_chair", "administrator")
def review(case_id: int, error: str | None = None, status: int = 200):
    """The case's conflicts (detected and declared) for the chair to confirm or dismiss."""
    with _db().read() as conn:
        case = queries.case_detail(conn, case_id)
    if case is None:
        abort(404)
    rows = conflicts.case_conflicts(_db(), case_id, current_user.actor)  # 403 unless chair or administrator
    return render_template("committee/conflicts.html", case=case, rows=rows, error=error), status


@bp.post("/panel/cases/<int:case_id>/conflicts/<int:member_id>")
@roles_required("panel_chair", "administrator")
def decide(case_id: int, member_id: int):
    """Confirm or dismiss a pending conflict (a dismissal needs a reason)."""
    decision = request.form.get("decision")
    if decision not in ("confirm", "dismiss"):
        return review(case_id, error=_("请选择确认回避或驳回。"), status=422)
    try:
        conflicts.decide_conflict(_db(), case_id, member_id, current_user.actor, confirm=decision == "confirm",
                                  note=request.form.get("note", ""))
    except WorkflowError as err:
        if err.status == 403:
            raise
        return review(case_id, error=err.message(current_lang()), status=err.status)
    flash(_("已确认回避。") if decision == "confirm" else _("已驳回回避申请，该委员可继续参加本案评审。"), "success")
    return redirect(url_for("committee.review", case_id=case_id), 303)

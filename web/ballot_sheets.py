"""The sitting at scale: a member's ballot sheet (every open case, one form, one submission) and the chair's
agenda with per-case progress counts, opening ballots in a batch and closing them after a confirmation page.

The pages call the core (:mod:`workflow.panel.ballot_sheet`, :mod:`workflow.panel.agenda`) and never learn a
choice: the sheet's marks exist only in the member's form until submitted; the chair sees "已投 n / 出席 m".
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow.errors import PermissionDenied, WorkflowError
from workflow.panel import agenda as agendas
from workflow.panel import ballot_sheet as sheets
from workflow.panel import ballots

from .cases import ballot_shares_from_request
from .extensions import get_db
from .i18n import current_lang
from .security import roles_required, small_int

bp = Blueprint("ballot_sheets", __name__, url_prefix="/panel/sessions")

MAX_CASES = 2000
"""More case ids than any sitting decides in a day: a longer list in one form is not a real form."""


def _db():
    return get_db()


def _session(session_id: int) -> dict:
    from workflow.records import queries

    with _db().read() as conn:
        session = queries.session_row(conn, session_id)
    if session is None:
        abort(404)
    return session


def _case_ids(name: str = "case") -> list[int] | None:
    """The case ids posted under ``name`` (None when one is not a case id or there are far too many)."""
    raw = request.form.getlist(name)
    if len(raw) > MAX_CASES:
        return None
    ids = [small_int(v) for v in raw]
    if any(i is None for i in ids):
        return None
    return list(dict.fromkeys(ids))


# --------------------------------------------------------------------------------------------- the member


def _render_sheet(session_id: int, status: int = 200, *, error: str | None = None,
                  marks: dict[int, str] | None = None):
    try:
        sheet = sheets.ballot_sheet(_db(), session_id, current_user.actor)
    except PermissionDenied:
        abort(403)
    return render_template("panel/sheet.html", session=_session(session_id), sheet=sheet, marks=marks or {},
                           error=error, choices=ballots.CHOICES), status


@bp.get("/<int:session_id>/sheet")
@roles_required("panel_member", "panel_chair")
def sheet(session_id: int):
    """The member's ballot sheet: every case with an open ballot they may vote on, three choices each."""
    return _render_sheet(session_id)


@bp.post("/<int:session_id>/sheet")
@roles_required("panel_member", "panel_chair")
def submit(session_id: int):
    """Cast every mark of the sheet at once; an incomplete or refused sheet comes back with the marks kept."""
    shown = _case_ids()
    if not shown:
        return _render_sheet(session_id, 422, error=_("表决票无效，请刷新页面后重新填写。"))
    marks = {cid: request.form.get(f"choice-{cid}", "") for cid in shown}
    marks = {cid: m for cid, m in marks.items() if m}
    if any(m not in ballots.CHOICES for m in marks.values()):
        return _render_sheet(session_id, 422, error=_("无效的表决选项。"), marks={})
    missing = [cid for cid in shown if cid not in marks]
    if missing:
        return _render_sheet(session_id, 422, marks=marks, error=_(
            "还有 %(n)s 件未选择同意、不同意或弃权，请全部选择后再提交。", n=len(missing)))
    try:
        cast = sheets.submit_sheet(_db(), session_id, current_user.actor, marks)
    except WorkflowError as err:
        return _render_sheet(session_id, err.status, error=err.message(current_lang()), marks=marks)
    flash(_("表决票已提交：共投出 %(n)s 票。投票为无记名，提交后不能更改。", n=cast), "success")
    return redirect(url_for("ballot_sheets.sheet", session_id=session_id), 303)


# --------------------------------------------------------------------------------------------- the chair


def _my_pending(session_id: int) -> int | None:
    """How many cases the signed-in chair has still to vote on (None when they hold no seat)."""
    try:
        return len(sheets.ballot_sheet(_db(), session_id, current_user.actor).entries)
    except PermissionDenied:
        return None


def _agenda(session_id: int):
    try:
        return agendas.agenda(_db(), session_id, current_user.actor)
    except PermissionDenied:
        abort(403)


def _is_chair(session_id: int) -> bool:
    from workflow.access.visibility import seat_role

    with _db().read() as conn:
        return seat_role(conn, session_id, current_user.id) == "chair" and current_user.has("panel_chair")


@bp.get("/<int:session_id>/agenda")
@roles_required("panel_member", "panel_chair", "authority_officer", "administrator")
def agenda(session_id: int):
    """The agenda: each case's step, review group and ballot progress (已投 n / 出席 m), batch open and close."""
    rows = _agenda(session_id)
    return render_template("panel/agenda.html", session=_session(session_id), rows=rows,
                           is_chair=_is_chair(session_id), my_pending=_my_pending(session_id))


@bp.post("/<int:session_id>/ballots/open")
@roles_required("panel_chair")
def open_ballots(session_id: int):
    """Open the ballots of the whole agenda (``all``) or of the ticked cases, each through the engine."""
    chosen = None if request.form.get("all") == "1" else _case_ids()
    if chosen is not None and not chosen:
        flash(_("请先勾选要开启投票的案件。"), "error")
        return redirect(url_for("ballot_sheets.agenda", session_id=session_id), 303)
    try:
        outcome = agendas.open_ballots(_db(), session_id, current_user.actor, chosen)
    except WorkflowError as err:
        flash(err.message(current_lang()), "error")
        return redirect(url_for("ballot_sheets.agenda", session_id=session_id), 303)
    if outcome.done:
        flash(_("已开启 %(n)s 件案件的无记名投票。", n=len(outcome.done)), "success")
    elif not outcome.refused:
        flash(_("没有等待开启投票的案件。"), "error")
    for r in outcome.refused:
        flash(f"{r['reference']}：{r['reason_en'] if current_lang() == 'en' else r['reason']}", "error")
    return redirect(url_for("ballot_sheets.agenda", session_id=session_id), 303)


def _confirm_page(session_id: int, chosen: list[int], status: int = 200, error: str | None = None):
    rows = [r for r in _agenda(session_id) if r.case_id in set(chosen)]
    return render_template("panel/close_confirm.html", session=_session(session_id), rows=rows, error=error,
                           my_pending=_my_pending(session_id)), status


@bp.post("/<int:session_id>/ballots/close")
@roles_required("panel_chair")
def close_ballots(session_id: int):
    """Closing is two steps: the ticked cases' progress on a confirmation page (已投 n / 出席 m), then — with
    the confirmation ticked and both key shares — every chosen box is closed and counted; the answer lists
    every tally and links the minutes."""
    if not _is_chair(session_id):
        abort(403)
    chosen = _case_ids()
    if not chosen:
        flash(_("请先勾选要结束投票的案件。"), "error")
        return redirect(url_for("ballot_sheets.agenda", session_id=session_id), 303)
    if request.form.get("step") != "close":
        return _confirm_page(session_id, chosen)
    if request.form.get("confirm") != "yes":
        return _confirm_page(session_id, chosen, 422, _("请勾选确认已核对投票进度。"))
    shares = ballot_shares_from_request()
    if isinstance(shares, str):
        return _confirm_page(session_id, chosen, 422, shares)
    try:
        outcome = agendas.close_ballots(_db(), session_id, current_user.actor, chosen, shares)
    except WorkflowError as err:
        return _confirm_page(session_id, chosen, err.status, err.message(current_lang()))
    return render_template("panel/ballots_closed.html", session=_session(session_id), outcome=outcome)

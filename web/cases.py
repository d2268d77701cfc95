"""The case page and the ONE generic transition view every role uses, plus material downloads.

``POST /cases/<id>/actions/<trigger>`` answers, in this order: 404 when the case does not exist, 403 when
the user may not take this action on it, 409 when the page was stale or the action is not possible now or a
rule refuses it, 422 when required input is missing — each time re-rendering the page the form came from
with the message in the user's language and the typed input kept.

A named objection may carry one evidence file (field ``evidence``, PDF/JPEG/PNG by content). It is checked
and stored before the objection is fired and recorded by the objection's event; when the file is refused the
objection is not filed, and when the objection is refused the file and its row are removed again.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflow import attachments as attachment_store
from workflow import engine, queries
from workflow.access import dossier_relations
from workflow.ballot_keys import BallotShares
from workflow.catalog import get_pipeline
from workflow.errors import WorkflowError
from workflow.notices import visible_notice
from workflow.permissions import acting_role

from .casepage import OBJECTION_ROLES, render_case, transition_label
from .errors import render_error
from .forms import TransitionForm, parse_corrections, safe_next
from .i18n import current_lang
from .security import home_endpoint, small_int
from .uploads import UploadRejected, discard, path_of, safe_display_name, sniff_file, store

bp = Blueprint("cases", __name__)


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id: int):
    """The case page: status, actions, next steps and deadlines, timeline, materials, dossier, diagram."""
    return render_case(case_id)


def _refuse(case: dict[str, Any], status: int, message: str, form: TransitionForm, trigger: str,
            can_view: bool):
    """Re-render the page the form came from with the refusal and the typed input."""
    if form.return_to.data == "objection":
        from .public import render_objection

        return render_objection(case["id"], status=status, error=message, kept={"reason": form.reason.data or ""})
    if can_view:
        return render_case(case["id"], status, error=message, kept=form.kept(trigger))
    return render_error(status, message)


@bp.post("/cases/<int:case_id>/actions/<trigger>")
@login_required
def act(case_id: int, trigger: str):
    """Fire ``trigger`` on the case as the signed-in user (see the module docstring for the statuses)."""
    db = current_app.extensions["titlereview_db"]
    actor = current_user.actor
    lang = current_lang()
    form = TransitionForm()
    with db.read() as conn:
        case = queries.case_detail(conn, case_id)
    if case is None:
        return render_error(404, _("案件不存在。"))
    viewer = bool(dossier_relations(db, actor, case)[0])
    with db.read() as conn:
        pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
        cands = pipeline.by_trigger_source.get((trigger, case["state"]), [])
        objection = bool(cands) and set(cands[0].roles) <= OBJECTION_ROLES
        if objection and not viewer and visible_notice(conn, case_id, actor.org_id) is None:
            # A unit-internal notice exists only for the unit's staff (the print page's rule): to anyone else
            # the case is on no notice, and the refusal below must not tell them otherwise.
            cands, objection = [], False
        if form.return_to.data == "objection" and trigger == "file_objection" and not cands:
            # The notice ended or is paused since the form was opened (a notice is public, so saying so is fine).
            return _refuse(case, 409, _("该公示已结束或暂停，不再受理异议。"), form, trigger, viewer)
        # Outsiders learn nothing about a case beyond "not yours"; the only actions open to people without a
        # relation to the case are named objections during a notice.
        if not viewer and not objection:
            return render_error(403, _("您无权对该案件执行此操作。"))
        posted = small_int(form.version.data)
        if viewer and posted is not None and posted != case["version"]:
            # A stale page is the likelier story than a forbidden action: say so first.
            return _refuse(case, 409, _("案件已被他人更新，请查看最新状态后重试。"), form, trigger, viewer)
        if cands and acting_role(cands[0].roles, actor, case, conn) is None:
            return _refuse(case, 403, _("您无权执行“%(action)s”。", action=transition_label(
                pipeline, trigger, case["state"], cands[0].dest)), form, trigger, viewer)
    if not form.validate():
        return _refuse(case, 422, form.error_text(), form, trigger, viewer)
    if objection and len((form.reason.data or "").strip()) < 10:
        # A named objection suspends a notice: it must say what is wrong, not just that something is.
        return _refuse(case, 422, _("异议内容请写10到2000字"), form, trigger, viewer)
    requires = cands[0].requires if cands else []
    data: dict[str, Any] = {}
    if "reason" in requires:
        data["reason"] = (form.reason.data or "").strip()
    if "corrections" in requires:
        data["corrections"] = parse_corrections(form.corrections.data)
    if "assessment" in requires:
        data["assessment"] = {"result": form.assessment_result.data or "",
                              "summary": (form.assessment_summary.data or "").strip()}
    if "verification" in requires:
        chosen = {key: request.form.getlist(f"verify_{key}") for key in ("achievements", "works")}
        if any(not v.isdecimal() or len(v) > 4 for values in chosen.values() for v in values):
            return _refuse(case, 422, _("核实的条目无效，请刷新页面后重试。"), form, trigger, viewer)
        data["verification"] = {"digest": request.form.get("profile_digest", "")[:128],
                                **{key: sorted({int(v) for v in values}) for key, values in chosen.items()}}
    secrets = None
    if trigger == "close_ballot":
        # The key shares go beside the data, never in it: the engine records data, and must not record these.
        shares = ballot_shares_from_request()
        if isinstance(shares, str):
            return _refuse(case, 422, shares, form, trigger, viewer)
        secrets = {"ballot_shares": shares}
    evidence = None
    if objection:
        evidence = _store_evidence(db, case_id, actor)
        if isinstance(evidence, UploadRejected | WorkflowError):
            return _refuse(case, evidence.status, evidence.message(lang), form, trigger, viewer)
        if evidence is not None:
            data["evidence"] = evidence[0]
    try:
        fired = engine.fire(db, case_id, trigger, actor, comment=form.comment.data or "", data=data,
                            expected_version=int(form.version.data), secrets=secrets)
    except BaseException as err:
        if evidence is not None:
            _forget_evidence(db, *evidence)
        if isinstance(err, WorkflowError):
            return _refuse(case, err.status, err.message(lang), form, trigger, viewer)
        raise
    done = transition_label(pipeline, trigger, fired.from_state, fired.to_state)
    if objection:
        flash(_("您的异议已提交，公示期暂停，待核查后处理。"), "success")
        return redirect(safe_next(form.next.data) or url_for("public.notices"), 303)
    flash(_("已办理：%(action)s。案件现处于“%(state)s”。", action=done,
            state=pipeline.state_map[fired.to_state].label.en if lang == "en"
            else pipeline.state_map[fired.to_state].label.zh), "success")
    target = safe_next(form.next.data)
    if target is None:
        # A step can end the actor's access (the committee sees a dossier only while it is before them).
        still = dossier_relations(db, actor, {**case, "state": fired.to_state})[0]
        target = url_for("cases.show", case_id=case_id) if still else url_for(home_endpoint(current_user))
    return redirect(target, 303)


SHARE_FILE_MAX = 4096
"""A share file is one line of a few hundred characters; anything much larger is not one."""


def ballot_shares_from_request() -> BallotShares | str:
    """Both ballot key shares from the close form — typed, or each holder's share file — or why not (text).

    The values are only passed on to the engine (``secrets``); nothing here logs, stores or echoes them.
    """
    values = {}
    for role in ("chair", "officer"):
        text = (request.form.get(f"{role}_share") or "").strip()
        upload = request.files.get(f"{role}_share_file")
        if not text and upload is not None and upload.filename:
            raw = upload.stream.read(SHARE_FILE_MAX + 1)
            try:
                text = raw.decode("ascii").strip() if len(raw) <= SHARE_FILE_MAX else ""
            except UnicodeDecodeError:
                text = ""
            if not text:
                return _("份额文件无效：请上传开会时下载的份额文件（.txt）。")
        values[role] = text[:SHARE_FILE_MAX]
    return BallotShares(values["chair"], values["officer"])


def _store_evidence(db, case_id: int, actor) -> tuple[int, str] | UploadRejected | WorkflowError | None:
    """Check, store and record the objection's evidence file: (attachment id, stored name), the refusal, or
    None when no file was chosen. Nothing stays on disk or in the database when it is refused."""
    upload = request.files.get("evidence")
    if upload is None or not upload.filename:
        return None  # the file is optional (browsers send an empty part when none was chosen)
    folder = current_app.config["UPLOAD_FOLDER"]
    try:
        stored = store(upload.stream, folder, current_app.config["MAX_UPLOAD_BYTES"])
    except UploadRejected as err:
        return err
    try:
        att_id = attachment_store.add_objection_evidence(
            db, case_id, actor, original_name=safe_display_name(upload.filename), stored_name=stored.stored_name,
            content_type=stored.content_type, size=stored.size, sha256=stored.sha256)
    except BaseException as err:
        discard(folder, stored.stored_name)
        if isinstance(err, WorkflowError):
            return err
        raise
    return att_id, stored.stored_name


def _forget_evidence(db, attachment_id: int, stored_name: str) -> None:
    """Remove the file and row of an objection that was not filed (no event references them)."""
    discard(current_app.config["UPLOAD_FOLDER"], stored_name)
    try:
        attachment_store.drop_evidence(db, attachment_id)
    except Exception:
        # The refusal (or the original failure) is what the objector must see; an unreferenced row with no
        # file behind it is listed nowhere and harms nothing.
        current_app.logger.exception("could not delete evidence row %s of an objection not filed", attachment_id)


@bp.get("/cases/<int:case_id>/materials/<int:attachment_id>")
@login_required
def download(case_id: int, attachment_id: int):
    """Send one uploaded file as a download, to people who may see the case only — or, for an objection's
    evidence, to the objector, the people deciding the objection, the authority and administrators only."""
    db = current_app.extensions["titlereview_db"]
    actor = current_user.actor
    with db.read() as conn:
        case = queries.case_detail(conn, case_id)
    if case is None:
        abort(404)
    viewer = bool(dossier_relations(db, actor, case)[0])
    with db.read() as conn:
        att = attachment_store.get_attachment(conn, attachment_id)
        if att is not None and att["category"] == attachment_store.OBJECTION_EVIDENCE:
            pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
            if not attachment_store.may_see_evidence(conn, pipeline, actor, case, att):
                # Those who see the case learn no more than "no such file"; others no more than "not yours".
                abort(404 if viewer else 403)
        elif not viewer:
            abort(403)
    if att is None or att["case_id"] != case_id:
        abort(404)
    try:
        path = path_of(current_app.config["UPLOAD_FOLDER"], att["stored_name"])
    except ValueError:
        abort(404)
    if not path.is_file():
        return render_error(404, _("文件已不在存储中，请联系管理员。"))
    # Type and name follow the stored bytes, never the uploader's name: rows recorded before names were
    # corrected may still say "x.html" for a PDF (the page's headers add nosniff and a strict CSP).
    content_type = sniff_file(path)
    return send_file(path, mimetype=content_type, as_attachment=True,
                     download_name=attachment_store.file_name_for(att["original_name"], content_type),
                     max_age=0, conditional=True, etag=att["sha256"])


@bp.get("/messages")
@login_required
def messages():
    """The signed-in user's in-app messages (case notices), unread ones marked; reading changes nothing."""
    db = current_app.extensions["titlereview_db"]
    with db.read() as conn:
        rows = queries.notifications(conn, current_user.id)
    return render_template("cases/messages.html", rows=rows, unread=sum(1 for r in rows if r["read_at"] is None))


@bp.post("/messages/read")
@login_required
def mark_messages_read():
    """Mark every message of the signed-in user read (a GET never writes: prefetchers and crawlers follow GETs)."""
    from sqlalchemy import update

    from workflow.models import Notification, utcnow

    note = Notification.__table__
    db = current_app.extensions["titlereview_db"]
    with db.write() as conn:
        conn.execute(update(note).where(note.c.user_id == current_user.id, note.c.read_at.is_(None))
                     .values(read_at=utcnow()))
    flash(_("消息已全部标为已读。"), "success")
    return redirect(url_for("cases.messages"), 303)

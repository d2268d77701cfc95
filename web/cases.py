"""The case page and the ONE generic transition view every role uses, plus material downloads.

``POST /cases/<id>/actions/<trigger>`` answers, in this order: 404 when the case does not exist, 403 when
the user may not take this action on it, 409 when the page was stale or the action is not possible now or a
rule refuses it, 422 when required input is missing — each time re-rendering the page the form came from
with the message in the user's language and the typed input kept. The order, the acting role and the
objection rules are the command layer's (:mod:`workflow.engine.commands`, which the API calls too): this view only
reads the form and renders the answer.

A named objection may carry one evidence file (field ``evidence``, PDF/JPEG/PNG by content). It is checked
and stored before the objection is fired and recorded by the objection's event; when the file is refused the
objection is not filed, and when the objection is refused the file and its row are removed again (the
command does this; the files go to the upload folder through :class:`UploadFolder`).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflow.access.visibility import dossier_relations
from workflow.engine import commands
from workflow.errors import CaseNotFound, FileRefused, MissingData, WorkflowError
from workflow.panel.ballot_keys import BallotShares
from workflow.pipeline.catalog import get_pipeline
from workflow.records import attachments as attachment_store
from workflow.records import queries

from .casepage import render_case, transition_label
from .errors import render_error
from .extensions import get_db
from .forms import TransitionForm, parse_corrections, safe_next
from .i18n import current_lang
from .security import home_endpoint, small_int
from .uploads import StoredFile, UploadRejected, discard, path_of, safe_display_name, sniff_file, store

bp = Blueprint("cases", __name__)


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id: int):
    """The case page: status, actions, next steps and deadlines, timeline, materials, dossier, diagram."""
    return render_case(case_id)


def _refuse(command: commands.CaseCommand, err: WorkflowError, form: TransitionForm, trigger: str):
    """Re-render the page the form came from with the refusal and the typed input."""
    message = err.message(current_lang())
    if err.status == 403 and not command.may_view:
        return render_error(403, message)  # people without a relation to the case learn nothing more
    if form.return_to.data == "objection":
        from .public import render_objection

        return render_objection(command.case["id"], status=err.status, error=message,
                                kept={"reason": form.reason.data or ""})
    if command.may_view:
        return render_case(command.case["id"], err.status, error=message, kept=form.kept(trigger))
    return render_error(err.status, message)


@bp.post("/cases/<int:case_id>/actions/<trigger>")
@login_required
def act(case_id: int, trigger: str):
    """Fire ``trigger`` on the case as the signed-in user (see the module docstring for the statuses).

    The checks, their order and the objection rules are the command layer's (:mod:`workflow.engine.commands`); this
    view reads the form into a submission and renders the outcome.
    """
    db = get_db()
    actor = current_user.actor
    lang = current_lang()
    form = TransitionForm()
    try:
        command = commands.prepare(db, actor, case_id, trigger)
    except CaseNotFound as err:
        return render_error(404, err.message(lang))
    try:
        acted = command.run(_submission(form),
                            files=UploadFolder(current_app.config["UPLOAD_FOLDER"],
                                               current_app.config["MAX_UPLOAD_BYTES"]))
    except WorkflowError as err:
        return _refuse(command, err, form, trigger)
    fired, pipeline = acted.fired, command.pipeline
    done = transition_label(pipeline, trigger, fired.from_state, fired.to_state)
    if acted.objection:
        flash(_("您的异议已提交，公示期暂停，待核查后处理。"), "success")
        return redirect(safe_next(form.next.data) or url_for("public.notices"), 303)
    flash(_("已办理：%(action)s。案件现处于“%(state)s”。", action=done,
            state=pipeline.state_map[fired.to_state].label.en if lang == "en"
            else pipeline.state_map[fired.to_state].label.zh), "success")
    target = safe_next(form.next.data)
    if target is None:
        # A step can end the actor's access (the committee sees a dossier only while it is before them).
        still = dossier_relations(db, actor, {**command.case, "state": fired.to_state})[0]
        target = url_for("cases.show", case_id=case_id) if still else url_for(home_endpoint(current_user))
    return redirect(target, 303)


def _submission(form: TransitionForm) -> commands.Submission:
    """The posted form as a submission: every data field it carries, and what could not be read (the command
    decides which of it the action takes and when a problem is refused)."""
    unreadable: dict[str, WorkflowError] = {}
    if not form.validate():
        unreadable["form"] = MissingData(form.error_text())  # already in the user's language
    data: dict[str, Any] = {
        "reason": form.reason.data or "", "corrections": parse_corrections(form.corrections.data),
        "assessment": {"result": form.assessment_result.data or "",
                       "summary": (form.assessment_summary.data or "").strip()}}
    chosen = {key: request.form.getlist(f"verify_{key}") for key in ("achievements", "works")}
    if any(not v.isdecimal() or len(v) > 4 for values in chosen.values() for v in values):
        unreadable["verification"] = MissingData(_("核实的条目无效，请刷新页面后重试。"))
    else:
        data["verification"] = {"digest": request.form.get("profile_digest", "")[:128],
                                **{key: sorted({int(v) for v in values}) for key, values in chosen.items()}}
    secrets = None
    if any(request.form.get(f"{role}_share") or request.files.get(f"{role}_share_file")
           for role in ("chair", "officer")):
        # Key shares posted with an action (a direct post; the pages close through the confirmation page) go
        # beside the data, never in it: the engine records data, and must not record these.
        shares = ballot_shares_from_request()
        if isinstance(shares, str):
            unreadable["ballot_shares"] = MissingData(shares)
        else:
            secrets = {"ballot_shares": shares}
    upload = request.files.get("evidence")
    # The file is optional (browsers send an empty part when none was chosen).
    evidence = (commands.EvidenceFile(safe_display_name(upload.filename), upload.stream)
                if upload is not None and upload.filename else None)
    return commands.Submission(comment=form.comment.data or "", data=data,
                               expected_version=small_int(form.version.data), secrets=secrets, evidence=evidence,
                               unreadable=unreadable)


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


class UploadFolder:
    """The upload folder as the command layer's file store (:class:`workflow.engine.commands.FileStore`): files are
    checked by content and written by :func:`web.uploads.store`, refusals are the core's FileRefused."""

    def __init__(self, folder: str, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def save(self, stream: BinaryIO) -> StoredFile:
        """Check and write one file (nothing is left on disk when it is refused)."""
        try:
            return store(stream, self.folder, self.max_bytes)
        except UploadRejected as err:
            raise FileRefused(err.zh, err.en, status=err.status) from None

    def discard(self, stored_name: str) -> None:
        """Remove a file written here."""
        discard(self.folder, stored_name)


@bp.get("/cases/<int:case_id>/materials/<int:attachment_id>")
@login_required
def download(case_id: int, attachment_id: int):
    """Send one uploaded file as a download, to people who may see the case only — or, for an objection's
    evidence, to the objector, the people deciding the objection, the authority and administrators only."""
    db = get_db()
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
    db = get_db()
    with db.read() as conn:
        rows = queries.notifications(conn, current_user.id)
    return render_template("cases/messages.html", rows=rows, unread=sum(1 for r in rows if r["read_at"] is None))


@bp.post("/messages/read")
@login_required
def mark_messages_read():
    """Mark every message of the signed-in user read (a GET never writes: prefetchers and crawlers follow GETs)."""
    from workflow.records.notify import mark_all_read

    mark_all_read(get_db(), current_user.id)
    flash(_("消息已全部标为已读。"), "success")
    return redirect(url_for("cases.messages"), 303)

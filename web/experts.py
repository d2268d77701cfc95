"""The expert pool (评审专家库) for administrators: list with filters, add, edit, retire, import from CSV or
Excel with the per-row error report, the blank template and the export.

The checks and the import itself live in :mod:`workflow.panel.experts`; these views collect input, show its
refusals next to the form (input kept) and never write anything themselves.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow import directory
from workflow.errors import WorkflowError
from workflow.panel import experts as pool

from .extensions import get_db
from .i18n import current_lang
from .security import roles_required

bp = Blueprint("experts", __name__, url_prefix="/admin/experts")

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FIELDS = [c for c in pool.COLUMNS if c.key != "status"]
"""Form fields of the add/edit form, in template order (status changes go through 退出)."""


def _db():
    return get_db()


def _usernames(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with _db().read() as conn:
        return directory.usernames(conn, ids)


def _form_values(expert: dict | None) -> dict[str, str]:
    """An expert row as the form's text values."""
    if expert is None:
        return {c.key: "" for c in FIELDS}
    ids = {r["person_id"] for r in expert["relations"] or [] if r.get("person_id")}
    names = _usernames(ids | ({expert["user_id"]} if expert["user_id"] else set()))
    return {"code": expert["code"], "name": expert["name"], "username": names.get(expert["user_id"], ""),
            "specialties": "；".join(expert["specialties"] or []), "series": expert["series"] or "",
            "level": expert["level"] or "", "employer": expert["employer_name"] or "",
            "region": expert["region"] or "",
            "term_start": expert["term_start"].isoformat() if expert["term_start"] else "",
            "term_end": expert["term_end"].isoformat() if expert["term_end"] else "",
            "relations": pool.relations_to_text(expert["relations"] or [], names),
            "phone": expert["phone"] or "", "email": expert["email"] or "", "note": expert["note"] or ""}


def _problems(err: WorkflowError) -> dict[str, str]:
    """Field key → message of an ExpertDataInvalid (other refusals under '')."""
    if isinstance(err, pool.ExpertDataInvalid):
        keys = {c.zh: c.key for c in pool.COLUMNS}
        return {keys.get(column, ""): message for column, message in err.problems}
    return {"": err.message(current_lang())}


@bp.get("/")
@roles_required("administrator")
def index():
    """The pool, filtered by text (编号/姓名/单位), specialty, level and status."""
    q = request.args.get("q", "").strip()
    specialty = request.args.get("specialty", "").strip()
    level = request.args.get("level", "")
    status = request.args.get("status", "active")
    rows = pool.list_experts(_db(), specialty=specialty or None)
    all_specialties = sorted({s for r in pool.list_experts(_db()) for s in r["specialties"] or []})
    if status in ("active", "retired"):
        rows = [r for r in rows if r["status"] == status]
    if level in pool.LEVELS:
        rows = [r for r in rows if r["level"] == level]
    if q:
        rows = [r for r in rows if q in r["code"] or q in r["name"] or q in (r["employer_name"] or "")]
    return render_template("experts/index.html", rows=rows, q=q, specialty=specialty, level=level, status=status,
                           specialties=all_specialties, status_labels=pool.STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("administrator")
def new():
    """Add an expert."""
    values, problems = _form_values(None), {}
    if request.method == "POST":
        values = {c.key: request.form.get(c.key, "").strip() for c in FIELDS}
        try:
            pool.add_expert(_db(), current_user.actor, values)
        except WorkflowError as err:
            problems = _problems(err)
        else:
            flash(_("专家“%(name)s”已加入专家库。", name=values["name"]), "success")
            return redirect(url_for("experts.index"), 303)
    return render_template("experts/form.html", expert=None, values=values, problems=problems, fields=FIELDS,
                           labels=_labels()), 422 if problems else 200


def _labels() -> dict[str, str]:
    return {c.key: c.zh for c in pool.COLUMNS}


@bp.route("/<int:expert_id>", methods=["GET", "POST"])
@roles_required("administrator")
def edit(expert_id: int):
    """Edit an expert (all fields but the status); the retire form sits below."""
    expert = pool.get_expert(_db(), expert_id)
    if expert is None:
        abort(404)
    values, problems = _form_values(expert), {}
    if request.method == "POST":
        values = {c.key: request.form.get(c.key, "").strip() for c in FIELDS}
        try:
            pool.update_expert(_db(), current_user.actor, expert_id, values)
        except WorkflowError as err:
            problems = _problems(err)
        else:
            flash(_("专家信息已保存。"), "success")
            return redirect(url_for("experts.edit", expert_id=expert_id), 303)
    return render_template("experts/form.html", expert=expert, values=values, problems=problems, fields=FIELDS,
                           labels=_labels(), status_labels=pool.STATUS_LABELS), 422 if problems else 200


@bp.post("/<int:expert_id>/retire")
@roles_required("administrator")
def retire(expert_id: int):
    """Retire the expert from the pool (no longer drawn), with the reason."""
    try:
        pool.retire_expert(_db(), current_user.actor, expert_id, request.form.get("reason", ""))
    except WorkflowError as err:
        message = "；".join(m for _k, m in err.problems) if isinstance(err, pool.ExpertDataInvalid) else None
        flash(_("请填写退出原因。") if message else err.message(current_lang()), "error")
    else:
        flash(_("该专家已退出专家库。"), "success")
    return redirect(url_for("experts.edit", expert_id=expert_id), 303)


@bp.route("/import", methods=["GET", "POST"])
@roles_required("administrator")
def import_():
    """Upload a roster (CSV or .xlsx): valid rows are written, every problem listed by row and column."""
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        name = (upload.filename or "").lower() if upload else ""
        fmt = "xlsx" if name.endswith(".xlsx") else ("csv" if name.endswith(".csv") else None)
        if upload is None or not name:
            error = _("请选择要导入的文件。")
        elif fmt is None:
            error = _("文件格式应为 CSV 或 Excel（.xlsx）。")
        else:
            try:
                report = pool.import_experts(_db(), current_user.actor, upload.read(), fmt)
            except WorkflowError as err:
                error = err.message(current_lang())
    status = 422 if error else 200
    return render_template("experts/import.html", report=report, error=error, columns=pool.COLUMNS), status


@bp.get("/template.<fmt>")
@roles_required("administrator")
def template(fmt: str):
    """The blank import template."""
    if fmt not in FORMATS:
        abort(404)
    return _download(pool.export_template(fmt), fmt, "专家库导入模板")


@bp.get("/export.<fmt>")
@roles_required("administrator")
def export(fmt: str):
    """The whole pool in the import format."""
    if fmt not in FORMATS:
        abort(404)
    return _download(pool.export_experts(_db(), current_user.actor, fmt), fmt, "评审专家库")


def _download(content: bytes, fmt: str, stem: str):
    import io

    from flask import send_file

    return send_file(io.BytesIO(content), mimetype=FORMATS[fmt], as_attachment=True,
                     download_name=f"{stem}.{fmt}")

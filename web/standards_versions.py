"""Versions of occupation standards in the web UI: two versions side by side, and the version history's facts.

``/admin/standards/compare?left=<id>@<v>&right=<id>@<v>`` shows two stored versions — of one standard, or a copy
and its original — as :func:`workflow.eligibility.standards_diff.diff_standards` lines them up: which standard each is,
then
the criteria, with every difference marked by a class and a visible word (never by colour alone). By default
only the differences are listed (``only=0`` lists every criterion).

:func:`history_rows` gives the standard's page its version history: the effective date, what each version was
revised or copied from, and how many cases each version judges (the version in force also counts the drafts
that will be judged by it on submission). Administrators only, like the rest of the standards pages.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from workflow.db import Database
from workflow.eligibility import standards_store
from workflow.eligibility.standards import Standard
from workflow.eligibility.standards_diff import diff_standards

from .errors import render_error
from .extensions import get_db
from .i18n import current_lang
from .security import roles_required, small_int

bp = Blueprint("standards_versions", __name__)

_REF = re.compile(r"^([a-z][a-z0-9-]{0,79})(?:@(\d{1,9}))?$")
"""``<id>@<version>`` (a version left out: the newest)."""


def _db() -> Database:
    return get_db()


def history_rows(db: Database, standard_id: str) -> list[dict[str, Any]]:
    """The version history of ``standard_id``, newest first, one dict per version for the standard's page.

    Each row has the stored facts (``version``, ``name``, ``effective_from``, ``published_at``,
    ``display_name`` of the publisher, ``based_on_id``/``based_on_version``), ``cases`` (how many cases are
    pinned to it), ``in_force`` (True for the version a submission today would be judged by), ``pending``
    (for that version only: cases that name the standard and have not been submitted yet, else None) and
    ``previous`` (the version before it, for the comparison link; None for the first).
    """
    today = standards_store.china_today()
    with db.read() as conn:
        versions = standards_store.history(conn, standard_id)
        counts = standards_store.case_counts(conn, standard_id)
        in_force = standards_store.version_in_force(conn, standard_id, today)
    pending = standards_store.unsubmitted_case_count(db, standard_id) if in_force is not None else None
    rows = []
    for i, v in enumerate(versions):
        rows.append({"version": v.version, "name": v.name, "effective_from": v.effective_from,
                     "published_at": v.published_at, "display_name": v.published_by_name,
                     "based_on_id": v.based_on_id, "based_on_version": v.based_on_version,
                     "cases": counts.get(v.version, 0), "in_force": v.version == in_force,
                     "upcoming": v.effective_from > today,
                     "pending": pending if v.version == in_force else None,
                     "previous": versions[i + 1].version if i + 1 < len(versions) else None})
    return rows


def _parse(raw: str) -> tuple[str, int | None] | None:
    """``id@version`` or ``id`` as (id, version or None); None when it is neither."""
    m = _REF.match(raw.strip())
    if m is None:
        return None
    return m.group(1), small_int(m.group(2)) if m.group(2) else None


def _load(raw: str) -> tuple[Standard | None, Any]:
    """The stored version a parameter names, or the error page to answer with instead."""
    if not raw.strip():
        return None, render_error(400, _("请指定要比较的两个版本：参数 left 和 right，格式为“标准编号@版本号”。"))
    parsed = _parse(raw)
    if parsed is None:
        return None, render_error(400, _("无法识别要比较的版本“%(ref)s”：格式应为“标准编号@版本号”，例如 "
                                         "national-engineering-senior@1。", ref=raw.strip()[:100]))
    standard_id, version = parsed
    with _db().read() as conn:
        if version is None:
            version = standards_store.latest_version(conn, standard_id)
        standard = standards_store.get_standard(conn, standard_id, version) if version is not None else None
    if standard is None:
        if version is None:
            return None, render_error(404, _("评价标准“%(id)s”不存在。", id=standard_id))
        return None, render_error(404, _("评价标准“%(id)s”没有第 %(v)s 版。", id=standard_id, v=version))
    return standard, None


@bp.get("/admin/standards/compare")
@roles_required("administrator")
def compare():
    """Two stored versions side by side, the differences marked (by default only the differences are listed)."""
    left, problem = _load(request.args.get("left", ""))
    if problem is not None:
        return problem
    right, problem = _load(request.args.get("right", ""))
    if problem is not None:
        return problem
    only = request.args.get("only", "1") != "0"
    diff = diff_standards(left, right)
    criteria = diff.changed_rows() if only else diff.criteria
    return render_template("standards/compare.html", diff=diff, left=left, right=right, only=only,
                           criteria=criteria, lang=current_lang(),
                           left_ref=f"{left.id}@{left.version}", right_ref=f"{right.id}@{right.version}")

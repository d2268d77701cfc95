"""The administrators' working-calendar page: a year's days off and 调休 working weekends, overrides, checks.

The rules live in :mod:`workflow.time.overrides`; this view parses the input, shows refusals next to the
form with what was typed kept, and never writes anything itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflow.errors import WorkflowError
from workflow.models import utcnow
from workflow.time import overrides as cal
from workflow.time.calendar import CHINA_TZ

from .extensions import get_db
from .i18n import current_lang
from .security import roles_required, small_int

bp = Blueprint("calendar_admin", __name__, url_prefix="/admin/calendar")


def _db():
    return get_db()


def _message(err: WorkflowError) -> str:
    return err.message(current_lang())


def _today_year() -> int:

    return utcnow().astimezone(CHINA_TZ).year


def _year_from(raw: str | None) -> tuple[int, str | None]:
    """The year asked for (default: this year in Beijing) and an error message when it was not usable."""
    if raw is None or not raw.strip():
        return _today_year(), None
    year = small_int(raw, digits=4)
    if year is None:
        return _today_year(), _("年份格式不正确，请填写四位数字，例如 2026")
    try:
        return cal.check_year(year), None
    except WorkflowError as err:
        return _today_year(), _message(err)


def _render(year: int, *, status: int = 200, errors: dict[str, str] | None = None,
            kept: dict[str, Any] | None = None, results: dict[str, Any] | None = None):
    """The page for ``year`` with the errors of the form that was sent and what was typed into it."""
    view = cal.year_view(_db(), year)
    changes = cal.history(_db(), year)
    form = {"year": str(year), "day": "", "working": "", "note": "", "start": "", "days": "", "from": "", "to": ""}
    form.update(kept or {})
    return render_template("admin/calendar.html", view=view, changes=changes, errors=errors or {}, form=form,
                           results=results or {}, min_year=cal.MIN_YEAR, max_year=cal.MAX_YEAR,
                           max_days=cal.MAX_CHECK_DAYS), status


@bp.get("")
@roles_required("administrator")
def page():
    """The chosen year (``?year=``) as the calendar computes it now, the overrides and their history."""
    raw = request.args.get("year")
    year, problem = _year_from(raw)
    if problem:
        return _render(year, status=422, errors={"year": problem}, kept={"year": raw or ""})
    return _render(year)


@bp.post("/overrides")
@roles_required("administrator")
def add():
    """Store one override (date, working day or day off, note); refused input is shown with the form kept."""
    kept = {k: (request.form.get(k) or "") for k in ("day", "working", "note")}
    year, _problem = _year_from(request.form.get("year"))
    errors: dict[str, str] = {}
    day = None
    try:
        day = cal.parse_day(kept["day"])
    except WorkflowError as err:
        errors["day"] = _message(err)
    working = {"1": True, "0": False}.get(kept["working"])
    if working is None:
        errors["working"] = _("请选择工作日或休息日")
    if len(kept["note"].strip()) > cal.MAX_NOTE:
        errors["note"] = _("备注最多 %(n)s 字", n=cal.MAX_NOTE)
    if not errors:
        try:
            cal.set_override(_db(), current_user.actor, day, working, kept["note"])
        except WorkflowError as err:
            errors["add"] = _message(err)
    if errors:
        if day is not None:
            year = day.year  # show the year the administrator was working on, with the conflicting entry
        return _render(year, status=422, errors=errors, kept=kept)
    flash(_("已保存 %(day)s 的调整，此后计算的期限即按新日历执行。", day=day.isoformat()), "success")
    return redirect(url_for(".page", year=day.year), code=303)


@bp.post("/overrides/<day>/remove")
@roles_required("administrator")
def remove(day: str):
    """Delete the override of ``day`` (the history keeps what it was)."""
    try:
        parsed = cal.parse_day(day)
    except WorkflowError as err:
        year, _problem = _year_from(request.form.get("year"))
        return _render(year, status=422, errors={"remove": _message(err)})
    try:
        cal.remove_override(_db(), current_user.actor, parsed)
    except WorkflowError as err:
        return _render(parsed.year, status=err.status if err.status in (409, 422) else 422,
                       errors={"remove": _message(err)})
    flash(_("已删除 %(day)s 的调整。", day=parsed.isoformat()), "success")
    return redirect(url_for(".page", year=parsed.year), code=303)


@bp.get("/check")
@roles_required("administrator")
def check():
    """Date arithmetic by the calendar in force now: start + N working days, and working days between two dates."""
    args = {k: (request.args.get(k) or "").strip() for k in ("start", "days", "from", "to", "year")}
    year, _problem = _year_from(args["year"])
    errors: dict[str, str] = {}
    results: dict[str, Any] = {}
    if args["start"] or args["days"]:
        try:
            start = cal.parse_day(args["start"], "开始日期", "start date")
            n = small_int(args["days"], digits=4)
            if n is None:
                raise WorkflowError("工作日数请填写0或正整数", "Enter the number of working days as a whole number")
            results["add"] = {"start": start, "days": n, "end": cal.add_working_days(_db(), start, n)}
        except WorkflowError as err:
            errors["add_check"] = _message(err)
    if args["from"] or args["to"]:
        try:
            first = cal.parse_day(args["from"], "开始日期", "start date")
            last = cal.parse_day(args["to"], "结束日期", "end date")
            results["between"] = {"from": first, "to": last,
                                  "count": cal.working_days_between(_db(), first, last)}
        except WorkflowError as err:
            errors["between_check"] = _message(err)
    if not results and not errors:
        errors["add_check"] = _("请填写开始日期和工作日数，或两个日期")
    kept = {k: v for k, v in args.items() if k != "year"}
    return _render(year, status=422 if errors else 200, errors=errors, kept=kept, results=results)


def weekday_label(day: date) -> str:
    """The day of the week in the page's language."""
    if current_lang() == "en":
        return day.strftime("%a")
    return "周" + "一二三四五六日"[day.weekday()]


@bp.app_template_global("calendar_weekday")
def _weekday_global(day: date) -> str:
    """Template access to :func:`weekday_label`."""
    return weekday_label(day)

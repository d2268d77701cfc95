"""Forms shared by several areas: the generic transition form, the objection form, safe redirects."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField as BaseFileField
from wtforms import HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .uploads import ACCEPT_ATTR

MAX_TEXT = 2000
MAX_CORRECTIONS = 50

_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.、)）]|[（(]\d+[)）]|[一二三四五六七八九十]+[、.])\s*")


class Form(FlaskForm):
    """The project's base form: an uploaded file reaches file fields only.

    Flask-WTF hands a multipart request's files and fields to the form as one mapping, so a file posted
    under a text field's name would arrive as that field's data and break its validators (a 500 instead of
    a refusal). Files under any other name are simply not seen, as if they had not been sent.
    """

    class Meta:
        def wrap_formdata(self, form, formdata):
            """Flask-WTF's form data with the files limited to the form's file fields."""
            data = super().wrap_formdata(form, formdata)
            if isinstance(data, CombinedMultiDict) and request.files:
                wanted = {field.name for field in form if isinstance(field, BaseFileField)}
                files = MultiDict([(k, v) for k, v in request.files.items(multi=True) if k in wanted])
                return CombinedMultiDict((files, request.form))
            return data


def options(pairs) -> list[SelectChoice]:
    """``[(value, label)]`` as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def parse_corrections(text: str | None) -> list[str]:
    """One correction per line; numbering and bullets the reviewer typed are dropped, blank lines ignored."""
    items = []
    for line in (text or "").splitlines():
        item = _BULLET.sub("", line).strip()
        if item:
            items.append(item)
    return items


def _int_version(form: FlaskForm, field: HiddenField) -> None:
    from .security import small_int

    if small_int(field.data) is None:
        raise ValidationError(_l("表单缺少案件版本号，请刷新页面后重试"))


class TransitionForm(Form):
    """What any action on a case may carry; which fields are needed depends on the transition."""

    version = HiddenField(validators=[_int_version])
    comment = TextAreaField(_l("说明"), validators=[Optional(), Length(max=MAX_TEXT, message=_l("说明不能超过2000字"))])
    reason = TextAreaField(_l("理由"), validators=[Optional(), Length(max=MAX_TEXT, message=_l("理由不能超过2000字"))])
    corrections = TextAreaField(_l("补正清单（每行一项）"), validators=[
        Optional(), Length(max=MAX_TEXT * 3, message=_l("补正清单过长，请精简"))])
    assessment_result = RadioField(_l("考核结果"), choices=options([("优秀", "优秀"), ("合格", "合格")]),
                                   validators=[Optional()], validate_choice=False)
    assessment_summary = TextAreaField(_l("考核意见"), validators=[
        Optional(), Length(max=MAX_TEXT, message=_l("考核意见不能超过2000字"))])
    next = HiddenField()
    return_to = HiddenField()

    def validate_corrections(self, field: TextAreaField) -> None:
        """Bound the number of items (each is one thing the applicant must fix)."""
        if len(parse_corrections(field.data)) > MAX_CORRECTIONS:
            raise ValidationError(_l("补正清单最多50项"))

    def validate_assessment_result(self, field: RadioField) -> None:
        """Only the two results the assessment record knows."""
        if field.data and field.data not in ("优秀", "合格"):
            raise ValidationError(_l("考核结果须为“优秀”或“合格”"))

    def kept(self, trigger: str) -> dict[str, Any]:
        """What the user typed, to put back into the form when the action is refused."""
        return {"form": f"action:{trigger}", "values": {
            "comment": self.comment.data or "", "reason": self.reason.data or "",
            "corrections": self.corrections.data or "", "assessment_result": self.assessment_result.data or "",
            "assessment_summary": self.assessment_summary.data or ""}}

    def error_text(self) -> str:
        """All validation messages in one line."""
        return "；".join(str(m) for msgs in self.errors.values() for m in msgs)


class ObjectionForm(Form):
    """A named objection to a notice (the identity is the signed-in account), with an optional evidence file.

    The form only renders the page: it posts to the generic transition view, which checks the reason and
    sniffs, stores and records the file (see ``web.cases.act``).
    """

    version = HiddenField(validators=[_int_version])
    reason = TextAreaField(_l("异议内容及理由"), validators=[
        InputRequired(message=_l("请填写异议内容及理由")), Length(min=10, max=MAX_TEXT,
                                                             message=_l("异议内容请写10到2000字"))])
    contact = StringField(_l("联系电话"), validators=[Optional(), Length(max=30)])
    evidence = FileField(_l("证据材料（可选）"), render_kw={"accept": ACCEPT_ATTR})


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (no scheme, no host, no ``//``), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target

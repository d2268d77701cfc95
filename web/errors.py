"""Error pages: every refusal is a page in the user's language with the right status, never a traceback."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from workflow.errors import WorkflowError

from .i18n import current_lang


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("请求无效"), _("提交的内容无法处理，请返回上一页重试。")),
        403: (_("无权访问"), _("您没有权限查看或办理此项内容。如认为有误，请联系管理员。")),
        404: (_("页面不存在"), _("您要找的页面或案件不存在，可能已被删除或地址有误。")),
        405: (_("操作方式不正确"), _("请通过页面上的按钮办理。")),
        409: (_("操作无法完成"), _("案件状态已变化，请刷新页面后重试。")),
        413: (_("文件过大"), _("上传的内容超过了允许的大小。")),
        422: (_("信息不完整"), _("请补全必填内容后重试。")),
        500: (_("系统出错"), _("服务器处理时出错，已记录。请稍后重试；如多次出现，请联系管理员。")),
    }


def render_error(status: int, detail: str | None = None):
    """The error page for ``status`` with an optional specific explanation."""
    title, default = _messages().get(status, (_("出错了"), _("请求未能完成。")))
    return render_template("errors/error.html", status=status, title=title, detail=detail or default), status


def register_error_handlers(app: Flask) -> None:
    """Map HTTP errors, CSRF failures and uncaught domain errors to friendly pages."""

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return render_error(400, _("页面已过期或表单校验失败（安全令牌无效）。请刷新页面后重新提交；您填写的内容"
                                   "如未保存，请先复制留存。"))

    @app.errorhandler(WorkflowError)
    def _workflow(err: WorkflowError):
        return render_error(err.status, err.message(current_lang()))

    @app.errorhandler(413)
    def _too_large(err):
        limit = app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        message = _("上传内容过大：单个文件不能超过 %(mb)s MB。", mb=limit)
        if request.endpoint == "applicant.upload" and current_user.is_authenticated:
            # Back to the case the file was meant for, with the reason, rather than a bare error page.
            from .casepage import render_case

            return render_case(request.view_args["case_id"], 413, error=message)
        return render_error(413, message)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        # Werkzeug's descriptions are English boilerplate; our own explanation per status reads better.
        return render_error(err.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)

"""Domain errors. Each carries a user-facing message (Chinese first) and maps to one HTTP status."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base of every refusal the engine can give; ``status`` is the HTTP status the web layer should use."""

    status = 400

    def __init__(self, message_zh: str, message_en: str = "") -> None:
        self.message_zh = message_zh
        self.message_en = message_en or message_zh
        super().__init__(message_zh)

    def message(self, locale: str = "zh") -> str:
        """The message in ``locale`` (``zh`` or ``en``)."""
        return self.message_en if locale.startswith("en") else self.message_zh


class CaseNotFound(WorkflowError):
    """No case with that id."""

    status = 404


class PermissionDenied(WorkflowError):
    """The actor holds no role that may take this action on this case."""

    status = 403


class InvalidAction(WorkflowError):
    """The action does not exist in this pipeline, or is not possible in the case's current state."""

    status = 409


class StaleCase(WorkflowError):
    """The case changed since the page was loaded (or another request won the race)."""

    status = 409


class GuardRefused(WorkflowError):
    """A rule (guard) does not allow the action now; ``reasons`` lists why."""

    status = 409

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("；".join(reasons) or "当前条件不允许此操作", "; ".join(reasons) or "Not allowed now")


class MissingData(WorkflowError):
    """The action needs data that was not given (e.g. the list of corrections when returning a case).

    ``field`` names the input the message is about when there is one (a form shows it next to that field).
    """

    status = 422

    def __init__(self, message_zh: str, message_en: str = "", *, field: str | None = None) -> None:
        super().__init__(message_zh, message_en)
        self.field = field


class FileRefused(WorkflowError):
    """An uploaded file is refused (empty, not an accepted format, unsafe, too large); nothing of it is kept.

    ``status`` is 422 for a file that is not acceptable and 413 for one that is too large — the statuses the
    upload pages have always given.
    """

    status = 422

    def __init__(self, message_zh: str, message_en: str = "", *, status: int = 422) -> None:
        super().__init__(message_zh, message_en)
        self.status = status

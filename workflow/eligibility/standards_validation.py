"""Checking a standard for people, not for YAML authors: every problem with its field and a sentence in Chinese
and English.

The loader (:func:`workflow.eligibility.standards.standard_from_data`) reports ``file:line: path: message`` for YAML
files.
The structured editor instead shows each problem beside the input it concerns, in the administrator's
language, so the library's own wording ("String should have at least 1 character") never reaches the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from workflow.eligibility.standards import Standard
from workflow.eligibility.standards_labels import path_label


@dataclass(frozen=True)
class FieldProblem:
    """One problem: where (a dotted path such as ``education_routes.1.ladder_years.value``) and what, in two
    languages."""

    path: str
    zh: str
    en: str

    def message(self, lang: str) -> str:
        """The message in ``lang`` (``en…`` English, anything else Chinese)."""
        return self.en if lang.startswith("en") else self.zh

    def where(self) -> tuple[str, str]:
        """The field's readable name (Chinese, English)."""
        return path_label(self.path)


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


_ID_PATTERNS = {
    r"^[a-z][a-z0-9-]*$": ("只能使用小写英文字母、数字和连字符（-），并以字母开头，例如 smart-vehicle-senior",
                           "Use lower-case letters, digits and hyphens, starting with a letter "
                           "(e.g. smart-vehicle-senior)"),
    r"^[a-z0-9][a-z0-9-]*$": ("只能使用小写英文字母、数字和连字符（-），例如 1 或 item-2",
                              "Use lower-case letters, digits and hyphens (e.g. 1 or item-2)"),
}


def _translate(err: ErrorDetails) -> tuple[str, str]:
    """A pydantic error as (Chinese, English), by its type rather than by its English wording."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("missing", "string_too_short") or err.get("input") in ("", None):
        return "必填", "Required"
    if kind == "too_short":
        return "请至少选择或填写一项", "Choose or enter at least one"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "请填写整数，例如 5", "Enter a whole number, e.g. 5"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}", f"Must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}", f"Must be at most {ctx.get('le')}"
    if kind == "string_too_long":
        limit = ctx.get("max_length")
        return f"不能超过 {limit} 个字符", f"At most {limit} characters"
    if kind == "string_pattern_mismatch":
        return _ID_PATTERNS.get(str(ctx.get("pattern")), ("格式不正确", "Wrong format"))
    if kind in ("enum", "literal_error"):
        return "请从列表中选择", "Choose one of the listed values"
    if kind.startswith("date") or kind.startswith("datetime"):
        return "日期格式应为 YYYY-MM-DD，且须是存在的日期", "Enter a real date as YYYY-MM-DD"
    if kind.startswith("bool"):
        return "请选择是或否", "Choose yes or no"
    if kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        return "填写的内容结构不正确", "This part is not in the expected form"
    if kind == "extra_forbidden":
        return "本标准没有这一项", "A standard has no such field"
    return "填写的内容不符合要求", "This value is not valid"


def check_standard(raw: dict[str, Any]) -> tuple[Standard | None, list[FieldProblem]]:
    """Validate JSON-shaped ``raw`` into a :class:`Standard`; or return every problem found, each at its field.

    Rules between fields (e.g. "k larger than the number of items") are placed at the field the rule names,
    with the Chinese sentence written beside the rule in :mod:`workflow.eligibility.standards`.
    """
    try:
        return Standard.model_validate(raw), []
    except ValidationError as err:
        problems: list[FieldProblem] = []
        for e in err.errors():
            loc = tuple(e["loc"])
            if e["type"] == "standard_incoherent":
                for rule_loc, en, zh in (e.get("ctx") or {})["problems"]:
                    problems.append(FieldProblem(_dotted(loc + tuple(rule_loc)), zh, en))
                continue
            zh, en = _translate(e)
            problems.append(FieldProblem(_dotted(loc), zh, en))
        return None, problems

"""The structured standards editor's form: a standard as labelled inputs, and the posted inputs back as data.

The form is derived from the model in :mod:`workflow.eligibility.standards`, so every layer — and any field added to the
model later — gets an input without a hand-written form: a switch for a condition that is asked or not, a
select for a vocabulary, check boxes for a list of kinds, a table of rows with "add" and "remove" buttons for
routes, items and map entries, and for every number its value with its source tag and source text beside it.
Inputs are named by the field's dotted path (``f.education_routes.1.ladder_years.value``), which is also where
:func:`workflow.eligibility.standards_validation.check_standard` places its problems, so each message lands beside its
input.

The document the form edits (``doc``) is JSON-shaped like a stored standard, but may be incomplete or wrong:
drafts are saved as they are and checked when previewed or published.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel
from werkzeug.datastructures import MultiDict

from workflow.eligibility import standards as s
from workflow.eligibility.profiles import AchievementKind, Text, TitleLevel
from workflow.eligibility.standards_labels import CHOICES, Label, field_label, model_of
from workflow.eligibility.standards_validation import FieldProblem

PREFIX = "f."
"""Every editor input's name starts with this, so the editor's own buttons and tokens never collide with it."""

LAYER_ORDER = ["basic", "ladder", "education_routes", "work_experience", "achievements", "exceptional", "direct",
               "representative_works", "benefits", "bridging"]
"""The layers in the order an administrator reads a standard: the achievement items just before the routes
(破格, direct) that ask for more of them."""

IDENTITY = ["id", "name", "series", "specialty", "level", "title", "effective_from", "effective_until", "source",
            "notes"]

SKIP = {"version"}
"""Never edited: versions are assigned when publishing."""

OPTIONS_ALLOWED: dict[tuple[str, str], list[str]] = {
    ("BenefitRule", "kinds"): [AchievementKind.ECONOMIC_BENEFIT.value, AchievementKind.SOCIAL_BENEFIT.value],
}
"""Fields that accept only part of a vocabulary (the rule in :mod:`workflow.eligibility.standards` says why)."""

LONG_TEXT = {("Standard", "source"), ("AchievementItem", "source")}

LAYER_STARTS: dict[str, Any] = {
    "basic": {
        "not_retired": {"tag": "R", "source": "职称评审面向在职专业技术人员，退休人员不得申报"},
        "no_sanction": {"tag": "R", "source": "受到处分的，在影响期内不得申报职称评审"},
        "no_integrity_record": {"tag": "S", "source": "弄虚作假取得职称的，撤销职称并记入诚信档案，纪录期限3年"},
    },
    "achievements": {
        "items": [{"id": "1", "text": {"zh": "", "en": ""}, "kinds": [AchievementKind.KEY_PROJECT.value]}],
        "k": {"value": 1, "tag": "C", "source": "本系统默认值：业绩成果具备其中1项"},
    },
    "representative_works": {
        "kinds": ["patent", "project_report", "design_document", "standard", "technical_document"],
        "min_count": {"value": 1, "tag": "C", "source": "本系统默认值：提交代表作1件"},
        "technical_document_min_chars": {"value": 5000, "tag": "S",
                                         "source": "代表作可为经单位认定的不少于5000字的技术文档"},
    },
}
"""What a layer starts with when an administrator switches it on (other layers start blank)."""


# ------------------------------------------------------------------------------------------------ the model


def _optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return _optional(annotation) and any(typing.get_origin(a) is list for a in typing.get_args(annotation))


def _choices(owner: str, name: str, kind: Any) -> list[tuple[str, Label]]:
    """(value, label) for a vocabulary or a Literal field."""
    if isinstance(kind, type) and issubclass(kind, Enum):
        members = [(m.value, (getattr(m, "zh", m.value), getattr(m, "en", m.value))) for m in kind]
    elif typing.get_origin(kind) is typing.Literal:
        labels = CHOICES.get(name, {})
        members = [(v, labels.get(v, (v, v))) for v in typing.get_args(kind)]
    else:
        return []
    allowed = OPTIONS_ALLOWED.get((owner, name))
    return [m for m in members if allowed is None or m[0] in allowed]


def blank(model: type[BaseModel]) -> dict[str, Any]:
    """A new, empty element of ``model`` (a route, an item, a map row …) as the form shows it."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = model_of(info.annotation)
        if _is_list(info.annotation):
            out[name] = list(info.default) if isinstance(info.default, list) else []
        elif isinstance(kind, type) and issubclass(kind, Text):
            out[name] = None if _optional(info.annotation) else {"zh": "", "en": ""}
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            out[name] = None if _optional(info.annotation) else blank(kind)
        elif kind is s.Tag:
            out[name] = "C"
        elif name == "value":
            out[name] = ""
        elif not info.is_required():
            default = info.get_default(call_default_factory=True)
            out[name] = default.value if isinstance(default, Enum) else default
        else:
            out[name] = ""
    return out


def start_of(layer: str) -> dict[str, Any] | list[Any]:
    """What layer ``layer`` holds when it is switched on."""
    if layer in LAYER_STARTS:
        return _deep_copy(LAYER_STARTS[layer])
    kind = model_of(s.Standard.model_fields[layer].annotation)
    return blank(kind)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def new_document() -> dict[str, Any]:
    """A standard written from scratch: identity blank, the basic conditions and usual evidence layers on."""
    doc = blank(s.Standard)
    doc.update(series="工程", level=TitleLevel.INTERMEDIATE.value, effective_from=date.today().isoformat())
    for layer in ("basic", "achievements", "representative_works"):
        doc[layer] = start_of(layer)
    doc["education_routes"] = [{
        **blank(s.EducationRoute), "id": "bachelor", "min_education": "本科",
        "label": {"zh": "具备大学本科及以上学历，从事本专业工作满5年", "en": ""},
        "specialty_years": {"value": 5, "tag": "C", "source": "本系统默认值：从事本专业技术工作满5年（请按政策修改）"}}]
    doc.pop("version", None)
    return doc


def document_of(standard: s.Standard) -> dict[str, Any]:
    """The editable document of a stored standard (every field present, defaults included)."""
    doc = standard.model_dump(mode="json")
    doc.pop("version", None)
    return doc


# ------------------------------------------------------------------------------------------------ rendering


@dataclass
class Node:
    """One input, group of inputs or table of rows, ready for the template."""

    kind: str
    path: str
    label: str
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    optional: bool = False
    enabled: bool = True
    readonly: bool = False
    model: str = ""
    children: list[Node] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    hint: str = ""

    @property
    def name(self) -> str:
        """The input's form name."""
        return PREFIX + self.path

    @property
    def dom_id(self) -> str:
        """An HTML id for the input (dots are awkward in CSS selectors)."""
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    def walk(self):
        """This node and every node below it."""
        yield self
        for child in self.children:
            yield from child.walk()


def _pick(label: Label, lang: str) -> str:
    return label[1] if lang.startswith("en") else label[0]


def _join(path: str, name: str | int) -> str:
    return f"{path}.{name}" if path else str(name)


def build(doc: dict[str, Any], problems: list[FieldProblem], lang: str, *,
          locked: frozenset[str] = frozenset(), base: dict[str, Any] | None = None) -> tuple[list[Node], list[str]]:
    """The editor's sections (identity first, then one per layer) and the problems no input owns.

    ``base`` is the document the draft started from (the standard revised or copied): a number changed from
    it while its source text was left as it was gets a warning, because the source then quotes a rule that no
    longer says what the number does.
    """
    identity = Node("group", "", _pick(("基本信息", "About this standard"), lang), model="Standard")
    for name in IDENTITY:
        identity.children.append(_field_node(s.Standard, name, doc.get(name), "", lang, locked))
    sections = [identity]
    for layer in LAYER_ORDER:
        sections.append(_field_node(s.Standard, layer, doc.get(layer), "", lang, locked))
    orphans = _attach(sections, problems, lang)
    if base is not None:
        _warn_stale_sources(sections, base, lang)
    return sections, orphans


def _at(doc: Any, path: str) -> Any:
    node = doc
    for part in path.split("."):
        try:
            node = node[int(part)] if part.isdigit() else node[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return node


def _warn_stale_sources(sections: list[Node], base: dict[str, Any], lang: str) -> None:
    for section in sections:
        for node in section.walk():
            if node.kind != "threshold" or not node.value["value"]:
                continue
            before = _at(base, node.path)
            if not isinstance(before, dict) or before.get("value") is None:
                continue
            old, new = str(before["value"]), node.value["value"]
            if old != new and before.get("source") == node.value["source"]:
                node.warnings.append(_pick((
                    f"数值已由 {old} 改为 {new}，来源仍是原来的文字：请核对来源是否仍然适用，"
                    "必要时改写来源或把来源标记改为 [C]。",
                    f"The value changed from {old} to {new} but the source text did not: check that the source "
                    "still applies; rewrite it or mark the number [C] if needed."), lang))


def _field_node(model: type[BaseModel], name: str, value: Any, parent: str, lang: str,
                locked: frozenset[str]) -> Node:
    info = model.model_fields[name]
    path = _join(parent, name)
    owner = model.__name__
    label = _pick(field_label(owner, name), lang)
    kind = model_of(info.annotation)
    optional = _optional(info.annotation)
    if _is_list(info.annotation):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            rows = value if isinstance(value, list) else []
            node = Node("rows", path, label, model=kind.__name__)
            for i, row in enumerate(rows):
                node.children.append(_model_node(kind, row if isinstance(row, dict) else blank(kind),
                                                 _join(path, i), f"{label} {i + 1}", lang, locked))
            return node
        choices = _choices(owner, name, kind)
        if choices:
            chosen = [str(v) for v in value] if isinstance(value, list) else []
            # The ticked boxes come first, in the standard's order: a browser posts boxes in page order, so an
            # untouched list comes back exactly as it was (and "no change" really means none).
            ordered = sorted(choices, key=lambda c: chosen.index(c[0]) if c[0] in chosen else len(chosen))
            return Node("checks", path, label, value=chosen, model=owner,
                        options=[(v, _pick(lab, lang)) for v, lab in ordered])
        text = "、".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
        return Node("csv", path, label, value=text, model=owner)
    if isinstance(kind, type) and issubclass(kind, Text):
        text = value if isinstance(value, dict) else {"zh": "", "en": ""}
        return Node("text2", path, label, value={"zh": text.get("zh") or "", "en": text.get("en") or ""},
                    optional=optional, model=owner,
                    hint=_pick(("英文可空，空时英文页面显示中文", "English is optional; the Chinese is shown"), lang))
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        if kind is s.Threshold:
            data = value if isinstance(value, dict) else blank(s.Threshold)
            return Node("threshold", path, label, value={k: "" if data.get(k) is None else str(data.get(k))
                                                         for k in ("value", "tag", "source")},
                        optional=optional, options=_tags(lang), model=owner)
        if kind is s.Sourced:
            data = value if isinstance(value, dict) else blank(s.Sourced)
            return Node("sourced", path, label, value={k: str(data.get(k) or "") for k in ("tag", "source")},
                        optional=optional, enabled=value is not None, options=_tags(lang), model=owner)
        data = value if isinstance(value, dict) else (start_of(name) if parent == "" else blank(kind))
        node = _model_node(kind, data, path, label, lang, locked)
        node.optional, node.enabled = optional, value is not None
        return node
    choices = _choices(owner, name, kind)
    if choices:
        return Node("select", path, label, value="" if value is None else str(value), optional=optional,
                    options=[(v, _pick(lab, lang)) for v, lab in choices], model=owner)
    if kind is bool:
        return Node("switch", path, label, value=bool(value), model=owner)
    if kind is date:
        return Node("date", path, label, value=str(value or ""), optional=optional, model=owner)
    widget = "textarea" if (owner, name) in LONG_TEXT else "text"
    return Node(widget, path, label, value="" if value is None else str(value), model=owner,
                readonly=path in locked, optional=optional or info.default == "")


def _model_node(kind: type[BaseModel], data: dict[str, Any], path: str, label: str, lang: str,
                locked: frozenset[str]) -> Node:
    node = Node("group", path, label, model=kind.__name__)
    for name in kind.model_fields:
        if name not in SKIP:
            node.children.append(_field_node(kind, name, data.get(name), path, lang, locked))
    return node


def _tags(lang: str) -> list[tuple[str, str]]:
    return [(t.value, f"[{t.value}] {_pick((t.zh, t.en), lang)}") for t in s.Tag]


def _attach(sections: list[Node], problems: list[FieldProblem], lang: str) -> list[str]:
    """Put each problem on the deepest node its path falls under; return the messages no node took."""
    nodes = {n.path: n for section in sections for n in section.walk() if n.path}
    orphans: list[str] = []
    for problem in problems:
        parts = problem.path.split(".")
        while parts and ".".join(parts) not in nodes:
            parts.pop()
        if parts:
            nodes[".".join(parts)].errors.append(problem.message(lang))
        else:
            orphans.append(problem.message(lang))
    return orphans


# ------------------------------------------------------------------------------------------------ parsing


_SEPARATORS = re.compile(r"[,，、;；\s]+")


def _number(text: str) -> int | str:
    """An integer when the text is one (full-width digits too); else the text, for the check to refuse."""
    text = text.strip()
    try:
        return int(text) if len(text) <= 12 else text
    except ValueError:
        return text


def parse(form: MultiDict, *, existing_id: str | None = None) -> dict[str, Any]:
    """The document the posted inputs describe (not yet checked)."""
    doc: dict[str, Any] = {}
    for name in IDENTITY + LAYER_ORDER:
        doc[name] = _parse_field(form, s.Standard, name, "")
    if existing_id is not None:
        doc["id"] = existing_id  # an id never changes: cases refer to it
    return doc


def _parse_field(form: MultiDict, model: type[BaseModel], name: str, parent: str) -> Any:
    info = model.model_fields[name]
    path = _join(parent, name)
    owner = model.__name__
    kind = model_of(info.annotation)
    optional = _optional(info.annotation)
    key = PREFIX + path
    if _is_list(info.annotation):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            indexes = sorted({int(m.group(1)) for k in form
                              if (m := re.match(re.escape(key) + r"\.(\d{1,4})\.", k))})
            return [_parse_model(form, kind, _join(path, i)) for i in indexes]
        if _choices(owner, name, kind):
            return list(dict.fromkeys(v for v in form.getlist(key) if v))
        return [part for part in _SEPARATORS.split(form.get(key, "")) if part]
    if isinstance(kind, type) and issubclass(kind, Text):
        zh, en = form.get(key + ".zh", "").strip(), form.get(key + ".en", "").strip()
        if optional and not zh and not en:
            return None
        return {"zh": zh, "en": en}
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        if kind is s.Threshold:
            value = form.get(key + ".value", "").strip()
            if optional and not value:
                return None
            return {"value": _number(value) if value else None, "tag": form.get(key + ".tag", "C"),
                    "source": form.get(key + ".source", "").strip()}
        if optional and not form.get(key + ".__on"):
            return None
        return _parse_model(form, kind, path)
    if kind is bool:
        return bool(form.get(key))
    raw = form.get(key, "").strip()
    if optional and not raw:
        return None
    return raw


def _parse_model(form: MultiDict, kind: type[BaseModel], path: str) -> dict[str, Any]:
    return {name: _parse_field(form, kind, name, path) for name in kind.model_fields if name not in SKIP}


# ------------------------------------------------------------------------------------------------ row edits


def _container(doc: dict[str, Any], path: str) -> tuple[Any, str | int] | None:
    """The parent object and key of dotted ``path`` in ``doc`` (None when the path does not exist)."""
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = doc
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node, parts[-1]


def _list_model(path: str) -> type[BaseModel] | None:
    """The element model of the list at ``path`` (numeric parts skipped)."""
    current: Any = s.Standard
    for part in path.split("."):
        if part.isdigit():
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        current = model_of(fields[part].annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def apply_row_edit(doc: dict[str, Any], op: str) -> bool:
    """Add a row (``add:education_routes``) or remove one (``remove:education_routes.1``); False if ``op``
    names no list in ``doc``."""
    verb, _sep, path = op.partition(":")
    if verb == "add":
        model = _list_model(path)
        found = _container(doc, path)
        if model is None or found is None:
            return False
        parent, key = found
        try:
            rows = parent[key]
        except (KeyError, IndexError, TypeError):
            return False
        if rows is None:
            rows = parent[key] = []
        if not isinstance(rows, list) or len(rows) >= 200:
            return False
        row = blank(model)
        if "id" in model.model_fields:
            row["id"] = _next_id(rows, model)
        rows.append(row)
        return True
    if verb == "remove":
        found = _container(doc, path)
        if found is None:
            return False
        parent, key = found
        if not isinstance(parent, list) or not isinstance(key, int) or not 0 <= key < len(parent):
            return False
        del parent[key]
        return True
    return False


def _next_id(rows: list[Any], model: type[BaseModel]) -> str:
    """A fresh id for a new row: the next number for numbered achievement items, ``route-N`` otherwise."""
    taken = {str(r.get("id")) for r in rows if isinstance(r, dict)}
    prefix = "" if model is s.AchievementItem else {"EducationRoute": "route-", "DirectRoute": "route-",
                                                    "WorkExperienceItem": "item-"}.get(model.__name__, "row-")
    n = len(rows) + 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"

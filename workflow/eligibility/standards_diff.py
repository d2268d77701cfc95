"""Two versions of occupation standards side by side: what differs, row by row (issue #14, "Versions").

:func:`diff_standards` lines up two standards — two versions of one, or a copy and its original — as rows an
administrator can read. The *identity* rows say which standard each is (id, version, name, series, level,
effective period, policy basis); the *criteria* rows say what an applicant must meet.

One row is one thing an administrator decides:

* a sourced requirement — a number with its provenance tag and source text — is one row, changed when any of
  the three differs (a corrected source is a change to that requirement, not a separate one);
* every other leaf is a row of its own: a text (both languages together), a switch, a choice, a list of kinds
  (whose order carries no meaning, so a reordered list is the same).

Lists whose elements have an id — education routes, direct routes, achievement items, work-experience items —
are matched by id, and bridging map entries by (skill level, title): a route inserted in the middle is one
added route, not a change to every route after it. An element, or an optional part, present on one side only
gives rows marked ``added`` or ``removed`` that share its path as their ``group``; :attr:`StandardDiff.differences`
counts such a group once. Lists without ids (the counting branches of an achievement item) are compared by
position.

Labels come from :mod:`workflow.eligibility.standards_labels`, so rows are named as the editor names its inputs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel

from workflow.eligibility.profiles import Text, Vocabulary
from workflow.eligibility.standards import BridgingEntry, Sourced, Standard, Tag, Threshold
from workflow.eligibility.standards_labels import CHOICES, path_label

Status = Literal["same", "changed", "added", "removed"]

IDENTITY_FIELDS = ("id", "version", "name", "series", "specialty", "level", "title", "effective_from",
                   "effective_until", "source", "notes")
"""The fields that say which standard (and version) a side is; every other field is a criterion."""

CRITERIA_FIELDS = tuple(name for name in Standard.model_fields if name not in IDENTITY_FIELDS)
"""The criteria layers, in the order the standard declares them."""

_EMPTY = ("—", "—")
_NO_END = ("长期", "No end date")
_REQUIRED = ("须符合", "Required")


@dataclass(frozen=True)
class Cell:
    """One side of a row as shown: the value in each language, and for a sourced requirement its provenance."""

    zh: str
    en: str
    tag: Tag | None = None
    """The provenance tag (``S``, ``R`` or ``C``, labelled) of a sourced requirement; None for other rows."""
    source: str | None = None
    """The source text of a sourced requirement; None for other rows."""
    number: bool = False
    """True for a requirement with a number (a threshold), so a page can count changed numbers apart."""

    def text(self, locale: str = "zh") -> str:
        """The value in ``locale`` (anything starting with ``en`` is English)."""
        return self.en if locale.startswith("en") else self.zh


@dataclass(frozen=True)
class DiffRow:
    """One row of the comparison: a path into the standards, its label, each side, and how they differ."""

    path: str
    """Dotted path; list elements by id where they have one (``direct.routes[bachelor-13].industry_years``)."""
    label_zh: str
    label_en: str
    left: Cell | None
    """None when the left standard has nothing here."""
    right: Cell | None
    status: Status
    group: str
    """The path of the element or part this row belongs to when that is present on one side only (an added
    route's rows share it); the row's own path otherwise."""

    def label(self, locale: str = "zh") -> str:
        """The row's label in ``locale``."""
        return self.label_en if locale.startswith("en") else self.label_zh

    @property
    def differs(self) -> bool:
        """True unless both sides are the same."""
        return self.status != "same"

    @property
    def is_number(self) -> bool:
        """True when either side is a requirement with a number (a threshold)."""
        return any(cell is not None and cell.number for cell in (self.left, self.right))


@dataclass(frozen=True)
class StandardDiff:
    """The comparison of ``left`` with ``right``: identity rows and criteria rows, in the standards' order."""

    left: Standard
    right: Standard
    identity: list[DiffRow]
    criteria: list[DiffRow]

    @property
    def differences(self) -> int:
        """How many criteria differ: each changed row once, and each added or removed element or part once
        (however many rows show its content)."""
        return _count(self.criteria)

    @property
    def identity_differences(self) -> int:
        """How many identity rows differ (the version number counts: two versions always differ there)."""
        return _count(self.identity)

    def changed_rows(self) -> list[DiffRow]:
        """The criteria rows that differ, in order."""
        return [row for row in self.criteria if row.differs]


def _count(rows: Sequence[DiffRow]) -> int:
    changed = sum(1 for row in rows if row.status == "changed")
    return changed + len({row.group for row in rows if row.status in ("added", "removed")})


def diff_standards(left: Standard, right: Standard) -> StandardDiff:
    """Compare two standards (two versions of one, or two different standards) row by row."""
    # Every identity field has a row, even one neither side sets (no end date, no notes): the table says so.
    identity = [_leaf(getattr(left, name), getattr(right, name), _Path(name, name), None)
                for name in IDENTITY_FIELDS]
    criteria = [row for name in CRITERIA_FIELDS for row in _rows(getattr(left, name), getattr(right, name),
                                                                  _Path(name, name), None)]
    return StandardDiff(left=left, right=right, identity=identity, criteria=criteria)


# --------------------------------------------------------------------------------------------- walking


@dataclass(frozen=True)
class _Path:
    """A row's path, and the path its label is looked up by.

    They differ only for numbered ids: ``path_label`` reads a number in brackets as a position and shows it
    counted from 1, so achievement item ``6`` is looked up as position ``[5]`` ("第6条"), as the text numbers it.
    """

    shown: str
    label: str

    def field(self, name: str) -> _Path:
        """The path of field ``name`` below this one."""
        return _Path(f"{self.shown}.{name}", f"{self.label}.{name}")

    def element(self, key: str | int) -> _Path:
        """The path of the list element ``key`` (an id, or a position when the elements have no id)."""
        if isinstance(key, int):  # matched by position
            return _Path(f"{self.shown}[{key}]", f"{self.label}[{key}]")
        looked_up = str(int(key) - 1) if key.isdigit() and int(key) >= 1 else f"#{key}" if key.isdigit() else key
        return _Path(f"{self.shown}[{key}]", f"{self.label}[{looked_up}]")


@dataclass(frozen=True)
class _OneSided:
    """Inside an element or part present on one side only: every row gets ``status`` and this ``group``."""

    status: Status
    group: str


_SOURCED_FIELDS = frozenset(Threshold.model_fields)
"""value, tag, source: what makes one sourced requirement's row."""


def _absent(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list) and not value)


def _rows(left: Any, right: Any, path: _Path, one_sided: _OneSided | None) -> Iterator[DiffRow]:
    """The rows for ``left`` and ``right`` at ``path`` (either may be None: absent on that side)."""
    if _absent(left) and _absent(right):
        return
    sample = right if left is None else left
    if isinstance(sample, Sourced):
        yield _leaf(left, right, path, one_sided)
        # A requirement with more to it than a number (the 台阶 names a title and its level): those are rows too,
        # of the same added/removed group when the requirement is on one side only.
        extra = [name for name in type(sample).model_fields if name not in _SOURCED_FIELDS]
        if extra and one_sided is None and (left is None or right is None):
            one_sided = _OneSided("added" if left is None else "removed", path.shown)
        for name in extra:
            yield from _rows(getattr(left, name, None), getattr(right, name, None), path.field(name), one_sided)
        return
    if isinstance(sample, Text) or not isinstance(sample, BaseModel | list):
        yield _leaf(left, right, path, one_sided)
        return
    if isinstance(sample, list) and not any(isinstance(x, BaseModel) for x in (left or []) + (right or [])):
        yield _leaf(left, right, path, one_sided)  # a list of kinds, series, ids: one value
        return
    if one_sided is None and (left is None or right is None):
        one_sided = _OneSided("added" if left is None else "removed", path.shown)
    if isinstance(sample, list):
        yield from _list_rows(left or [], right or [], path, one_sided)
        return
    keyed = _key(sample) is not None and not isinstance(sample, BridgingEntry)
    for name in type(sample).model_fields:
        if keyed and name == "id":
            continue  # matched by it: the path names it, and it cannot differ
        yield from _rows(getattr(left, name, None), getattr(right, name, None), path.field(name), one_sided)


def _key(element: BaseModel) -> str | None:
    """What an element is matched by: its id, a bridging entry's (skill level, title); None: by position."""
    if isinstance(element, BridgingEntry):
        return f"{element.skill_level.value}→{element.title}"
    key = getattr(element, "id", None)
    return key if isinstance(key, str) else None


def _keyed(elements: list[BaseModel]) -> list[tuple[str | int, BaseModel]]:
    """The elements with their keys; a key seen again gets ``#2``, ``#3`` … so that no element is lost."""
    seen: dict[str, int] = {}
    out: list[tuple[str | int, BaseModel]] = []
    for i, element in enumerate(elements):
        key = _key(element)
        if key is None:
            out.append((i, element))
            continue
        seen[key] = seen.get(key, 0) + 1
        out.append((key if seen[key] == 1 else f"{key}#{seen[key]}", element))
    return out


def _list_rows(left: list[BaseModel], right: list[BaseModel], path: _Path,
               one_sided: _OneSided | None) -> Iterator[DiffRow]:
    lefts, rights = dict(_keyed(left)), dict(_keyed(right))
    left_keys, right_keys = list(lefts), list(rights)
    # Merged order: the right side's, with elements only on the left where they stood there.
    order: list[str | int] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, left_keys, right_keys, autojunk=False).get_opcodes():
        if op == "equal":
            order.extend(left_keys[i1:i2])
        else:
            order.extend(k for k in left_keys[i1:i2] if k not in rights)
            order.extend(right_keys[j1:j2])
    for key in dict.fromkeys(order):  # an element moved elsewhere in the list appears once
        yield from _rows(lefts.get(key), rights.get(key), path.element(key), one_sided)


def _leaf(left: Any, right: Any, path: _Path, one_sided: _OneSided | None) -> DiffRow:
    """One row for a leaf (or a sourced requirement, which is one row with its provenance)."""
    name = path.shown.rsplit(".", 1)[-1].split("[", 1)[0]
    if one_sided is not None:
        status, group = one_sided.status, one_sided.group
    elif isinstance(left, Sourced) or isinstance(right, Sourced):
        status = "added" if left is None else "removed" if right is None else \
            "same" if _sourced_key(left) == _sourced_key(right) else "changed"
        group = path.shown
    else:
        status, group = ("same" if _comparable(left) == _comparable(right) else "changed"), path.shown
    left_cell = None if left is None and (one_sided is not None or isinstance(right, Sourced)) else _cell(left, name)
    right_cell = None if right is None and (one_sided is not None or isinstance(left, Sourced)) else _cell(right, name)
    if status == "changed" and isinstance(left, Text) and isinstance(right, Text):
        left_cell, right_cell = _texts_apart(left, right)
    label_zh, label_en = path_label(path.label)
    return DiffRow(path=path.shown, label_zh=label_zh, label_en=label_en, left=left_cell, right=right_cell,
                   status=status, group=group)


def _sourced_key(s: Sourced) -> tuple[Any, ...]:
    return (s.value if isinstance(s, Threshold) else None, s.tag, s.source)


def _comparable(value: Any) -> Any:
    """``value`` as compared: a list regardless of order (kinds, series: the order means nothing); no value, an
    empty text and an empty list say the same."""
    if isinstance(value, list):
        return sorted(str(v.value if isinstance(v, Enum) else v) for v in value)
    return None if value == "" else value


def _words(value: Any, name: str) -> tuple[str, str]:
    """One value in (Chinese, English)."""
    if isinstance(value, Vocabulary):
        return value.zh, value.en
    if isinstance(value, bool):
        return ("是", "Yes") if value else ("否", "No")
    if isinstance(value, date):
        return value.isoformat(), value.isoformat()
    if isinstance(value, str) and value in CHOICES.get(name, {}):
        return CHOICES[name][value]
    return str(value), str(value)


def _cell(value: Any, name: str) -> Cell:
    """How one side of a row shows ``value`` (a leaf, a list of kinds, or a sourced requirement)."""
    if isinstance(value, Sourced):
        shown = (str(value.value), str(value.value)) if isinstance(value, Threshold) else _REQUIRED
        return Cell(*shown, tag=value.tag, source=value.source, number=isinstance(value, Threshold))
    if value is None or value == "":
        return Cell(*(_NO_END if name == "effective_until" else _EMPTY))
    if isinstance(value, Text):
        return Cell(value.zh, value.en)
    if isinstance(value, list):
        if not value:
            return Cell(*_EMPTY)
        words = [_words(v, name) for v in value]
        return Cell("、".join(w[0] for w in words), ", ".join(w[1] for w in words))
    return Cell(*_words(value, name))


def _texts_apart(left: Text, right: Text) -> tuple[Cell, Cell]:
    """Two texts that differ only in the language not shown would look the same: show the other language too."""
    def shown(text: Text) -> Cell:
        zh = f"{text.zh}（英文：{text.en}）" if left.zh == right.zh else text.zh
        en = f"{text.en} (Chinese: {text.zh})" if left.en == right.en else text.en
        return Cell(zh, en)

    return shown(left), shown(right)

"""The context a guard or action sees while one transition is being fired."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection

from workflow.access.roles import Actor
from workflow.engine.registry import FACTS, GUARDS
from workflow.engine.storage import CaseRow
from workflow.pipeline.schema import Pipeline, TransitionDef
from workflow.time.calendar import CHINA_TZ, WorkingCalendar


@dataclass
class TransitionContext:
    """Everything one firing needs, handed to guards and actions.

    Guards only read. Actions record their effects in ``case_updates`` (columns), ``data_updates`` (keys of
    ``case.data``) and ``payload`` (what the audit event records), or write rows through ``conn`` — all in
    the same transaction as the state change. ``secrets`` holds what the firing needs but must never store.
    """

    conn: Connection
    case: dict[str, Any]
    actor: Actor
    role: str
    pipeline: Pipeline
    trigger: str
    params: dict[str, Any]
    data: dict[str, Any]
    comment: str
    now: datetime
    refusals: list[str] = field(default_factory=list)
    taken: TransitionDef | None = None
    case_updates: dict[str, Any] = field(default_factory=dict)
    data_updates: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, Any] | None = field(default=None, repr=False)
    """What a firing needs but must never record (the ballot key shares): given beside ``data``, never copied
    into ``payload``, the event or a log. None when nothing is being fired (the actions offered on a page)."""
    case_facts: dict[str, Any] = field(default_factory=dict, repr=False)
    """Loaded per-case facts; the actions offered on one page share one dict, so each loads once per case."""
    declared: frozenset[str] | None = field(default=None, repr=False)
    """The facts the guard now running declared (None outside a guard: actions and loaders read any)."""

    def fact(self, name: str) -> Any:
        """A datum a guard declared it needs (:func:`workflow.engine.registry.guard`), loaded on first use and
        then kept for the rest of the firing — one read however many guards and branches ask."""
        if self.declared is not None and name not in self.declared:
            raise UndeclaredFact(f"a guard read the fact {name!r} without declaring it in needs=")
        loaded = self.case_facts if FACTS[name].per_case else self.cache.setdefault("facts", {})
        if name not in loaded:
            declared, self.declared = self.declared, None  # a loader may read other facts
            try:
                loaded[name] = FACTS[name].func(self)
            finally:
                self.declared = declared
        return loaded[name]

    def check(self, guard: str) -> str | None:
        """Run the guard ``guard`` on this context, limited to the facts it declared: None or its refusal."""
        hook = GUARDS[guard]
        self.declared = hook.needs
        try:
            return hook.func(self)
        finally:
            self.declared = None

    def param(self, name: str) -> Any:
        """A parameter's value for this case: the session's override, else the pipeline's default."""
        return self.params[name]

    def fraction(self, name: str) -> Fraction:
        """A parameter written as a fraction ("2/3") or number, as an exact Fraction."""
        return Fraction(str(self.params[name]))

    @property
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar with administrators' overrides (loaded only when a rule needs it)."""
        if "calendar" not in self.cache:
            from workflow.time.workdays import calendar_from_db

            self.cache["calendar"] = calendar_from_db(self.conn)
        return self.cache["calendar"]

    @property
    def today(self) -> date:
        """Today's date in China (deadlines and records are dated in local time)."""
        return self.now.astimezone(CHINA_TZ).date()

    @property
    def case_data(self) -> CaseData:
        """The case's JSON data as it will be after this transition's updates so far (a read-only mapping
        that fetches from the case row only what is read)."""
        return CaseData(self.case, self.data_updates)


class UndeclaredFact(RuntimeError):
    """A guard read a fact it did not declare: a programming error, caught by the test suite."""


_MISSING = object()


class CaseData(Mapping[str, Any]):
    """``{**case["data"], **updates}`` as a view: ``get`` of a small key never fetches the large reports."""

    __slots__ = ("_case", "_updates")

    def __init__(self, case: dict[str, Any], updates: dict[str, Any]) -> None:
        self._case = case
        self._updates = updates

    def __getitem__(self, key: str) -> Any:
        if key in self._updates:
            return self._updates[key]
        if isinstance(self._case, CaseRow):
            value = self._case.data_value(key, _MISSING)
        else:
            value = (self._case.get("data") or {}).get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def _whole(self) -> dict[str, Any]:
        return {**(self._case.get("data") or {}), **self._updates}

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

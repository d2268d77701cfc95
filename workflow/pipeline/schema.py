"""Pipeline definitions: the schema, the loader, and the graph checks that run before anything executes.

A pipeline is data (``definitions/pipelines/*.yaml``). Loading either yields a fully checked
:class:`Pipeline` or raises :class:`~workflow.pipeline.yamlsource.DefinitionError` listing every problem with its
``file:line``: a broken definition never half-loads.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from workflow.access.roles import ROLES
from workflow.engine.registry import ACTIONS, GUARDS, load_builtin_hooks
from workflow.pipeline.bases import BASES_DIR, refuse_stray_extension_keys, resolve, resolve_text
from workflow.pipeline.inboxes import inbox_problems
from workflow.pipeline.stages import stage_catalogue
from workflow.pipeline.yamlsource import DefinitionError, Problem, describe_loc, load_yaml, locate

REQUIREMENTS: dict[str, dict[str, str]] = {
    "comment": {"zh": "意见", "en": "an opinion"},  # the word the form's field is labelled with
    "corrections": {"zh": "一次性告知的补正清单", "en": "the complete list of corrections"},
    "assessment": {"zh": "单位考核结果", "en": "the unit assessment record"},
    "reason": {"zh": "理由", "en": "a reason"},
    "verification": {"zh": "核实结果（勾选已核实的业绩和已认定的代表作）", "en": "the verification"},
}
"""Data a transition can demand from whoever fires it."""

STAGES = stage_catalogue().keys
"""Coarse stages (``definitions/stages.yaml``), used to group states on screens and in reports."""

MAX_DEADLINE_DAYS = 3650
"""Longest deadline a definition may set (ten years; real ones are weeks)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ID = re.compile(r"^[a-z][a-z0-9-]*$")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    """A user-facing text in Chinese (default) and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Parameter(_Strict):
    """A tunable number or rule with its provenance: [S] seen in a source, [R] reported, [C] our default."""

    value: Any
    source: str = Field(min_length=1)
    tag: Literal["S", "R", "C"]
    label: Label | None = None


class Deadline(_Strict):
    """A timer started by a transition: after ``days`` fire ``fire`` if the case is still waiting.

    ``days`` and ``remind_before`` are numbers or parameter names; ``calendar`` says whether they count
    working days (China calendar with 调休) or calendar days.
    """

    name: str = Field(pattern=_NAME.pattern)
    days: int | str
    calendar: Literal["working", "calendar"] = "working"
    fire: str
    remind_before: int | str | None = None
    paused_in: list[str] = []
    label: Label | None = None
    """How the deadline is called on the case page (``单位公示截止``); its name when missing."""


class MaterialDef(_Strict):
    """One category of material the applicant uploads: what it is evidence of, whether a submission needs it,
    and a short hint of what counts (shown beside it in the applicant's checklist)."""

    code: str = Field(pattern=_NAME.pattern, max_length=40)
    label: Label
    required: bool = False
    hint: Label | None = None


class StateDef(_Strict):
    """One state of the pipeline. ``final`` states end the process (some keep an exceptional exit, e.g. revoke)."""

    name: str = Field(pattern=_NAME.pattern)
    label: Label
    stage: Literal[STAGES]  # type: ignore[valid-type]
    final: bool = False
    help: Label | None = None
    inbox: dict[str, str] = {}
    """The tab of each reviewing role's inbox that lists this state (``{unit: review, authority: upstream}``;
    the tabs are in ``definitions/inboxes.yaml``). Only the initial state (the applicant's draft) and final
    states may name none."""
    panel_step: Literal["opinions", "interview", "ballot"] | None = None
    """The committee's work on a case in this state: the review group's written opinions, the defence
    interview, or the secret ballot. The panel pages and the panel's commands read it (never the name)."""
    decided: bool = False
    """The committee has voted on a case in this state (it is listed among the panel's decided cases)."""
    outcome: Literal["favourable", "unfavourable"] | None = None
    """How the case ended or stands for the applicant, when that is settled (colours its badge)."""
    notice: Literal["unit", "result"] | None = None
    """The case is on notice in this state: the unit's internal notice (单位公示, for the unit's own staff) or
    the public result notice (结果公示). The notice pages list it; while a deadline's ``paused_in`` holds the
    state (an objection under review) the notice shows as paused and takes no further objection."""


class TransitionDef(_Strict):
    """One edge: who may fire ``trigger`` from ``source`` to ``dest``, under which guards, needing what data."""

    trigger: str = Field(pattern=_NAME.pattern)
    label: Label
    source: Annotated[list[str], BeforeValidator(_as_list)] = Field(min_length=1)
    dest: str
    roles: list[str] = Field(min_length=1)
    guards: list[str] = []
    actions: list[str] = []
    requires: list[str] = []
    deadline: Deadline | None = None
    notify: list[str] = []
    style: Literal["primary", "secondary", "danger", "warning"] = "primary"


class Pipeline(_Strict):
    """A whole pipeline definition: states, transitions and parameters, identified by (id, version)."""

    id: str = Field(pattern=_ID.pattern)
    version: int = Field(ge=1)
    label: Label
    description: Label
    channel: Literal["unit", "agency"]
    route: Literal["normal", "exceptional", "bridging"] = "normal"
    initial: str
    parameters: dict[str, Parameter] = {}
    materials: list[MaterialDef] = []
    """The material categories an applicant may upload, in checklist order (versions before 5 list none and
    take the fixed legacy set of :mod:`workflow.records.attachments`, none of them required)."""
    states: list[StateDef] = Field(min_length=2)
    transitions: list[TransitionDef] = Field(min_length=1)

    @cached_property
    def state_map(self) -> dict[str, StateDef]:
        """States by name."""
        return {s.name: s for s in self.states}

    @cached_property
    def required_materials(self) -> list[MaterialDef]:
        """The material categories a submission needs, in checklist order."""
        return [m for m in self.materials if m.required]

    @cached_property
    def deadlines(self) -> dict[str, Deadline]:
        """Every deadline a transition starts, by name."""
        return {t.deadline.name: t.deadline for t in self.transitions if t.deadline is not None}

    @cached_property
    def paused_states(self) -> frozenset[str]:
        """States in which a running deadline stands still (an objection under review pauses its notice)."""
        return frozenset(name for d in self.deadlines.values() for name in d.paused_in)

    def notice_deadline(self, kind: str) -> Deadline | None:
        """The deadline that runs the notice of ``kind`` (``unit``/``result``): the one started on entering a
        state on that notice. None when this pipeline has no such notice."""
        for t in self.transitions:
            if t.deadline is not None and self.state_map[t.dest].notice == kind:
                return t.deadline
        return None

    @cached_property
    def finals(self) -> list[str]:
        """Names of the final states, in definition order."""
        return [s.name for s in self.states if s.final]

    @cached_property
    def by_trigger_source(self) -> dict[tuple[str, str], list[TransitionDef]]:
        """Candidate transitions for (trigger, source state), in definition order (first passing guard wins)."""
        table: dict[tuple[str, str], list[TransitionDef]] = {}
        for t in self.transitions:
            for src in t.source:
                table.setdefault((t.trigger, src), []).append(t)
        return table

    @cached_property
    def triggers_from(self) -> dict[str, list[str]]:
        """Distinct triggers leaving each state, in definition order."""
        table: dict[str, list[str]] = {s.name: [] for s in self.states}
        for t in self.transitions:
            for src in t.source:
                if t.trigger not in table[src]:
                    table[src].append(t.trigger)
        return table

    def shortest_path(self, start: str, goal: str, *, avoid: frozenset[str] = frozenset()) -> list[str] | None:
        """The shortest list of triggers leading from ``start`` to ``goal`` without self-loops or the triggers
        in ``avoid`` (e.g. side paths), or None when there is none. Guards are not considered."""
        queue: deque[tuple[str, list[str]]] = deque([(start, [])])
        seen = {start}
        while queue:
            state, path = queue.popleft()
            if state == goal:
                return path
            for t in self.transitions:
                if state in t.source and t.dest != state and t.trigger not in avoid and t.dest not in seen:
                    seen.add(t.dest)
                    queue.append((t.dest, [*path, t.trigger]))
        return None

    def param(self, name: str) -> Any:
        """The default value of parameter ``name`` (KeyError if the definition lacks it)."""
        return self.parameters[name].value

    def summary(self) -> dict[str, Any]:
        """The JSON shape printed by ``titlereview pipelines --json``."""
        return {
            "id": self.id,
            "version": self.version,
            "label": self.label.model_dump(),
            "channel": self.channel,
            "route": self.route,
            "initial": self.initial,
            "finals": self.finals,
            "states": [s.name for s in self.states],
            "transitions": [
                {"trigger": t.trigger, "source": list(t.source), "dest": t.dest, "roles": list(t.roles)}
                for t in self.transitions
            ],
        }


def _graph_problems(p: Pipeline, raw: Any, *, stored: bool = False) -> list[Problem]:
    """Everything the schema cannot see: names that do not resolve, unreachable states, dead ends, traps."""
    load_builtin_hooks()
    problems: list[Problem] = []

    def at(*loc: Any) -> int:
        return locate(raw, loc)

    names = [s.name for s in p.states]
    for i, n in enumerate(names):
        if names.index(n) != i:
            problems.append(Problem(f"state {n!r} is defined twice", at("states", i)))
    states = set(names)
    if p.initial not in states:
        problems.append(Problem(f"initial state {p.initial!r} is not a defined state", at("initial")))
    if not p.finals:
        problems.append(Problem("no state is marked final: a case could never finish", at("states")))
    problems.extend(inbox_problems(p.states, p.initial, lambda i: at("states", i), require_inbox=not stored))
    problems.extend(_material_problems(p, at))

    for i, t in enumerate(p.transitions):
        where = f"transition {t.trigger!r}"
        for src in t.source:
            if src not in states:
                problems.append(Problem(f"{where}: unknown source state {src!r}", at("transitions", i, "source")))
        if t.dest not in states:
            problems.append(Problem(f"{where}: unknown destination state {t.dest!r}", at("transitions", i, "dest")))
        for role in t.roles:
            if role not in ROLES:
                problems.append(Problem(f"{where}: role {role!r} is not defined (known: {', '.join(ROLES)})",
                                        at("transitions", i, "roles")))
        for role in t.notify:
            if role not in ROLES:
                problems.append(Problem(f"{where}: cannot notify undefined role {role!r}",
                                        at("transitions", i, "notify")))
        for kind, names_, table in (("guard", t.guards, GUARDS), ("action", t.actions, ACTIONS)):
            for name in names_:
                hook = table.get(name)
                if hook is None:
                    problems.append(Problem(f"{where}: unknown {kind} {name!r} (known: {', '.join(sorted(table))})",
                                            at("transitions", i, kind + "s")))
                    continue
                for param in hook.params:
                    if param not in p.parameters:
                        problems.append(Problem(f"{where}: {kind} {name!r} needs parameter {param!r}, "
                                                "which the pipeline does not define", at("transitions", i, kind + "s")))
        for req in t.requires:
            if req not in REQUIREMENTS:
                problems.append(Problem(f"{where}: unknown requirement {req!r} (known: {', '.join(REQUIREMENTS)})",
                                        at("transitions", i, "requires")))
        if t.deadline is not None:
            d = t.deadline
            for field_name in ("days", "remind_before"):
                value = getattr(d, field_name)
                if isinstance(value, str) and value not in p.parameters:
                    problems.append(Problem(f"{where}: deadline {field_name} names unknown parameter {value!r}",
                                            at("transitions", i, "deadline", field_name)))
                    continue
                # The engine counts these days when the transition fires: anything but a whole number in range
                # would fail then (a rolled-back transition, a stuck case; a huge count walks the calendar day
                # by day past the year 9999), so refuse it now.
                days = p.parameters[value].value if isinstance(value, str) else value
                if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                                         or not 0 <= days <= MAX_DEADLINE_DAYS):
                    via = f" (parameter {value!r})" if isinstance(value, str) else ""
                    problems.append(Problem(f"{where}: deadline {field_name}{via} must be a whole number of days "
                                            f"from 0 to {MAX_DEADLINE_DAYS}, not {days!r}",
                                            at("transitions", i, "deadline", field_name)))
            fired = [c for c in p.by_trigger_source.get((d.fire, t.dest), [])]
            if not fired:
                problems.append(Problem(f"{where}: deadline fires {d.fire!r}, which does not leave {t.dest!r}",
                                        at("transitions", i, "deadline", "fire")))
            elif any("system" not in c.roles for c in fired):
                problems.append(Problem(f"{where}: deadline trigger {d.fire!r} must allow role 'system'",
                                        at("transitions", i, "deadline", "fire")))
            for paused in d.paused_in:
                if paused not in states:
                    problems.append(Problem(f"{where}: deadline paused_in names unknown state {paused!r}",
                                            at("transitions", i, "deadline", "paused_in")))
    for (trigger, src), cands in p.by_trigger_source.items():
        if len({tuple(sorted(c.roles)) for c in cands}) > 1:
            problems.append(Problem(f"transitions {trigger!r} from {src!r} disagree on roles: branches of one "
                                    "action must be allowed to the same roles", at("transitions")))
        for c in cands[:-1]:
            if not c.guards:
                problems.append(Problem(f"transition {trigger!r} from {src!r} to {c.dest!r} has no guard but is "
                                        "followed by another branch, which could never be taken", at("transitions")))
    if problems:
        return problems

    # Reachability from the initial state, and every non-final state must be able to finish.
    edges: dict[str, set[str]] = {name: set() for name in states}
    for t in p.transitions:
        for src in t.source:
            edges[src].add(t.dest)
    seen = {p.initial}
    queue = deque([p.initial])
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    reverse: dict[str, set[str]] = {name: set() for name in states}
    for src, dests in edges.items():
        for dest in dests:
            reverse[dest].add(src)
    can_finish = set(p.finals)
    queue = deque(p.finals)
    while queue:
        for prev in reverse[queue.popleft()]:
            if prev not in can_finish:
                can_finish.add(prev)
                queue.append(prev)
    for i, s in enumerate(p.states):
        if s.name not in seen:
            problems.append(Problem(f"state {s.name!r} is unreachable from {p.initial!r}", at("states", i)))
        if not s.final and not edges[s.name]:
            problems.append(Problem(f"state {s.name!r} is a dead end: not final and no transition leaves it",
                                    at("states", i)))
        elif s.name not in can_finish:
            problems.append(Problem(f"state {s.name!r} can never reach a final state", at("states", i)))
    return problems


RESERVED_MATERIAL_CODES = frozenset({"objection_evidence"})
"""Categories the system gives files itself (an objection's evidence): a pipeline cannot list them."""

MATERIALS_GUARD = "required_materials"
"""The guard that refuses a submission while a required material is missing."""


def _material_problems(p: Pipeline, at: Callable[..., int]) -> list[Problem]:
    """Material codes must be unique and not reserved; a pipeline that checks required materials must list some
    (the guard would otherwise let every submission through while seeming to check)."""
    problems: list[Problem] = []
    codes = [m.code for m in p.materials]
    for i, code in enumerate(codes):
        if codes.index(code) != i:
            problems.append(Problem(f"material {code!r} is listed twice", at("materials", i)))
        if code in RESERVED_MATERIAL_CODES:
            problems.append(Problem(f"material code {code!r} is reserved for files the system attaches itself",
                                    at("materials", i, "code")))
    if not p.required_materials:
        for i, t in enumerate(p.transitions):
            if MATERIALS_GUARD in t.guards:
                problems.append(Problem(f"transition {t.trigger!r}: guard {MATERIALS_GUARD!r} needs at least one "
                                        "material marked 'required: true'", at("transitions", i, "guards")))
    return problems


def parse_pipeline(text: str, source: str = "<pipeline>", *, stored: bool = False,
                   bases: Sequence[Path] = (BASES_DIR,)) -> Pipeline:
    """Parse and fully check one pipeline definition; raise DefinitionError listing every problem.

    ``stored``: the text of a version already in the database, which running cases may be pinned to. It was
    checked when it was stored; rules added since (every state in an inbox) apply to new versions only, so
    an older stored version still loads.

    A definition that ``extends:`` a base is resolved against the first of ``bases`` that has it
    (:mod:`workflow.pipeline.bases`) and the result is checked as a whole.
    """
    raw = load_yaml(text, source)
    if not isinstance(raw, dict):
        raise DefinitionError("a pipeline definition must be a mapping", line=1, source=source)
    if "extends" in raw:
        return _parse_extended(raw, source, stored=stored, bases=bases)
    refuse_stray_extension_keys(raw, source)
    try:
        pipeline = Pipeline.model_validate(raw)
    except ValidationError as err:
        problems = [
            Problem(f"{describe_loc(e['loc']) or 'definition'}: {e['msg']}", locate(raw, e["loc"]))
            for e in err.errors()
        ]
        raise DefinitionError(source=source, problems=problems) from None
    problems = _graph_problems(pipeline, raw, stored=stored)
    if problems:
        raise DefinitionError(source=source, problems=problems)
    return pipeline


def _parse_extended(raw: dict[str, Any], source: str, *, stored: bool, bases: Sequence[Path]) -> Pipeline:
    """Check a definition that extends a base: resolve it, then check the whole. A problem found only in the
    resolved whole has no line of its own in this file, so it is reported at the ``extends:`` line."""
    resolved, note = resolve(raw, source, bases)
    at_extends = getattr(raw, "key_lines", {}).get("extends", 1)
    text = yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False, width=120)
    try:
        return parse_pipeline(text, source, stored=stored, bases=bases)
    except DefinitionError as err:
        raise DefinitionError(source=source, problems=[
            Problem(f"{p.message} (with base {note})", at_extends) for p in err.problems]) from None


def load_pipeline_dir(directory: Path) -> dict[str, tuple[Pipeline, str]]:
    """Load every ``*.yaml`` in ``directory``: {pipeline id: (pipeline, text to store)}. A file that
    ``extends:`` a base is resolved first (:mod:`workflow.pipeline.bases`) and its text to store is the
    resolved definition.

    All files are checked before anything is returned; problems from every file are reported together.
    """
    found: dict[str, tuple[Pipeline, str]] = {}
    problems: list[Problem] = []
    # Bases beside the directory (a test fixture's own) come before the shipped ones.
    search = [d for d in (directory.parent / "bases", BASES_DIR) if d.is_dir()]
    for path in sorted(directory.glob("*.yaml")):
        try:
            own = path.read_text(encoding="utf-8")
            pipeline = parse_pipeline(own, str(path), bases=search)
            text = resolve_text(own, str(path), search)
        except DefinitionError as err:
            problems.extend(err.attributed())
            continue
        except (OSError, UnicodeDecodeError) as err:
            problems.append(Problem(f"cannot read: {err}", source=str(path)))
            continue
        if pipeline.id in found:
            problems.append(Problem(f"pipeline id {pipeline.id!r} is defined by two files", 1, str(path)))
            continue
        if path.stem != pipeline.id:
            problems.append(Problem(f"file name must be the pipeline id ({pipeline.id}.yaml)", 1, str(path)))
            continue
        found[pipeline.id] = (pipeline, text)
    if problems:
        raise DefinitionError(source=str(directory), problems=problems)
    if not found:
        raise DefinitionError(f"no pipeline definitions (*.yaml) found in {directory}", source=str(directory))
    return found

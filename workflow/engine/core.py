"""The engine: the only code that changes a case's state.

``fire`` is one transaction: lock the case row, check permission (role + relationship), required data and
guards, change the state on the shared machine, then write the case row, a hash-chained event, timers and
an outbox row, and commit once. The hot path uses SQLAlchemy Core statements, not ORM objects: the ORM's
unit of work costs more than everything else in a transition (design.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, overload

from sqlalchemy import Connection, insert, update

from workflow.access.permissions import acting_role
from workflow.access.roles import Actor
from workflow.db import Database
from workflow.eligibility.standards_store import level_mismatch, not_accepted
from workflow.engine.context import TransitionContext
from workflow.engine.machines import Token, fire_on_token
from workflow.engine.storage import _LOADED_COLS, CaseRow, DriverStore, driver_store
from workflow.errors import CaseNotFound, GuardRefused, InvalidAction, MissingData, PermissionDenied, StaleCase
from workflow.models import Case, CaseEvent, as_utc, utcnow
from workflow.pipeline.catalog import get_pipeline
from workflow.pipeline.schema import REQUIREMENTS, Pipeline, TransitionDef
from workflow.records.audit import event_hash

_case = Case.__table__
_event = CaseEvent.__table__
_KEPT = ("state_entered_at", "submitted_at", "standard_version")
"""Mutable columns a transition writes back unchanged unless it sets them (``data`` is merged separately)."""


@dataclass(frozen=True)
class Fired:
    """What one successful firing did."""

    case_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    role: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionOption:
    """An action as the UI offers it: allowed now, or shown with the reasons it is not."""

    trigger: str
    label: dict[str, str]
    style: str
    requires: tuple[str, ...]
    allowed: bool
    reasons: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()
    """The actions the offered branch runs (e.g. ``close_ballot_box``): what a screen may need to know about
    it, by what it does rather than by the pipeline's trigger name."""


def _not_found(case_id: int) -> CaseNotFound:
    return CaseNotFound(f"案件 {case_id} 不存在", f"Case {case_id} does not exist")


def _read_case(conn: Connection, case_id: int) -> CaseRow:
    """The case row with its session's parameters and relaxations, for reading (no lock)."""
    hp = driver_store(conn.dialect.name)
    case = hp.load_case(hp.cursor(conn), case_id, lock=False)
    if case is None:
        raise _not_found(case_id)
    return case


_defaults: dict[tuple[str, int], dict[str, Any]] = {}


def effective_params(pipeline: Pipeline, session_parameters: dict[str, Any] | None) -> dict[str, Any]:
    """The pipeline's parameter defaults with the session's overrides (only for parameters it defines)."""
    key = (pipeline.id, pipeline.version)
    defaults = _defaults.get(key)
    if defaults is None:
        # Immutable per (id, version) like the pipeline itself; callers get a fresh dict every time.
        defaults = _defaults[key] = {name: p.value for name, p in pipeline.parameters.items()}
    params = dict(defaults)
    for name, value in (session_parameters or {}).items():
        if name in params:
            params[name] = value
    return params


_deadline_triggers: set[str] = set()
"""Names of triggers that start a working-day deadline in some pipeline version this process has loaded.
fire() reads the calendar overrides with the case row for them (a round trip less on PostgreSQL). Only a
hint: a trigger not yet noted reads the overrides on demand, as every caller did before."""
_noted: set[tuple[str, int]] = set()


def _note_deadlines(pipeline: Pipeline) -> None:
    key = (pipeline.id, pipeline.version)
    if key not in _noted:
        _deadline_triggers.update(t.trigger for t in pipeline.transitions
                                  if t.deadline is not None and t.deadline.calendar == "working")
        _noted.add(key)


def _candidates(pipeline: Pipeline, state: str, trigger: str) -> list[TransitionDef]:
    cands = pipeline.by_trigger_source.get((trigger, state))
    if cands:
        return cands
    label = pipeline.state_map[state].label
    if not any(t.trigger == trigger for t in pipeline.transitions):
        raise InvalidAction(f"操作“{trigger}”在流程“{pipeline.label.zh}”中不存在",
                            f"Action {trigger!r} does not exist in pipeline {pipeline.id!r}")
    raise InvalidAction(f"案件当前处于“{label.zh}”，不能执行此操作",
                        f"The case is at {label.en!r}; this action is not possible now")


def _check_requirements(tdef: TransitionDef, comment: str, data: dict[str, Any]) -> None:
    missing = []
    for req in tdef.requires:
        value = comment if req == "comment" else data.get(req)
        if req == "corrections":
            ok = isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)
        elif req == "verification":
            ok = isinstance(value, dict) and isinstance(value.get("digest"), str) and all(
                isinstance(value.get(k, []), list) and all(isinstance(i, int) for i in value.get(k, []))
                for k in ("achievements", "works"))
        elif req == "assessment":
            ok = isinstance(value, dict) and value.get("result") in ("优秀", "合格") and bool(
                str(value.get("summary", "")).strip())
        else:
            ok = isinstance(value, str) and bool(value.strip())
        if not ok:
            missing.append(req)
    if missing:
        raise MissingData("请填写：" + "、".join(REQUIREMENTS[m]["zh"] for m in missing),
                          "Please provide: " + ", ".join(REQUIREMENTS[m]["en"] for m in missing))


def _deadline_due(ctx: TransitionContext, days: int, calendar_kind: str) -> datetime:
    if calendar_kind == "working":
        return ctx.calendar.period_end(ctx.now, days)
    from workflow.time.calendar import CHINA_TZ

    local = ctx.now.astimezone(CHINA_TZ)
    end = (local + timedelta(days=days + 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return end.astimezone(ctx.now.tzinfo)


@overload
def _resolve(value: int | str, params: dict[str, Any]) -> int: ...
@overload
def _resolve(value: None, params: dict[str, Any]) -> None: ...
@overload
def _resolve(value: int | str | None, params: dict[str, Any]) -> int | None: ...


def _resolve(value: int | str | None, params: dict[str, Any]) -> int | None:
    if value is None:
        return None
    return int(params[value]) if isinstance(value, str) else int(value)


RESTART_PAUSED_DEADLINES = "restart_notice_after_objection"
"""Session parameter (``review_session.parameters``): when true, a notice whose objection was dismissed runs
its full period again from the dismissal. The rule's default — and this system's — is that the period only
pauses during the investigation and then continues (rules.md §3, steps 3 and 10)."""


def _restarts_paused_deadlines(ctx: TransitionContext) -> bool:
    return (ctx.case.get("session_parameters") or {}).get(RESTART_PAUSED_DEADLINES) is True


def _deadline_named(pipeline: Pipeline, name: str):
    """The deadline definition called ``name`` (the transition that starts it carries it)."""
    for t in pipeline.transitions:
        if t.deadline is not None and t.deadline.name == name:
            return t.deadline
    return None


def _update_timers(ctx: TransitionContext, hp: DriverStore, cur, new_state: str, seq: int,
                   timer_id: int | None) -> tuple[int, dict[str, Any] | None]:
    """Close timers the case has left; return (the pending-timer delta, the deadline row to start or None)."""
    delta = -1 if timer_id is not None else 0  # claimed in fire() before anything else
    case_id = ctx.case["id"]
    pending: list[dict[str, Any]] = []
    if ctx.case["pending_timers"] + delta > 0:
        pending, cancelled = hp.close_left_timers(cur, case_id, new_state, ctx.now)
        delta -= cancelled
    deadline = ctx.taken.deadline if ctx.taken else None
    if deadline is None and pending and _restarts_paused_deadlines(ctx):
        # Back from the state a deadline waited in (a dismissed objection): the session asks for a full
        # period again, so the paused timer is cancelled and its deadline started afresh from now.
        came_from = ctx.case["state"]
        resumed = [t for t in pending if t["state"] == new_state and came_from in (t["paused_in"] or [])]
        if resumed:
            hp.cancel_timers(cur, [t["id"] for t in resumed], ctx.now)
            delta -= len(resumed)
            pending = [t for t in pending if t not in resumed]
            deadline = _deadline_named(ctx.pipeline, resumed[0]["name"])
            ctx.payload["deadline_restarted"] = resumed[0]["name"]
    if deadline is None or any(t["name"] == deadline.name for t in pending):
        return delta, None
    days = _resolve(deadline.days, ctx.params)
    due = _deadline_due(ctx, days, deadline.calendar)
    before = _resolve(deadline.remind_before, ctx.params)
    remind = None
    if before is not None and days > before:
        remind = _deadline_due(ctx, days - before, deadline.calendar)
    ctx.payload.setdefault("deadline", {"name": deadline.name, "due_at": due.isoformat()})
    return delta + 1, {
        "case_id": case_id, "name": deadline.name, "state": new_state, "trigger": deadline.fire,
        "paused_in": list(deadline.paused_in), "due_at": due, "remind_at": remind, "reminded_at": None,
        "status": "pending", "created_at": ctx.now, "created_by_seq": seq, "closed_at": None}


def fire(db: Database, case_id: int, trigger: str, actor: Actor, *, comment: str = "",
         data: dict[str, Any] | None = None, expected_version: int | None = None,
         now: datetime | None = None, secrets: Mapping[str, Any] | None = None,
         _timer_id: int | None = None) -> Fired:
    """Fire ``trigger`` on case ``case_id`` as ``actor`` in one transaction.

    ``secrets`` carries what guards and actions need but nothing may record — the ballot key shares a close
    needs (``{"ballot_shares": BallotShares(...)}``). It reaches them as ``ctx.secrets``; unlike ``data`` it
    never enters the event payload, the case row or the outbox.

    Raises CaseNotFound (404), PermissionDenied (403), InvalidAction / StaleCase / GuardRefused (409) or
    MissingData (422); nothing is written unless everything succeeds.
    """
    data = dict(data or {})
    comment = (comment or "").strip()
    now = as_utc(now) if now is not None else utcnow()
    hp = driver_store(db.engine.dialect.name)
    with db.lean_write() as conn:
        cur = hp.cursor(conn)
        calendar = None
        if trigger in _deadline_triggers:
            case, calendar = hp.load_case_and_calendar(cur, case_id)
        else:
            case = hp.load_case(cur, case_id, lock=True)
        if case is None:
            raise _not_found(case_id)
        if expected_version is not None and case["version"] != expected_version:
            raise StaleCase("案件已被他人更新，请刷新页面后重试", "The case changed meanwhile; reload and try again")
        if _timer_id is not None and not hp.claim_timer(cur, _timer_id, case_id, now):
            # Another tick fired this deadline first (the case lock serialises us behind it).
            raise StaleCase("该期限已处理", "This deadline was already handled")
        pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
        _note_deadlines(pipeline)
        cands = _candidates(pipeline, case["state"], trigger)
        role = acting_role(cands[0].roles, actor, case, conn)
        if role is None:
            raise PermissionDenied("您无权对该案件执行此操作", "You may not take this action on this case")
        _check_requirements(cands[0], comment, data)
        ctx = TransitionContext(conn=conn, case=case, actor=actor, role=role, pipeline=pipeline, trigger=trigger,
                                params=effective_params(pipeline, case["session_parameters"]), data=data,
                                comment=comment, now=now, secrets=dict(secrets or {}))
        if calendar is not None:
            ctx.cache["calendar"] = calendar  # read with the case row, in this transaction
        if "assessment" in data:
            # The unit assessment record the evaluator reads (rules.md §7.2): result, when and by whom, stamped
            # here (before the actions run) so that a form can neither backdate it nor name someone else.
            # A new dict: the caller's data is not ours to change.
            data = ctx.data = {**data, "assessment": {
                **data["assessment"], "on": ctx.today.isoformat(),
                "by": actor.name or (f"用户 {actor.user_id}" if actor.user_id is not None else "")}}
        token = Token(case["state"], ctx)
        if not fire_on_token(pipeline, trigger, token):
            raise GuardRefused(list(dict.fromkeys(ctx.refusals)))
        new_state = token.state
        seq = case["version"] + 1
        for key in ("corrections", "assessment", "reason"):
            if key in data:
                ctx.payload[key] = data[key]
        if "evidence" in data:
            # An objection's evidence file: recorded from its row, checked in this transaction (id, hash, name).
            from workflow.records.attachments import evidence_payload

            ctx.payload["evidence"] = evidence_payload(conn, case, actor, data["evidence"])
        if "assessment" in data:
            ctx.data_updates["assessment"] = data["assessment"]
        if "corrections" in data:
            ctx.data_updates["corrections"] = data["corrections"]
        pending_delta, timer = _update_timers(ctx, hp, cur, new_state, seq, _timer_id)
        event = {
            "case_id": case_id, "seq": seq, "actor_id": actor.user_id, "actor_role": role, "trigger": trigger,
            "from_state": case["state"], "to_state": new_state, "comment": comment, "payload": ctx.payload,
            "created_at": now, "prev_hash": case["last_event_hash"],
        }
        event["hash"] = event_hash(event)
        values: dict[str, Any] = {name: case[name] for name in _KEPT}
        values.update(state=new_state, version=seq, last_event_hash=event["hash"], updated_at=now,
                      **ctx.case_updates)
        if new_state != case["state"]:
            values["state_entered_at"] = now
        values["pending_timers"] = case["pending_timers"] + pending_delta
        data_updates = ctx.data_updates
        if data_updates:
            values.pop("data", None)  # the updates apply to the stored document (ctx.case_data)
            if not hp.mergeable(data_updates):
                values["data"] = dict(ctx.case_data)  # keys the database cannot merge: the whole document
        outbox = None
        if ctx.taken and ctx.taken.notify:
            outbox = {
                "case_id": case_id, "event_seq": seq, "kind": "transition",
                "audience": {"roles": list(ctx.taken.notify)},
                "payload": {"trigger": trigger, "from": case["state"], "to": new_state,
                            "reference": case["reference"], "comment": comment},
                "created_at": now, "dispatched_at": None, "attempts": 0, "last_error": ""}
        if not hp.write_transition(cur, case_id, case["version"], values, data_updates, event, outbox, timer):
            # Only possible if something bypassed the lock: refuse rather than fork the history.
            raise StaleCase("案件已被他人更新，请刷新页面后重试", "The case changed meanwhile; reload and try again")
        return Fired(case_id, trigger, case["state"], new_state, seq, role, ctx.payload)


def open_case(db: Database, actor: Actor, *, pipeline_id: str, unit_org_id: int, authority_org_id: int,
              employer_org_id: int | None = None, superior_org_ids: list[int] | None = None,
              session_id: int | None = None, series: str = "", specialty: str = "", level: str = "",
              target_title: str = "", standard_id: str | None = None, data: dict[str, Any] | None = None,
              pipeline_version: int | None = None, now: datetime | None = None) -> int:
    """Create a case in its pipeline's initial state (newest version unless given), with its first event.

    Only the applicant opens their own case; an integrity record in force blocks new applications. The
    standard must be one the session accepts (when the case has a session) and judge the case's level.
    """
    from workflow.pipeline.catalog import latest_versions

    if "applicant" not in actor.roles or actor.user_id is None:
        raise PermissionDenied("只有申报人本人可以创建申报", "Only applicants can open a case")
    now = as_utc(now) if now is not None else utcnow()  # SQLite keeps no zone: hash and store UTC only
    version = pipeline_version or latest_versions(db).get(pipeline_id)
    if version is None:
        raise InvalidAction(f"流程“{pipeline_id}”不存在", f"No pipeline {pipeline_id!r}")
    pipeline = get_pipeline(db, pipeline_id, version)
    route = pipeline.route
    with db.write() as conn:
        blocked = _probe_ctx(conn, actor, pipeline, now).check("no_integrity_record")
        if blocked:
            raise GuardRefused([blocked])
        # The session's list first: a standard it does not accept is wrong whatever the level.
        mismatch = not_accepted(conn, session_id, standard_id) or level_mismatch(conn, standard_id, level)
        if mismatch is not None:
            raise mismatch
        case_id = conn.execute(insert(_case).values(
            reference=f"tmp-{now.timestamp()}-{actor.user_id}", pipeline_id=pipeline_id, pipeline_version=version,
            state=pipeline.initial, version=1, applicant_id=actor.user_id, employer_org_id=employer_org_id,
            unit_org_id=unit_org_id, authority_org_id=authority_org_id, superior_org_ids=superior_org_ids or [],
            session_id=session_id, series=series, specialty=specialty, level=level, target_title=target_title,
            route=route, standard_id=standard_id, data=data or {}, last_event_hash="", pending_timers=0,
            created_at=now, updated_at=now, state_entered_at=now,
        ).returning(_case.c.id)).scalar_one()
        event = {"case_id": case_id, "seq": 1, "actor_id": actor.user_id, "actor_role": "applicant",
                 "trigger": "create", "from_state": None, "to_state": pipeline.initial, "comment": "",
                 "payload": {"pipeline": pipeline_id, "version": version}, "created_at": now, "prev_hash": ""}
        event["hash"] = event_hash(event)
        conn.execute(insert(_event).values(**event))
        reference = f"XC{now.year}{case_id:07d}"
        conn.execute(update(_case).where(_case.c.id == case_id)
                     .values(reference=reference, last_event_hash=event["hash"]))
    return case_id


def _probe_ctx(conn: Connection, actor: Actor, pipeline: Pipeline, now: datetime) -> TransitionContext:
    """A context for checking applicant-level guards before a case row exists."""
    return TransitionContext(conn=conn, case={"applicant_id": actor.user_id, "data": {}}, actor=actor,
                             role="applicant", pipeline=pipeline, trigger="create", params={}, data={},
                             comment="", now=now)


def case_row(values: Mapping[str, Any]) -> CaseRow:
    """The case row as :func:`available_actions` reads it, taken from a row the caller has already loaded.

    ``values`` must hold every column of the case plus ``session_parameters`` and ``session_relaxations`` (a
    KeyError says which is missing): guards then see exactly what the engine's own read would give them.
    """
    return CaseRow({name: values[name] for name in _LOADED_COLS})  # the columns _read_case loads


def available_actions(db: Database, case_id: int, actor: Actor, *, now: datetime | None = None,
                      include_refused: bool = True, case: CaseRow | None = None,
                      conn: Connection | None = None) -> list[ActionOption]:
    """The actions ``actor`` may take on the case now (and, optionally, permitted ones refused by a rule).

    Evaluates permissions and guards in a read transaction without firing anything. Timer-only triggers
    are never offered to people. A page that has already read the case may pass its open read transaction
    (``conn``) and the row it read there (``case``, built by :func:`case_row`): the same checks then run
    without a second read of the row or a transaction of their own.
    """
    now = now or utcnow()
    if case is not None and case["id"] != case_id:
        raise ValueError(f"the case row passed is case {case['id']}, not {case_id}")
    if conn is None:
        with db.read() as own:
            return _options(db, own, case if case is not None else _read_case(own, case_id), actor, now,
                            include_refused)
    return _options(db, conn, case if case is not None else _read_case(conn, case_id), actor, now, include_refused)


def _options(db: Database, conn: Connection, case: CaseRow, actor: Actor, now: datetime,
             include_refused: bool) -> list[ActionOption]:
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    params = effective_params(pipeline, case["session_parameters"])
    options: list[ActionOption] = []
    case_facts: dict[str, Any] = {}  # a fact about the case is read once for all the actions offered
    for trigger in pipeline.triggers_from[case["state"]]:
        cands = pipeline.by_trigger_source[(trigger, case["state"])]
        role = acting_role(cands[0].roles, actor, case, conn)
        if role is None or role == "system":
            continue
        ctx = TransitionContext(conn=conn, case=case, actor=actor, role=role, pipeline=pipeline,
                                trigger=trigger, params=params, data={}, comment="", now=now,
                                case_facts=case_facts)
        reasons: list[str] = []
        allowed = False
        shown = cands[0]
        for cand in cands:
            refusal = next((r for g in cand.guards if (r := ctx.check(g))), None)
            if refusal is None:
                allowed, shown = True, cand  # the button says what pressing it will do: this branch
                break
            reasons.append(refusal)
        if allowed or include_refused:
            # What the form asks for is what firing checks: the first branch's requirements (engine.fire).
            options.append(ActionOption(trigger, shown.label.model_dump(), shown.style, tuple(cands[0].requires),
                                        allowed, () if allowed else tuple(dict.fromkeys(reasons)),
                                        tuple(shown.actions)))
    return options


def may_fire(db: Database, case_id: int, trigger: str, actor: Actor) -> bool:
    """True when ``actor`` could fire ``trigger`` on the case right now (permission and guards)."""
    return any(o.trigger == trigger and o.allowed for o in available_actions(db, case_id, actor))

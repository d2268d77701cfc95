"""Everything the case page shows, gathered in one place so that every area renders the same page.

A refused action, a failed upload or an invalid opinion re-renders this page with the error, the right HTTP
status and the user's input put back where it was typed (``kept``), so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from workflow.access.identity import profile_for_reviewers
from workflow.access.objector_privacy import is_objection_event, redact_objectors
from workflow.access.roles import OBJECTOR_ROLES, ROLES
from workflow.access.visibility import dossier_relations, viewing_relations
from workflow.eligibility import verification
from workflow.eligibility.dossier import ACCOUNT_EVIDENCE_KINDS, PROFILE_SECTIONS
from workflow.engine import core as engine
from workflow.errors import PermissionDenied
from workflow.panel import prereview
from workflow.pipeline.catalog import get_pipeline, latest_versions, screen_state
from workflow.pipeline.schema import Pipeline
from workflow.records import attachments as attachment_store
from workflow.records import queries
from workflow.records.certificate_pdf import HOLDER_RELATIONS

from .diagram import diagram_states, pipeline_svg
from .extensions import get_db
from .i18n import current_lang, label
from .public import certificate_code
from .security import statement_reads
from .templating import UNREAD_KEY
from .uploads import ACCEPT_ATTR

PANEL_ROLES = frozenset({"panel_member", "panel_chair"})

@dataclass
class EventView:
    """One timeline entry, ready to render."""

    seq: int
    at: Any
    actor: str
    role: str
    action: str
    from_label: str
    to_label: str
    comment: str
    details: list[tuple[str, Any]] = field(default_factory=list)


def transition_label(p: Pipeline, trigger: str, from_state: str | None, to_state: str) -> str:
    """The label of the transition an event records (the branch that was taken)."""
    if trigger == "create":
        return _("创建申报")
    if trigger == "update_declaration":
        return _("修改申报信息")
    cands = p.by_trigger_source.get((trigger, from_state or ""), [])
    for c in cands:
        if c.dest == to_state:
            return label(c.label)
    if cands:
        return label(cands[0].label)
    for t in p.transitions:
        if t.trigger == trigger:
            return label(t.label)
    return trigger


def deadline_label(p: Pipeline, name: str) -> str:
    """How deadline ``name`` is called on the page: its ``label`` in the case's definition (or, for a version
    written before deadlines had labels, in the newest version of the same pipeline), else its name."""
    d = p.deadlines.get(name)
    if d is None or d.label is None:
        newest = latest_versions(get_db()).get(p.id)
        if newest is not None and newest != p.version:
            d = get_pipeline(get_db(), p.id, newest).deadlines.get(name) or d
    return label(d.label) if d is not None and d.label is not None else name


def _event_details(p: Pipeline, payload: dict[str, Any]) -> list[tuple[str, Any]]:
    details: list[tuple[str, Any]] = []
    if payload.get("corrections"):
        details.append((_("补正清单"), list(payload["corrections"])))
    if payload.get("assessment"):
        a = payload["assessment"]
        details.append((_("单位考核"), f"{a.get('result', '')}：{a.get('summary', '')}"))
    if payload.get("reason"):
        details.append((_("理由"), payload["reason"]))
    if payload.get("tally"):
        t = payload["tally"]
        details.append((_("表决结果"), _("应到 %(seated)s 人，实到 %(present)s 人，有效表决 %(eligible)s 人；"
                                      "同意 %(yes)s，不同意 %(no)s，弃权 %(abstain)s —— %(result)s",
                                      seated=t.get("seated"), present=t.get("present"), eligible=t.get("eligible"),
                                      yes=t.get("yes"), no=t.get("no"), abstain=t.get("abstain"),
                                      result=_("通过") if t.get("passed") else _("未通过"))))
    if payload.get("certificate_number"):
        details.append((_("证书编号"), payload["certificate_number"]))
    if payload.get("deadline"):
        d = payload["deadline"]
        name = deadline_label(p, d.get("name") or "")
        from datetime import datetime

        from .i18n import deadline_text

        try:
            due = deadline_text(datetime.fromisoformat(d["due_at"]))
        except (KeyError, ValueError):
            due = d.get("due_at", "")
        details.append((name, due))
    if payload.get("changed"):
        names = {"target_title": _("申报职称"), "specialty": _("专业"), "level": _("申报级别"),
                 "standard_id": _("评价标准"), "account_evidence": _("兜底申报证明")}
        for name, change in payload["changed"].items():
            if name == "account_evidence":  # a structured record: say that it changed, not its fields
                details.append((names[name], _("已更新")))
            else:
                details.append((names.get(name, name), f"{change.get('from') or '—'} → {change.get('to') or '—'}"))
    if payload.get("integrity_record_until"):
        details.append((_("诚信记录至"), payload["integrity_record_until"]))
    if payload.get("round") and payload.get("round") != 1:
        details.append((_("评审轮次"), payload["round"]))
    return details


def _timeline(p: Pipeline, events: list[dict[str, Any]]) -> list[EventView]:
    out = []
    for ev in events:
        role = ev["actor_role"]
        out.append(EventView(
            seq=ev["seq"], at=ev["created_at"],
            actor=(_("实名异议人（身份保密）") if ev.get("objector_hidden")
                   else ev["actor_name"] or (_("系统") if role == "system" else "")),
            role=label(ROLES.get(role, {"zh": role, "en": role})),
            action=transition_label(p, ev["trigger"], ev["from_state"], ev["to_state"]),
            from_label=label(p.state_map[ev["from_state"]].label) if ev["from_state"] in p.state_map else "",
            to_label=label(p.state_map[ev["to_state"]].label) if ev["to_state"] in p.state_map else ev["to_state"],
            comment=ev["comment"], details=_event_details(p, ev["payload"] or {})))
    return out


def _next_steps(p: Pipeline, state: str, timers: list[dict[str, Any]]) -> dict[str, Any]:
    """Who acts next and what they can do, plus the deadlines running now and what they will trigger."""
    by_role: dict[str, list[str]] = {}
    objection = False
    for trigger in p.triggers_from.get(state, []):
        cands = p.by_trigger_source[(trigger, state)]
        roles = cands[0].roles
        if set(roles) <= OBJECTOR_ROLES:
            objection = True
            continue
        for role in roles:
            if role == "system":
                continue
            entry = by_role.setdefault(role, [])
            text = label(cands[0].label)
            if text not in entry:
                entry.append(text)
    deadlines = []
    for t in timers:
        paused = t["state"] != state
        cands = p.by_trigger_source.get((t["trigger"], t["state"]), [])
        dest = label(p.state_map[cands[0].dest].label) if cands else ""
        deadlines.append({"name": deadline_label(p, t["name"]),
                          "due_at": t["due_at"], "then": dest, "paused": paused,
                          "action": label(cands[0].label) if cands else t["trigger"]})
    return {"by_role": [(label(ROLES[r]), actions) for r, actions in by_role.items() if r in ROLES],
            "objection": objection, "deadlines": deadlines,
            "help": label(p.state_map[state].help) if p.state_map[state].help else ""}


def build_case_context(case_id: int, *, error: str | None = None, kept: dict[str, Any] | None = None
                       ) -> dict[str, Any]:
    """The template context of the case page for the current user (404 unknown, 403 not theirs).

    Everything the page shows is read on one connection (:func:`web.security.statement_reads`): the case
    row with its small companions in one statement (:func:`workflow.records.queries.case_page`), then the lists, and
    the engine's permission and guard checks on the row already read. Committee members are the exception:
    their right to open the dossier runs conflict detection (:func:`workflow.access.visibility.dossier_relations`), so
    it is decided between two reads.
    """
    db = get_db()
    actor = current_user.actor
    if actor.roles & PANEL_ROLES:
        with statement_reads(db) as conn:
            page = queries.case_page(conn, case_id, actor.user_id)
        if page is None:
            abort(404)
        relations = _relations_or_refuse(*dossier_relations(db, actor, page.case))
        with statement_reads(db) as conn:
            gathered = _gather(db, conn, page, actor, relations)
    else:
        with statement_reads(db) as conn:
            page = queries.case_page(conn, case_id, actor.user_id)
            if page is None:
                abort(404)
            # dossier_relations without a committee role is exactly viewing_relations (no seat to look up).
            relations = _relations_or_refuse(viewing_relations(conn, actor, page.case), "")
            gathered = _gather(db, conn, page, actor, relations)
    case = page.case
    request.environ[UNREAD_KEY] = page.unread  # the header's badge (templating._navigation): read with the case
    p = gathered["pipeline"]
    events = gathered.pop("events")
    timers = gathered.pop("timers")
    # The pinned version's state, with what the screens need from the newest version (workflow.pipeline.catalog).
    state_def = screen_state(db, p.id, p.version, case["state"])
    shown = []
    for o in gathered.pop("options"):
        cands = p.by_trigger_source.get((o.trigger, case["state"]), [])
        if cands and set(cands[0].roles) <= OBJECTOR_ROLES:
            continue
        if cands and prereview.fired_by_defence_form(cands[0].guards):
            continue  # recorded through the panel's defence form below, which keeps the record first
        shown.append(o)
    panel = bool(PANEL_ROLES.intersection(relations))
    panel_ctx = (_panel_context(db, case, state_def, actor, relations) if panel or "authority_officer" in relations
                 else {})
    editable = attachment_store.materials_editable(db, case, actor)
    categories = attachment_store.categories_for(p)
    # The checklist is the applicant's: what the pinned version requires, what is uploaded, what is missing.
    checklist = (attachment_store.checklist(p, gathered["materials"])
                 if p.materials and "applicant" in relations else None)
    data = case["data"] or {}
    lang = current_lang()
    certificate = gathered["certificate"]
    # The holder and the issuing authority fetch the PDF without typing its code, and are shown the code to
    # pass on (an employer checking the certificate needs it to download the copy).
    holds_copy = certificate is not None and any(r in HOLDER_RELATIONS for r in relations)
    return {
        **gathered, "state_def": state_def, "relations": relations,
        "certificate_code": certificate_code(certificate["number"]) if holds_copy else None,
        "timeline": _timeline(p, events), "next": _next_steps(p, case["state"], timers),
        "actions": [o for o in shown if o.allowed], "refused": [o for o in shown if not o.allowed],
        "diagram": Markup(pipeline_svg(p, case["state"], "en" if lang == "en" else "zh_CN")),
        "diagram_states": diagram_states(p, case["state"], "en" if lang == "en" else "zh_CN"),
        "materials_editable": editable, "categories": categories,
        "category_labels": {**attachment_store.CATEGORIES, **categories}, "checklist": checklist,
        "missing_materials": [item for item in checklist or [] if item["required"] and not item["files"]],
        "accept": ACCEPT_ATTR, "max_mb": current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
        "sections": PROFILE_SECTIONS, **panel_ctx,
        "corrections": data.get("corrections") if state_def.stage == "submission" and case["state"] != p.initial
        else None,
        "evidence": data.get("account_evidence"), "evidence_kinds": ACCOUNT_EVIDENCE_KINDS,
        "assessment": data.get("assessment"),
        "objection_evidence": attachment_store.visible_evidence(db, p, actor, case, events),
        "error": error, "kept": kept or {}, "kv": (kept or {}).get("values", {}),
        "is_applicant": "applicant" in relations,
    }


def _relations_or_refuse(relations: list[str], refusal: str) -> list[str]:
    """``relations`` when there are any; else the committee's refusal (PermissionDenied) or a plain 403."""
    if not relations:
        if refusal:
            raise PermissionDenied(refusal, "You may not open this dossier")
        abort(403)
    return relations


def _gather(db, conn, page: queries.CasePageRow, actor, relations: list[str]) -> dict[str, Any]:
    """The page's reads in ``conn``'s transaction, and the actions the engine offers on the row already read."""
    case = page.case
    case_id = case["id"]
    round_ = (case["data"] or {}).get("round", 1)
    p = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    events = queries.timeline(conn, case_id)
    if any(is_objection_event(ev) for ev in events):
        events = redact_objectors(conn, p, actor, case, events)
    superior_ids = case["superior_org_ids"] or []
    options = engine.available_actions(
        db, case_id, actor, conn=conn,
        case=engine.case_row({**case, "session_relaxations": page.session_relaxations}))
    verifies = any(o.allowed and "verification" in o.requires for o in options)
    return {
        "verifiable": verification.verifiable_entries(page.profile) if verifies else None,
        "case": case, "pipeline": p, "events": events, "round": round_,
        "timers": queries.pending_timers(conn, case_id) if page.pending_timers else [],
        "materials": queries.case_materials(conn, case_id, include_removed="applicant" not in relations),
        # Everyone on the case page, the applicant included, sees the ID number masked (in full only on the
        # applicant's own profile page).
        "profile": profile_for_reviewers(page.profile), "certificate": page.certificate,
        "box": queries.ballot_box(conn, case_id, round_) if page.ballot_boxes else None,
        "member": queries.member_status(conn, case, actor.user_id) if PANEL_ROLES.intersection(relations) else None,
        "superiors": queries.organisation_names(conn, superior_ids),
        "standard": _standard(conn, case, page.standard_version_in_force),
        "eligibility": _eligibility({kind: {"report": report} for kind, report in page.eligibility.items()}),
        "options": options,
    }


def _standard(conn, case: dict[str, Any], in_force: int | None):
    """The occupation standard the case is judged by: the pinned version, else the version in force today
    (``in_force``: the one a submission today would pin; None when none has taken effect yet)."""
    from workflow.eligibility.standards_store import get_standard

    if not case.get("standard_id"):
        return None
    version = case.get("standard_version") or in_force
    return get_standard(conn, case["standard_id"], version) if version else None


def _eligibility(records: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The latest stored eligibility report: the authority's re-check, else the one taken at the unit's
    recommendation (with its assessment), else the one taken at submission; ``checked_at_step`` says which."""
    for kind in ("recheck", "recommend", "submission"):
        report = (records.get(kind) or {}).get("report")
        if report:
            return {**report, "checked_at_step": kind, "is_recheck": kind == "recheck"}
    return None


def _panel_context(db, case: dict[str, Any], state, actor, relations: list[str]) -> dict[str, Any]:
    """The committee's side of the case: review group, opinions, defence, sitting — for those who run it."""
    from workflow.errors import WorkflowError
    from workflow.panel import sitting

    names: dict[int, str] = {}
    group = prereview.assigned_reviewers(db, case["id"]) if case["session_id"] else []
    opinions: list[dict[str, Any]] = []
    defence = None
    if PANEL_ROLES.intersection(relations):
        try:
            opinions = prereview.opinions_for(db, case["id"], actor)
            defence = prereview.defence_for(db, case["id"], actor)
        except WorkflowError:
            opinions, defence = [], None
    if group:
        with db.read() as conn:
            names = queries.user_names(conn, group)
    organiser = "panel_chair" in relations or "authority_officer" in relations
    return {"review_group": [(uid, names.get(uid, str(uid))) for uid in group], "opinions": opinions,
            "interview": defence, "organiser": organiser and state.panel_step in ("opinions", "interview"),
            "sitting": sitting.sitting_status(db, case["session_id"]) if case["session_id"] else None,
            "defence_results": prereview.DEFENCE_RESULTS}


def render_case(case_id: int, status: int = 200, *, error: str | None = None, kept: dict[str, Any] | None = None):
    """The case page response (with an error and kept input when an action was refused)."""
    return render_template("cases/case.html", **build_case_context(case_id, error=error, kept=kept)), status

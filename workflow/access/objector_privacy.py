"""Who may learn who filed a named objection (实名异议) against a notice.

An objection is named so that it can be investigated and abuse answered for, not so that the applicant or
colleagues learn who raised it: the people who decide it need the name, the applicant and the unit's other
staff must not get it (the usual practice of keeping the informant's identity confidential, 对反映人信息
保密). The rule is the one that guards the objection's evidence (:func:`workflow.records.attachments.may_see_evidence`):
the objector, administrators, the case's authority and whoever decides that objection.

The event itself keeps the objector's id (the audit chain covers it); only what is *shown* is redacted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from workflow.access.roles import OBJECTOR_ROLES, Actor
from workflow.pipeline.schema import Pipeline
from workflow.records.attachments import OBJECTION_EVIDENCE, may_see_evidence


def is_objection_event(event: dict[str, Any]) -> bool:
    """True for an event fired by someone acting only as an objector."""
    return event.get("actor_role") in OBJECTOR_ROLES


def may_see_objector(conn: Connection, pipeline: Pipeline, actor: Actor, case: dict[str, Any],
                     event: dict[str, Any]) -> bool:
    """True when ``actor`` may see who filed the objection recorded by ``event``."""
    # The evidence rule takes an attachment row; the objection event carries the same three facts.
    row = {"category": OBJECTION_EVIDENCE, "case_id": case["id"], "uploaded_by": event.get("actor_id"),
           "case_state": event.get("from_state")}
    return may_see_evidence(conn, pipeline, actor, case, row)


def redact_objectors(conn: Connection, pipeline: Pipeline, actor: Actor, case: dict[str, Any],
                     events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` with the objector's name and id removed where ``actor`` may not see them.

    A redacted event gets ``objector_hidden=True`` so pages can say the objection was filed under a real
    name that is kept confidential, rather than looking like an anonymous one.
    """
    out = []
    decided: dict[tuple[Any, Any], bool] = {}
    for ev in events:
        if not is_objection_event(ev):
            out.append(ev)
            continue
        key = (ev.get("actor_id"), ev.get("from_state"))
        if key not in decided:
            decided[key] = may_see_objector(conn, pipeline, actor, case, ev)
        out.append(ev if decided[key] else {**ev, "actor_name": None, "actor_id": None, "objector_hidden": True})
    return out

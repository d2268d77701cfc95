"""The unit's verification of what an applicant declares: achievements checked against their evidence
(核实业绩) and technical documents recognised (认定代表作, rules.md §7.3 第六条).

The applicant's own form never sets these flags. The unit (the employer's HR, or the agency on the fallback
channel) sets them in its review, through the pipeline's verification transition, so every change leaves an
audit event naming what was verified or withdrawn; the flags carry who verified and when. The unit ticks the
entries it has checked; the action makes exactly those the verified ones. The page it ticked them on carries
a digest of the entries, so a profile edited meanwhile is refused rather than verified blind.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, update

from workflow.eligibility.profiles import Text, parse_profile
from workflow.engine.context import TransitionContext
from workflow.engine.registry import action
from workflow.errors import StaleCase
from workflow.models import ApplicantProfile

_profile = ApplicantProfile.__table__

VERIFIABLE: tuple[tuple[str, str], ...] = (("achievements", "verified"), ("works", "unit_verified"))
"""(profile section, flag the unit sets)."""

_STAMPS = ("verified", "unit_verified", "verified_by", "verified_on")


def entries_digest(body: dict[str, Any] | None) -> str:
    """A digest of the verifiable entries as the applicant declared them (the unit's stamps left out)."""
    body = body or {}
    declared = {section: [{k: v for k, v in entry.items() if k not in _STAMPS} for entry in body.get(section) or []]
                for section, _ in VERIFIABLE}
    return hashlib.sha256(json.dumps(declared, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def verifiable_entries(body: dict[str, Any] | None) -> dict[str, Any]:
    """What the verification form lists: each entry's description and stamp, and the digest to post back."""
    listed: dict[str, Any] = {"digest": entries_digest(body)}
    if not body:
        return listed | {section: [] for section, _ in VERIFIABLE}
    profile = parse_profile(body, check_future=False)
    for section, flag in VERIFIABLE:
        listed[section] = [
            {"index": i, "summary": entry.summary().model_dump(), "verified": bool(getattr(entry, flag)),
             "by": entry.verified_by, "on": entry.verified_on.isoformat() if entry.verified_on else "",
             "evidence": getattr(entry, "evidence", "")}
            for i, entry in enumerate(getattr(profile, section))]
    return listed


@action("record_unit_verification")
def record_unit_verification(ctx: TransitionContext) -> None:
    """Make exactly the ticked entries of the applicant's profile the verified ones, stamped with who and
    when, in the transition's transaction; the event's payload lists what changed."""
    choice = ctx.data["verification"]
    query = select(_profile.c.id, _profile.c.body).where(_profile.c.user_id == ctx.case["applicant_id"])
    if ctx.conn.dialect.name == "postgresql":
        query = query.with_for_update()  # the applicant may be saving the profile right now
    row = ctx.conn.execute(query).first()
    body = dict(row.body or {}) if row is not None else {}
    if row is None or entries_digest(body) != choice["digest"]:
        raise StaleCase("申报人已修改个人信息，请刷新页面后重新核实",
                        "The profile changed meanwhile; reload and verify again")
    verified: list[Text] = []
    withdrawn: list[Text] = []
    profile = parse_profile(body, check_future=False)
    for section, flag in VERIFIABLE:
        chosen = set(choice.get(section, []))
        entries = [dict(e) for e in body.get(section) or []]
        if not chosen <= set(range(len(entries))):
            raise StaleCase("核实的条目不存在，请刷新页面后重试", "An entry to verify does not exist; reload")
        for i, entry in enumerate(entries):
            summary = getattr(profile, section)[i].summary()
            if i in chosen and not entry.get(flag):
                entry.update({flag: True, "verified_by": ctx.actor.name, "verified_on": ctx.today.isoformat()})
                verified.append(summary)
            elif i not in chosen and entry.get(flag):
                entry.update({flag: False, "verified_by": "", "verified_on": None})
                withdrawn.append(summary)
        body[section] = entries
    checked = parse_profile(body, check_future=False).model_dump(mode="json")
    ctx.conn.execute(update(_profile).where(_profile.c.id == row.id).values(body=checked))
    ctx.payload["verification"] = {"verified": [t.model_dump() for t in verified],
                                   "unverified": [t.model_dump() for t in withdrawn]}

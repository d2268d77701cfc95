"""The role vocabulary and how each role relates an actor to a case.

Roles are what a user *is*; the relationship is what makes a role count *for this case* (the applicant's
own case, a case of the reviewer's organisation, a case before the member's committee). Permission needs
both. Deny by default: a role not named here cannot be granted by a definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES: dict[str, dict[str, str]] = {
    "applicant": {"zh": "申报人", "en": "Applicant"},
    "unit_reviewer": {"zh": "用人单位", "en": "Employer HR"},
    "agency_reviewer": {"zh": "人事代理机构", "en": "Personnel agency"},
    "superior_reviewer": {"zh": "主管部门", "en": "Superior department"},
    "authority_officer": {"zh": "人社部门（职改办）", "en": "Authority officer"},
    "panel_member": {"zh": "评审专家", "en": "Panel member"},
    "panel_chair": {"zh": "主任委员", "en": "Panel chair"},
    "administrator": {"zh": "管理员", "en": "Administrator"},
    "unit_member": {"zh": "本单位职工（实名）", "en": "Member of the applicant's unit (identified)"},
    "public": {"zh": "公众（实名）", "en": "Member of the public (identified)"},
    "system": {"zh": "系统（定时）", "en": "System (timer)"},
}
"""Every role a pipeline may name, with its display labels."""

DERIVED_ROLES = frozenset({"public", "unit_member", "system"})
"""Roles nobody is granted: ``public`` is any signed-in person, ``unit_member`` anyone of the case's unit,
``system`` the timer."""

OBJECTOR_ROLES = frozenset({"public", "unit_member"})
"""The derived roles in which people file named objections to a notice: a transition whose roles are all
objectors' is an objection, whatever the pipeline calls it."""

USER_ROLES = frozenset(ROLES) - DERIVED_ROLES
"""Roles that can be granted to a user account."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: passed explicitly into the core (the core never reads a web session).

    ``user_id`` is None only for the system actor that fires timers.
    """

    user_id: int | None
    roles: frozenset[str] = field(default_factory=frozenset)
    org_id: int | None = None
    name: str = ""

    @property
    def is_system(self) -> bool:
        """True for the timer/system actor."""
        return self.user_id is None and "system" in self.roles


SYSTEM = Actor(user_id=None, roles=frozenset({"system"}), name="system")
"""The actor used by ``titlereview tick`` when a deadline fires."""

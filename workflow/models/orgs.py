"""People and organisations: employers, agencies, superior departments and the authority."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Index, Integer, UniqueConstraint, false, func, text
from sqlmodel import Field

from ._types import JSONType, TableModel, UTCDateTime, utcnow


class Organisation(TableModel, table=True):
    """An organisation taking part in review.

    ``kind`` is one of ``employer`` (用人单位), ``agency`` (人事代理/人才服务机构, the 兜底 channel),
    ``superior`` (主管部门, county or industry department) and ``authority`` (人社部门/职改办).
    The firm-type flags drive reports and session eligibility (专精特新, 专精特新“小巨人”).
    """

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    kind: str = Field(index=True, max_length=20)
    region: str = Field(default="", max_length=100)
    credit_code: str | None = Field(default=None, max_length=18, description="统一社会信用代码")
    is_specialised: bool = Field(default=False, description="专精特新中小企业")
    is_little_giant: bool = Field(default=False, description="专精特新“小巨人”企业")
    has_hr_capacity: bool = Field(
        default=True, description="False when the employer cannot run the unit steps (fallback channel)"
    )
    superior_org_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(TableModel, table=True):
    """A login. Roles live in :class:`UserRole`; the organisation scopes what a reviewer may act on."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=80)
    display_name: str = Field(max_length=100)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    password_hash: str = Field(default="", max_length=300)
    org_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    is_active: bool = Field(default=True)
    locale: str = Field(default="zh_CN", max_length=10)
    # Every signed-in cookie carries a fingerprint of this number (web/security.py); raising it ends all of the
    # user's earlier sessions on every device (sign-out, password change, an administrator's 全部设备退出).
    # The server default lets migration 0013 add the column in place to a table many others refer to; the column
    # has no Python-side default, so Core inserts that leave it out (tests at older revisions) still work there.
    session_generation: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    # The elder-friendly mode (长辈模式: larger text and controls, stronger contrast), chosen by the person with the
    # header's switch and kept here so it follows them to every device (migration 0017; web/display.py).
    elder_mode: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# Sign-in matches the name case-insensitively (migration 0010). On PostgreSQL this is the index; on SQLite the
# migration builds it as ``username COLLATE NOCASE`` instead, because SQLite's expression indexes cannot be
# reflected (the migrations-match-the-models check would warn); autogenerate compares the two by name.
Index("ix_user_username_ci", func.lower(User.__table__.c.username))


class UserRole(TableModel, table=True):
    """One role held by one user (a person may be, say, unit reviewer and panel member)."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=30)


class ApplicantProfile(TableModel, table=True):
    """What an applicant declares about themselves (education, titles, certificates, achievements…).

    The body is validated by :class:`workflow.eligibility.profiles.ApplicantProfile` and stored as JSON so that new
    criteria need no schema migration.
    """

    __tablename__ = "applicant_profile"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True)
    body: dict = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Built-in guards. Each returns None to allow, or a reason in plain Chinese that the user will read.

What a guard reads beyond the case row it declares (``needs=``) and reads as a fact (``ctx.fact``): the facts
below, and ``eligibility`` / ``applicant_inputs`` (:mod:`workflow.eligibility.gate`) and ``tally`` /
``sitting_count`` (:mod:`workflow.panel.ballots`). The engine loads each at most once per firing — once per case
for the actions offered on a page — however many guards and branches read it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from workflow.engine.context import TransitionContext
from workflow.engine.registry import fact, guard
from workflow.engine.storage import Statement, driver_store
from workflow.models import BallotBox, IntegrityRecord, Opinion
from workflow.models.attachments import Attachment
from workflow.panel import ballots

# Guards run inside fire(); as SQL text on the DBAPI cursor each costs one round trip and no SQLAlchemy CPU.
_INTEGRITY_IN_FORCE = Statement(
    f"SELECT MAX(ends_on) FROM {IntegrityRecord.__tablename__} "
    "WHERE user_id = :user_id AND starts_on <= :today AND ends_on > :today")
_OPINIONS = Statement(f"SELECT COUNT(*) FROM {Opinion.__tablename__} WHERE case_id = :case_id AND round = :round")
_UPLOADED_CATEGORIES = Statement(
    f"SELECT DISTINCT category FROM {Attachment.__tablename__} WHERE case_id = :case_id AND removed_at IS NULL")
_BOX_OPENED = Statement(f"SELECT 1 FROM {BallotBox.__tablename__} WHERE case_id = :case_id AND round = :round")


@fact("integrity_record_end", per_case=True)
def integrity_record_end(ctx: TransitionContext) -> date | str | None:
    """The end of the applicant's integrity (诚信) record in force today, or None."""
    # Dates are ISO text on SQLite (as SQLAlchemy's Date type stores them), which compares in date order.
    # A record of N years is over on its Nth anniversary (``ends_on``): it blocks up to the day before.
    from workflow.eligibility.gate import evaluates_eligibility

    if evaluates_eligibility(ctx):  # the eligibility guard's inputs query brings this along
        return ctx.fact("applicant_inputs")[2]
    today = driver_store(ctx.conn.dialect.name).value(ctx.today)
    return _INTEGRITY_IN_FORCE.run(ctx.conn, {"user_id": ctx.case["applicant_id"], "today": today}).fetchone()[0]


@fact("opinion_count", per_case=True)
def opinion_count(ctx: TransitionContext) -> int:
    """How many pre-review opinions of the case's current round are in."""
    round_ = ctx.case_data.get("round", 1)
    return int(_OPINIONS.run(ctx.conn, {"case_id": ctx.case["id"], "round": round_}).fetchone()[0])


@fact("ballot_opened", per_case=True)
def ballot_opened(ctx: TransitionContext) -> bool:
    """Whether a ballot box of the case's current round exists (opened, perhaps closed since)."""
    return _BOX_OPENED.run(ctx.conn, {"case_id": ctx.case["id"],
                                      "round": ctx.case_data.get("round", 1)}).fetchone() is not None


@fact("uploaded_categories", per_case=True)
def uploaded_categories(ctx: TransitionContext) -> frozenset[str]:
    """The material categories with at least one current (not removed) upload."""
    return frozenset(row[0] for row in _UPLOADED_CATEGORIES.run(ctx.conn, {"case_id": ctx.case["id"]}).fetchall())


@fact("defence_recorded_at", per_case=True)
def defence_recorded_at(ctx: TransitionContext) -> Any:
    """When the defence interview of the case's current round was recorded (None: not scheduled or not yet)."""
    from workflow.models import Defence

    table = Defence.__table__
    return ctx.conn.execute(select(table.c.recorded_at).where(
        table.c.case_id == ctx.case["id"], table.c.round == ctx.case_data.get("round", 1))).scalar()


@guard("no_integrity_record", needs=("integrity_record_end",))
def no_integrity_record(ctx: TransitionContext) -> str | None:
    """The applicant has no integrity (诚信) record in force."""
    ends = ctx.fact("integrity_record_end")
    if ends is not None:
        ends = ends if isinstance(ends, date) else date.fromisoformat(ends)
        return f"申报人存在有效期内的诚信记录（{ends:%Y-%m-%d} 期满），期满前不得申报"
    return None


@guard("eligibility_met", params=("allow_exceptional",), needs=("eligibility",))
def eligibility_met(ctx: TransitionContext) -> str | None:
    """The applicant meets the standard's hard criteria (or the 破格 route is allowed and evidenced)."""
    from workflow.eligibility.gate import refusal_for

    return refusal_for(ctx)


@guard("has_superior_review")
def has_superior_review(ctx: TransitionContext) -> str | None:
    """The case goes through at least one superior department (主管部门) before the authority."""
    if not ctx.case["superior_org_ids"]:
        return "本案无主管部门审核层级"
    return None


@guard("more_superior_levels")
def more_superior_levels(ctx: TransitionContext) -> str | None:
    """Another superior level remains after the current one."""
    level = ctx.case_data.get("superior_level", 0)
    if level + 1 >= len(ctx.case["superior_org_ids"]):
        return "已是最后一级主管部门"
    return None


@guard("pre_review_complete", params=("min_pre_reviewers",), needs=("opinion_count",))
def pre_review_complete(ctx: TransitionContext) -> str | None:
    """At least ``min_pre_reviewers`` opinions of the current round are in."""
    count = ctx.fact("opinion_count")
    needed = int(ctx.param("min_pre_reviewers"))
    if count < needed:
        return f"评议意见 {count} 份，至少需要 {needed} 份"
    return None


@guard("defence_required", params=("defence_levels",))
def defence_required(ctx: TransitionContext) -> str | None:
    """The case's level (or the 破格 route) calls for a defence interview (答辩)."""
    if ctx.case["route"] == "exceptional" or ctx.case["level"] in ctx.param("defence_levels"):
        return None
    return "该级别无需答辩"


@guard("ballot_not_open", needs=("ballot_opened",))
def ballot_not_open(ctx: TransitionContext) -> str | None:
    """No ballot for this case and round has been opened yet."""
    if ctx.fact("ballot_opened"):
        return "本轮投票已开启过"
    return None


@guard("quorum_present", params=("quorum_fraction",), needs=("sitting_count",))
def quorum_present(ctx: TransitionContext) -> str | None:
    """Enough of the seated committee is recorded present (≥ quorum fraction)."""
    return ballots.quorum_verdict(ctx.fact("sitting_count"), ctx.fraction("quorum_fraction"))


@guard("ballot_closable", params=("quorum_fraction",), needs=("tally",))
def ballot_closable(ctx: TransitionContext) -> str | None:
    """The ballot is open and the sitting still has its quorum."""
    tally = ballots.tally_for(ctx)
    if tally is None:
        return "投票尚未开启"
    if not tally.quorate:
        return f"出席 {tally.present} 人，未达到法定人数（评委会 {tally.seated} 人的 {ctx.params['quorum_fraction']}）"
    return None


@guard("ballot_passed", params=("quorum_fraction", "pass_fraction"), needs=("tally",))
def ballot_passed(ctx: TransitionContext) -> str | None:
    """The closed tally reaches the pass fraction of present, unrecused members."""
    refusal = ballot_closable(ctx)
    if refusal:
        return refusal
    tally = ballots.tally_for(ctx)
    assert tally is not None
    if not tally.counted:
        # No shares, no count: a page offering the close cannot know the result, and must not try to.
        return None
    if not tally.passed:
        return f"同意 {tally.yes} 票，未达到 {tally.eligible} 人的 {ctx.params['pass_fraction']}"
    return None


@guard("first_appeal")
def first_appeal(ctx: TransitionContext) -> str | None:
    """The applicant has not appealed this case before (one 复查 per case)."""
    if ctx.case_data.get("appealed"):
        return "本案已申请过复查"
    return None


@guard("fallback_account_evidence", params=("min_contract_months",))
def fallback_account_evidence(ctx: TransitionContext) -> str | None:
    """The fallback applicant shows a labour contract (≥ N months) with social insurance, or a freelancer
    registration — the evidence that the agency is the right channel."""
    evidence = ctx.case_data.get("account_evidence") or {}
    kind = evidence.get("kind")
    if kind == "freelancer_registration":
        if str(evidence.get("registration_no", "")).strip():
            return None
        return "请填写自由职业登记编号"
    if kind == "labour_contract":
        months = int(evidence.get("contract_months") or 0)
        needed = int(ctx.param("min_contract_months"))
        if months < needed:
            return f"劳动合同 {months} 个月，不足 {needed} 个月"
        if not evidence.get("social_insurance"):
            return "须在签约单位缴纳社会保险"
        return None
    return "兜底申报须提供劳动合同及社保缴纳证明，或自由职业登记"


@guard("required_materials", needs=("uploaded_categories",))
def required_materials(ctx: TransitionContext) -> str | None:
    """Every material the pipeline marks required has at least one current (not removed) upload."""
    uploaded = ctx.fact("uploaded_categories")
    missing = [m.label.zh for m in ctx.pipeline.required_materials if m.code not in uploaded]
    if missing:
        return f"尚缺必需材料：{'、'.join(missing)}。请在“申报材料”中上传后再提交"
    return None


@guard("defence_recorded", needs=("defence_recorded_at",))
def defence_recorded(ctx: TransitionContext) -> str | None:
    """The defence interview (答辩) of the current round has its record and result."""
    if ctx.fact("defence_recorded_at") is None:
        return "答辩尚未安排或尚未记录答辩结果"
    return None


@guard("objector_not_party")
def objector_not_party(ctx: TransitionContext) -> str | None:
    """The objector is not a party to the case: not the applicant, not a reviewer of the case's unit."""
    actor, case = ctx.actor, ctx.case
    if actor.user_id == case["applicant_id"]:
        return "申报人不能对本人的公示提出异议"
    if actor.org_id == case["unit_org_id"] and {"unit_reviewer", "agency_reviewer"} & actor.roles:
        return "负责本案审核推荐的人员不能对本案公示提出异议"
    return None

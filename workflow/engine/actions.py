"""Built-in actions, run inside the transition's transaction after the state change."""

from __future__ import annotations

import secrets

from sqlalchemy import insert, update
from sqlalchemy.exc import NoResultFound

from workflow.eligibility.dates import anniversary
from workflow.engine.context import TransitionContext
from workflow.engine.registry import action
from workflow.engine.storage import Statement, driver_store
from workflow.models import Certificate, CertificateStatus, IntegrityRecord, Organisation, User
from workflow.panel import ballots

_cert = Certificate.__table__
_integrity = IntegrityRecord.__table__


@action("record_submission")
def record_submission(ctx: TransitionContext) -> None:
    """Stamp the first submission time and pin the standard version in force (the case is judged by it)."""
    from workflow.eligibility.gate import pin_standard_on_submit

    if ctx.case["submitted_at"] is None:
        ctx.case_updates["submitted_at"] = ctx.now
    pin_standard_on_submit(ctx)


@action("advance_superior_level")
def advance_superior_level(ctx: TransitionContext) -> None:
    """Move to the next superior level (the last level's approval leads on to the authority)."""
    level = ctx.case_data.get("superior_level", 0)
    ctx.data_updates["superior_level"] = level + 1
    ctx.payload["superior_level"] = level + 1


@action("reset_superior_level")
def reset_superior_level(ctx: TransitionContext) -> None:
    """Start superior review from the first level again (after it was returned to the unit)."""
    ctx.data_updates["superior_level"] = 0


@action("record_eligibility_recheck")
def record_eligibility_recheck(ctx: TransitionContext) -> None:
    """Record the authority's eligibility re-check (the evaluator's verdict at this moment) as an eligibility record."""
    from workflow.eligibility.gate import record_recheck

    record_recheck(ctx)


@action("record_eligibility_at_recommendation")
def record_eligibility_at_recommendation(ctx: TransitionContext) -> None:
    """Judge the case again as the unit recommends it, now with the unit's assessment (rules.md §7.2)."""
    from workflow.eligibility.gate import record_recheck

    record_recheck(ctx, "recommend")


@action("open_ballot_box")
def open_ballot_box(ctx: TransitionContext) -> None:
    """Open the committee ballot for this case's current round."""
    box_id = ballots.open_box(ctx.conn, ctx.case["id"], ctx.case_data.get("round", 1), ctx.now)
    ctx.payload["ballot_box"] = box_id


@action("close_ballot_box")
def close_ballot_box(ctx: TransitionContext) -> None:
    """Close the ballot, store the tally on the box and in the audit event (counts only, never who).

    The counts come from the ciphertexts' sums, decrypted with the key rebuilt from both shares
    (``ctx.secrets``); the panel log records that both shares were entered and by whom — never the shares.
    """
    tally = ballots.tally_for(ctx)
    assert tally is not None, "guards ensure an open ballot"
    ballots.close_box(ctx.conn, tally, ctx.now)
    ctx.payload["tally"] = tally.as_dict()
    ballots.record_shares_entered(ctx.conn, ctx.case, tally, ctx.actor, ctx.now)


_ISSUE = Statement(
    f"INSERT INTO {_cert.name} (number, case_id, holder_id, holder_name, title, series, specialty, level, issuer, "
    "issued_on, status, revocation_reason, created_at) "
    "SELECT :number, :case_id, u.id, u.display_name, :title, :series, :specialty, :level, o.name, :issued_on, "
    f"'valid', '', :now FROM {User.__tablename__} u, {Organisation.__tablename__} o "
    "WHERE u.id = :holder_id AND o.id = :issuer_id")
"""The certificate with the holder's and the issuer's names copied in: one statement instead of three."""


@action("issue_certificate")
def issue_certificate(ctx: TransitionContext) -> None:
    """Create the electronic certificate; its number is what the public verification page looks up."""
    case = ctx.case
    today = ctx.today
    # Year + case id keeps numbers unique; the random tail stops anyone enumerating holders by counting.
    number = f"HN{today.year}{case['id']:07d}{secrets.randbelow(10**4):04d}"
    hp = driver_store(ctx.conn.dialect.name)
    inserted = _ISSUE.run(ctx.conn, {
        "number": number, "case_id": case["id"], "holder_id": case["applicant_id"], "title": case["target_title"],
        "series": case["series"], "specialty": case["specialty"], "level": case["level"],
        "issuer_id": case["authority_org_id"], "issued_on": hp.value(today), "now": hp.value(ctx.now)}).rowcount
    if inserted != 1:
        raise NoResultFound("the applicant or the issuing authority of the case does not exist")
    ctx.data_updates["certificate_number"] = number
    ctx.payload["certificate_number"] = number


@action("revoke_certificate", params=("integrity_block_years",))
def revoke_certificate(ctx: TransitionContext) -> None:
    """Revoke the certificate and write an integrity record that blocks new applications for N years."""
    today = ctx.today
    reason = ctx.data["reason"]
    ctx.conn.execute(update(_cert).where(_cert.c.case_id == ctx.case["id"])
                     .values(status=CertificateStatus.REVOKED.value, revoked_on=today, revocation_reason=reason))
    years = int(ctx.param("integrity_block_years"))
    ends = anniversary(today, years)  # over on the Nth anniversary (rules.md §7.5)
    ctx.conn.execute(insert(_integrity).values(user_id=ctx.case["applicant_id"], case_id=ctx.case["id"],
                                               reason=reason, starts_on=today, ends_on=ends, created_at=ctx.now))
    ctx.payload["integrity_record_until"] = ends.isoformat()


@action("start_appeal_round")
def start_appeal_round(ctx: TransitionContext) -> None:
    """Begin a new review round for an accepted appeal (a different group reviews it)."""
    round_ = ctx.case_data.get("round", 1) + 1
    ctx.data_updates["round"] = round_
    ctx.data_updates["appealed"] = True
    ctx.payload["round"] = round_

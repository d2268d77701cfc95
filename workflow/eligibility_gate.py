"""Bridge between the engine and the eligibility evaluator (filled in when standards land)."""

from __future__ import annotations

from typing import Any

from .context import TransitionContext


def refusal_for(ctx: TransitionContext) -> str | None:
    """None when the case may be submitted against its standard, else the reason."""
    return None


def pin_standard_on_submit(ctx: TransitionContext) -> None:
    """Pin the standard version in force at submission on the case."""


def recheck_summary(ctx: TransitionContext) -> dict[str, Any]:
    """The eligibility verdict recorded by the authority's re-check."""
    return {"checked_at": ctx.now.isoformat(), "by": ctx.actor.user_id}

"""The hash chain over each case's events, and its verification.

Each event's hash covers its own fields and the previous event's hash, and the case row remembers the
last hash, so a modified, deleted, inserted or reordered event — even the last one — breaks the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from workflow.db import Database
from workflow.models import Case, CaseEvent, as_utc

_event = CaseEvent.__table__
_case = Case.__table__

HASHED_FIELDS = ("case_id", "seq", "actor_id", "actor_role", "trigger", "from_state", "to_state", "comment",
                 "payload", "created_at", "prev_hash")


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds")
    return value


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an event's hashed fields (key order and time zone normalised)."""
    body = {k: _canonical(fields[k]) for k in HASHED_FIELDS}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first problem found in one case's chain."""

    case_id: int
    event_id: int | None
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event {self.event_id} (seq {self.seq})" if self.event_id is not None else "end of chain"
        return f"case {self.case_id}: {where}: {self.problem}"


def _check_case(case: dict[str, Any], events: list[dict[str, Any]]) -> ChainBreak | None:
    prev = ""
    for expected_seq, ev in enumerate(events, start=1):
        if ev["seq"] != expected_seq:
            return ChainBreak(case["id"], ev["id"], ev["seq"], f"sequence gap or reorder: expected seq {expected_seq}")
        if ev["prev_hash"] != prev:
            return ChainBreak(case["id"], ev["id"], ev["seq"], "previous-hash link broken (event removed or inserted)")
        if event_hash(ev) != ev["hash"]:
            return ChainBreak(case["id"], ev["id"], ev["seq"], "content does not match its hash (event modified)")
        prev = ev["hash"]
    if not events:
        return ChainBreak(case["id"], None, None, "case has no events")
    last = events[-1]
    if case["last_event_hash"] != last["hash"] or case["version"] != last["seq"]:
        return ChainBreak(case["id"], None, None, "case row does not point at the last event (events removed)")
    if case["state"] != last["to_state"]:
        return ChainBreak(case["id"], last["id"], last["seq"], "case state differs from the last event's destination")
    return None


def iter_breaks(db: Database, case_ids: list[int] | None = None) -> Iterator[ChainBreak]:
    """Walk every case's chain (or the given cases) in id order, yielding the first break of each broken one.

    Cases and events are streamed side by side in id order (a merge join), so memory stays flat however
    many events there are.
    """
    with db.read() as cases_conn, db.read() as events_conn:
        stmt = select(_case.c.id, _case.c.state, _case.c.version, _case.c.last_event_hash).order_by(_case.c.id)
        ev_stmt = select(_event).order_by(_event.c.case_id, _event.c.seq, _event.c.id)
        if case_ids is not None:
            stmt = stmt.where(_case.c.id.in_(case_ids))
            ev_stmt = ev_stmt.where(_event.c.case_id.in_(case_ids))
        cases = cases_conn.execution_options(yield_per=1000).execute(stmt).mappings()
        events = iter(events_conn.execution_options(yield_per=1000).execute(ev_stmt).mappings())
        pending = next(events, None)
        for case in cases:
            chain: list[dict[str, Any]] = []
            while pending is not None and pending["case_id"] < case["id"]:
                yield ChainBreak(pending["case_id"], pending["id"], pending["seq"],
                                 "event belongs to a case that does not exist")
                pending = next(events, None)
            while pending is not None and pending["case_id"] == case["id"]:
                chain.append(dict(pending))
                pending = next(events, None)
            found = _check_case(dict(case), chain)
            if found is not None:
                yield found


def verify_chains(db: Database) -> tuple[int, list[ChainBreak]]:
    """(number of cases checked, breaks found)."""
    with db.read() as conn:
        count = conn.execute(select(func.count()).select_from(_case)).scalar_one()
    return count, list(iter_breaks(db))

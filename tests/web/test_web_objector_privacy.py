"""The name of whoever files a named objection is shown to the people who decide it, never to the applicant or
the unit's other staff (对反映人信息保密); the audit record keeps it."""

from __future__ import annotations

import pytest
from driver import advance
from sqlalchemy import select
from webhelpers import open_case

from workflow.engine import core as engine
from workflow.models import CaseEvent

REASON = "申报人代表作系他人完成，请核实。"
HIDDEN = "实名异议人（身份保密）"


@pytest.mark.parametrize(("notice", "objector", "name", "sees", "does_not_see"), [
    ("result_notice", "outsider", "郑敏", ("officer", "admin", "outsider"), ("zhang", "unit_hr")),
    ("unit_notice", "colleague", "吴强", ("unit_hr", "officer", "admin", "colleague"), ("zhang",)),
])
def test_the_objectors_name_reaches_only_the_deciders(cast, browser, notice, objector, name, sees, does_not_see):
    case_id = open_case(cast)
    advance(cast, case_id, notice)
    engine.fire(cast.db, case_id, "file_objection", getattr(cast, objector), data={"reason": REASON})
    for who in sees:
        page = browser(who).get(f"/cases/{case_id}").get_data(as_text=True)
        assert name in page and HIDDEN not in page, who
    for who in does_not_see:
        page = browser(who).get(f"/cases/{case_id}").get_data(as_text=True)
        assert name not in page and HIDDEN in page and REASON in page, who
    # the record itself is untouched: the event still names the objector
    with cast.db.read() as conn:
        actor_id = conn.execute(select(CaseEvent.actor_id).where(
            CaseEvent.case_id == case_id, CaseEvent.trigger == "file_objection")).scalar_one()
    assert actor_id == getattr(cast, objector).user_id

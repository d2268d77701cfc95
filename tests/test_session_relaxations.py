"""Validation of the waivers a review session grants (workflow.administration.session_relaxations)."""

from __future__ import annotations

import pytest

from workflow.administration import SESSION_RELAXATIONS, session_relaxations
from workflow.eligibility import Relaxations
from workflow.errors import MissingData

SOURCE = "湘人社规〔2022〕22号"


@pytest.mark.parametrize(("raw", "stored"), [
    ({}, {}),
    ({"waive_papers": False, "source": ""}, {}),
    ({"source": SOURCE}, {"source": SOURCE}),
    ({"waive_papers": True, "source": SOURCE}, {"waive_papers": True, "source": SOURCE}),
    ({"waive_age": True, "waive_ladder": False, "source": f"  {SOURCE} "}, {"waive_age": True, "source": SOURCE}),
    ({**{k: True for k in SESSION_RELAXATIONS}, "source": SOURCE}, {**{k: True for k in SESSION_RELAXATIONS},
                                                                  "source": SOURCE}),
])
def test_accepted_waivers_are_stored_in_the_evaluators_form(raw, stored):
    assert session_relaxations(raw) == stored
    Relaxations(**stored)  # the evaluator accepts exactly what is stored


@pytest.mark.parametrize(("raw", "message"), [
    ({"waive_paper": True, "source": SOURCE}, "未知的放宽条件：waive_paper"),
    ({"allow_direct_senior": True, "source": SOURCE}, "未知的放宽条件：allow_direct_senior"),
    ({"bridging_waiting_years_override": 0, "source": SOURCE}, "未知的放宽条件"),
    ({"waive_age": "yes", "source": SOURCE}, "须为是或否：waive_age"),
    ({"waive_age": True}, "须注明政策依据"),
    ({"waive_age": True, "source": "   "}, "须注明政策依据"),
    ({"waive_age": True, "source": "依据" * 101}, "不超过200字"),
])
def test_refused_waivers_say_why(raw, message):
    with pytest.raises(MissingData) as err:
        session_relaxations(raw)
    assert message in err.value.message("zh")

"""The benchmark's scenarios run end to end at a tiny size (their numbers are not checked here, only that
they measure what they say: same transition counts on both sides, memory traced while cases are held)."""

from __future__ import annotations

from bench import machines, transitions
from workflow.catalog import get_pipeline, latest_versions


def test_transitions_scenario_runs_both_sides_equally(any_db):
    result = transitions.run(any_db, cases=1, rounds=1)
    assert result.transitions == len(transitions.HAPPY_PATH)
    assert result.engine_tps > 0 and result.raw_tps > 0 and result.ratio > 0
    assert set(result.per_trigger_us) == set(transitions.HAPPY_PATH)


def test_machine_scenario_measures_both_ways(db):
    p = get_pipeline(db, transitions.PIPELINE, latest_versions(db)[transitions.PIPELINE])
    result = machines.run(p, 50)
    assert result.per_case_kib_per_10k > result.shared_kib_per_10k > 0
    assert result.speedup > 1

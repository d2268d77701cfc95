"""The ballot-sheet benchmark runs end to end at a tiny size and reports what it measured against the floor."""

from __future__ import annotations

from dataclasses import replace


def test_ballot_sheet_scenario_measures_the_page_and_whole_submissions():
    from bench import run

    sizes = replace(run.QUICK, sheet_cases=4, sheet_samples=2, sheet_submissions=2)
    report = run.Report(quick=True)
    run.scenario_ballot_sheet(report, sizes)
    for key in ("ballot_sheet_page_vs_floor", "ballot_sheet_submit_vs_floor", "ballot_sheet_page_ms",
                "ballot_sheet_submit_ms"):
        assert isinstance(report.out[key], float) and report.out[key] > 0, key
    names = [name for name, _, _ in report.rows]
    assert names == ["ballot sheet · 4 cases · page", "ballot sheet · 4 cases · submit"]


def test_every_submission_casts_the_whole_sheet(db):
    from bench import ballot_sheet

    result = ballot_sheet.run(db, cases=3, samples=1, submissions=3)
    assert (result.cases, result.submissions, result.page_samples) == (3, 3, 1)
    assert result.page_bytes > 3 * 500 and result.floor_ms > 0 and result.page_ratio > 0

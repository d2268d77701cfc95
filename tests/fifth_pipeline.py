"""The fifth pipeline of the test fixtures (``tests/fixtures/pipelines/talent-express.yaml``) beside the four
shipped ones, and what each screen should show of its cases.

talent-express runs the shared review chain under state names of its own, and nothing in ``web/`` or
``workflow/`` knows them: the inboxes, panel pages, notices, reports and process view must find its cases from
what each state says about itself. Both the Flask test-client check (tests/web/test_fifth_pipeline_screens.py)
and the real-browser journey (tests/browser/test_fifth_pipeline_journey.py) use what is here.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from workflow.db import Database
from workflow.models import Case, ReviewSession
from workflow.pipeline.catalog import PIPELINES_DIR, get_pipeline, sync_pipelines
from workflow.pipeline.inboxes import inboxes

FIFTH_FILE = Path(__file__).resolve().parent / "fixtures" / "pipelines" / "talent-express.yaml"
"""The fifth pipeline's only source: a YAML file in the test fixtures."""

FIFTH_ID = "talent-express"
FIFTH_LABEL = "人才评价直通车"
"""Its id and its Chinese label (the reports and the process view name it by the label)."""

FIFTH_STANDARD = "hunan-sme-advanced-manufacturing-senior"
"""The occupation standard its test cases are judged by (one the cast's session accepts, for 副高)."""

# Where each state of the happy path shows in the two reviewing inboxes: (unit tab, authority tab). Written out
# here rather than read from the definitions, so that a definition or a screen that goes wrong fails the test.
INBOX_TABS: dict[str, tuple[str, str]] = {
    "hr_check": ("review", "upstream"),
    "hr_notice": ("notice", "upstream"),
    "hr_endorsement": ("recommend", "upstream"),
    "intake_check": ("progress", "formal_check"),
    "qualification_check": ("progress", "recheck"),
    "expert_reading": ("progress", "panel"),
    "ballot_round": ("progress", "panel"),
    "public_listing": ("progress", "notice"),
    "record_keeping": ("progress", "filing"),
    "certificate_pending": ("progress", "certification"),
    "title_granted": ("done", "done"),
    "unsuccessful": ("progress", "appeal"),
}

PANEL_STATES = frozenset({"expert_reading", "ballot_round"})
"""States in which the case is before the committee (the chair's and the sitting's lists)."""

UNIT_NOTICE_STATES = frozenset({"hr_notice"})
"""States in which the case is on the unit's internal notice."""

RESULT_NOTICE_STATES = frozenset({"public_listing"})
"""States in which the case is on the public result notice."""

REPORT_STAGE: dict[str, str] = {
    "hr_check": "unit_recommendation", "hr_notice": "unit_recommendation", "hr_endorsement": "unit_recommendation",
    "intake_check": "panel_review", "qualification_check": "panel_review", "expert_reading": "panel_review",
    "ballot_round": "panel_review", "public_listing": "result_publication", "record_keeping": "result_publication",
    "certificate_pending": "result_publication", "title_granted": "closed", "unsuccessful": "closed",
}
"""The big stage of the reports page that counts a case in each state (stages.yaml's ``report:``)."""


def install_fifth_pipeline(db: Database, workdir: Path) -> None:
    """Store the shipped pipelines and talent-express from one definitions directory, as a deployment syncs its
    ``definitions/pipelines`` (``extends:`` resolved against the shipped bases), and let every session take
    talent-express applications (what an administrator ticks on the session form, written directly here)."""
    directory = workdir / "pipelines"
    directory.mkdir(parents=True, exist_ok=True)
    for shipped in PIPELINES_DIR.glob("*.yaml"):
        shutil.copyfile(shipped, directory / shipped.name)
    shutil.copyfile(FIFTH_FILE, directory / FIFTH_FILE.name)
    added = sync_pipelines(db, directory)
    if (FIFTH_ID, 1) not in added:
        raise AssertionError(f"{FIFTH_ID} was not stored by the sync: {added}")
    session = ReviewSession.__table__
    with db.write() as conn:
        for session_id, pipeline_ids in conn.execute(select(session.c.id, session.c.pipeline_ids)).all():
            conn.execute(update(session).where(session.c.id == session_id)
                         .values(pipeline_ids=[*pipeline_ids, FIFTH_ID]))


def case_reference(db: Database, case_id: int) -> str:
    """The case's reference as the lists show it."""
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.reference).where(Case.__table__.c.id == case_id)).scalar_one()


_CASE_TABLE = re.compile(r'<table class="[^"]*\bcase-table\b[^"]*">(.*?)</table>', re.S)


def case_table_text(html: str) -> str:
    """The markup of the page's case lists (the ``case_table`` macro), without the rest of the page: a case
    mentioned elsewhere (a notice box, a message) must not pass for a listed one."""
    return "".join(_CASE_TABLE.findall(html))


_WITHIN_ROW = r"(?:(?!</tr>).)*?"
_WITHIN_TABLE = r"(?:(?!</table>).)*?"
# What may come between two parts of a pattern that must stay inside one table row or one table.


@dataclass(frozen=True)
class Look:
    """One page someone opens, and whether the case must be listed there (``pattern``, a regular expression,
    found) or must not be. ``scope`` narrows the search to the page's case lists (``case_tables``); ``tab`` is
    the inbox tab the page shows (for an inbox's opening page: the tab it must open on)."""

    who: str | None
    path: str
    pattern: str
    listed: bool
    what: str
    scope: str = "page"
    tab: str | None = None

    def problem(self, html: str) -> str | None:
        """None when the page shows what it should, else what is wrong."""
        text = case_table_text(html) if self.scope == "case_tables" else html
        found = re.search(self.pattern, text, re.S) is not None
        if found == self.listed:
            return None
        return f"{self.who or 'anonymous'} {self.path}: {self.what} {'missing' if self.listed else 'shown'}"


def looks(db: Database, case_id: int, state: str) -> list[Look]:
    """Every page that should (or should not) list the case while it is in ``state`` (a state of the happy path
    or ``unsuccessful``), for the cast's people: the applicant, the unit reviewer, a colleague, the officer,
    the chair and an anonymous visitor."""
    ref = re.escape(case_reference(db, case_id))
    with db.read() as conn:
        session_id = conn.execute(select(Case.__table__.c.session_id).where(Case.__table__.c.id == case_id)
                                  ).scalar_one()
    pipeline = get_pipeline(db, FIFTH_ID, 1)
    definition = pipeline.state_map[state]
    out = [Look("zhang", "/applicant/", ref, True, "own case")]
    for role, username, base in (("unit", "unit_hr", "/unit/"), ("authority", "officer", "/authority/")):
        expected = INBOX_TABS[state][0 if role == "unit" else 1]
        for tab in inboxes()[role].tabs:
            listed = tab.all or tab.key == expected
            out.append(Look(username, f"{base}?tab={tab.key}", ref, listed, f"case in tab {tab.key}", "case_tables",
                            tab.key))
            if tab.key == expected and tab.actionable:  # the page opens on the first queue with work in it
                out.append(Look(username, base, ref, True, f"case on the opening tab {tab.key}", "case_tables",
                                tab.key))
    in_panel = state in PANEL_STATES
    out += [
        Look("chair", "/panel/", rf'href="/cases/{case_id}"', in_panel, "case before the committee"),
        Look("chair", "/panel/", ref, in_panel or definition.decided, "case before or decided by the committee"),
        Look("chair", f"/panel/sessions/{session_id}", rf'href="/cases/{case_id}"', in_panel, "case at the sitting"),
        Look("colleague", "/unit-notices", rf"/unit-notices/{case_id}/print", state in UNIT_NOTICE_STATES,
             "case on the unit notice"),
        Look(None, "/notices", rf"/notices/{case_id}/print", state in RESULT_NOTICE_STATES,
             "case on the public result notice"),
    ]
    label = re.escape(definition.label.zh)
    num = r'<td class="text-end num">1</td>'
    out += [
        Look("officer", "/reports/", rf'<tr data-key="{REPORT_STAGE[state]}"><td>[^<]*</td>{num}', True,
             f"the case counted in the report stage {REPORT_STAGE[state]}"),
        Look("officer", "/reports/", rf"<tr><td>{FIFTH_LABEL}</td><td>1</td><td>{label}</td>{num}", True,
             f"the case counted under its state {state}"),
        Look("officer", "/reports/", rf'id="wait-table">{_WITHIN_TABLE}{ref}', not definition.final,
             "the case among the longest waits"),
        Look("officer", "/reports/process/",
             rf'data-pipeline="{FIFTH_ID}"{_WITHIN_ROW}data-col="{"closed" if definition.final else "open"}">1<',
             True, "the case counted open or closed in the process view"),
        Look("officer", f"/reports/process/{FIFTH_ID}/1", rf'<tr data-state="{state}"[^>]*>{_WITHIN_ROW}data-count="1"',
             True, f"the case counted in the process view's state {state}"),
        Look("officer", f"/reports/process/{FIFTH_ID}/1/{state}", ref, True, "the case in the state's list"),
    ]
    return out

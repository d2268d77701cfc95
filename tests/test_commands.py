"""The command layer (workflow.engine.commands): one request to act on a case, checked in one order for every face.

404 → 403 (not yours) → 409 (notice over, stale, not possible now) → 403 (not your action) → 422 (unreadable
input, the objection rules, the evidence file) → the engine. Each test sends a request that is wrong in
several ways at once and checks that the earliest refusal is the one given, and that nothing changed.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import pytest
from driver import advance
from sqlalchemy import select

from workflow.engine import commands
from workflow.errors import (
    CaseNotFound,
    FileRefused,
    GuardRefused,
    InvalidAction,
    MissingData,
    PermissionDenied,
    StaleCase,
)
from workflow.models import Case, CaseEvent
from workflow.models.attachments import Attachment

REASON = "申报人代表作系他人完成，请核实相关材料。"
PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"
UNREADABLE_FORM = {"form": MissingData("表单缺少案件版本号", "The form has no case version")}


@dataclass(frozen=True)
class Stored:
    """What the in-memory store reports about a file it kept."""

    stored_name: str
    content_type: str
    size: int
    sha256: str


class MemoryStore:
    """A FileStore that keeps files in a dict (or refuses every file with ``refusal``)."""

    def __init__(self, refusal: FileRefused | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.saved = 0
        self.refusal = refusal

    def save(self, stream) -> Stored:
        """Keep the bytes (or refuse them)."""
        self.saved += 1
        if self.refusal is not None:
            raise self.refusal
        content = stream.read()
        name = f"file{self.saved}.pdf"
        self.files[name] = content
        return Stored(name, "application/pdf", len(content), hashlib.sha256(content).hexdigest())

    def discard(self, stored_name: str) -> None:
        """Forget the bytes."""
        del self.files[stored_name]


def _state_and_version(db, case_id: int) -> tuple[str, int]:
    case = Case.__table__
    with db.read() as conn:
        row = conn.execute(select(case.c.state, case.c.version).where(case.c.id == case_id)).one()
    return row[0], row[1]


def _evidence_rows(db, case_id: int) -> list[dict]:
    att = Attachment.__table__
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(att).where(
            att.c.case_id == case_id, att.c.category == "objection_evidence")).mappings()]


def _last_event(db, case_id: int) -> dict:
    ev = CaseEvent.__table__
    with db.read() as conn:
        return dict(conn.execute(select(ev).where(ev.c.case_id == case_id).order_by(ev.c.seq.desc()).limit(1))
                    .mappings().one())


def _evidence(name: str = "证明.pdf") -> commands.EvidenceFile:
    return commands.EvidenceFile(name, io.BytesIO(PDF))


@pytest.fixture
def on_result_notice(world) -> int:
    """A case of the cast on its result notice (open to everyone's named objections)."""
    case_id = world.open()
    advance(world, case_id, "result_notice")
    return case_id


# ------------------------------------------------------------------------------------------ the order


@pytest.mark.parametrize("case_id", [424242, 0, -1, 2**70])
def test_an_unknown_case_is_404_whatever_else_is_wrong(world, case_id):
    with pytest.raises(CaseNotFound) as refused:
        commands.act(world.db, world.outsider, case_id, "no_such_action",
                     commands.Submission(expected_version=99, unreadable=UNREADABLE_FORM))
    assert refused.value.status == 404 and refused.value.message("en") == "No such case."


def test_no_relation_is_403_before_a_stale_version_and_bad_input(world):
    case_id = world.open()
    before = _state_and_version(world.db, case_id)
    with pytest.raises(PermissionDenied) as refused:
        commands.act(world.db, world.other_applicant, case_id, "submit",
                     commands.Submission(expected_version=before[1] + 5, unreadable=UNREADABLE_FORM))
    assert refused.value.message_zh == commands.NOT_YOURS[0]
    assert _state_and_version(world.db, case_id) == before


def test_a_stale_version_is_409_before_the_role_and_bad_input(world):
    case_id = world.open()
    commands.act(world.db, world.applicant, case_id, "submit", commands.Submission(expected_version=1))
    # the applicant sees the case but may not start the unit notice: the stale page is told first
    with pytest.raises(StaleCase) as refused:
        commands.act(world.db, world.applicant, case_id, "start_unit_notice",
                     commands.Submission(expected_version=1, unreadable=UNREADABLE_FORM))
    assert refused.value.status == 409 and refused.value.message_zh == commands.STALE[0]
    assert _state_and_version(world.db, case_id) == ("unit_review", 2)


def test_not_your_action_is_403_with_its_label_before_bad_input(world):
    case_id = world.open()
    commands.act(world.db, world.applicant, case_id, "submit", commands.Submission())
    with pytest.raises(PermissionDenied) as refused:
        commands.act(world.db, world.applicant, case_id, "start_unit_notice",
                     commands.Submission(expected_version=2, unreadable=UNREADABLE_FORM))
    assert refused.value.message_zh == "您无权执行“审核通过，开始单位公示”。"
    assert refused.value.message_en == 'You may not do "Approve and start unit notice".'
    assert _state_and_version(world.db, case_id) == ("unit_review", 2)


@pytest.mark.parametrize(("trigger", "words"), [("resubmit", "不能执行此操作"), ("no_such_action", "不存在")])
def test_an_action_not_possible_now_is_409_before_bad_input(world, trigger, words):
    case_id = world.open()
    with pytest.raises(InvalidAction) as refused:
        commands.act(world.db, world.applicant, case_id, trigger,
                     commands.Submission(expected_version=1, unreadable=UNREADABLE_FORM))
    assert words in refused.value.message_zh
    assert _state_and_version(world.db, case_id) == ("draft", 1)


def test_unreadable_input_is_422_only_for_what_the_action_takes(world):
    case_id = world.open()
    with pytest.raises(MissingData) as refused:
        commands.act(world.db, world.applicant, case_id, "submit",
                     commands.Submission(expected_version=1, unreadable=UNREADABLE_FORM))
    assert refused.value.status == 422 and refused.value.message_zh == "表单缺少案件版本号"
    # verification entries that could not be read do not matter to an action that verifies nothing
    unread = {"verification": MissingData("核实的条目无效", "Invalid entries")}
    acted = commands.act(world.db, world.applicant, case_id, "submit",
                         commands.Submission(expected_version=1, unreadable=unread,
                                             data={"reason": "不是这一步要的", "verification": {"digest": "x"}}))
    assert acted.fired.to_state == "unit_review" and not acted.objection
    # and what the step does not take is not recorded either
    assert "reason" not in _last_event(world.db, case_id)["payload"]


def test_missing_required_data_is_422_from_the_engine(world):
    case_id = world.open()
    commands.act(world.db, world.applicant, case_id, "submit", commands.Submission())
    with pytest.raises(MissingData) as refused:
        commands.act(world.db, world.unit, case_id, "return_for_correction",
                     commands.Submission(expected_version=2, data={"corrections": []}))
    assert "补正清单" in refused.value.message_zh
    acted = commands.act(world.db, world.unit, case_id, "return_for_correction",
                         commands.Submission(expected_version=2, data={"corrections": ["补充社保证明"]}))
    assert acted.fired.role == "unit_reviewer" and acted.fired.version == 3


# ------------------------------------------------------------------------------------------ objections


@pytest.mark.parametrize("reason", ["太短了", " " * 20 + "九个字的异议内容啊" + " " * 20, "异" * 2001])
def test_an_objection_must_be_10_to_2000_characters(world, on_result_notice, reason):
    before = _state_and_version(world.db, on_result_notice)
    store = MemoryStore()
    with pytest.raises(MissingData) as refused:
        commands.act(world.db, world.outsider, on_result_notice, "file_objection",
                     commands.Submission(expected_version=before[1], data={"reason": reason},
                                         evidence=_evidence()), files=store)
    assert refused.value.field == "reason" and refused.value.message_zh == commands.OBJECTION_LENGTH[0]
    assert store.saved == 0  # refused before the file was even looked at
    assert _state_and_version(world.db, on_result_notice) == before


def test_an_objection_is_filed_with_its_reason_trimmed_and_its_evidence(world, on_result_notice):
    store = MemoryStore()
    version = _state_and_version(world.db, on_result_notice)[1]
    acted = commands.act(world.db, world.outsider, on_result_notice, "file_objection",
                         commands.Submission(expected_version=version, data={"reason": f"  {REASON}\n"},
                                             evidence=_evidence()), files=store)
    assert acted.objection and acted.fired.role == "public"
    (row,) = _evidence_rows(world.db, on_result_notice)
    payload = _last_event(world.db, on_result_notice)["payload"]
    assert payload["reason"] == REASON
    assert payload["evidence"] == {"attachment_id": row["id"], "name": "证明.pdf",
                                   "sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF),
                                   "content_type": "application/pdf"}
    assert store.files == {row["stored_name"]: PDF}


def test_a_refused_file_files_nothing(world, on_result_notice):
    before = _state_and_version(world.db, on_result_notice)
    store = MemoryStore(FileRefused("文件超过 1 MB", "The file is larger than 1 MB", status=413))
    with pytest.raises(FileRefused) as refused:
        commands.act(world.db, world.outsider, on_result_notice, "file_objection",
                     commands.Submission(expected_version=before[1], data={"reason": REASON},
                                         evidence=_evidence()), files=store)
    assert refused.value.status == 413
    assert _state_and_version(world.db, on_result_notice) == before
    assert _evidence_rows(world.db, on_result_notice) == []


def test_an_objection_the_engine_refuses_leaves_no_evidence(world, on_result_notice):
    store = MemoryStore()
    before = _state_and_version(world.db, on_result_notice)
    # the applicant may not object to their own notice: the engine's rule, after the file was stored
    with pytest.raises(GuardRefused):
        commands.act(world.db, world.applicant, on_result_notice, "file_objection",
                     commands.Submission(expected_version=before[1], data={"reason": REASON},
                                         evidence=_evidence()), files=store)
    assert store.saved == 1 and store.files == {}
    assert _evidence_rows(world.db, on_result_notice) == []
    assert _state_and_version(world.db, on_result_notice) == before


def test_a_stale_objection_is_refused_before_its_file_is_stored(world, on_result_notice):
    store = MemoryStore()
    version = _state_and_version(world.db, on_result_notice)[1]
    with pytest.raises(StaleCase):
        commands.act(world.db, world.outsider, on_result_notice, "file_objection",
                     commands.Submission(expected_version=version - 1, data={"reason": REASON},
                                         evidence=_evidence()), files=store)
    assert store.saved == 0 and _evidence_rows(world.db, on_result_notice) == []


def test_a_file_sent_with_any_other_action_is_not_looked_at(world):
    case_id = world.open()
    store = MemoryStore()
    commands.act(world.db, world.applicant, case_id, "submit",
                 commands.Submission(expected_version=1, evidence=_evidence()), files=store)
    assert store.saved == 0 and "evidence" not in _last_event(world.db, case_id)["payload"]


def test_a_unit_notice_is_open_to_the_unit_and_over_for_everyone_else(world):
    on_notice, elsewhere = world.open(), world.open()
    advance(world, on_notice, "unit_notice")
    submission = commands.Submission(data={"reason": REASON})
    answers = []
    for case_id in (on_notice, elsewhere):
        with pytest.raises(InvalidAction) as refused:
            commands.act(world.db, world.other_applicant, case_id, "file_objection", submission)
        answers.append((refused.value.status, refused.value.message_zh, refused.value.message_en))
    # an outsider cannot tell a unit notice they may not see from no notice at all
    assert answers[0] == answers[1] == (409, *commands.NOTICE_OVER)
    acted = commands.act(world.db, world.colleague, on_notice, "file_objection", submission)
    assert acted.objection and acted.fired.role == "unit_member"
    # once the objection pauses the notice, the next one is told the notice is over
    with pytest.raises(InvalidAction) as refused:
        commands.act(world.db, world.colleague, on_notice, "file_objection", submission)
    assert refused.value.message_zh == commands.NOTICE_OVER[0]


# ------------------------------------------------------------------------------------------ listing actions


def test_offered_actions_follow_the_same_rule(world, on_result_notice):
    draft = world.open()
    case, options = commands.offered_actions(world.db, world.applicant, draft)
    assert case["id"] == draft and "submit" in {o.trigger for o in options}
    with pytest.raises(PermissionDenied):
        commands.offered_actions(world.db, world.outsider, draft)
    with pytest.raises(CaseNotFound):
        commands.offered_actions(world.db, world.outsider, 424242)
    _case, options = commands.offered_actions(world.db, world.outsider, on_result_notice)
    assert [o.trigger for o in options] == ["file_objection"]
    unit_notice = world.open()
    advance(world, unit_notice, "unit_notice")
    with pytest.raises(PermissionDenied):
        commands.offered_actions(world.db, world.other_applicant, unit_notice)
    assert "file_objection" in {o.trigger for o in commands.offered_actions(world.db, world.colleague,
                                                                            unit_notice)[1]}

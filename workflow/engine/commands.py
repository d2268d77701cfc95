"""The command layer: the whole request to act on a case, the same for every face (HTML form, REST API).

A face parses its input into a :class:`Submission` and renders what comes back; everything in between is here,
in one order, so the pages and the API cannot drift apart:

1. **404** — no such case (:class:`~workflow.errors.CaseNotFound`);
2. **403** — the actor has no relation to the case and this is not a named objection they may file
   (:class:`~workflow.errors.PermissionDenied`). Outsiders learn nothing beyond "not yours": a unit-internal
   notice is not even admitted to exist for people outside the unit (:func:`workflow.records.notices.visible_notice`);
3. **409** — an objection to a notice that has ended or is paused, a stale version (the page or the client saw
   an older case), an action not possible in the case's state (:class:`~workflow.errors.InvalidAction`,
   :class:`~workflow.errors.StaleCase`). A stale page is the likelier story than a forbidden action, so it
   is told before the next check;
4. **403** — the action names no role the actor may act in on this case (the acting role is chosen here);
5. **422** — input the face could not read, then the objection rules (the reason's length), then a refused
   evidence file (:class:`~workflow.errors.MissingData`, :class:`~workflow.errors.FileRefused`);
6. :func:`workflow.engine.core.fire`, which locks the case and checks it all again (version, role, required
   data, guards: 409 / 422) and leaves the audit event.

An objection's evidence file is checked and stored before the objection is fired and recorded by the
objection's event; when the file is refused the objection is not filed, and when the objection is refused the
file and its row are removed again. The command never reads a web request: a face hands it the file's name
and stream and a :class:`FileStore` that knows where files go.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from workflow.access.permissions import acting_role
from workflow.access.roles import OBJECTOR_ROLES, Actor
from workflow.access.visibility import dossier_relations
from workflow.db import Database
from workflow.engine import core as engine
from workflow.errors import CaseNotFound, InvalidAction, MissingData, PermissionDenied, StaleCase, WorkflowError
from workflow.pipeline.catalog import get_pipeline
from workflow.pipeline.schema import REQUIREMENTS, Pipeline, TransitionDef
from workflow.records import attachments, queries
from workflow.records.notices import visible_notice

log = logging.getLogger(__name__)

MAX_CASE_ID = 2**63 - 1
"""Ids beyond a 64-bit integer cannot exist (and the database driver would refuse to bind them)."""

OBJECTION_MIN_CHARS = 10
"""A named objection suspends a notice: it must say what is wrong, not just that something is."""
OBJECTION_MAX_CHARS = 2000
"""The longest objection (as every other free text on a case)."""

NO_CASE = ("案件不存在。", "No such case.")
NOT_YOURS = ("您无权对该案件执行此操作。", "You may not take this action on this case.")
NOT_YOURS_TO_SEE = ("您无权查看或办理该案件。", "You may not see or act on this case.")
NOTICE_OVER = ("该公示已结束或暂停，不再受理异议。", "This notice has ended or is paused; no objections are taken.")
STALE = ("案件已被他人更新，请查看最新状态后重试。",
         "The case changed meanwhile; check its current state and try again.")
OBJECTION_LENGTH = ("异议内容请写10到2000字", "Write the objection in 10 to 2,000 characters")


class StoredFile(Protocol):
    """What a :class:`FileStore` reports about a file it has written."""

    stored_name: str
    content_type: str
    size: int
    sha256: str


class FileStore(Protocol):
    """Where a face keeps uploaded files: it checks a file's content and writes it, or refuses it."""

    def save(self, stream: BinaryIO) -> StoredFile:
        """Check and write the file; raise :class:`~workflow.errors.FileRefused` (nothing kept) when refused."""
        ...

    def discard(self, stored_name: str) -> None:
        """Remove a file this store wrote (its row was not written, or the objection was not filed)."""
        ...


@dataclass(frozen=True)
class EvidenceFile:
    """An objection's evidence file as uploaded: the name to show (already reduced to a base name) and its bytes."""

    name: str
    stream: BinaryIO


@dataclass(frozen=True)
class Submission:
    """What a face read from its request, unjudged: the command decides what is refused, and in which order.

    ``data`` may hold every data field the face knows (``reason``, ``corrections``, ``assessment``,
    ``verification``); the transition takes the ones it requires. ``secrets`` reach guards and actions but are
    never recorded (``engine.fire``). ``unreadable`` is input the face could not read, each refusal under the
    data field it was meant for (any other key, e.g. ``form``, is about the request as a whole); a field the
    transition does not take is not held against the request. Refusals are raised as 422 after the access
    checks, so a malformed request never learns more than a well-formed one.
    """

    comment: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    expected_version: int | None = None
    secrets: Mapping[str, Any] | None = None
    evidence: EvidenceFile | None = None
    unreadable: Mapping[str, WorkflowError] = field(default_factory=dict)


@dataclass(frozen=True)
class Acted:
    """What a successful command did: the engine's record of the firing, and whether it was an objection."""

    fired: engine.Fired
    objection: bool


def load_case(db: Database, case_id: int) -> dict[str, Any]:
    """The case with the names of its people and organisations; :class:`CaseNotFound` when there is none."""
    case = None
    if 0 < case_id <= MAX_CASE_ID:
        with db.read() as conn:
            case = queries.case_detail(conn, case_id)
    if case is None:
        raise CaseNotFound(*NO_CASE)
    return case


def is_objection(transition: TransitionDef) -> bool:
    """True for a named objection: a transition only people acting as objectors (public, unit staff) fire."""
    return set(transition.roles) <= OBJECTOR_ROLES


def _objection_trigger(pipeline: Pipeline, trigger: str) -> bool:
    """True when ``trigger`` files a named objection somewhere in ``pipeline`` (whatever the case's state)."""
    return any(t.trigger == trigger and is_objection(t) for t in pipeline.transitions)


class CaseCommand:
    """One request by ``actor`` to fire ``trigger`` on a case, between loading the case and firing.

    Built by :func:`prepare` (which refuses an unknown case); :meth:`run` does the rest. A face reads
    :attr:`case`, :attr:`pipeline` and :attr:`may_view` to render a refusal or the result (the case page for
    people who may see the case, a bare error page for everyone else).
    """

    def __init__(self, db: Database, actor: Actor, case: dict[str, Any], trigger: str) -> None:
        self.db = db
        self.actor = actor
        self.case = case
        self.trigger = trigger
        self.pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
        self.may_view = bool(dossier_relations(db, actor, case)[0])
        transitions = self.pipeline.by_trigger_source.get((trigger, case["state"]), [])
        self.objection = bool(transitions) and is_objection(transitions[0])
        if self.objection and not self.may_view:
            with db.read() as conn:
                if visible_notice(db, conn, case["id"], actor.org_id) is None:
                    # A unit-internal notice exists only for the unit's staff (the print page's rule): to anyone
                    # else the case is on no notice, and no refusal may tell them otherwise.
                    transitions, self.objection = [], False
        self.transitions: list[TransitionDef] = transitions
        """The branches of ``trigger`` open from the case's state to this actor (empty: none)."""

    def check_access(self, expected_version: int | None) -> str:
        """Steps 2–4 of the module's order; the role the actor will act in."""
        if not self.transitions and _objection_trigger(self.pipeline, self.trigger):
            # The notice ended or is paused since the form was opened (a notice is public, so saying so is fine;
            # a unit notice the actor may not see answers exactly as one that is over).
            raise InvalidAction(*NOTICE_OVER)
        # The only actions open to people without a relation to the case are named objections during a notice.
        if not self.may_view and not self.objection:
            raise PermissionDenied(*NOT_YOURS)
        if expected_version is not None and expected_version != self.case["version"]:
            raise StaleCase(*STALE)
        if not self.transitions:
            # No such action, or not from this state: in the engine's own words (it raises for both).
            engine._candidates(self.pipeline, self.case["state"], self.trigger)
            raise InvalidAction(*NOTICE_OVER)  # only objections are ever hidden, and they are answered above
        first = self.transitions[0]
        with self.db.read() as conn:
            role = acting_role(first.roles, self.actor, self.case, conn)
        if role is None:
            raise PermissionDenied(f"您无权执行“{first.label.zh}”。", f'You may not do "{first.label.en}".')
        return role

    def read_input(self, submission: Submission) -> dict[str, Any]:
        """Step 5 without the file: the data the transition takes, or the first 422 refusal."""
        requires = self.transitions[0].requires
        for key, refusal in submission.unreadable.items():
            if key in REQUIREMENTS and key not in requires:
                continue  # input for a field this action does not take is not read at all
            raise refusal
        data = {key: value for key, value in submission.data.items() if key in requires}
        if isinstance(data.get("reason"), str):
            data["reason"] = data["reason"].strip()
        if self.objection:
            reason = str(submission.data.get("reason") or "").strip()
            if not OBJECTION_MIN_CHARS <= len(reason) <= OBJECTION_MAX_CHARS:
                raise MissingData(*OBJECTION_LENGTH, field="reason")
            data["reason"] = reason
        return data

    def run(self, submission: Submission, *, files: FileStore | None = None) -> Acted:
        """Check, store the objection's evidence (in ``files``), fire; raise the first refusal (see the module)."""
        self.check_access(submission.expected_version)
        data = self.read_input(submission)
        evidence = None
        if self.objection and submission.evidence is not None:
            # Only an objection carries evidence; a file sent with any other action is not looked at.
            evidence = self._store_evidence(submission.evidence, files)
            data["evidence"] = evidence[0]
        try:
            fired = engine.fire(self.db, self.case["id"], self.trigger, self.actor, comment=submission.comment,
                                data=data, expected_version=submission.expected_version,
                                secrets=submission.secrets)
        except BaseException:
            if evidence is not None:
                self._forget_evidence(evidence[0], evidence[1], files)
            raise
        return Acted(fired, self.objection)

    def _store_evidence(self, upload: EvidenceFile, files: FileStore | None) -> tuple[int, str]:
        """Check, store and record the objection's evidence file: (attachment id, stored name)."""
        if files is None:
            raise ValueError("an evidence file needs a file store to be kept in")
        stored = files.save(upload.stream)
        try:
            attachment_id = attachments.add_objection_evidence(
                self.db, self.case["id"], self.actor, original_name=upload.name, stored_name=stored.stored_name,
                content_type=stored.content_type, size=stored.size, sha256=stored.sha256)
        except BaseException:
            files.discard(stored.stored_name)
            raise
        return attachment_id, stored.stored_name

    def _forget_evidence(self, attachment_id: int, stored_name: str, files: FileStore | None) -> None:
        """Remove the file and row of an objection that was not filed (no event references them)."""
        if files is not None:
            files.discard(stored_name)
        try:
            attachments.drop_evidence(self.db, attachment_id)
        except Exception:
            # The refusal (or the original failure) is what the objector must see; an unreferenced row with no
            # file behind it is listed nowhere and harms nothing.
            log.exception("could not delete evidence row %s of an objection not filed", attachment_id)


def prepare(db: Database, actor: Actor, case_id: int, trigger: str) -> CaseCommand:
    """Step 1: the command for ``actor`` firing ``trigger`` on case ``case_id``; CaseNotFound (404) when none."""
    return CaseCommand(db, actor, load_case(db, case_id), trigger)


def act(db: Database, actor: Actor, case_id: int, trigger: str, submission: Submission, *,
        files: FileStore | None = None) -> Acted:
    """The whole request to act on a case (see the module for the order of refusals); what it did."""
    return prepare(db, actor, case_id, trigger).run(submission, files=files)


def offered_actions(db: Database, actor: Actor, case_id: int) -> tuple[dict[str, Any], list[engine.ActionOption]]:
    """The case and the actions ``actor`` may take on it now (with permitted ones a rule refuses, and why).

    People who may see the case get every action their roles allow; anyone else only the named objection
    open during a notice they may see, and PermissionDenied (403) when there is none — an outsider learns
    nothing else about the case, not even that a unit-internal notice runs. CaseNotFound (404) when no case.
    """
    case = load_case(db, case_id)
    options = engine.available_actions(db, case["id"], actor)
    if dossier_relations(db, actor, case)[0]:
        return case, options
    pipeline = get_pipeline(db, case["pipeline_id"], case["pipeline_version"])
    options = [o for o in options if is_objection(pipeline.by_trigger_source[(o.trigger, case["state"])][0])]
    if options:
        with db.read() as conn:
            if visible_notice(db, conn, case["id"], actor.org_id) is None:
                options = []
    if not options:
        raise PermissionDenied(*NOT_YOURS_TO_SEE)
    return case, options

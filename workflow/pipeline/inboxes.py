"""The reviewing roles' inboxes as data (``definitions/inboxes.yaml``): each inbox's tabs, in page order.

Which states a tab lists is not written here but on the states themselves (``inbox:`` in each pipeline), so a
new pipeline — with state names of its own — reaches every work list by saying where its states belong; the
pipeline loader checks that it said so (:func:`inbox_problems`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workflow.pipeline.yamlsource import DefinitionError, Problem, describe_loc, load_yaml, locate

INBOXES_FILE = Path(__file__).resolve().parents[2] / "definitions" / "inboxes.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TabLabel(_Strict):
    """A tab's or inbox's name in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class TabDef(_Strict):
    """One tab: its key (in the URL), label, whether its cases wait for this role, and whether it is the tab
    of final states (``final``) or of every case (``all``) rather than of the states that name it."""

    key: str = Field(pattern=r"^[a-z][a-z_]*$")
    label: TabLabel
    actionable: bool = False
    final: bool = False
    all: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> TabDef:
        if self.final and self.all:
            raise ValueError("a tab lists the final states or every case, not both")
        return self


class InboxDef(_Strict):
    """One role's inbox: its label and tabs."""

    label: TabLabel
    tabs: list[TabDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_keys(self) -> InboxDef:
        keys = [t.key for t in self.tabs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"tab keys repeat: {', '.join(sorted({k for k in keys if keys.count(k) > 1}))}")
        return self

    def tab(self, key: str) -> TabDef | None:
        """The tab ``key`` (None when the inbox has none)."""
        return next((t for t in self.tabs if t.key == key), None)

    def listing_tabs(self) -> list[str]:
        """The keys of the tabs that list the states naming them (not the final or all tabs)."""
        return [t.key for t in self.tabs if not t.final and not t.all]


def parse_inboxes(text: str, source: str = "inboxes.yaml") -> dict[str, InboxDef]:
    """Parse the inbox catalogue; DefinitionError names the line of each problem."""
    raw = load_yaml(text, source)
    if not isinstance(raw, dict) or not raw:
        raise DefinitionError("the inbox catalogue must map inbox names to their tabs", line=1, source=source)
    found: dict[str, InboxDef] = {}
    problems: list[Problem] = []
    for name, body in raw.items():
        try:
            found[str(name)] = InboxDef.model_validate(body)
        except ValidationError as err:
            for e in err.errors():
                loc = (name, *e["loc"])
                problems.append(Problem(f"{describe_loc(loc)}: {e['msg']}", locate(raw, loc)))
    if problems:
        raise DefinitionError(source=source, problems=problems)
    return found


@cache
def inboxes() -> dict[str, InboxDef]:
    """The shipped inbox catalogue (read once per process; it changes only with a release)."""
    return parse_inboxes(INBOXES_FILE.read_text(encoding="utf-8"), str(INBOXES_FILE))


def inbox_problems(states: Iterable[Any], initial: str, at: Callable[..., int], *,
                   require_inbox: bool = True) -> list[Problem]:
    """What is wrong with where ``states`` say they belong: an unknown inbox or tab, a final state placed in a
    tab (final states are listed by the inboxes' final tab), and a state between the first and the last that no
    inbox lists (its cases would vanish from every work list; not asked of ``require_inbox=False``, a version
    stored before states named their tabs). ``at(i)`` gives the line of state ``i``."""
    catalogue = inboxes()
    problems: list[Problem] = []
    for i, state in enumerate(states):
        for inbox, key in state.inbox.items():
            box = catalogue.get(inbox)
            if box is None:
                problems.append(Problem(f"state {state.name!r}: unknown inbox {inbox!r} "
                                        f"(known: {', '.join(catalogue)})", at(i)))
            elif key not in box.listing_tabs():
                problems.append(Problem(f"state {state.name!r}: inbox {inbox!r} has no tab {key!r} that lists "
                                        f"states (tabs: {', '.join(box.listing_tabs())})", at(i)))
        if state.final and state.inbox:
            problems.append(Problem(f"state {state.name!r} is final: the inboxes' final tab lists it, so it names "
                                    "no tab", at(i)))
        if require_inbox and not state.final and state.name != initial and not state.inbox:
            example = ", ".join(f"{name}: {box.listing_tabs()[0]}" for name, box in catalogue.items()
                                if box.listing_tabs())
            problems.append(Problem(f"state {state.name!r} is in no inbox: its cases would be missing from every "
                                    f"work list; name the tab that lists it, e.g. inbox: {{{example}}}", at(i)))
    return problems
